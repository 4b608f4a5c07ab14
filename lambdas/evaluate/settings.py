"""Settings of the evaluation function, read from its environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ladder_core import environment as env
from ladder_core.environment import SettingsError as SettingsError
from ladder_core.evaluation.prices import Deployment

VECTOR_STORES = ("opensearch", "s3vectors")


@dataclass(frozen=True)
class Settings:
    bucket: str
    """The evaluations bucket: sets under ``staged/``, run folders under ``runs/`` (BUCKET)."""
    rag_function: str
    """The RAG function's name or ARN, invoked directly (RAG_FUNCTION)."""
    rag_timeout_s: int
    """The RAG function's timeout in seconds: bounds one attempt and sizes the chunks (RAG_TIMEOUT_S)."""
    examples_manifest_bucket: str | None
    """The bucket holding the few-shot examples' manifest (EXAMPLES_MANIFEST_BUCKET; unset without an
    examples store): a run with a ``fewshot`` arm records which examples it was measured with."""
    deployment: Deployment
    """What the per-query costs depend on: EMBEDDING_MODEL_ID, RERANK_MODEL_ID (empty: none),
    VECTOR_STORE, RAG_MEMORY_MB."""
    imported_model_arn_prefix: str | None = None
    """``arn:<partition>:bedrock:<region>:<account>:`` (IMPORTED_MODEL_ARN_PREFIX; unset without the
    fine-tune stack): with the ``imported-model/<id>`` a ``finetuned`` answer names, the ARN whose Custom
    Model Units price that arm."""


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Build settings from ``environ``; raises SettingsError naming the first bad variable."""
    return Settings(
        bucket=env.required(environ, "BUCKET"),
        rag_function=env.required(environ, "RAG_FUNCTION"),
        rag_timeout_s=env.integer(environ, "RAG_TIMEOUT_S", None, 1, 900),
        examples_manifest_bucket=env.optional(environ, "EXAMPLES_MANIFEST_BUCKET"),
        deployment=Deployment(
            embedding_model_id=env.required(environ, "EMBEDDING_MODEL_ID"),
            rerank_model_id=env.optional(environ, "RERANK_MODEL_ID") or "",
            vector_store=env.choice(environ, "VECTOR_STORE", VECTOR_STORES, None) or VECTOR_STORES[0],
            memory_mb=env.integer(environ, "RAG_MEMORY_MB", None, 128, 10240),
        ),
        imported_model_arn_prefix=env.optional(environ, "IMPORTED_MODEL_ARN_PREFIX"),
    )
