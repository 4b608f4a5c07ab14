"""Settings of the dataset-validation function, read from environment variables once at cold start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ladder_core import environment as env
from ladder_core.environment import SettingsError as SettingsError
from training_jobs.dataprep import MAX_EVAL_FRACTION, PrepOptions

from . import constants


@dataclass(frozen=True)
class Settings:
    options: PrepOptions
    """How strict the checks are: MIN_EXAMPLES, EVAL_FRACTION and MAX_CHARS (dataprep defaults if unset)."""


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Build settings from ``environ``; raises SettingsError naming the first bad variable."""
    defaults = PrepOptions()
    return Settings(
        options=PrepOptions(
            min_examples=env.integer(environ, constants.ENV_MIN_EXAMPLES, defaults.min_examples, 1),
            eval_fraction=env.number(
                environ, constants.ENV_EVAL_FRACTION, defaults.eval_fraction, 0, MAX_EVAL_FRACTION
            ),
            max_chars=env.integer(environ, constants.ENV_MAX_CHARS, defaults.max_chars, 1),
            seed=defaults.seed,
        )
    )
