"""Parsing of the CDK context into a :class:`~stacks.config.settings.LadderConfig`.

Values from ``-c`` arrive as strings, values from ``cdk.json`` as JSON types: both are parsed strictly here,
and every problem is reported at once in a :class:`~stacks.config.settings.ConfigError` that names the key,
the value and what is accepted.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from ladder_core.catalog.bedrock import EMBEDDING_MODELS, GUARDRAIL_PII_ENTITY_TYPES, RERANK_MODEL_REGIONS
from ladder_core.catalog.logs import LOG_RETENTION_DAYS
from ladder_core.catalog.training import (
    EPOCHS_RANGE,
    GPU_FAMILIES,
    MAX_INSTANCE_COUNT,
    MAX_SEQ_LENGTH_RANGE,
)
from lambdas.rag.constants import VECTOR_STORES
from stacks.config.checks import cross_check
from stacks.config.settings import ConfigError, LadderConfig
from training_jobs.job_contract import STRATEGIES

PROFILES = ("sandbox", "prod")
CHUNKING_STRATEGIES = ("FIXED_SIZE", "SEMANTIC", "HIERARCHICAL", "NONE")
SEARCH_TYPES = ("", "HYBRID", "SEMANTIC")
# The search type each vector store supports best; S3 Vectors has no hybrid (keyword) search.
DEFAULT_SEARCH_TYPE = {"opensearch": "HYBRID", "s3vectors": "SEMANTIC"}
FINETUNED_MODEL_APIS = ("converse", "invoke_model")
FILTER_STRENGTHS = ("NONE", "LOW", "MEDIUM", "HIGH")
PII_ACTIONS = ("BLOCK", "ANONYMIZE", "NONE")

GPU_INSTANCE_PATTERN = re.compile(rf"^ml\.({'|'.join(GPU_FAMILIES)})\.[0-9]*x?large$")
_ECR_IMAGE = re.compile(
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$"
)

_NAME_PREFIX = re.compile(r"^[A-Z][A-Za-z0-9]{1,15}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MODEL_ID = re.compile(r"^[a-z0-9.\-:]+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-zA-Z-]+$")


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


def _allowed_model_ids(value: Any) -> tuple[str, ...]:
    items = _list_items(value)
    bad = [v for v in items if not _MODEL_ID.fullmatch(v)]
    if bad:
        raise ValueError(
            f"{bad[0]!r} is not a Bedrock model or inference profile id; expected a comma-separated list "
            "of ids such as us.amazon.nova-pro-v1:0 (lowercase letters, digits, '.', '-', ':'), or '' for "
            "the generation model alone"
        )
    return tuple(dict.fromkeys(items))


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


DRIFT_WATCH_MAX_ITEMS = 1000
"""At most this many items per scheduled run: each item is answered once per arm, every run."""
_RATE = re.compile(r"^rate\((\d+) (minutes?|hours?|days?)\)$")
_CRON = re.compile(r"^cron\((\S+ ){5}\S+\)$")
_MINUTES_PER_UNIT = {"minute": 1, "hour": 60, "day": 1440}
_DRIFT_SCHEDULE_ACCEPTED = (
    "an EventBridge Scheduler expression that runs at most once a day: 'rate(N days)' (or hours/minutes "
    "adding up to a day or more), 'cron(minute hour day-of-month month day-of-week year)' with one minute "
    "and one hour, or '' for no drift watch"
)


def _drift_schedule(value: Any) -> str:
    """A recurring EventBridge Scheduler expression (rate or cron; a one-time ``at(...)`` watches nothing)
    that fires at most once a day: every run answers up to ``driftWatchMaxItems`` items per arm."""
    if not isinstance(value, str):
        raise ValueError(f"expected {_DRIFT_SCHEDULE_ACCEPTED}")
    if value == "":
        return value
    rate = _RATE.fullmatch(value)
    if rate is not None:
        amount, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if amount >= 1 and amount * _MINUTES_PER_UNIT[unit] >= _MINUTES_PER_UNIT["day"]:
            return value
        raise ValueError(f"{value} runs more than once a day; expected {_DRIFT_SCHEDULE_ACCEPTED}")
    if _CRON.fullmatch(value):
        minute, hour = value[len("cron(") : -1].split()[:2]
        if re.fullmatch(r"\d{1,2}", minute) and re.fullmatch(r"\d{1,2}", hour):
            return value
        raise ValueError(f"{value} runs more than once a day; expected {_DRIFT_SCHEDULE_ACCEPTED}")
    raise ValueError(f"expected {_DRIFT_SCHEDULE_ACCEPTED}")


def _optional_model_ids(value: Any) -> tuple[str, ...]:
    items = _list_items(value)
    if any(not _MODEL_ID.fullmatch(v) for v in items):
        raise ValueError(
            "expected a comma-separated list of Bedrock model or inference profile ids, or empty"
        )
    return tuple(dict.fromkeys(items))


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
    "fewShot": ("few_shot", _bool),
    "fewShotK": ("few_shot_k", _int(1, 16)),
    "generationModelId": ("generation_model_id", _pattern(_MODEL_ID, "a Bedrock model or profile id")),
    "allowedGenerationModelIds": ("allowed_generation_model_ids", _allowed_model_ids),
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
    "fineTuneEpochs": ("fine_tune_epochs", _int(*EPOCHS_RANGE)),
    "fineTuneLearningRate": ("fine_tune_learning_rate", _float(1e-7, 1e-2)),
    "fineTuneLoraR": ("fine_tune_lora_r", _int(1, 256)),
    "fineTuneLoraAlpha": ("fine_tune_lora_alpha", _int(1, 512)),
    "fineTuneLoraDropout": ("fine_tune_lora_dropout", _float(0.0, 0.5)),
    "fineTuneMaxSeqLength": ("fine_tune_max_seq_length", _int(*MAX_SEQ_LENGTH_RANGE)),
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
    "driftWatchSchedule": ("drift_watch_schedule", _drift_schedule),
    "driftWatchModelIds": ("drift_watch_model_ids", _optional_model_ids),
    "driftWatchMaxItems": ("drift_watch_max_items", _int(1, DRIFT_WATCH_MAX_ITEMS)),
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
        cross_check(values, problems)
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
