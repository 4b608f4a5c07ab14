"""The typed configuration object every stack reads, and the error a bad configuration raises.

:mod:`stacks.config.parsing` builds it from CDK context; :mod:`stacks.config.checks` holds the rules that
relate one setting to another.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ladder_core.catalog.bedrock import foundation_model_id, inference_profile_geo
from ladder_core.catalog.training import INSTANCES

# Hub organisations whose models are gated (a licence to accept, then a token to download): the job gets no
# Hub token, so their weights must be staged in S3.
GATED_MODEL_ORGS = ("meta-llama", "mistralai", "google")


class ConfigError(ValueError):
    """Raised when configuration is invalid; the message lists every problem found."""


@dataclass(frozen=True, kw_only=True)
class LadderConfig:
    """Every setting of the app. Field docs are the user-facing reference (see README)."""

    # App-wide settings.
    profile: str
    """``sandbox`` (cheap, data destroyed with the stack) or ``prod`` (retained data, replicas, WAF)."""
    region: str
    """Region to synthesize for when no credentials say otherwise."""
    stack_prefix: str
    """Prefix of stack names and of the few physical names AWS requires (OpenSearch Serverless)."""
    fine_tune: bool
    """Deploy the fine-tune stack. Off by default: not one fine-tune resource exists then."""
    alarm_email: str
    """Optional e-mail address subscribed to the alarm topics ('' = none)."""
    log_retention_days: int
    """CloudWatch Logs retention; '0' derives it from the profile (sandbox 14, prod 365)."""
    powertools_version: str
    """Version of the AWS-published Powertools for AWS Lambda layer (resolved from SSM at deploy time)."""
    deploy_role_arn: str
    """Principal that creates the vector index at deploy time; '' = the CDK bootstrap execution role."""

    # Knowledge base settings.
    documents_prefix: str
    """Only objects under this key prefix are ingested into the knowledge base."""
    embedding_model_id: str
    embedding_dimensions: int
    chunking_strategy: str
    chunk_max_tokens: int
    chunk_overlap_percentage: int
    semantic_max_tokens: int
    semantic_buffer_size: int
    semantic_breakpoint_percentile: int
    hierarchical_parent_max_tokens: int
    hierarchical_child_max_tokens: int
    hierarchical_overlap_tokens: int
    standby_replicas: bool
    """OpenSearch Serverless standby replicas (doubles the idle OCU floor); derived from the profile."""
    vector_store: str
    """``opensearch`` (OpenSearch Serverless: hybrid search, idle OCU floor) or ``s3vectors`` (no floor)."""
    vector_kms_key_arn: str
    """KMS key for the S3 vector bucket ('' = SSE-S3 with the service key); only with ``s3vectors``."""
    few_shot: bool
    """Deploy the examples store (an S3 vector bucket and index) for the few-shot rung; off: none exists."""
    few_shot_k: int
    """How many of the nearest uploaded examples a few-shot prompt shows (1 to 16)."""

    # RAG API settings.
    generation_model_id: str
    """Model id or cross-region inference profile id (``us.``, ``eu.``, ``global.``...) used by Converse."""
    allowed_generation_model_ids: tuple[str, ...]
    """Other models a request may name in ``modelId`` (modes prompt, rag, fewshot), each a model or profile
    id; empty: only ``generation_model_id``. :attr:`generation_model_ids` is the full allowed list."""
    max_question_chars: int
    max_tokens: int
    temperature: float
    min_relevance_score: float
    search_type: str
    """Retrieval search type; '' derives it from the store (HYBRID: opensearch, SEMANTIC: s3vectors)."""
    rerank_model_id: str
    rag_memory_mb: int
    rag_timeout_seconds: int
    reserved_concurrency: int
    """Reserved concurrency of the RAG function; 0 = unreserved (the default in every profile: Lambda keeps
    100 of the account's concurrency unreserved, and new accounts often have a quota of 10, so any
    reservation can fail the deploy)."""
    api_rate_limit: int
    api_burst_limit: int
    guardrail_filter_strength: str
    guardrail_pii_action: str
    """What the guardrail does with the PII types in ``guardrail_pii_entities``: ANONYMIZE, BLOCK or NONE."""
    guardrail_pii_entities: tuple[str, ...]
    """PII types the guardrail masks (or blocks); credentials are always blocked, whatever this lists."""
    grounding_threshold: float
    relevance_threshold: float
    waf: bool
    """Attach a WAF web ACL with a rate-based rule to the API; derived from the profile (prod)."""
    waf_rate_limit: int
    log_content: bool
    """Debug only: log question and answer text from the RAG function (off: never logged)."""
    evaluation_judge_model_ids: tuple[str, ...]
    """Models the evaluation role may invoke as LLM judge (``ladder eval run --judge``): model ids, or
    ``us.``/``eu.``/``apac.`` inference profiles (the role names their regions)."""

    # Fine-tune settings.
    fine_tune_instance_type: str
    """SageMaker GPU training instance (one of ``ladder_core.catalog.training.INSTANCES``)."""
    fine_tune_instance_count: int
    """Training instances of the job; with several GPUs in total the job runs one process per GPU."""
    fine_tune_strategy: str
    """``lora`` (bf16 weights per GPU), ``qlora`` (4-bit base weights) or ``fsdp-lora`` (sharded)."""
    fine_tune_spot: bool
    fine_tune_max_runtime_hours: int
    fine_tune_max_wait_hours: int
    fine_tune_base_model_id: str
    fine_tune_epochs: int
    fine_tune_learning_rate: float
    fine_tune_lora_r: int
    fine_tune_lora_alpha: int
    fine_tune_lora_dropout: float
    fine_tune_max_seq_length: int
    fine_tune_monthly_budget_usd: int
    fine_tune_network_isolation: bool
    fine_tune_training_image_uri: str
    """ECR image holding training_jobs/requirements.txt already (training_jobs/Dockerfile); '' = the Hugging
    Face training image, on which the toolkit pip-installs the requirements (needs PyPI, so no isolation)."""
    fine_tune_min_examples: int
    fine_tune_eval_fraction: float
    fine_tune_keep_models: int
    """How many of the pipeline's newest imported models stay after a publish (2 leaves one rollback)."""
    fine_tuned_model_api: str
    fine_tune_verdict: str
    """Path of the verdict file (``ladder justify``) that synth with ``fineTune=true`` requires."""
    fine_tune_override: str
    """Reason to synthesize the fine-tune stack without a justified verdict ('' = no override)."""
    fine_tune_subnet_ids: tuple[str, ...] = field(default=())
    fine_tune_security_group_ids: tuple[str, ...] = field(default=())
    cors_allow_origins: tuple[str, ...] = field(default=())
    """Browser origins allowed to call the API (CORS); empty = CORS off."""
    drift_watch_schedule: str
    """EventBridge Scheduler expression of the drift watch (``rate(...)`` or ``cron(...)``, at most daily);
    '' = no drift watch: no schedule, watch function or alarm exists."""
    drift_watch_model_ids: tuple[str, ...]
    """General models the drift watch measures beside the served arms, each as ``rag@ID`` and (with
    examples) ``fewshot@ID``; each must also be one of the API's allowed generation models."""
    drift_watch_max_items: int
    """At most this many items of the staged set per scheduled run (1 to 1000)."""

    @property
    def is_prod(self) -> bool:
        return self.profile == "prod"

    @property
    def collection_name(self) -> str:
        """OpenSearch Serverless collection name: 3-32 lowercase characters, policies refer to it by name.

        It carries a short hash of the settings that force CloudFormation to replace the collection
        (standby replicas), so a replacement is created under a new name instead of colliding with the
        old collection, which CloudFormation deletes only after the new one exists.
        """
        return f"{self.stack_prefix.lower()}-{short_hash({'standbyReplicas': self.standby_replicas})}"

    @property
    def fine_tuned_model_parameter(self) -> str:
        """SSM parameter where the fine-tune pipeline publishes the imported model ARN ("none" until then)."""
        return f"/{self.stack_prefix.lower()}/fine-tune/model-arn"

    @property
    def fine_tune_total_gpus(self) -> int:
        """GPUs of the whole training job: the processes torchrun starts, across every instance."""
        return INSTANCES[self.fine_tune_instance_type].gpus * self.fine_tune_instance_count

    @property
    def inference_profile_geo(self) -> str | None:
        """The geography of ``generation_model_id`` when it is a cross-region inference profile, else None."""
        return inference_profile_geo(self.generation_model_id)

    @property
    def generation_model_ids(self) -> tuple[str, ...]:
        """Every model the RAG function may generate with: the configured model first, then the others a
        request may name (``allowedGenerationModelIds``), each once."""
        return tuple(dict.fromkeys((self.generation_model_id, *self.allowed_generation_model_ids)))

    @property
    def foundation_generation_model_id(self) -> str:
        """The foundation model behind ``generation_model_id`` (strips an inference profile prefix)."""
        return foundation_model_id(self.generation_model_id)


def short_hash(inputs: Mapping[str, Any], length: int = 8) -> str:
    """A short, stable hex digest of ``inputs`` (for physical names that must change with them)."""
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:length]


def is_gated_model(model_id: str) -> bool:
    """Whether the Hub gates ``model_id`` behind a licence (its weights then have to be staged in S3)."""
    return model_id.split("/", 1)[0].lower() in GATED_MODEL_ORGS
