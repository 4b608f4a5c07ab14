"""The fine-tune pipeline as a Step Functions state machine.

validate dataset -> make room for one more imported model (prune, quota check) -> SageMaker
CreateTrainingJob -> poll DescribeTrainingJob -> Bedrock CreateModelImportJob -> poll GetModelImportJob ->
the promotion gate (evaluate the candidate, decide; a rejected one ends in CandidateRejected) -> publish the
imported model's ARN to SSM -> prune imported models beyond the newest N -> notify. Every
failure is caught, published to the notification topic and ends in a Fail state named after it. A failure
while the training job may still run (the job can no longer be followed) first stops the job: nothing else
would, and it would bill until its runtime cap. Stopping the execution itself (StopExecution, the console's
"Stop execution") runs no Catch: ``ladder finetune stop`` stops the execution and its job together.

Execution input: ``{"key": "uploads/<file>.jsonl"}``, the promotion gate's keys (``"promotionGate": true``
with ``evalSet``, ``verdict`` and ``promotionArms``, or ``false`` with ``promotionGateReason``) plus,
optionally, ``"baseModelS3Uri": "s3://<artifacts bucket>/base-models/<folder>/"`` (staged weights: the
``model`` channel; the trailing ``/`` is required; it is the only way for a gated base model such as the
default Llama, since the job gets no Hub token). The execution name becomes the training job, checkpoint
folder, import job and imported model name, so it must be 1-63 letters and digits in groups joined by single
hyphens; the validation task refuses any other (``ladder finetune start`` names executions
``ladder-<UTC timestamp>``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ladder_core.evaluation.run import PROMOTION_PREFIX
from ladder_core.tags import PIPELINE_TAG
from lambdas.imported_models import constants as import_constants
from stacks.config import LadderConfig, is_gated_model
from stacks.constructs.alarm_topic import AlarmTopic
from stacks.constructs.bedrock_principal import bedrock_service_principal
from stacks.constructs.log_group import log_group
from stacks.constructs.python_function import PythonFunction
from stacks.constructs.state_machine import ladder_state_machine
from stacks.fine_tune import layout
from stacks.fine_tune.training import (
    describe_training_job,
    model_folder_s3_uri,
    stop_training_job,
    training_job_state,
    training_job_statements,
)
from stacks.nag import acknowledge, resource_finding
from stacks.rag.evaluation_runner import evaluation_state_machine_name

SERVICE = "ladder-finetune"
VALIDATE_MEMORY_MB = 1024
VALIDATE_TIMEOUT_SECONDS = 300
HOUSEKEEPING_TIMEOUT_SECONDS = 60
IMPORT_POLL_SECONDS = 60
TRAINING_POLL_SECONDS = 120
"""Training runs for hours; a DescribeTrainingJob every two minutes is a few hundred transitions a day."""
IMPORT_ALLOWANCE_HOURS = 6
"""Time the whole execution may take beyond the training job's own cap: validation, import, the candidate's
evaluation (at most ``EVALUATION_TIMEOUT_HOURS``) and publishing."""
ALARM_PERIOD_MINUTES = 5
VALIDATION_SHARED_FILES = ("training_jobs/__init__.py", "training_jobs/dataprep.py")
IMPORTED_MODELS_SHARED_FILES = (
    "ladder_core/api.py",
    "ladder_core/metrics.py",
    "ladder_core/promotion.py",
    "ladder_core/tags.py",
    "ladder_core/published.py",
)
"""The promotion gate's decision, bundled with the imported-models function (one copy of the rules)."""

# Error names of the Fail states: what `ladder finetune status` shows as the execution's error.
ERROR_DATASET_REJECTED = "DatasetRejected"
ERROR_VALIDATION = "ValidationFailed"
ERROR_BASE_MODEL_REQUIRED = "BaseModelRequired"
ERROR_BASE_MODEL_LOCATION = "BaseModelOutsideArtifactsBucket"
ERROR_TRAINING = "TrainingFailed"
ERROR_TRAINING_JOB = "TrainingJobFailed"
ERROR_TRAINING_LOST = "TrainingNotFollowed"
ERROR_TRAINING_NOT_STOPPED = "TrainingJobNotStopped"
ERROR_IMPORT = "ModelImportFailed"
ERROR_IMPORT_JOB = "ModelImportJobFailed"
ERROR_PUBLISH = "PublishFailed"
ERROR_NO_IMPORT_CAPACITY = "NoImportCapacity"
ERROR_CAPACITY_CHECK = "ImportCapacityCheckFailed"
ERROR_PRUNE = "PruneFailed"
ERROR_CANDIDATE_REJECTED = "CandidateRejected"
ERROR_CANDIDATE_EVALUATION = "CandidateEvaluationFailed"
ERROR_GATE_INCOMPLETE = "PromotionGateIncomplete"
GATE_INPUT_KEYS = ("evalSet", "verdict", "promotionArms")
"""What an execution asking for the promotion gate must carry (``ladder finetune start`` sends them)."""
EVALUATION_TIMEOUT_HOURS = 2
"""Longest the candidate's evaluation may take: a 200-item set over two arms is 400 answers, minutes at the
evaluation's concurrency; the task stops the evaluation execution when this passes."""

