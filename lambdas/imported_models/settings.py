"""Settings of the imported-models housekeeping function, read from its environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ladder_core import environment as env
from ladder_core.environment import SettingsError as SettingsError


@dataclass(frozen=True)
class Settings:
    model_parameter: str
    """SSM parameter naming the published model, never deleted (MODEL_PARAMETER)."""
    keep_models: int
    """How many of the pipeline's newest models stay (KEEP_MODELS, at least 1)."""


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Build settings from ``environ``; raises SettingsError naming the first bad variable."""
    return Settings(
        model_parameter=env.required(environ, "MODEL_PARAMETER"),
        keep_models=env.integer(environ, "KEEP_MODELS", None, 1),
    )
