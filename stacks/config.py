"""Typed, validated configuration for the whole app.

Defaults live in ``cdk.json`` under ``context``; any key can be overridden with ``-c key=value``. Values from
``-c`` arrive as strings, values from ``cdk.json`` as JSON types: both are parsed strictly here, and every
problem is reported at once in a :class:`ConfigError` that names the key, the value and what is accepted.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ladder_core.catalog.bedrock import (
    CMI_NO_CONVERSE_BASE_MODELS,
    EMBEDDING_MODELS,
    GUARDRAIL_PII_ENTITY_TYPES,
    INFERENCE_PROFILE_REGIONS,
    RERANK_MODEL_REGIONS,
    foundation_model_id,
    inference_profile_geo,
)
from ladder_core.catalog.bedrock import model as bedrock_model
from ladder_core.catalog.training import (
    CUDA13_UNSUPPORTED_FAMILIES,
    GPU_FAMILIES,
    INSTANCES,
    MAX_INSTANCE_COUNT,
    min_gpus,
)
from lambdas.rag.constants import (
    GROUNDING_CHARS_PER_TOKEN,
    GROUNDING_MAX_TOKENS,
    GROUNDING_RESPONSE_MAX_CHARS,
    VECTOR_STORES,
)
from training_jobs.job_contract import STRATEGIES

PROFILES = ("sandbox", "prod")
CHUNKING_STRATEGIES = ("FIXED_SIZE", "SEMANTIC", "HIERARCHICAL", "NONE")
SEARCH_TYPES = ("", "HYBRID", "SEMANTIC")
# The search type each vector store supports best; S3 Vectors has no hybrid (keyword) search.
DEFAULT_SEARCH_TYPE = {"opensearch": "HYBRID", "s3vectors": "SEMANTIC"}
FINETUNED_MODEL_APIS = ("converse", "invoke_model")
FILTER_STRENGTHS = ("NONE", "LOW", "MEDIUM", "HIGH")
PII_ACTIONS = ("BLOCK", "ANONYMIZE", "NONE")

POWERTOOLS_LAYER_PARAMETER = "/aws/service/powertools/python/arm64/python3.14/{version}"
"""SSM public parameter with the ARN of AWS's Powertools layer (read by the stacks and by ladder doctor)."""

# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

GPU_INSTANCE_PATTERN = re.compile(rf"^ml\.({'|'.join(GPU_FAMILIES)})\.[0-9]*x?large$")
CUDA13_ALTERNATIVES = ("ml.g5.2xlarge", "ml.g6.xlarge", "ml.g6e.xlarge", "ml.p4d.24xlarge")
# Hub organisations whose models are gated (a licence to accept, then a token to download): the job gets no
# Hub token, so their weights must be staged in S3.
GATED_MODEL_ORGS = ("meta-llama", "mistralai", "google")
_ECR_IMAGE = re.compile(
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$"
)

_NAME_PREFIX = re.compile(r"^[A-Z][A-Za-z0-9]{1,15}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MODEL_ID = re.compile(r"^[a-z0-9.\-:]+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-zA-Z-]+$")


class ConfigError(ValueError):
    """Raised when configuration is invalid; the message lists every problem found."""


@dataclass(frozen=True, kw_only=True)
class LadderConfig:
    """Every setting of the app. Field docs are the user-facing reference (see README)."""

    # --- app-wide
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

    # --- knowledge
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

    # --- rag api
    generation_model_id: str
    """Model id or cross-region inference profile id (``us.``, ``eu.``, ``global.``...) used by Converse."""
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

    # --- fine-tune
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
    def foundation_generation_model_id(self) -> str:
        """The foundation model behind ``generation_model_id`` (strips an inference profile prefix)."""
        return foundation_model_id(self.generation_model_id)


def short_hash(inputs: Mapping[str, Any], length: int = 8) -> str:
    """A short, stable hex digest of ``inputs`` (for physical names that must change with them)."""
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:length]


# --- parsing -----------------------------------------------------------------------------------------------


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValueError("expected a boolean: true or false")


