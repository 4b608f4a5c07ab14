"""The drift watch: a schedule re-measures the served arms (and the general models named in
``driftWatchModelIds``) on the staged eval set, publishes per-arm metrics and alarms when the fine-tuned
model no longer wins, a served arm falls below its target, or the verdict is about to expire.

EventBridge Scheduler starts a small state machine: the watch function resolves the arms -> the evaluation
state machine (``f"{stack_prefix}-evaluation"``, found by name) answers and scores them (.sync) -> the watch
function publishes the metrics (``Ladder/Evaluation``) and sends each finding to the alarm topic. An alarm on
``DriftFindings`` and one on a failed watch execution notify the same topic.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ladder_core import drift
from ladder_core.examples import MANIFEST_KEY
from stacks.config import LadderConfig
from stacks.constructs.alarm_topic import AlarmTopic
from stacks.constructs.log_group import log_group
from stacks.constructs.python_function import PythonFunction
from stacks.constructs.state_machine import ladder_state_machine
from stacks.nag import acknowledge, resource_finding
from stacks.rag.evaluation_runner import evaluation_state_machine_name

WATCH_SHARED_FILES = (
    "ladder_core/drift.py",
    "ladder_core/metrics.py",
    "ladder_core/examples.py",
    "ladder_core/timestamps.py",
    "ladder_core/published.py",
)
"""What the watch function bundles from ladder_core: the findings, the metric keys, the manifest's key, the
verdict's time format."""
WATCH_TIMEOUT = cdk.Duration.hours(12)
"""The whole watch execution, the evaluation run included; a run that takes longer is stopped and alarms."""
FUNCTION_TIMEOUT = cdk.Duration.seconds(60)
FINDINGS_PERIOD = cdk.Duration.days(1)
"""CloudWatch evaluates ``DriftFindings`` over a day: a run's findings alarm once, then the alarm clears."""


def start_execution_sync_statements(config: LadderConfig) -> list[iam.PolicyStatement]:
    """What a ``startExecution.sync`` of the evaluation state machine needs, as Step Functions documents it
    ("IAM policies for AWS Step Functions", Synchronous): StartExecution on the state machine,
    DescribeExecution and StopExecution on its executions, and the managed rule it follows them with."""
    name = evaluation_state_machine_name(config)
    return [
        iam.PolicyStatement(
            sid="StartEvaluation",
            actions=["states:StartExecution"],
            resources=[evaluation_state_machine_arn(config)],
        ),
        iam.PolicyStatement(
            sid="FollowEvaluation",
            actions=["states:DescribeExecution", "states:StopExecution"],
            resources=[f"{_regional_arn('states')}:execution:{name}:*"],
        ),
        iam.PolicyStatement(
            sid="ManagedRuleForSync",
            actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            resources=[f"{_regional_arn('events')}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"],
        ),
    ]


def evaluation_state_machine_arn(config: LadderConfig) -> str:
    return f"{_regional_arn('states')}:stateMachine:{evaluation_state_machine_name(config)}"


def _regional_arn(service: str) -> str:
    return f"arn:{cdk.Aws.PARTITION}:{service}:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}"