_ERROR_PATH = "$.error"
_STOP_ERROR_PATH = "$.stopError"
PUBLISH_RETRY_ERROR = "Ssm.TooManyUpdatesException"
_BEDROCK_TRANSIENT = ["Bedrock.ThrottlingException", "Bedrock.InternalServerException"]


@dataclass(frozen=True)
class TrainingJobInputs:
    """What every training-job state of the pipeline is built from."""

    config: LadderConfig
    role: iam.IRole
    artifacts_bucket: s3.IBucket
    key: kms.IKey
    code: s3_assets.Asset
    image_uri: str


class FineTunePipeline(Construct):
    """State machine, its validation function, the Bedrock import role and the pipeline alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: LadderConfig,
        training_data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        key: kms.IKey,
        training_role: iam.IRole,
        code: s3_assets.Asset,
        image_uri: str,
        model_parameter_name: str,
        notifications: AlarmTopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self._notifications = notifications
        self._config = config
        stack = cdk.Stack.of(self)
        self._import_jobs = stack.format_arn(
            service="bedrock", resource="model-import-job", resource_name="*"
        )
        self._imported_models = stack.format_arn(
            service="bedrock", resource="imported-model", resource_name="*"
        )

        self.validate = self._validation_function(config, training_data_bucket, key)
        self.housekeeping = self._housekeeping_function(config)
        self.evaluation = sfn.StateMachine.from_state_machine_name(
            self, "EvaluationStateMachine", evaluation_state_machine_name(config)
        )
        self.import_role = self._import_role(artifacts_bucket, key)

        validate = self._validate_dataset(training_data_bucket)
        import_model = self._import_chain(artifacts_bucket, model_parameter_name)
        make_room = self._make_room()
        train = self._training(
            TrainingJobInputs(
                config=config,
                role=training_role,
                artifacts_bucket=artifacts_bucket,
                key=key,
                code=code,
                image_uri=image_uri,
            ),
            import_model,
        )
        choose_base_model = self._choose_base_model(config, artifacts_bucket, train)

        self.log_group = log_group(self, "Logs", config=config)
        gate_input = self._check_gate_input(make_room.next(choose_base_model))
        self.state_machine = self._state_machine(config, validate.next(gate_input))
        self._grant(training_role)
        self._alarms(notifications)
        self._acknowledge()

    def _validate_dataset(self, training_data_bucket: s3.IBucket) -> tasks.LambdaInvoke:
        """The first state: the validation function checks the upload and writes the train/eval channels."""
        validate = tasks.LambdaInvoke(
            self,
            "ValidateDataset",
            comment="Check the uploaded chat data and write the train/eval channels",
            lambda_function=self.validate.function,
            payload=sfn.TaskInput.from_object(
                {
                    "bucket": training_data_bucket.bucket_name,
                    "key": sfn.JsonPath.string_at("$.key"),
                    "executionName": sfn.JsonPath.string_at("$$.Execution.Name"),
                }
            ),
            payload_response_only=True,
            result_path="$.dataset",
        )
        validate.add_catch(
            self._failure(ERROR_DATASET_REJECTED, "the dataset was rejected"),
            errors=[ERROR_DATASET_REJECTED],
            result_path=_ERROR_PATH,
        )
        validate.add_catch(
            self._failure(ERROR_VALIDATION, "dataset validation failed"),
            result_path=_ERROR_PATH,
        )
        return validate

    def _make_room(self) -> tasks.LambdaInvoke:
        """Before any GPU is paid for: room for one more imported model (prune, then the quota check)."""
        make_room = self._housekeeping_task("MakeRoomForModel", "ensure_capacity")
        make_room.add_catch(
            self._failure(
                ERROR_NO_IMPORT_CAPACITY, "the imported-model quota leaves no room: nothing was trained"
            ),
            errors=[ERROR_NO_IMPORT_CAPACITY],
            result_path=_ERROR_PATH,
        )
        make_room.add_catch(
            self._failure(ERROR_CAPACITY_CHECK, "the imported-model quota could not be checked"),
            result_path=_ERROR_PATH,
        )
        return make_room

    def _training(
        self, inputs: TrainingJobInputs, import_model: sfn.IChainable
    ) -> Callable[[str, bool], sfn.IChainable]:
        """A maker of training-job states (with or without the model channel). Each is followed until the
        job ends, then ``import_model``; all share the failure for a job that could not be started and the
        stop for a job that can no longer be followed."""
        training_failed = self._failure(ERROR_TRAINING, "the training job could not be started")
        follow_training = self._follow_training(import_model, self._stop_training())

        def train(construct_id: str, with_model_channel: bool) -> sfn.IChainable:
            state = training_job_state(
                self,
                construct_id,
                config=inputs.config,
                role=inputs.role,
                artifacts_bucket=inputs.artifacts_bucket,
                key=inputs.key,
                code=inputs.code,
                image_uri=inputs.image_uri,
                with_model_channel=with_model_channel,
                result_path="$.training",
            )
            state.add_catch(training_failed, result_path=_ERROR_PATH)
            return state.next(follow_training)

        return train

    def _choose_base_model(
        self,
        config: LadderConfig,
        artifacts_bucket: s3.IBucket,
        train: Callable[[str, bool], sfn.IChainable],
    ) -> sfn.IChainable:
        """Train from staged weights (the ``model`` channel) when the execution names them, else from the
        Hub where the base model may be downloaded, else fail saying the weights must be staged."""
        # The job gets no Hub token: a gated model (the default Llama) downloads nothing but a 401 once the
        # GPU is paid for, and an isolated job reaches no Hub at all. Both need staged weights.
        reason = (
            "network isolation is on"
            if config.fine_tune_network_isolation
            else f"{config.fine_tune_base_model_id} is gated on the Hugging Face Hub"
            if is_gated_model(config.fine_tune_base_model_id)
            else ""
        )
        self.hub_download = not reason
        without_staged_model = (
            self._failure(
                ERROR_BASE_MODEL_REQUIRED,
                f"{reason}, so the base model must be staged in S3: start the execution with "
                f"baseModelS3Uri under s3://<artifacts bucket>/{layout.BASE_MODELS_PREFIX}",
                static=True,
            )
            if reason
            else train("TrainFromHub", False)
        )
        # Two Choice states, not one And: a comparison on an absent path fails the execution at once
        # (States.Runtime, which no Catch sees), so the location is only compared once it is known to exist.
        # The folder must end with "/": a bare prefix would also copy its siblings (base-models/llama-8b/ for
        # base-models/llama) and put the weights one folder down in the channel.
        staged_folder = f"s3://{artifacts_bucket.bucket_name}/{layout.BASE_MODELS_PREFIX}*/"
        check_location = (
            sfn.Choice(
                self, "BaseModelLocation", comment="Only a folder under base-models/ of the artifacts bucket"
            )
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_string("$.baseModelS3Uri"),
                    sfn.Condition.string_matches("$.baseModelS3Uri", staged_folder),
                ),
                train("TrainWithStagedModel", True),
            )
            .otherwise(
                self._failure(
                    ERROR_BASE_MODEL_LOCATION,
                    "baseModelS3Uri must be a folder (ending with /) under "
                    f"s3://<artifacts bucket>/{layout.BASE_MODELS_PREFIX}",
                    static=True,
                )
            )
        )
        return (
            sfn.Choice(self, "BaseModelStaged", comment="Staged weights (model channel) or the Hub")
            .when(sfn.Condition.is_present("$.baseModelS3Uri"), check_location)
            .otherwise(without_staged_model)
        )

    def _state_machine(self, config: LadderConfig, definition: sfn.IChainable) -> sfn.StateMachine:
        """The state machine, timed out after the training job's own cap plus the import allowance."""
        training_hours = (
            config.fine_tune_max_wait_hours if config.fine_tune_spot else config.fine_tune_max_runtime_hours
        )
        return ladder_state_machine(
            self,
            "StateMachine",
            comment="Ladder fine-tune: validate -> train (SageMaker) -> import (Bedrock) -> publish (SSM)",
            definition=definition,
            timeout=cdk.Duration.hours(training_hours + IMPORT_ALLOWANCE_HOURS),
            log_group=self.log_group,
        )

    def _grant(self, training_role: iam.IRole) -> None:
        """What the state machine's own role needs beyond its tasks: the training job calls, passing the
        import role to Bedrock, and the notification topic's key."""
        for statement in training_job_statements(training_role):
            self.state_machine.add_to_role_policy(statement)
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                sid="PassModelImportRole",
                actions=["iam:PassRole"],
                resources=[self.import_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            )
        )
        self._notifications.key.grant(self.state_machine, "kms:Decrypt", "kms:GenerateDataKey")

    def _stop_training(self) -> sfn.IChainable:
        """StopTrainingJob, then notify and fail; a stop that fails too is reported as such (the job may
        still be running and billing). The caught error that led here stays at ``$.error``."""
        stop = stop_training_job(self, "StopTrainingJob")
        stop.add_retry(
            errors=["States.TaskFailed"], interval=cdk.Duration.seconds(10), max_attempts=3, backoff_rate=2
        )
        stop.add_catch(
            self._failure(
                ERROR_TRAINING_NOT_STOPPED,
                "the training job could not be followed, and stopping it failed: it may still be running and "
                "billing; stop it with `ladder finetune stop <execution ARN>`",
                details={"stopError": sfn.JsonPath.string_at(f"{_STOP_ERROR_PATH}.Cause")},
            ),
            result_path=_STOP_ERROR_PATH,
        )
        return stop.next(
            self._failure(ERROR_TRAINING_LOST, "the training job could not be followed, so it was stopped")
        )

    def _follow_training(self, import_model: sfn.IChainable, stop_training: sfn.IChainable) -> sfn.IChainable:
        """Wait, DescribeTrainingJob, repeat while InProgress / Stopping; Completed goes on to the import.
        When the job can no longer be followed it is stopped (``stop_training``)."""
        wait = sfn.Wait(
            self, "WaitForTraining", time=sfn.WaitTime.duration(cdk.Duration.seconds(TRAINING_POLL_SECONDS))
        )
        describe = describe_training_job(self, "CheckTraining", result_path="$.trainingJob")
        describe.add_retry(
            errors=["States.TaskFailed"], interval=cdk.Duration.seconds(30), max_attempts=3, backoff_rate=2
        )
        describe.add_catch(stop_training, result_path=_ERROR_PATH)
        status = "$.trainingJob.TrainingJobStatus"
        return wait.next(describe).next(
            sfn.Choice(self, "TrainingStatus")
            .when(
                sfn.Condition.or_(
                    sfn.Condition.string_equals(status, "InProgress"),
                    sfn.Condition.string_equals(status, "Stopping"),
                ),
                wait,
            )
            .when(sfn.Condition.string_equals(status, "Completed"), import_model)
            .otherwise(
                self._failure(
                    ERROR_TRAINING_JOB,
                    "the training job did not complete",
                    details={
                        "trainingJob": sfn.JsonPath.string_at("$.trainingJob.TrainingJobName"),
                        "trainingJobStatus": sfn.JsonPath.string_at(status),
                        "secondaryStatus": sfn.JsonPath.string_at("$.trainingJob.SecondaryStatus"),
                    },
                    static=True,
                )
            )
        )

    def _housekeeping_task(self, construct_id: str, action: str) -> tasks.LambdaInvoke:
        return tasks.LambdaInvoke(
            self,
            construct_id,
            comment=f"Imported models of this pipeline: {action}",
            lambda_function=self.housekeeping.function,
            payload=sfn.TaskInput.from_object(
                {"action": action, "pipeline": sfn.JsonPath.string_at("$$.StateMachine.Name")}
            ),
            payload_response_only=True,
            result_path=sfn.JsonPath.DISCARD,
        )

    def _import_chain(self, artifacts_bucket: s3.IBucket, model_parameter_name: str) -> sfn.IChainable:
        start_import = tasks.CallAwsService(
            self,
            "ImportModel",
            comment="Bedrock Custom Model Import of the merged weights the training job wrote",
            service="bedrock",
            action="createModelImportJob",
            iam_action="bedrock:CreateModelImportJob",
            iam_resources=[self._import_jobs, self._imported_models],
            parameters={
                "JobName.$": "$$.Execution.Name",
                "ImportedModelName.$": "$$.Execution.Name",
                "ClientRequestToken.$": "$$.Execution.Name",
                "RoleArn": self.import_role.role_arn,
                # The folder the job uploaded SM_MODEL_DIR to (CompressionType NONE), ending with "/".
                "ModelDataSource": {
                    "S3DataSource": {"S3Uri.$": model_folder_s3_uri(artifacts_bucket.bucket_name)}
                },
                "ImportedModelTags": [{"Key": PIPELINE_TAG, "Value.$": "$$.StateMachine.Name"}],
            },
            additional_iam_statements=[
                iam.PolicyStatement(actions=["bedrock:TagResource"], resources=[self._imported_models])
            ],
            result_selector={"JobArn.$": "$.JobArn"},
            result_path="$.import",
        )
        start_import.add_retry(errors=_BEDROCK_TRANSIENT, interval=cdk.Duration.seconds(30), max_attempts=4)
        import_failed = self._failure(ERROR_IMPORT, "the Bedrock model import failed")
        start_import.add_catch(import_failed, result_path=_ERROR_PATH)

        wait = sfn.Wait(
            self, "WaitForImport", time=sfn.WaitTime.duration(cdk.Duration.seconds(IMPORT_POLL_SECONDS))
        )
        check = tasks.CallAwsService(
            self,
            "CheckImport",
            service="bedrock",
            action="getModelImportJob",
            iam_action="bedrock:GetModelImportJob",
            iam_resources=[self._import_jobs],
            parameters={"JobIdentifier.$": "$.import.JobArn"},
            result_path="$.importJob",
        )
        check.add_retry(errors=_BEDROCK_TRANSIENT, interval=cdk.Duration.seconds(30), max_attempts=4)
        check.add_catch(import_failed, result_path=_ERROR_PATH)

        # The pipeline owns the parameter: PutParameter creates it on the first publish. CloudFormation does
        # not manage it, so no stack update can put a placeholder back over a published model.
        parameter_arn = cdk.Stack.of(self).format_arn(
            service="ssm", resource="parameter", resource_name=model_parameter_name.lstrip("/")
        )
        publish = tasks.CallAwsService(
            self,
            "PublishModelArn",
            comment="The RAG function's finetuned mode reads the model ARN from this parameter",
            service="ssm",
            action="putParameter",
            iam_action="ssm:PutParameter",
            iam_resources=[parameter_arn],
            parameters={
                "Name": model_parameter_name,
                "Value.$": "$.importJob.ImportedModelArn",
                "Type": "String",
                "Overwrite": True,
                # Each version's Description is kept in the parameter's history; set on every publish so
                # a by-hand reason (ladder finetune promote) never carries over to the next version.
                "Description": sfn.JsonPath.format(
                    "Published by the fine-tune pipeline, execution {}",
                    sfn.JsonPath.string_at("$$.Execution.Name"),
                ),
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        # SDK-integration errors are "<Service>.<Error>" in PascalCase, with an "Exception" suffix even where
        # the API's own name lacks it (SSM's TooManyUpdates): Step Functions Developer Guide, AWS SDK
        # service integrations.
        publish.add_retry(errors=[PUBLISH_RETRY_ERROR], interval=cdk.Duration.seconds(5))
        publish.add_catch(
            self._failure(ERROR_PUBLISH, "the model was imported but its ARN was not published"),
            result_path=_ERROR_PATH,
        )
        notify_success = tasks.SnsPublish(
            self,
            "NotifySucceeded",
            topic=self._notifications.topic,
            subject="Ladder fine-tune succeeded",
            message=sfn.TaskInput.from_object(
                {
                    "status": "SUCCEEDED",
                    "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
                    "trainingJob": sfn.JsonPath.string_at("$.trainingJob.TrainingJobName"),
                    "importedModelArn": sfn.JsonPath.string_at("$.importJob.ImportedModelArn"),
                    "parameter": model_parameter_name,
                    "promotion": sfn.JsonPath.object_at("$.promotion"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        prune = self._housekeeping_task("PruneOldModels", "prune")
        prune.add_catch(
            self._failure(
                ERROR_PRUNE, "the model was published, but older imported models could not be deleted"
            ),
            result_path=_ERROR_PATH,
        )
        publish.next(prune).next(notify_success).next(sfn.Succeed(self, "ModelPublished"))

        status = "$.importJob.Status"
        return (
            start_import.next(wait)
            .next(check)
            .next(
                sfn.Choice(self, "ImportStatus")
                .when(sfn.Condition.string_equals(status, "InProgress"), wait)
                .when(sfn.Condition.string_equals(status, "Completed"), self._promotion_gate(publish))
                .otherwise(
                    self._failure(
                        ERROR_IMPORT_JOB,
                        "the Bedrock model import job did not complete",
                        details={"importJob": sfn.JsonPath.object_at("$.importJob")},
                        static=True,
                    )
                )
            )
        )

    def _check_gate_input(self, train: sfn.IChainable) -> sfn.IChainable:
        """Before any GPU is paid for: a run that asks for the promotion gate must name what the gate needs
        (``evalSet``, ``verdict``, ``promotionArms``), or its candidate could never be measured."""
        missing = sfn.Condition.or_(
            *(sfn.Condition.not_(sfn.Condition.is_present(f"$.{key}")) for key in GATE_INPUT_KEYS)
        )
        incomplete = (
            sfn.Choice(self, "PromotionGateInputComplete")
            .when(
                sfn.Condition.and_(sfn.Condition.boolean_equals("$.promotionGate", True), missing),
                self._failure(
                    ERROR_GATE_INCOMPLETE,
                    "promotionGate is true but the execution input lacks evalSet, verdict or promotionArms "
                    "(ladder finetune start sends them): nothing was trained",
                    static=True,
                ),
            )
            .otherwise(train)
        )
        # An absent path in a comparison fails the execution (States.Runtime): presence is checked first.
        return (
            sfn.Choice(self, "PromotionGateAsked")
            .when(sfn.Condition.is_present("$.promotionGate"), incomplete)
            .otherwise(train)
        )

    def _promotion_gate(self, publish: sfn.IChainable) -> sfn.IChainable:
        """Between the import and the publish: with ``promotionGate`` true, evaluate the candidate (the
        evaluation state machine, .sync) and publish it only when the gate function says so; otherwise
        publish as before, recording why there was no gate. ``$.promotion`` holds the outcome either way."""
        # An absent path in a comparison fails the execution (States.Runtime): presence is checked first.
        off = sfn.Pass(
            self,
            "PromotionGateOff",
            comment="Published unmeasured: the reason given to ladder finetune start",
            parameters={"gate": "off", "reason": sfn.JsonPath.string_at("$.promotionGateReason")},
            result_path="$.promotion",
        ).next(publish)
        not_recorded = sfn.Pass(
            self,
            "PromotionGateNotRecorded",
            comment="An execution started without ladder finetune start: no gate was asked for",
            result=sfn.Result.from_object(
                {
                    "gate": "off",
                    "reason": "the execution input asked for no promotion gate and gave no reason",
                }
            ),
            result_path="$.promotion",
        ).next(publish)
        gate_on = (
            sfn.Choice(self, "PromotionGate", comment="Measure the candidate before publishing it?")
            .when(sfn.Condition.boolean_equals("$.promotionGate", True), self._evaluate_candidate(publish))
            .when(sfn.Condition.is_present("$.promotionGateReason"), off)
            .otherwise(not_recorded)
        )
        return (
            sfn.Choice(self, "PromotionGateGiven")
            .when(sfn.Condition.is_present("$.promotionGate"), gate_on)
            .otherwise(not_recorded)
        )

    def _evaluate_candidate(self, publish: sfn.IChainable) -> sfn.IChainable:
        """The evaluation state machine answers the set with the candidate and the verdict's best other arm;
        the gate function decides; a rejected candidate stays unpublished."""
        entered = sfn.JsonPath.string_split(sfn.JsonPath.string_at("$$.State.EnteredTime"), "-:.Z")
        run_id = sfn.JsonPath.format(
            "{}{}{}{}{}Z-promotion-{}",
            *(sfn.JsonPath.array_get_item(entered, index) for index in range(5)),
            sfn.JsonPath.string_at("$$.Execution.Name"),
        )
        evaluate = tasks.StepFunctionsStartExecution(
            self,
            "EvaluateCandidate",
            comment="Answer the staged set with the candidate and the arm it must beat (runs/<runId>/)",
            state_machine=self.evaluation,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            input=sfn.TaskInput.from_object(
                {
                    "purpose": "promotion",
                    "runId": run_id,
                    "evalSet": sfn.JsonPath.object_at("$.evalSet"),
                    "arms": sfn.JsonPath.list_at("$.promotionArms"),
                    "candidateModelArn": sfn.JsonPath.string_at("$.importJob.ImportedModelArn"),
                }
            ),
            task_timeout=sfn.Timeout.duration(cdk.Duration.hours(EVALUATION_TIMEOUT_HOURS)),
            result_selector={"output": sfn.JsonPath.object_at("$.Output")},
            result_path="$.evaluation",
        )
        evaluation_failed = self._failure(
            ERROR_CANDIDATE_EVALUATION, "the candidate could not be evaluated: it was not published"
        )
        evaluate.add_catch(evaluation_failed, result_path=_ERROR_PATH)
        gate = tasks.LambdaInvoke(
            self,
            "DecidePromotion",
            comment="Targets by lower bounds, the paired correctness drop; tags the model with its numbers",
            lambda_function=self.housekeeping.function,
            payload=sfn.TaskInput.from_object(
                {
                    "action": import_constants.GATE_ACTION,
                    "pipeline": sfn.JsonPath.string_at("$$.StateMachine.Name"),
                    "modelArn": sfn.JsonPath.string_at("$.importJob.ImportedModelArn"),
                    "verdict": sfn.JsonPath.object_at("$.verdict"),
                    "evaluation": sfn.JsonPath.object_at("$.evaluation.output"),
                }
            ),
            payload_response_only=True,
            result_path="$.promotion",
        )
        gate.add_catch(evaluation_failed, result_path=_ERROR_PATH)
        rejected = self._failure(
            ERROR_CANDIDATE_REJECTED,
            "the candidate did not beat the verdict's targets and best other arm: it stays unpublished; "
            "publish it anyway with `ladder finetune promote MODEL --reason TEXT`",
            details={
                "importedModelArn": sfn.JsonPath.string_at("$.importJob.ImportedModelArn"),
                "reasons": sfn.JsonPath.list_at("$.promotion.reasons"),
                "numbers": sfn.JsonPath.object_at("$.promotion.numbers"),
                "evaluationSummary": sfn.JsonPath.string_at("$.promotion.summary"),
            },
            static=True,
        )
        return evaluate.next(gate).next(
            sfn.Choice(self, "PromotionDecision")
            .when(sfn.Condition.boolean_equals("$.promotion.promote", True), publish)
            .otherwise(rejected)
        )

    def _failure(
        self,
        error: str,
        summary: str,
        *,
        details: dict[str, object] | None = None,
        static: bool = False,
    ) -> sfn.IChainable:
        """Publish what failed to the topic, then fail with ``error``. A caught error (``static`` False)
        sits at ``$.error``: its Error and Cause go into the message and its Cause becomes the Fail cause."""
        message: dict[str, object] = {
            "status": "FAILED",
            "error": error,
            "summary": summary,
            "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
            **(details or {}),
        }
        if static:
            fail = sfn.Fail(self, f"{error}", error=error, cause=summary)
        else:
            message["cause"] = sfn.JsonPath.string_at(f"{_ERROR_PATH}.Cause")
            message["caughtError"] = sfn.JsonPath.string_at(f"{_ERROR_PATH}.Error")
            fail = sfn.Fail(self, f"{error}", error=error, cause_path=f"{_ERROR_PATH}.Cause")
        notify = tasks.SnsPublish(
            self,
            f"Notify{error}",
            topic=self._notifications.topic,
            subject="Ladder fine-tune failed",
            message=sfn.TaskInput.from_object(message),
            result_path=sfn.JsonPath.DISCARD,
        )
        # A notification that cannot be sent must not hide the original failure.
        notify.add_catch(fail, result_path="$.notificationError")
        return notify.next(fail)

    def _validation_function(self, config: LadderConfig, bucket: s3.IBucket, key: kms.IKey) -> PythonFunction:
        function = PythonFunction(
            self,
            "ValidateDatasetFunction",
            config=config,
            name="validate_dataset",
            service=SERVICE,
            description="Fine-tune pipeline: checks an uploaded chat dataset and writes train/eval splits",
            environment={
                "MIN_EXAMPLES": str(config.fine_tune_min_examples),
                "EVAL_FRACTION": str(config.fine_tune_eval_fraction),
            },
            memory_mb=VALIDATE_MEMORY_MB,
            timeout=cdk.Duration.seconds(VALIDATE_TIMEOUT_SECONDS),
            shared_files=VALIDATION_SHARED_FILES,
        )
        role = function.role
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadUploads",
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(f"{layout.UPLOADS_PREFIX}*")],
            )
        )
        # Without ListBucket a missing object reads as AccessDenied instead of NoSuchKey.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ListUploads",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{layout.UPLOADS_PREFIX}*"]}},
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="WritePreparedData",
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{layout.PREPARED_PREFIX}*")],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="UseBucketKey", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]
            )
        )
        for prefix, access in ((layout.UPLOADS_PREFIX, "reads"), (layout.PREPARED_PREFIX, "writes")):
            acknowledge(
                role,
                resource_finding("AwsSolutions-IAM5", bucket, f"/{prefix}*"),
                f"The validation task {access} objects under {prefix} named per upload and per execution; "
                "access is limited to that prefix of the training-data bucket.",
            )
        return function

    def _housekeeping_function(self, config: LadderConfig) -> PythonFunction:
        """Deletes the pipeline's imported models beyond the newest N and checks the import quota."""
        function = PythonFunction(
            self,
            "ImportedModelsFunction",
            config=config,
            name="imported_models",
            service=SERVICE,
            description="Fine-tune pipeline: prunes old imported models, checks the import quota",
            environment={
                "MODEL_PARAMETER": config.fine_tuned_model_parameter,
                "KEEP_MODELS": str(config.fine_tune_keep_models),
            },
            timeout=cdk.Duration.seconds(HOUSEKEEPING_TIMEOUT_SECONDS),
            shared_files=IMPORTED_MODELS_SHARED_FILES,
        )
        stack = cdk.Stack.of(self)
        role = function.role
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ManageImportedModels",
                actions=["bedrock:ListTagsForResource", "bedrock:DeleteImportedModel", "bedrock:TagResource"],
                resources=[self._imported_models],
            )
        )
        # The promotion gate reads the verdict `ladder finetune start` staged in the RAG API stack's
        # evaluations bucket; its name is that stack's (no export), so the bucket is any of this account's.
        staged_verdicts = f"arn:{stack.partition}:s3:::*/{PROMOTION_PREFIX}*"
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadStagedVerdicts",
                actions=["s3:GetObject"],
                resources=[staged_verdicts],
                conditions={"StringEquals": {"s3:ResourceAccount": stack.account}},
            )
        )
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::arn:{stack.partition}:s3:::*/{PROMOTION_PREFIX}*]",
            "The promotion gate reads the verdict staged under staged/promotion/ of the RAG API stack's "
            "evaluations bucket, named by that stack; access is limited to that prefix in this account's "
            "buckets (s3:ResourceAccount).",
        )
        # The imported-model quota, read by its code. GetServiceQuota takes the quota's ARN;
        # ListImportedModels and GetAWSDefaultServiceQuota support no resource-level permissions (Service
        # Authorization Reference, Service Quotas and Amazon Bedrock).
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadImportQuota",
                actions=["servicequotas:GetServiceQuota"],
                resources=[
                    stack.format_arn(
                        service="servicequotas",
                        resource=import_constants.QUOTA_SERVICE_CODE,
                        resource_name=import_constants.QUOTA_CODE,
                        arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
                    )
                ],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ListModelsAndDefaultQuota",
                actions=["bedrock:ListImportedModels", "servicequotas:GetAWSDefaultServiceQuota"],
                resources=["*"],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadPublishedModel",
                actions=["ssm:GetParameter"],
                resources=[
                    stack.format_arn(
                        service="ssm",
                        resource="parameter",
                        resource_name=config.fine_tuned_model_parameter.lstrip("/"),
                    )
                ],
            )
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray, bedrock:ListImportedModels and servicequotas:GetAWSDefaultServiceQuota support no "
            "resource-level permissions; deletion is limited to imported models and, in code, to this "
            "pipeline's tag.",
        )
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::arn:{stack.partition}:bedrock:{stack.region}:<AWS::AccountId>:"
            "imported-model/*]",
            "Imported models are named after each pipeline execution at run time; the function deletes only "
            "those tagged with this state machine's name, never the published one.",
        )
        return function

    def _import_role(self, artifacts_bucket: s3.IBucket, key: kms.IKey) -> iam.Role:
        """Role Bedrock assumes to read the merged model the training job wrote."""
        role = iam.Role(
            self,
            "ModelImportRole",
            assumed_by=bedrock_service_principal("model-import-job"),
            description="Ladder fine-tune: Bedrock Custom Model Import reads the trained model",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadTrainedModels",
                actions=["s3:GetObject"],
                resources=[artifacts_bucket.arn_for_objects(f"{layout.MODELS_PREFIX}*")],
            )
        )
        # As in AWS's own Custom Model Import role example: ListBucket on the bucket with no s3:prefix
        # condition, which Bedrock's bucket-level calls would not always meet.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ListTrainedModels", actions=["s3:ListBucket"], resources=[artifacts_bucket.bucket_arn]
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(sid="DecryptModels", actions=["kms:Decrypt"], resources=[key.key_arn])
        )
        acknowledge(
            role,
            resource_finding("AwsSolutions-IAM5", artifacts_bucket, f"/{layout.MODELS_PREFIX}*"),
            "Each training job writes its model under models/<job name>/, named at run time; the import "
            "role reads only that prefix of the artifacts bucket.",
        )
        return role

    def _alarms(self, notifications: AlarmTopic) -> None:
        period = cdk.Duration.minutes(ALARM_PERIOD_MINUTES)
        metrics: Sequence[tuple[str, str, cloudwatch.Metric]] = (
            ("ExecutionsFailed", "failed", self.state_machine.metric_failed(period=period)),
            ("ExecutionsTimedOut", "timed out", self.state_machine.metric_timed_out(period=period)),
            # A stopped execution runs no Catch, so nothing stopped a training job it had started.
            (
                "ExecutionsAborted",
                "was stopped; unless `ladder finetune stop` did it, its training job may still run: "
                "ladder finetune stop <execution>",
                self.state_machine.metric_aborted(period=period),
            ),
        )
        self.alarms = [
            notifications.alarm(self, alarm_id, metric, f"A Ladder fine-tune pipeline execution {what}")
            for alarm_id, what, metric in metrics
        ]

    def _acknowledge(self) -> None:
        stack = cdk.Stack.of(self)
        acknowledge(
            self.state_machine,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions log delivery (logs:*LogDelivery*, resource policies) and X-Ray tracing actions "
            "support no resource-level permissions; each statement holds only such actions.",
        )
        for function in (self.validate.function, self.housekeeping.function):
            acknowledge(
                self.state_machine,
                resource_finding("AwsSolutions-IAM5", function, ":*"),
                "Invoking the pipeline's own function by version or alias ARN; it is this one function only.",
            )
        account_arn = f"arn:{stack.partition}:{{service}}:{stack.region}:<AWS::AccountId>"
        # StepFunctionsStartExecution's own grant for .sync: DescribeExecution / StopExecution on the
        # evaluation state machine's executions, named by the evaluation at run time.
        evaluation = evaluation_state_machine_name(self._config)
        acknowledge(
            self.state_machine,
            f"AwsSolutions-IAM5[Resource::{account_arn.format(service='states')}:execution:{evaluation}*]",
            "The .sync integration follows and, on timeout, stops the evaluation execution it started; its "
            "name is chosen at run time, and access is limited to the evaluation state machine's executions.",
        )
        for service, resource, reason in _RUN_TIME_NAMES:
            acknowledge(
                self.state_machine,
                f"AwsSolutions-IAM5[Resource::{account_arn.format(service=service)}:{resource}]",
                reason,
            )


_RUN_TIME_NAMES = (
    (
        "sagemaker",
        "training-job/*",
        "Training jobs are named after each pipeline execution at run time; access is limited to training "
        "jobs of this account and region.",
    ),
    (
        "bedrock",
        "model-import-job/*",
        "Model import jobs are named after each pipeline execution at run time; access is limited to "
        "import jobs of this account and region.",
    ),
    (
        "bedrock",
        "imported-model/*",
        "The imported model is named after the execution at run time; CreateModelImportJob may only "
        "create models in this account and region.",
    ),
)