def _int(lo: int, hi: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(f"expected an integer from {lo} to {hi}")
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            number = int(value)
        else:
            raise ValueError(f"expected an integer from {lo} to {hi}")
        if not lo <= number <= hi:
            raise ValueError(f"expected an integer from {lo} to {hi}")
        return number

    return parse


def _float(lo: float, hi: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError(f"expected a number from {lo} to {hi}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number from {lo} to {hi}") from None
        if not lo <= number <= hi:
            raise ValueError(f"expected a number from {lo} to {hi}")
        return number

    return parse


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            accepted = ", ".join(repr(o) if o == "" else o for o in options)
            raise ValueError(f"expected one of: {accepted}")
        return value

    return parse


def _pattern(regex: re.Pattern[str], accepted: str, *, allow_empty: bool = False) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"expected {accepted}")
        if value == "" and allow_empty:
            return value
        if not regex.fullmatch(value):
            raise ValueError(f"expected {accepted}")
        return value

    return parse


def _prefix(value: Any) -> str:
    if not isinstance(value, str) or not value or value.startswith("/") or not value.endswith("/"):
        raise ValueError("expected an S3 key prefix such as 'docs/' (no leading '/', ending with '/')")
    return value


def _list_items(value: Any) -> list[str]:
    """A JSON list from cdk.json, or a comma-separated -c value without its blank parts; stripped strings."""
    items = value if isinstance(value, list) else [v for v in str(value).split(",") if v.strip()]
    return [str(v).strip() for v in items]


def _id_list(kind: str, start: str) -> Callable[[Any], tuple[str, ...]]:
    def parse(value: Any) -> tuple[str, ...]:
        items = _list_items(value)
        if any(not re.fullmatch(rf"{start}-[0-9a-f]{{8,17}}", v) for v in items):
            raise ValueError(f"expected a comma-separated list of {kind} ids ({start}-...)")
        return tuple(items)

    return parse


def _origins(value: Any) -> tuple[str, ...]:
    items = _list_items(value)
    if any(not re.fullmatch(r"https?://[\w.\-]+(:\d+)?", v) for v in items):
        raise ValueError("expected a comma-separated list of origins such as https://app.example.com")
    return tuple(items)


def _model_ids(value: Any) -> tuple[str, ...]:
    items = _list_items(value)
    if not items or any(not _MODEL_ID.fullmatch(v) for v in items):
        raise ValueError(
            "expected a comma-separated list of one or more Bedrock model or inference profile ids"
        )
    return tuple(items)


def _pii_entities(value: Any) -> tuple[str, ...]:
    items = _list_items(value)
    unknown = [v for v in items if v not in GUARDRAIL_PII_ENTITY_TYPES]
    if unknown:
        raise ValueError(
            f"unknown PII type(s) {', '.join(unknown)}; expected a comma-separated list of: "
            + ", ".join(GUARDRAIL_PII_ENTITY_TYPES)
        )
    return tuple(dict.fromkeys(items))


def _path(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a file path such as ladder-verdict.json")
    return value


OVERRIDE_MIN_CHARS = 20


def _override(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a reason of at least {OVERRIDE_MIN_CHARS} characters, or ''")
    reason = " ".join(value.split())
    if reason and len(reason) < OVERRIDE_MIN_CHARS:
        raise ValueError(
            f"expected a reason of at least {OVERRIDE_MIN_CHARS} characters (got {len(reason)}), or ''"
        )
    return reason


def _optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Empty string / null means 'derive from the profile'."""

    def wrapped(value: Any) -> Any:
        if value is None or value == "":
            return None
        try:
            return parse(value)
        except ValueError as err:
            raise ValueError(f"{err}, or empty for the profile's default") from None

    return wrapped


# Context key -> (dataclass field, parser). The context keys are what users type after -c.
_SPEC: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "profile": ("profile", _choice(PROFILES)),
    "region": ("region", _pattern(_REGION, "an AWS region name such as us-east-1")),
    "stackPrefix": ("stack_prefix", _pattern(_NAME_PREFIX, "2-16 letters/digits starting with a capital")),
    "fineTune": ("fine_tune", _bool),
    "alarmEmail": ("alarm_email", _pattern(_EMAIL, "an e-mail address or ''", allow_empty=True)),
    "logRetentionDays": ("log_retention_days", _optional(_choice(tuple(str(d) for d in LOG_RETENTION_DAYS)))),
    "powertoolsVersion": ("powertools_version", _pattern(re.compile(r"^3\.\d+\.\d+$"), "a 3.x.y version")),
    "deployRoleArn": ("deploy_role_arn", _pattern(_ROLE_ARN, "an IAM role ARN or ''", allow_empty=True)),
    "documentsPrefix": ("documents_prefix", _prefix),
    "embeddingModelId": ("embedding_model_id", _choice(tuple(EMBEDDING_MODELS))),
    "embeddingDimensions": ("embedding_dimensions", _int(256, 1536)),
    "chunkingStrategy": ("chunking_strategy", _choice(CHUNKING_STRATEGIES)),
    "chunkMaxTokens": ("chunk_max_tokens", _int(20, 8192)),
    "chunkOverlapPercentage": ("chunk_overlap_percentage", _int(1, 99)),
    "semanticMaxTokens": ("semantic_max_tokens", _int(20, 8192)),
    "semanticBufferSize": ("semantic_buffer_size", _int(0, 1)),
    "semanticBreakpointPercentile": ("semantic_breakpoint_percentile", _int(50, 99)),
    "hierarchicalParentMaxTokens": ("hierarchical_parent_max_tokens", _int(20, 8192)),
    "hierarchicalChildMaxTokens": ("hierarchical_child_max_tokens", _int(20, 8192)),
    "hierarchicalOverlapTokens": ("hierarchical_overlap_tokens", _int(1, 1000)),
    "standbyReplicas": ("standby_replicas", _optional(_bool)),
    "vectorStore": ("vector_store", _choice(VECTOR_STORES)),
    "vectorKmsKeyArn": (
        "vector_kms_key_arn",
        _pattern(
            _KMS_KEY_ARN, "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or ''", allow_empty=True
        ),
    ),
    "generationModelId": ("generation_model_id", _pattern(_MODEL_ID, "a Bedrock model or profile id")),
    "maxQuestionChars": ("max_question_chars", _int(1, 10000)),
    "maxTokens": ("max_tokens", _int(1, 8192)),
    "temperature": ("temperature", _float(0.0, 1.0)),
    "minRelevanceScore": ("min_relevance_score", _float(0.0, 1.0)),
    "searchType": ("search_type", _choice(SEARCH_TYPES)),
    "rerankModelId": ("rerank_model_id", _choice(("", *RERANK_MODEL_REGIONS))),
    "ragMemoryMb": ("rag_memory_mb", _int(128, 10240)),
    "ragTimeoutSeconds": ("rag_timeout_seconds", _int(5, 29)),
    "reservedConcurrency": ("reserved_concurrency", _optional(_int(0, 1000))),
    "apiRateLimit": ("api_rate_limit", _int(1, 10000)),
    "apiBurstLimit": ("api_burst_limit", _int(1, 5000)),
    "guardrailFilterStrength": ("guardrail_filter_strength", _choice(FILTER_STRENGTHS)),
    "guardrailPiiAction": ("guardrail_pii_action", _choice(PII_ACTIONS)),
    "guardrailPiiEntities": ("guardrail_pii_entities", _pii_entities),
    "groundingThreshold": ("grounding_threshold", _float(0.0, 0.99)),
    "relevanceThreshold": ("relevance_threshold", _float(0.0, 0.99)),
    "waf": ("waf", _optional(_bool)),
    "wafRateLimit": ("waf_rate_limit", _int(10, 2_000_000_000)),
    "logContent": ("log_content", _bool),
    "evaluationJudgeModelIds": ("evaluation_judge_model_ids", _model_ids),
    "corsAllowOrigins": ("cors_allow_origins", _origins),
    "fineTuneInstanceType": (
        "fine_tune_instance_type",
        _pattern(GPU_INSTANCE_PATTERN, "a SageMaker GPU training instance such as ml.g5.2xlarge"),
    ),
    "fineTuneInstanceCount": ("fine_tune_instance_count", _int(1, MAX_INSTANCE_COUNT)),
    "fineTuneStrategy": ("fine_tune_strategy", _choice(STRATEGIES)),
    "fineTuneSpot": ("fine_tune_spot", _bool),
    "fineTuneMaxRuntimeHours": ("fine_tune_max_runtime_hours", _int(1, 120)),
    "fineTuneMaxWaitHours": ("fine_tune_max_wait_hours", _int(1, 240)),
    "fineTuneBaseModelId": (
        "fine_tune_base_model_id",
        _pattern(re.compile(r"^[\w.\-]+/[\w.\-]+$"), "org/name"),
    ),
    "fineTuneEpochs": ("fine_tune_epochs", _int(1, 20)),
    "fineTuneLearningRate": ("fine_tune_learning_rate", _float(1e-7, 1e-2)),
    "fineTuneLoraR": ("fine_tune_lora_r", _int(1, 256)),
    "fineTuneLoraAlpha": ("fine_tune_lora_alpha", _int(1, 512)),
    "fineTuneLoraDropout": ("fine_tune_lora_dropout", _float(0.0, 0.5)),
    "fineTuneMaxSeqLength": ("fine_tune_max_seq_length", _int(128, 32768)),
    "fineTuneMonthlyBudgetUsd": ("fine_tune_monthly_budget_usd", _int(1, 100_000)),
    "fineTuneNetworkIsolation": ("fine_tune_network_isolation", _bool),
    "fineTuneTrainingImageUri": (
        "fine_tune_training_image_uri",
        _pattern(
            _ECR_IMAGE,
            "an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>) or ''",
            allow_empty=True,
        ),
    ),
    "fineTuneMinExamples": ("fine_tune_min_examples", _int(1, 10_000_000)),
    "fineTuneEvalFraction": ("fine_tune_eval_fraction", _float(0.01, 0.5)),
    "fineTuneKeepModels": ("fine_tune_keep_models", _int(1, 50)),
    "fineTunedModelApi": ("fine_tuned_model_api", _choice(FINETUNED_MODEL_APIS)),
    "fineTuneVerdict": ("fine_tune_verdict", _path),
    "fineTuneOverride": ("fine_tune_override", _override),
    "fineTuneSubnetIds": ("fine_tune_subnet_ids", _id_list("subnet", "subnet")),
    "fineTuneSecurityGroupIds": ("fine_tune_security_group_ids", _id_list("security group", "sg")),
}

CONTEXT_KEYS = tuple(_SPEC)

# Context keys that belong to the CDK itself, not to this app.
_FOREIGN_KEY = re.compile(r"^(@aws-cdk/|aws:|cdk|aws-cdk:|acknowledged-issue-numbers$|@)")


def from_context(context: Mapping[str, Any]) -> LadderConfig:
    """Build the configuration from CDK context (cdk.json defaults merged with ``-c`` overrides)."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, (name, parse) in _SPEC.items():
        if key not in context:
            problems.append(f"{key}: missing (add it to cdk.json context or pass -c {key}=...)")
            continue
        raw = context[key]
        try:
            values[name] = parse(raw)
        except ValueError as err:
            problems.append(f"-c {key}={_show(raw)} is invalid: {err}")
    for key in context:
        if key not in _SPEC and not _FOREIGN_KEY.match(key):
            hint = difflib.get_close_matches(key, CONTEXT_KEYS, n=1)
            suggestion = f"; did you mean {hint[0]}?" if hint else f"; known keys: {', '.join(CONTEXT_KEYS)}"
            problems.append(f"-c {key}: unknown configuration key{suggestion}")
    if not problems:
        _derive(values)
        _cross_check(values, problems)
    if problems:
        raise ConfigError("Invalid Ladder configuration:\n  - " + "\n  - ".join(problems))
    known = {f.name for f in fields(LadderConfig)}
    return LadderConfig(**{k: v for k, v in values.items() if k in known})


def _show(raw: Any) -> str:
    return repr(raw) if not isinstance(raw, str) else raw or "''"


def _derive(values: dict[str, Any]) -> None:
    prod = values["profile"] == "prod"
    if values["standby_replicas"] is None:
        values["standby_replicas"] = prod
    if values["waf"] is None:
        values["waf"] = prod
    if values["reserved_concurrency"] is None:
        values["reserved_concurrency"] = 0
    if values["search_type"] == "":
        values["search_type"] = DEFAULT_SEARCH_TYPE[values["vector_store"]]
    if values["log_retention_days"] is None:
        values["log_retention_days"] = 365 if prod else 14
    else:
        values["log_retention_days"] = int(values["log_retention_days"])


def _cross_check(values: dict[str, Any], problems: list[str]) -> None:
    dims = EMBEDDING_MODELS[values["embedding_model_id"]]
    if values["embedding_dimensions"] not in dims:
        problems.append(
            f"-c embeddingDimensions={values['embedding_dimensions']} is invalid for "
            f"{values['embedding_model_id']}: expected one of {', '.join(map(str, dims))}"
        )
    if values["vector_store"] == "s3vectors" and values["search_type"] == "HYBRID":
        problems.append(
            "-c searchType=HYBRID is invalid with -c vectorStore=s3vectors: S3 Vectors has no hybrid search; "
            "use searchType=SEMANTIC (or leave searchType empty) or vectorStore=opensearch"
        )
    if values["vector_kms_key_arn"] and values["vector_store"] != "s3vectors":
        problems.append(
            "-c vectorKmsKeyArn applies only to -c vectorStore=s3vectors "
            f"(vectorStore is {values['vector_store']}; the OpenSearch collection uses an AWS-owned key)"
        )
    if values["hierarchical_child_max_tokens"] >= values["hierarchical_parent_max_tokens"]:
        problems.append(
            "-c hierarchicalChildMaxTokens must be smaller than hierarchicalParentMaxTokens "
            f"(got {values['hierarchical_child_max_tokens']} >= {values['hierarchical_parent_max_tokens']})"
        )
    if values["api_burst_limit"] < values["api_rate_limit"]:
        problems.append("-c apiBurstLimit must be at least apiRateLimit")
    if (
        values["fine_tune_spot"]
        and values["fine_tune_max_wait_hours"] < values["fine_tune_max_runtime_hours"]
    ):
        problems.append(
            f"-c fineTuneMaxWaitHours={values['fine_tune_max_wait_hours']} is invalid: with spot training it "
            f"must be at least fineTuneMaxRuntimeHours ({values['fine_tune_max_runtime_hours']})"
        )
    geo = inference_profile_geo(values["generation_model_id"])
    profile_regions = INFERENCE_PROFILE_REGIONS.get(geo or "")
    if profile_regions and values["region"] not in profile_regions:
        problems.append(
            f"-c generationModelId={values['generation_model_id']} is invalid in region {values['region']}: "
            f"a '{geo}.' inference profile is called from one of {', '.join(profile_regions)}"
        )
    for judge in values["evaluation_judge_model_ids"]:
        judge_geo = inference_profile_geo(judge)
        if judge_geo is not None and judge_geo not in INFERENCE_PROFILE_REGIONS:
            problems.append(
                f"-c evaluationJudgeModelIds: {judge} is a '{judge_geo}.' inference profile, whose "
                "destination regions the evaluation role cannot name; use a "
                f"{', '.join(f'{g}.' for g in INFERENCE_PROFILE_REGIONS)} profile or a model id"
            )
    rerank = values["rerank_model_id"]
    if rerank and values["region"] not in RERANK_MODEL_REGIONS[rerank]:
        problems.append(
            f"-c rerankModelId={rerank} is invalid in region {values['region']}: Bedrock offers it in "
            f"{', '.join(RERANK_MODEL_REGIONS[rerank])}"
            + (
                "; in this region use "
                + ", ".join(m for m, regions in RERANK_MODEL_REGIONS.items() if values["region"] in regions)
                if any(values["region"] in regions for regions in RERANK_MODEL_REGIONS.values())
                else ""
            )
        )
    model = values["generation_model_id"]
    facts = bedrock_model(model)
    output_limit = facts.max_output_tokens if facts else None
    if output_limit is not None and values["max_tokens"] > output_limit:
        problems.append(
            f"-c maxTokens={values['max_tokens']} is invalid for {model}: the model writes at most "
            f"{output_limit} output tokens per request"
        )
    if values["max_tokens"] > GROUNDING_MAX_TOKENS:
        problems.append(
            f"-c maxTokens={values['max_tokens']} is invalid: the guardrail's contextual grounding check "
            f"assesses answers of at most {GROUNDING_RESPONSE_MAX_CHARS} characters, about "
            f"{GROUNDING_MAX_TOKENS} tokens at {GROUNDING_CHARS_PER_TOKEN} characters a token; use "
            f"maxTokens of at most {GROUNDING_MAX_TOKENS}"
        )
    _check_fine_tune(values, problems)
    if bool(values["fine_tune_subnet_ids"]) != bool(values["fine_tune_security_group_ids"]):
        problems.append(
            "-c fineTuneSubnetIds and fineTuneSecurityGroupIds must be given together (or neither)"
        )


def _check_fine_tune(values: dict[str, Any], problems: list[str]) -> None:
    base_model = values["fine_tune_base_model_id"]
    if (
        values["fine_tune"]
        and values["fine_tuned_model_api"] == "converse"
        and CMI_NO_CONVERSE_BASE_MODELS.search(base_model)
    ):
        problems.append(
            f"-c fineTunedModelApi=converse is invalid with -c fineTuneBaseModelId={base_model}: Bedrock "
            "Custom Model Import has no Converse API for Qwen2.5, Qwen2-VL, Qwen2.5-VL and GPT-OSS models, "
            "so every 'finetuned' request would fail; set fineTunedModelApi=invoke_model or "
            "another base model (Llama 3.x, Mistral, Qwen3)"
        )
    if values["fine_tune_network_isolation"] and not values["fine_tune_training_image_uri"]:
        problems.append(
            "-c fineTuneNetworkIsolation=true needs -c fineTuneTrainingImageUri: the default Hugging Face "
            "image pip-installs training_jobs/requirements.txt when the job starts, which an isolated job "
            "cannot; build an image with the pins (training_jobs/Dockerfile) and pass its ECR URI"
        )
    instance_type = values["fine_tune_instance_type"]
    gpu = CUDA13_UNSUPPORTED_FAMILIES.get(instance_type.split(".")[1])
    if gpu:
        problems.append(
            f"-c fineTuneInstanceType={instance_type} is invalid: its {gpu} GPU is not supported by the "
            f"CUDA 13 training image; use one of {', '.join(CUDA13_ALTERNATIVES)} "
            "(or another g4dn, g5, g6, g6e, p4 or p5 size)"
        )
        return
    instance = INSTANCES.get(instance_type)
    if instance is None:
        family = instance_type.split(".")[1]
        sizes = [name for name in INSTANCES if name.split(".")[1] == family]
        problems.append(
            f"-c fineTuneInstanceType={instance_type} is invalid: SageMaker has no such {family} training "
            f"instance; use one of {', '.join(sizes)}"
        )
        return
    count = values["fine_tune_instance_count"]
    total_gpus = instance.gpus * count
    if total_gpus < min_gpus(values["fine_tune_strategy"]):
        problems.append(
            f"-c fineTuneStrategy=fsdp-lora needs more than one GPU in total to shard the model across; "
            f"{count} x {instance_type} has {total_gpus}: raise fineTuneInstanceCount, pick a multi-GPU "
            "instance (ml.g5.12xlarge, ml.g6e.12xlarge, ml.p4d.24xlarge) or use fineTuneStrategy=qlora"
        )


def is_gated_model(model_id: str) -> bool:
    """Whether the Hub gates ``model_id`` behind a licence (its weights then have to be staged in S3)."""
    return model_id.split("/", 1)[0].lower() in GATED_MODEL_ORGS
