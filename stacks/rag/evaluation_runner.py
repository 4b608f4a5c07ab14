"""Evaluating in AWS: the evaluations bucket, the evaluation function and the state machine that answers an
evaluation set through the RAG function and scores it with the CLI's own engine (``ladder_core.evaluation``).

Plan (check the input and the staged set, write ``run.json`` and the set's copy, split the items into
chunks) -> Map over the chunks (each one function run answers its items in every arm) -> Summarise
(``responses.jsonl``, ``scores.jsonl``, ``summary.json``). Nothing here bills while idle.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ladder_core.catalog.bedrock import IMPORTED_MODEL_PREFIX
from ladder_core.examples import MANIFEST_KEY
from lambdas.evaluate import constants
from stacks.config import LadderConfig
from stacks.constructs.log_group import log_group
from stacks.constructs.python_function import PythonFunction
from stacks.constructs.state_machine import ladder_state_machine
from stacks.lambda_code import REPO_ROOT
from stacks.nag import acknowledge, resource_finding

SERVICE = "evaluation"
EVALUATE_SHARED_FILES = (
    "ladder_core/__init__.py",
    "ladder_core/api.py",
    "ladder_core/examples.py",
    "ladder_core/metrics.py",
    "ladder_core/scoring.py",
    "ladder_core/stats.py",
    "ladder_core/catalog/__init__.py",
    "ladder_core/catalog/bedrock.py",
    "ladder_core/catalog/requests.py",
    *sorted(
        str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / "ladder_core" / "evaluation").glob("*.py")
    ),
)
"""The evaluation engine the function bundles: the same files ``ladder eval`` imports."""
STATE_MACHINE_SUFFIX = "-evaluation"
"""The state machine is named ``<stackPrefix>-evaluation``, so callers find it without an export."""
STATE_MACHINE_TIMEOUT = cdk.Duration.hours(24)
"""A run still going after a day is stuck: its chunks are each bounded by the function's 15 minutes."""
ERROR_INVALID_INPUT = "EvaluationInputInvalid"
ERROR_FAILED = "EvaluationFailed"
_ERROR_PATH = "$.error"


def _bedrock_arn_prefix() -> str:
    """``arn:<partition>:bedrock:<region>:<account>:``, this stack's, for its imported models."""
    return f"arn:{cdk.Aws.PARTITION}:bedrock:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:"


def evaluation_state_machine_name(config: LadderConfig) -> str:
    """``<stackPrefix>-evaluation``: deterministic, so the fine-tune pipeline and the drift watch find the
    state machine by name, without a cross-stack export."""
    return f"{config.stack_prefix}{STATE_MACHINE_SUFFIX}"


