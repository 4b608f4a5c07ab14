"""RAG API stack: ask a question, get a grounded answer with its sources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from ladder_core.catalog.bedrock import foundation_model_id, inference_profile_geo
from ladder_core.examples import MANIFEST_KEY
from lambdas.rag import constants as rag_constants
from stacks.config import LadderConfig
from stacks.constructs.alarm_topic import AlarmTopic
from stacks.constructs.python_function import PythonFunction
from stacks.knowledge.knowledge_base import foundation_model_arn
from stacks.nag import acknowledge
from stacks.rag.api import RagApi
from stacks.rag.drift_watch import DriftWatch
from stacks.rag.evaluation import Evaluation
from stacks.rag.evaluation_runner import EvaluationRunner
from stacks.rag.guardrail import Guardrail
from stacks.rag.marketplace import grant_marketplace_subscription
from stacks.rag.observability import SERVICE, RagObservability
from stacks.rag.rerank import RERANK_WILDCARD_REASON, grant_rerank

# API Gateway REST gives up after 29 s; the function stops its own work earlier to answer with a clean 504.
DEADLINE_MARGIN_MS = 3_000
# The API's modes and no-context answer live in ladder_core.api, which the CLI and the scoring rules read too.
# The few-shot mode reads the examples store by ladder_core.examples, the contract `ladder examples upload`
# writes by.
RAG_SHARED_FILES = (
    "ladder_core/__init__.py",
    "ladder_core/api.py",
    "ladder_core/examples.py",
    "ladder_core/published.py",
)


@dataclass(frozen=True)
class ExamplesAccess:
    """The knowledge stack's few-shot examples store, as the RAG function reads it."""

    index_arn: str
    """The examples' S3 vector index."""
    manifest_bucket: str
    """The documents bucket, which holds the manifest at ``ladder_core.examples.MANIFEST_KEY``."""
    kms_key_arn: str = ""
    """The customer-managed key the examples' vector bucket is encrypted with; empty: SSE-S3."""


def examples_statements(examples: ExamplesAccess, embedding_model_id: str) -> list[iam.PolicyStatement]:
    """What the fewshot mode may do and nothing more: query the examples index (QueryVectors, plus
    GetVectors, which S3 Vectors requires for a query that returns metadata), read the one manifest object,
    and embed the question with the embedding model; with a customer-managed key, decrypt with it
    (QueryVectors reads the vectors under that key: its documented errors include KmsDisabledException)."""
    partition = cdk.Aws.PARTITION
    statements = [
        iam.PolicyStatement(
            sid="QueryExamplesIndex",
            actions=["s3vectors:QueryVectors", "s3vectors:GetVectors"],
            resources=[examples.index_arn],
        ),
        iam.PolicyStatement(
            sid="ReadExamplesManifest",
            actions=["s3:GetObject"],
            resources=[f"arn:{partition}:s3:::{examples.manifest_bucket}/{MANIFEST_KEY}"],
        ),
        iam.PolicyStatement(
            sid="EmbedQuestionForExamples",
            actions=["bedrock:InvokeModel"],
            resources=[foundation_model_arn(embedding_model_id)],
        ),
    ]
    if examples.kms_key_arn:
        statements.append(
            iam.PolicyStatement(
                sid="DecryptExamplesIndex", actions=["kms:Decrypt"], resources=[examples.kms_key_arn]
            )
        )
    return statements


def generation_model_statements(config: LadderConfig) -> list[iam.PolicyStatement]:
    """InvokeModel (Converse) on exactly the models a request may use (:attr:`LadderConfig.
    generation_model_ids`: the configured model, then ``allowedGenerationModelIds``); for an inference
    profile, the documented form (Bedrock user guide, "Prerequisites for inference profiles"): the profile
    ARN, plus its foundation model in any region, usable only through that profile
    (``bedrock:InferenceProfileArn``). A destination region AWS adds to the profile later is then not an
    intermittent AccessDenied. The configured model's statements keep their Sids; each allowed model's are
    numbered after it."""
    statements: list[iam.PolicyStatement] = []
    for index, model_id in enumerate(config.generation_model_ids):
        direct, routed = (
            ("GenerateWithConfiguredModel", "GenerateThroughInferenceProfile")
            if index == 0
            else (f"GenerateWithAllowedModel{index}", f"GenerateThroughAllowedProfile{index}")
        )
        if inference_profile_geo(model_id) is None:
            statements.append(
                iam.PolicyStatement(
                    sid=direct, actions=["bedrock:InvokeModel"], resources=[foundation_model_arn(model_id)]
                )
            )
            continue
        profile = inference_profile_arn(model_id)
        statements += [
            iam.PolicyStatement(sid=direct, actions=["bedrock:InvokeModel"], resources=[profile]),
            iam.PolicyStatement(
                sid=routed,
                actions=["bedrock:InvokeModel"],
                resources=[foundation_model_arn(foundation_model_id(model_id), "*")],
                conditions={"StringEquals": {"bedrock:InferenceProfileArn": profile}},
            ),
        ]
    return statements


