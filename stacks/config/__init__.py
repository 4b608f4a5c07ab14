"""Typed, validated configuration for the whole app.

Defaults live in ``cdk.json`` under ``context``; any key can be overridden with ``-c key=value``.
:mod:`~stacks.config.settings` holds the typed object, :mod:`~stacks.config.parsing` reads the context into it
and :mod:`~stacks.config.checks` relates the settings to each other and to the AWS facts of
:mod:`ladder_core.catalog`. This package stays pure Python: the operator CLI imports it without the CDK.
"""

from ladder_core.catalog.logs import LOG_RETENTION_DAYS
from ladder_core.catalog.powertools import POWERTOOLS_LAYER_PARAMETER
from stacks.config.parsing import CONTEXT_KEYS, OVERRIDE_MIN_CHARS, from_context
from stacks.config.settings import ConfigError, LadderConfig, is_gated_model, short_hash

__all__ = [
    "CONTEXT_KEYS",
    "LOG_RETENTION_DAYS",
    "OVERRIDE_MIN_CHARS",
    "POWERTOOLS_LAYER_PARAMETER",
    "ConfigError",
    "LadderConfig",
    "from_context",
    "is_gated_model",
    "short_hash",
]
