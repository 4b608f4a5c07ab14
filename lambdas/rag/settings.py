"""Settings of the RAG function, read from environment variables and validated once at cold start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ladder_core import environment as env
from ladder_core.environment import SettingsError as SettingsError

from . import constants

_GUARDRAIL_VERSION = r"DRAFT|[1-9][0-9]{0,7}"


@dataclass(frozen=True)
class Settings:
    """Everything the function needs to know about its deployment."""

    knowledge_base_id: str
    """Bedrock Knowledge Base queried with ``Retrieve`` (KNOWLEDGE_BASE_ID)."""
    model_id: str
    """Model id or inference profile id used with ``Converse`` in rag and prompt modes (MODEL_ID)."""
    guardrail_id: str
    """Guardrail applied to every model call (GUARDRAIL_ID)."""
    guardrail_version: str
    """Guardrail version: a number or DRAFT (GUARDRAIL_VERSION)."""
    allowed_model_ids: tuple[str, ...] = ()
    """The models a request may name in ``modelId`` (ALLOWED_MODEL_IDS, comma-separated), ``model_id``
    first: exactly the models the function's role may invoke."""
    max_question_chars: int = constants.DEFAULT_MAX_QUESTION_CHARS
    max_body_bytes: int = constants.DEFAULT_MAX_BODY_BYTES
    max_tokens: int = constants.DEFAULT_MAX_TOKENS
    temperature: float = constants.DEFAULT_TEMPERATURE
    min_relevance_score: float = constants.DEFAULT_MIN_RELEVANCE_SCORE
    search_type: str | None = None
    """HYBRID or SEMANTIC; None lets the knowledge base decide (SEARCH_TYPE)."""
    rerank_model_arn: str | None = None
    """Foundation-model ARN of a reranker; None retrieves without reranking (RERANK_MODEL_ARN)."""
    deadline_ms: int = constants.DEFAULT_DEADLINE_MS
    bedrock_max_attempts: int = constants.DEFAULT_BEDROCK_MAX_ATTEMPTS
    finetuned_model_parameter: str | None = None
    """SSM parameter holding the imported model ARN; None when fine-tuning is not deployed."""
    finetuned_model_api: str = constants.DEFAULT_FINETUNED_MODEL_API
    log_content: bool = False
    """Whether questions and answers may appear in logs (LOG_CONTENT)."""
    cors_allow_origins: tuple[str, ...] = ()
    """Origins whose requests get Access-Control-Allow-Origin (CORS_ALLOW_ORIGINS, comma-separated)."""
    vector_store: str = constants.DEFAULT_VECTOR_STORE
    """The knowledge base's vector store (VECTOR_STORE): it decides which filter operators work."""
    examples_index_arn: str | None = None
    """S3 vector index of the uploaded few-shot examples (EXAMPLES_INDEX_ARN); None: no ``fewshot`` mode."""
    examples_manifest_bucket: str | None = None
    """Bucket holding ``examples/manifest.json`` (EXAMPLES_MANIFEST_BUCKET); required with the index."""
    few_shot_k: int = constants.DEFAULT_FEW_SHOT_K
    """How many of the nearest examples a ``fewshot`` prompt shows (FEW_SHOT_K)."""
    embedding_model_id: str | None = None
    """The deployment's embedding model, which embedded the examples (EMBEDDING_MODEL_ID)."""
    embedding_dimensions: int | None = None
    """The examples' vector dimension (EMBEDDING_DIMENSIONS)."""

    @property
    def few_shot(self) -> bool:
        """Whether this deployment has an examples store, so the ``fewshot`` mode can answer."""
        return self.examples_index_arn is not None


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Builds settings from ``environ``; raises SettingsError naming the first bad variable."""
    for variable in ("POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME"):
        env.required(environ, variable)
    few_shot = _few_shot(environ)
    guardrail_version = env.matching(
        environ, "GUARDRAIL_VERSION", _GUARDRAIL_VERSION, "DRAFT or a version number such as 1"
    )
    model_id = env.required(environ, "MODEL_ID")
    return Settings(
        knowledge_base_id=env.required(environ, "KNOWLEDGE_BASE_ID"),
        model_id=model_id,
        allowed_model_ids=allowed_model_ids(environ, model_id),
        guardrail_id=env.required(environ, "GUARDRAIL_ID"),
        guardrail_version=guardrail_version,
        max_question_chars=env.integer(
            environ, "MAX_QUESTION_CHARS", constants.DEFAULT_MAX_QUESTION_CHARS, 1, 20_000
        ),
        max_body_bytes=env.integer(
            environ, "MAX_BODY_BYTES", constants.DEFAULT_MAX_BODY_BYTES, 256, 1_048_576
        ),
        max_tokens=_max_tokens(environ),
        temperature=env.number(environ, "TEMPERATURE", constants.DEFAULT_TEMPERATURE, 0.0, 1.0),
        min_relevance_score=env.number(
            environ, "MIN_RELEVANCE_SCORE", constants.DEFAULT_MIN_RELEVANCE_SCORE, 0.0, 1.0
        ),
        search_type=env.choice(environ, "SEARCH_TYPE", constants.SEARCH_TYPES, default=None),
        rerank_model_arn=env.optional(environ, "RERANK_MODEL_ARN"),
        deadline_ms=env.integer(
            environ, "DEADLINE_MS", constants.DEFAULT_DEADLINE_MS, 1_000, constants.MAX_DEADLINE_MS
        ),
        bedrock_max_attempts=env.integer(
            environ,
            "BEDROCK_MAX_ATTEMPTS",
            constants.DEFAULT_BEDROCK_MAX_ATTEMPTS,
            1,
            constants.MAX_BEDROCK_MAX_ATTEMPTS,
        ),
        finetuned_model_parameter=env.optional(environ, "FINETUNED_MODEL_PARAMETER"),
        finetuned_model_api=env.choice(
            environ,
            "FINETUNED_MODEL_API",
            constants.FINETUNED_MODEL_APIS,
            default=constants.DEFAULT_FINETUNED_MODEL_API,
        )
        or constants.DEFAULT_FINETUNED_MODEL_API,
        log_content=env.boolean(environ, "LOG_CONTENT", default=False),
        cors_allow_origins=cors_origins(environ),
        vector_store=env.choice(
            environ, "VECTOR_STORE", constants.VECTOR_STORES, default=constants.DEFAULT_VECTOR_STORE
        )
        or constants.DEFAULT_VECTOR_STORE,
        **few_shot,
    )


def _few_shot(environ: Mapping[str, str]) -> dict[str, Any]:
    """The examples store's settings: none when EXAMPLES_INDEX_ARN is unset or empty (fewShot=false);
    with it, the manifest bucket and the embedding model that made the examples' vectors are required."""
    index_arn = env.optional(environ, "EXAMPLES_INDEX_ARN")
    if index_arn is None:
        return {}
    return {
        "examples_index_arn": index_arn,
        "examples_manifest_bucket": env.required(environ, "EXAMPLES_MANIFEST_BUCKET"),
        "few_shot_k": env.integer(
            environ,
            "FEW_SHOT_K",
            constants.DEFAULT_FEW_SHOT_K,
            constants.MIN_FEW_SHOT_K,
            constants.MAX_FEW_SHOT_K,
        ),
        "embedding_model_id": env.required(environ, "EMBEDDING_MODEL_ID"),
        "embedding_dimensions": env.integer(
            environ, "EMBEDDING_DIMENSIONS", None, 1, constants.EMBEDDING_DIMENSIONS_MAX
        ),
    }