class EvaluationRunner(Construct):
    """The evaluations bucket (``staged/`` sets in, ``runs/<runId>/`` folders out), the evaluation function
    (reads ``staged/``, reads and writes ``runs/``, invokes the RAG function and nothing else) and the
    state machine ``<stackPrefix>-evaluation``. Outputs: ``EvaluationsBucket``,
    ``EvaluationStateMachineArn``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: LadderConfig,
        evaluations_bucket: s3.IBucket,
        rag_function: lambda_.IFunction,
        examples_manifest_bucket: str | None = None,
    ) -> None:
        """``evaluations_bucket``: the stack's one evaluation bucket (the judge's jobs work under its
        ``evaluations/``, runs in AWS under ``staged/`` and ``runs/``); ``examples_manifest_bucket``: the
        documents bucket holding the few-shot examples' manifest (None without an examples store), which a
        run with a ``fewshot`` arm records in ``run.json``."""
        super().__init__(scope, construct_id)
        self.evaluations_bucket = evaluations_bucket
        self.function = self._function(config, rag_function, examples_manifest_bucket)
        self.state_machine = self._state_machine(config)
        outputs = {
            "EvaluationsBucket": (
                self.evaluations_bucket.bucket_name,
                "evaluation sets under staged/, evaluation runs under runs/<runId>/",
            ),
            "EvaluationStateMachineArn": (
                self.state_machine.state_machine_arn,
                "start an evaluation run here (README: Evaluating in AWS)",
            ),
        }
        for key, (value, description) in outputs.items():
            output = cdk.CfnOutput(self, key, value=value, description=description)
            # The CLI and the other stacks' callers read these by name: no construct-path hash in the key.
            output.override_logical_id(key)

    def _function(
        self, config: LadderConfig, rag_function: lambda_.IFunction, examples_manifest_bucket: str | None
    ) -> PythonFunction:
        function = PythonFunction(
            self,
            "EvaluateFunction",
            config=config,
            name="evaluate",
            service=SERVICE,
            description="Evaluation runs: answers a staged set through the RAG function and scores it",
            environment={
                "BUCKET": self.evaluations_bucket.bucket_name,
                "RAG_FUNCTION": rag_function.function_name,
                "RAG_TIMEOUT_S": str(config.rag_timeout_seconds),
                "EXAMPLES_MANIFEST_BUCKET": examples_manifest_bucket or "",
                "EMBEDDING_MODEL_ID": config.embedding_model_id,
                "RERANK_MODEL_ID": config.rerank_model_id,
                "VECTOR_STORE": config.vector_store,
                "RAG_MEMORY_MB": str(config.rag_memory_mb),
                "IMPORTED_MODEL_ARN_PREFIX": _bedrock_arn_prefix() if config.fine_tune else "",
            },
            memory_mb=constants.MEMORY_MB,
            timeout=cdk.Duration.seconds(constants.FUNCTION_TIMEOUT_S),
            shared_files=EVALUATE_SHARED_FILES,
        )
        bucket, role = self.evaluations_bucket, function.role
        staged, runs = f"{constants.STAGED_PREFIX}*", f"{constants.RUNS_PREFIX}*"
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadStagedSets", actions=["s3:GetObject"], resources=[bucket.arn_for_objects(staged)]
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadWriteRuns",
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[bucket.arn_for_objects(runs)],
            )
        )
        # Without ListBucket a missing set reads as AccessDenied instead of NoSuchKey.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ListStagedAndRuns",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [staged, runs]}},
            )
        )
        # The function ARN alone: no version or alias (grant_invoke would add "<arn>:*").
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="InvokeRagFunctionDirectly",
                actions=["lambda:InvokeFunction"],
                resources=[rag_function.function_arn],
            )
        )
        if examples_manifest_bucket:
            # The one object, as the RAG function reads it: which examples a fewshot arm was measured with.
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="ReadExamplesManifest",
                    actions=["s3:GetObject"],
                    resources=[f"arn:{cdk.Aws.PARTITION}:s3:::{examples_manifest_bucket}/{MANIFEST_KEY}"],
                )
            )
        if config.fine_tune:
            # The fine-tuned arm is priced with its imported model's own Custom Model Units, read from the
            # model that answered it (the candidate or the published one, named at run time).
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="ReadImportedModelUnits",
                    actions=["bedrock:GetImportedModel"],
                    resources=[f"{_bedrock_arn_prefix()}{IMPORTED_MODEL_PREFIX}*"],
                )
            )
            acknowledge(
                role,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:"
                "imported-model/*]",
                "The fine-tuned arm's model (a candidate or the published model) is named at run time; "
                "GetImportedModel only, on this account's imported models in this region.",
            )
        for prefix, access in (
            (constants.STAGED_PREFIX, "reads"),
            (constants.RUNS_PREFIX, "reads and writes"),
        ):
            acknowledge(
                role,
                resource_finding("AwsSolutions-IAM5", bucket, f"/{prefix}*"),
                f"The evaluation function {access} objects under {prefix} named per caller and per run; "
                "access is limited to that prefix of the evaluations bucket.",
            )
        return function

    def _state_machine(self, config: LadderConfig) -> sfn.StateMachine:
        failed = sfn.Fail(self, ERROR_FAILED, error=ERROR_FAILED, cause_path=f"{_ERROR_PATH}.Cause")
        invalid = sfn.Fail(
            self, ERROR_INVALID_INPUT, error=ERROR_INVALID_INPUT, cause_path=f"{_ERROR_PATH}.Cause"
        )
        plan = tasks.LambdaInvoke(
            self,
            "Plan",
            comment="Check the input and the staged set, write run.json and its copy, split it into chunks",
            lambda_function=self.function.function,
            payload=sfn.TaskInput.from_object(
                {
                    "action": constants.PLAN,
                    "input": sfn.JsonPath.object_at("$"),
                    "executionName": sfn.JsonPath.string_at("$$.Execution.Name"),
                }
            ),
            payload_response_only=True,
            result_path="$.plan",
        )
        plan.add_catch(invalid, errors=["InvalidInput"], result_path=_ERROR_PATH)
        plan.add_catch(failed, result_path=_ERROR_PATH)
        answer = tasks.LambdaInvoke(
            self,
            "AnswerChunk",
            comment="Answer one chunk's items in every arm through the RAG function",
            lambda_function=self.function.function,
            payload_response_only=True,
        )
        chunks = sfn.Map(
            self,
            "AnswerChunks",
            comment=f"Each chunk fits one function run ({constants.FUNCTION_TIMEOUT_S} s) at worst",
            items_path="$.plan.chunks",
            item_selector={
                "action": constants.ANSWER,
                "runId": sfn.JsonPath.string_at("$.plan.runId"),
                "arms": sfn.JsonPath.list_at("$.plan.arms"),
                "candidateModelArn": sfn.JsonPath.string_at("$.plan.candidateModelArn"),
                "chunk": sfn.JsonPath.object_at("$$.Map.Item.Value"),
            },
            max_concurrency=constants.MAP_MAX_CONCURRENCY,
            result_path=sfn.JsonPath.DISCARD,
        )
        chunks.item_processor(answer)
        chunks.add_catch(failed, result_path=_ERROR_PATH)
        summarise = tasks.LambdaInvoke(
            self,
            "Summarise",
            comment="Write responses.jsonl, scores.jsonl and summary.json; the summary is the output",
            lambda_function=self.function.function,
            payload=sfn.TaskInput.from_object(
                {
                    "action": constants.SUMMARISE,
                    "runId": sfn.JsonPath.string_at("$.plan.runId"),
                    "chunkCount": sfn.JsonPath.number_at("$.plan.chunkCount"),
                }
            ),
            payload_response_only=True,
        )
        summarise.add_catch(failed, result_path=_ERROR_PATH)
        machine = ladder_state_machine(
            self,
            "StateMachine",
            name=evaluation_state_machine_name(config),
            comment="Ladder evaluation: plan -> answer the chunks (Map) -> summarise",
            definition=plan.next(chunks).next(summarise),
            timeout=STATE_MACHINE_TIMEOUT,
            log_group=log_group(self, "StateMachineLogs", config=config),
        )
        acknowledge(
            machine,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions log delivery (logs:*LogDelivery*, resource policies) and X-Ray tracing actions "
            "support no resource-level permissions; each statement holds only such actions.",
        )
        acknowledge(
            machine,
            resource_finding("AwsSolutions-IAM5", self.function.function, ":*"),
            "Invoking the evaluation function by version or alias ARN; it is this one function only.",
        )
        return machine
