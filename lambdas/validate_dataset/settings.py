"""Settings of the dataset-validation function, read from environment variables once at cold start."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from training_jobs.dataprep import MAX_EVAL_FRACTION, PrepOptions

from . import constants


class SettingsError(ValueError):
    """An environment variable holds a value the function cannot use."""

    def __init__(self, variable: str, value: str, accepted: str) -> None:
        super().__init__(f"environment variable {variable} is {value!r}; accepted: {accepted}")
        self.variable = variable


@dataclass(frozen=True)
class Settings:
    options: PrepOptions
    """How strict the checks are: MIN_EXAMPLES, EVAL_FRACTION and MAX_CHARS (dataprep defaults if unset)."""


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Build settings from ``environ``; raises SettingsError naming the first bad variable."""
    defaults = PrepOptions()
    return Settings(
        options=PrepOptions(
            min_examples=_whole(environ, constants.ENV_MIN_EXAMPLES, defaults.min_examples),
            eval_fraction=_fraction(environ, constants.ENV_EVAL_FRACTION, defaults.eval_fraction),
            max_chars=_whole(environ, constants.ENV_MAX_CHARS, defaults.max_chars),
            seed=defaults.seed,
        )
    )


def _whole(environ: Mapping[str, str], variable: str, default: int) -> int:
    raw = environ.get(variable)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise SettingsError(variable, raw, "a whole number >= 1")
    return value


def _fraction(environ: Mapping[str, str], variable: str, default: float) -> float:
    raw = environ.get(variable)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 <= value <= MAX_EVAL_FRACTION:
        raise SettingsError(variable, raw, f"a number from 0 to {MAX_EVAL_FRACTION}, e.g. 0.1")
    return value