def _max_tokens(environ: Mapping[str, str]) -> int:
    # An answer longer than the contextual grounding check accepts could not be checked against the
    # passages, so the function refuses such a setting instead of answering unchecked.
    limit = constants.GROUNDING_MAX_TOKENS
    accepted = (
        f"an integer from 1 to {limit}: the guardrail's contextual grounding check assesses answers of at "
        f"most {constants.GROUNDING_RESPONSE_MAX_CHARS} characters (about "
        f"{constants.GROUNDING_CHARS_PER_TOKEN} per token)"
    )
    value = env.integer(environ, "MAX_TOKENS", constants.DEFAULT_MAX_TOKENS, 1, 100_000)
    if value > limit:
        raise SettingsError("MAX_TOKENS", environ.get("MAX_TOKENS"), accepted)
    return value


def allowed_model_ids(environ: Mapping[str, str], model_id: str) -> tuple[str, ...]:
    """ALLOWED_MODEL_IDS as a tuple with ``model_id`` first: the configured model is always allowed, so an
    unset or empty variable allows it alone."""
    listed = (item.strip() for item in environ.get("ALLOWED_MODEL_IDS", "").split(","))
    return tuple(dict.fromkeys((model_id, *(item for item in listed if item))))


def cors_origins(environ: Mapping[str, str]) -> tuple[str, ...]:
    """CORS_ALLOW_ORIGINS as a tuple; unset or empty means CORS is off."""
    return tuple(o.strip() for o in environ.get("CORS_ALLOW_ORIGINS", "").split(",") if o.strip())