class DriftWatch(Construct):
    """The schedule, the watch state machine and function, and the alarms; exists only with a
    ``driftWatchSchedule``. ``examples_manifest_bucket`` is the documents bucket (None without a few-shot
    store)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: LadderConfig,
        evaluations_bucket: s3.IBucket,
        alarms: AlarmTopic,
        examples_manifest_bucket: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.function = PythonFunction(
            self,
            "WatchFunction",
            config=config,
            name="watch",
            service="drift-watch",
            description="Drift watch: resolves the arms of a scheduled evaluation, then publishes findings",
            environment={
                "EVALUATIONS_BUCKET": evaluations_bucket.bucket_name,
                "TOPIC_ARN": alarms.topic.topic_arn,
                "MAX_ITEMS": str(config.drift_watch_max_items),
                "EXAMPLES_MANIFEST_BUCKET": examples_manifest_bucket or "",
                "MODEL_PARAMETER": config.fine_tuned_model_parameter if config.fine_tune else "",
                "MODEL_IDS": ",".join(config.drift_watch_model_ids),
            },
            timeout=FUNCTION_TIMEOUT,
            shared_files=WATCH_SHARED_FILES,
        )
        role = self.function.role
        staged = [drift.STAGED_SET_KEY, drift.STAGED_VERDICT_KEY]
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadStagedSetAndVerdict",
                actions=["s3:GetObject"],
                resources=[evaluations_bucket.arn_for_objects(key) for key in staged],
            )
        )
        # Without s3:ListBucket, S3 answers a missing key with 403 instead of 404 (HeadObject/GetObject
        # permissions): the watch could not tell "nothing staged" from a denied read. Listing is limited to
        # exactly the keys it reads.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="TellMissingStagedFiles",
                actions=["s3:ListBucket"],
                resources=[evaluations_bucket.bucket_arn],
                conditions={"StringEquals": {"s3:prefix": staged}},
            )
        )
        if examples_manifest_bucket:
            bucket_arn = f"arn:{stack.partition}:s3:::{examples_manifest_bucket}"
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="ReadExamplesManifest",
                    actions=["s3:GetObject"],
                    resources=[f"{bucket_arn}/{MANIFEST_KEY}"],
                )
            )
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="TellMissingExamplesManifest",
                    actions=["s3:ListBucket"],
                    resources=[bucket_arn],
                    conditions={"StringEquals": {"s3:prefix": MANIFEST_KEY}},
                )
            )
        if config.fine_tune:
            parameter = stack.format_arn(
                service="ssm",
                resource="parameter",
                resource_name=config.fine_tuned_model_parameter.lstrip("/"),
            )
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="ReadPublishedModel", actions=["ssm:GetParameter"], resources=[parameter]
                )
            )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PublishFindings", actions=["sns:Publish"], resources=[alarms.topic.topic_arn]
            )
        )
        # The topic is encrypted with its own key: publishing encrypts the message with a data key from it.
        alarms.key.grant(role, "kms:Decrypt", "kms:GenerateDataKey")
        # A policy of its own, so its one acknowledgement does not cover the function role's X-Ray wildcard.
        metrics_policy = iam.Policy(
            self,
            "PublishMetrics",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="PublishEvaluationMetrics",
                    actions=["cloudwatch:PutMetricData"],
                    resources=["*"],
                    conditions={"StringEquals": {"cloudwatch:namespace": drift.METRICS_NAMESPACE}},
                )
            ],
        )
        acknowledge(
            metrics_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:PutMetricData has no resource-level permissions; the statement is limited to the "
            f"{drift.METRICS_NAMESPACE} namespace by the cloudwatch:namespace condition key.",
        )

        self.state_machine = self._state_machine(config)
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            schedule=scheduler.ScheduleExpression.expression(config.drift_watch_schedule),
            target=scheduler_targets.StepFunctionsStartExecution(
                self.state_machine, input=scheduler.ScheduleTargetInput.from_object({})
            ),
            time_window=scheduler.TimeWindow.off(),
            description="Ladder drift watch: re-measure the served arms on the staged eval set",
        )
        self.findings_alarm = alarms.alarm(
            self,
            "DriftFindingsAlarm",
            cloudwatch.Metric(
                namespace=drift.METRICS_NAMESPACE,
                metric_name=drift.FINDINGS_METRIC,
                statistic="Maximum",
                period=FINDINGS_PERIOD,
            ),
            "The drift watch found a reason to re-decide: a general model as good as the fine-tuned one, a "
            "served arm below its correctness target, or a verdict about to expire (details on the topic)",
        )
        self.failed_alarm = alarms.alarm(
            self,
            "WatchFailedAlarm",
            cloudwatch.MathExpression(
                expression="FILL(failed, 0) + FILL(timedOut, 0)",
                using_metrics={
                    "failed": self.state_machine.metric_failed(statistic="Sum"),
                    "timedOut": self.state_machine.metric_timed_out(statistic="Sum"),
                },
                period=FINDINGS_PERIOD,
                label="Drift watch runs failed or timed out",
            ),
            "A drift watch run failed (nothing staged? run ladder eval stage) or timed out: no measurement",
        )

    def _state_machine(self, config: LadderConfig) -> sfn.StateMachine:
        arms = tasks.LambdaInvoke(
            self,
            "ResolveArms",
            comment="The arms: rag, fewshot with examples, finetuned when published, each extra model",
            lambda_function=self.function.function,
            payload=sfn.TaskInput.from_object({"action": "arms"}),
            payload_response_only=True,
        )
        # A CustomState with the documented policy instead of aws-cdk-lib's task, whose DescribeExecution
        # resource is execution:<name>* (any state machine whose name starts with this one's).
        evaluate = sfn.CustomState(
            self,
            "Evaluate",
            state_json={
                "Type": "Task",
                "Comment": "Answer and score every (item, arm) of the staged set: evaluation state machine",
                "Resource": f"arn:{cdk.Aws.PARTITION}:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn": evaluation_state_machine_arn(config), "Input.$": "$"},
                "ResultSelector": {"evaluation.$": "$.Output"},
            },
        )
        report = tasks.LambdaInvoke(
            self,
            "Report",
            comment="Publish the per-arm metrics and send each finding to the alarm topic",
            lambda_function=self.function.function,
            payload=sfn.TaskInput.from_object(
                {"action": "report", "evaluation": sfn.JsonPath.object_at("$.evaluation")}
            ),
            payload_response_only=True,
        )
        state_machine = ladder_state_machine(
            self,
            "StateMachine",
            comment="Ladder drift watch: resolve arms -> evaluate (.sync) -> metrics and findings",
            definition=arms.next(evaluate).next(report),
            timeout=WATCH_TIMEOUT,
            log_group=log_group(self, "Logs", config=config),
        )
        for statement in start_execution_sync_statements(config):
            state_machine.add_to_role_policy(statement)
        acknowledge(
            state_machine,
            resource_finding("AwsSolutions-IAM5", self.function.function, ":*"),
            "Invoking the watch's own function by version or alias ARN; it is this one function only.",
        )
        acknowledge(
            state_machine,
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
            f"execution:{evaluation_state_machine_name(config)}:*]",
            "A .sync StartExecution describes and stops the execution it started, named at run time; "
            "Step Functions documents this execution ARN for the nested state machine only.",
        )
        acknowledge(
            state_machine,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions log delivery (logs:*LogDelivery*, resource policies) and X-Ray tracing actions "
            "support no resource-level permissions; each statement holds only such actions.",
        )
        return state_machine
