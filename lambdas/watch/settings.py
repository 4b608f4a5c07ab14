"""Settings of the drift watch function, read from its environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ladder_core import environment as env
from ladder_core.environment import SettingsError as SettingsError


@dataclass(frozen=True)
class Settings:
    evaluations_bucket: str
    """The bucket holding ``staged/watch/`` and the runs (EVALUATIONS_BUCKET)."""
    topic_arn: str
    """The RAG API stack's alarm topic the findings go to (TOPIC_ARN)."""
    max_items: int
    """The first N items of the staged set each run answers (MAX_ITEMS)."""
    examples_manifest_bucket: str | None
    """The documents bucket holding the few-shot manifest (EXAMPLES_MANIFEST_BUCKET); None: no store."""
    model_parameter: str | None
    """The SSM parameter naming the published fine-tuned model (MODEL_PARAMETER); None: no fine-tune stack."""
    model_ids: tuple[str, ...]
    """General models measured as ``rag@ID`` / ``fewshot@ID`` (MODEL_IDS, comma-separated; may be empty)."""


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Build settings from ``environ``; raises SettingsError naming the first bad variable."""
    return Settings(
        evaluations_bucket=env.required(environ, "EVALUATIONS_BUCKET"),
        topic_arn=env.matching(
            environ, "TOPIC_ARN", r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+", "an SNS topic ARN"
        ),
        max_items=env.integer(environ, "MAX_ITEMS", None, 1),
        examples_manifest_bucket=env.optional(environ, "EXAMPLES_MANIFEST_BUCKET"),
        model_parameter=env.optional(environ, "MODEL_PARAMETER"),
        model_ids=tuple(v.strip() for v in environ.get("MODEL_IDS", "").split(",") if v.strip()),
    )