def inference_profile_arn(profile_id: str) -> str:
    account = f"arn:{cdk.Aws.PARTITION}:bedrock:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}"
    return f"{account}:inference-profile/{profile_id}"


class RagApiStack(cdk.Stack):
    """API Gateway (SigV4) -> RAG Lambda -> Bedrock Retrieve + Converse with a guardrail."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: LadderConfig,
        knowledge_base_id: str,
        knowledge_base_arn: str,
        knowledge_base_name: str,
        examples: ExamplesAccess | None = None,
        **kwargs: Any,
    ) -> None:
        """``knowledge_base_id`` and ``_arn`` arrive through weak references (Fn::GetStackOutput), which
        CloudFormation resolves only when this stack is created or updated. ``knowledge_base_name`` is a
        synth-time value that changes whenever the knowledge base is replaced, so this stack's template
        changes with it and every deploy that replaces the knowledge base also updates this stack.
        ``examples`` is the few-shot examples store (None with fewShot=false: no fewshot mode)."""
        super().__init__(scope, construct_id, **kwargs)
        self.alarm_topic = AlarmTopic(self, "Alarms", config=config, purpose="RAG API alarms")
        self.guardrail = Guardrail(self, "Guardrail", config=config)

        deadline_ms = min(
            rag_constants.DEFAULT_DEADLINE_MS, config.rag_timeout_seconds * 1000 - DEADLINE_MARGIN_MS
        )
        rerank_arn = foundation_model_arn(config.rerank_model_id) if config.rerank_model_id else ""
        environment = {
            "KNOWLEDGE_BASE_ID": knowledge_base_id,
            "KNOWLEDGE_BASE_NAME": knowledge_base_name,
            "MODEL_ID": config.generation_model_id,
            # The models a request may name in modelId (MODEL_ID among them), exactly those IAM allows.
            "ALLOWED_MODEL_IDS": ",".join(config.generation_model_ids),
            "GUARDRAIL_ID": self.guardrail.guardrail_id,
            "GUARDRAIL_VERSION": self.guardrail.version_number,
            "MAX_QUESTION_CHARS": str(config.max_question_chars),
            "MAX_BODY_BYTES": str(rag_constants.DEFAULT_MAX_BODY_BYTES),
            "MAX_TOKENS": str(config.max_tokens),
            "TEMPERATURE": str(config.temperature),
            "MIN_RELEVANCE_SCORE": str(config.min_relevance_score),
            "SEARCH_TYPE": config.search_type,
            "RERANK_MODEL_ARN": rerank_arn,
            "DEADLINE_MS": str(deadline_ms),
            "BEDROCK_MAX_ATTEMPTS": str(rag_constants.DEFAULT_BEDROCK_MAX_ATTEMPTS),
            "FINETUNED_MODEL_PARAMETER": config.fine_tuned_model_parameter if config.fine_tune else "",
            "FINETUNED_MODEL_API": config.fine_tuned_model_api,
            "LOG_CONTENT": "true" if config.log_content else "false",
            "CORS_ALLOW_ORIGINS": ",".join(config.cors_allow_origins),
            "VECTOR_STORE": config.vector_store,
            # Empty without an examples store: the function then answers mode fewshot with a 400.
            "EXAMPLES_INDEX_ARN": examples.index_arn if examples else "",
            "EXAMPLES_MANIFEST_BUCKET": examples.manifest_bucket if examples else "",
            "FEW_SHOT_K": str(config.few_shot_k),
            "EMBEDDING_MODEL_ID": config.embedding_model_id,
            "EMBEDDING_DIMENSIONS": str(config.embedding_dimensions),
        }
        self.rag = PythonFunction(
            self,
            "RagFunction",
            config=config,
            name="rag",
            service=SERVICE,
            description="Answers questions from the knowledge base with citations (POST /ask)",
            environment=environment,
            memory_mb=config.rag_memory_mb,
            timeout=cdk.Duration.seconds(config.rag_timeout_seconds),
            reserved_concurrency=config.reserved_concurrency,
            shared_files=RAG_SHARED_FILES,
        )
        role = self.rag.role
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RetrieveFromKnowledgeBase", actions=["bedrock:Retrieve"], resources=[knowledge_base_arn]
            )
        )
        for statement in generation_model_statements(config):
            role.add_to_principal_policy(statement)
        for model_id in config.generation_model_ids:
            if inference_profile_geo(model_id) is not None:
                acknowledge(
                    role,
                    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/"
                    f"{foundation_model_id(model_id)}]",
                    "A cross-region inference profile routes to this one foundation model in regions AWS "
                    "chooses; the statement is conditioned on bedrock:InferenceProfileArn, so it works only "
                    "through that profile (Bedrock's documented policy for inference profiles).",
                )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ApplyGuardrail",
                actions=["bedrock:ApplyGuardrail"],
                resources=[self.guardrail.guardrail_arn],
            )
        )
        if examples is not None:
            for statement in examples_statements(examples, config.embedding_model_id):
                role.add_to_principal_policy(statement)
        grant_rerank(role, config)
        grant_marketplace_subscription(
            role,
            [*config.generation_model_ids, config.rerank_model_id],
            other_wildcards=RERANK_WILDCARD_REASON if config.rerank_model_id else "",
        )
        if config.fine_tune:
            self._allow_fine_tuned_model(config, role)

        self.api = RagApi(self, "RagApi", config=config, function=self.rag.function)
        self.observability = RagObservability(
            self, "Observability", api=self.api.api, function=self.rag.function, alarms=self.alarm_topic
        )
        self.evaluation = Evaluation(self, "Evaluation", config=config)
        self.evaluation_runner = EvaluationRunner(
            self,
            "EvaluationRunner",
            config=config,
            evaluations_bucket=self.evaluation.evaluation_bucket,
            rag_function=self.rag.function,
            examples_manifest_bucket=examples.manifest_bucket if examples else None,
        )
        self.drift_watch = (
            DriftWatch(
                self,
                "DriftWatch",
                config=config,
                evaluations_bucket=self.evaluation.evaluation_bucket,
                alarms=self.alarm_topic,
                examples_manifest_bucket=examples.manifest_bucket if examples else None,
            )
            if config.drift_watch_schedule
            else None
        )

        cdk.CfnOutput(
            self, "AskUrl", value=self.api.ask_url, description="POST a question here (SigV4, execute-api)"
        )
        cdk.CfnOutput(self, "ApiId", value=self.api.api.rest_api_id)
        cdk.CfnOutput(self, "GuardrailId", value=self.guardrail.guardrail_id)
        cdk.CfnOutput(self, "GuardrailVersion", value=self.guardrail.version_number)
        cdk.CfnOutput(self, "RagFunctionName", value=self.rag.function.function_name)
        cdk.CfnOutput(self, "DashboardName", value=self.observability.dashboard.dashboard_name)

    def _allow_fine_tuned_model(self, config: LadderConfig, role: iam.IRole) -> None:
        parameter_arn = self.format_arn(
            service="ssm", resource="parameter", resource_name=config.fine_tuned_model_parameter.lstrip("/")
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadFineTunedModelArn", actions=["ssm:GetParameter"], resources=[parameter_arn]
            )
        )
        imported_models = (
            f"arn:{cdk.Aws.PARTITION}:bedrock:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:imported-model/*"
        )
        # GetImportedModel: whether the model serves Converse (instructSupported), and the chat format of
        # its architecture for InvokeModel.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="InvokeFineTunedModel",
                actions=["bedrock:InvokeModel", "bedrock:GetImportedModel"],
                resources=[imported_models],
            )
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:imported-model/*]",
            "The imported model's id is only known after the fine-tune pipeline runs; access is limited to "
            "models imported into this account and region.",
        )
