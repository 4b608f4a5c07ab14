"""Reads what the CLI needs from the deployed stacks' CloudFormation outputs.

Every reader takes a CloudFormation client, so a test passes a moto one; a missing stack or output
raises :class:`~ladder.errors.SetupError` naming the stack to deploy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .errors import SetupError

DEFAULT_STACK_PREFIX = "Ladder"
STACK_PREFIX_ENV = "LADDER_STACK_PREFIX"

KNOWLEDGE_STACK = "Knowledge"
RAG_API_STACK = "RagApi"
FINE_TUNE_STACK = "FineTune"

_DEPLOY_HINT = {
    KNOWLEDGE_STACK: "make deploy",
    RAG_API_STACK: "make deploy",
    FINE_TUNE_STACK: 'make deploy CONTEXT="-c fineTune=true"',
}
_DEPLOY_NOTE = {
    FINE_TUNE_STACK: " (it needs a justified ladder-verdict.json from `ladder justify`, or an override)"
}


@dataclass(frozen=True)
class KnowledgeOutputs:
    """Outputs of ``<prefix>Knowledge``: where documents go and which knowledge base ingests them."""

    documents_bucket: str
    documents_prefix: str
    knowledge_base_id: str
    data_source_id: str


@dataclass(frozen=True)
class ExamplesOutputs:
    """Outputs of ``<prefix>Knowledge`` that the examples store needs: its index, the embedding it is made
    with, and the documents bucket that holds its manifest."""

    documents_bucket: str
    index_arn: str
    index_name: str
    vector_bucket_name: str
    embedding_model_id: str
    embedding_dimensions: int


@dataclass(frozen=True)
class IngestionOutputs:
    """Outputs of ``<prefix>Knowledge`` that operating ingestion needs: the data source and both queues."""

    knowledge_base_id: str
    data_source_id: str
    queue_url: str
    dead_letter_queue_url: str


@dataclass(frozen=True)
class RagApiOutputs:
    """Outputs of ``<prefix>RagApi``: the full URL of ``POST /ask`` (IAM auth)."""

    ask_url: str


@dataclass(frozen=True)
class FineTuneOutputs:
    """Outputs of ``<prefix>FineTune``: the training-data bucket, the pipeline and the model parameter."""

    training_data_bucket: str
    state_machine_arn: str
    model_parameter_name: str
    base_model_required: bool = False
    """The stack's BaseModelStaging output: runs need staged weights (gated base model or isolation)."""


def read_knowledge(cloudformation: Any, prefix: str) -> KnowledgeOutputs:
    values = stack_outputs(
        cloudformation,
        prefix,
        KNOWLEDGE_STACK,
        ("DocumentsBucketName", "DocumentsPrefix", "KnowledgeBaseId", "DataSourceId"),
    )
    return KnowledgeOutputs(
        documents_bucket=values["DocumentsBucketName"],
        documents_prefix=values["DocumentsPrefix"],
        knowledge_base_id=values["KnowledgeBaseId"],
        data_source_id=values["DataSourceId"],
    )


def read_examples(cloudformation: Any, prefix: str) -> ExamplesOutputs:
    """The examples store's outputs; SetupError saying how to deploy it when the stack has none."""
    values = stack_outputs(cloudformation, prefix, KNOWLEDGE_STACK, ("DocumentsBucketName",))
    keys = (
        "ExamplesIndexArn",
        "ExamplesIndexName",
        "ExamplesVectorBucketName",
        "EmbeddingModelId",
        "EmbeddingDimensions",
    )
    missing = [key for key in keys if not values.get(key)]
    if missing:
        raise SetupError(
            f"stack {prefix}{KNOWLEDGE_STACK} has no examples store (output {', '.join(missing)} missing): "
            "deploy it with -c fewShot=true (the default) from this version of Ladder, e.g. `make deploy`"
        )
    return ExamplesOutputs(
        documents_bucket=values["DocumentsBucketName"],
        index_arn=values["ExamplesIndexArn"],
        index_name=values["ExamplesIndexName"],
        vector_bucket_name=values["ExamplesVectorBucketName"],
        embedding_model_id=values["EmbeddingModelId"],
        embedding_dimensions=int(values["EmbeddingDimensions"]),
    )


def read_ingestion(cloudformation: Any, prefix: str) -> IngestionOutputs:
    values = stack_outputs(
        cloudformation,
        prefix,
        KNOWLEDGE_STACK,
        ("KnowledgeBaseId", "DataSourceId", "IngestionQueueUrl", "IngestionDeadLetterQueueUrl"),
    )
    return IngestionOutputs(
        knowledge_base_id=values["KnowledgeBaseId"],
        data_source_id=values["DataSourceId"],
        queue_url=values["IngestionQueueUrl"],
        dead_letter_queue_url=values["IngestionDeadLetterQueueUrl"],
    )


def read_rag_api(cloudformation: Any, prefix: str) -> RagApiOutputs:
    values = stack_outputs(cloudformation, prefix, RAG_API_STACK, ("AskUrl",))
    return RagApiOutputs(ask_url=values["AskUrl"])


def read_evaluations_bucket(cloudformation: Any, prefix: str) -> str:
    """The RAG API stack's evaluations bucket (``EvaluationsBucket``): staged watch inputs and runs in AWS."""
    return stack_outputs(cloudformation, prefix, RAG_API_STACK, ("EvaluationsBucket",))["EvaluationsBucket"]


def read_fine_tune(cloudformation: Any, prefix: str) -> FineTuneOutputs:
    values = stack_outputs(
        cloudformation,
        prefix,
        FINE_TUNE_STACK,
        ("TrainingDataBucketName", "StateMachineArn", "FineTunedModelParameterName"),
    )
    return FineTuneOutputs(
        training_data_bucket=values["TrainingDataBucketName"],
        state_machine_arn=values["StateMachineArn"],
        model_parameter_name=values["FineTunedModelParameterName"],
        base_model_required=values.get("BaseModelStaging") == "required",
    )


def stack_outputs(cloudformation: Any, prefix: str, stack: str, required: tuple[str, ...]) -> dict[str, str]:
    """The outputs of stack ``<prefix><stack>`` by key; SetupError when the stack or an output is missing."""
    name = f"{prefix}{stack}"
    region = cloudformation.meta.region_name
    command = f"`{_DEPLOY_HINT.get(stack, 'make deploy')}`{_DEPLOY_NOTE.get(stack, '')}"
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as err:
        # CloudFormation answers a missing stack with a generic ValidationError; anything else
        # (AccessDenied, throttling) is not "missing" and is reported as it is.
        if err.response.get("Error", {}).get("Code") == "ValidationError":
            raise SetupError(
                f"stack {name} not found in {region}: deploy it with {command} "
                f"(or pass --stack-prefix / --region if it was deployed under another prefix or region)"
            ) from None
        raise
    if not stacks:
        raise SetupError(f"stack {name} not found in {region}: deploy it with {command}")
    description = stacks[0]
    values = {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}
    missing = [key for key in required if not values.get(key)]
    if missing:
        status = description.get("StackStatus", "UNKNOWN")
        raise SetupError(
            f"stack {name} ({status}) lacks output {', '.join(missing)}: "
            f"redeploy it with {command} from this version of Ladder"
        )
    return values
