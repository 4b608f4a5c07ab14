"""Environment of the ingestion functions, validated once at cold start into frozen settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .constants import DEFAULT_LOOKBACK_MINUTES, DEFAULT_METRICS_NAMESPACE, RESOURCE_ID_PATTERN


class ConfigurationError(ValueError):
    """An environment variable is missing or invalid; the message names it and says what is accepted."""


@dataclass(frozen=True)
class IngestSettings:
    """What the ingestion trigger needs to start a job."""

    knowledge_base_id: str
    """Bedrock Knowledge Base id (KNOWLEDGE_BASE_ID), 10 letters or digits."""
    data_source_id: str
    """Data source id within that knowledge base (DATA_SOURCE_ID), 10 letters or digits."""
    documents_prefix: str = ""
    """Only keys starting with this prefix trigger ingestion (DOCUMENTS_PREFIX); empty means every key."""
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE
    """CloudWatch namespace (POWERTOOLS_METRICS_NAMESPACE)."""


@dataclass(frozen=True)
class MonitorSettings:
    """What the ingestion job monitor needs to review recent jobs."""

    knowledge_base_id: str
    data_source_id: str
    lookback_minutes: int = DEFAULT_LOOKBACK_MINUTES
    """Jobs last updated within this many minutes are reviewed (LOOKBACK_MINUTES, a positive integer)."""
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE


def _resource_id(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"Environment variable {name} is required and must not be empty.")
    if not re.fullmatch(RESOURCE_ID_PATTERN, value):
        raise ConfigurationError(
            f"Environment variable {name}={value!r} is invalid: expected 10 letters or digits."
        )
    return value


def _namespace(env: Mapping[str, str]) -> str:
    return env.get("POWERTOOLS_METRICS_NAMESPACE", "").strip() or DEFAULT_METRICS_NAMESPACE


def load_ingest_settings(env: Mapping[str, str]) -> IngestSettings:
    """Build the ingestion trigger's settings from an environment mapping (``os.environ`` in Lambda)."""
    return IngestSettings(
        knowledge_base_id=_resource_id(env, "KNOWLEDGE_BASE_ID"),
        data_source_id=_resource_id(env, "DATA_SOURCE_ID"),
        documents_prefix=env.get("DOCUMENTS_PREFIX", ""),
        metrics_namespace=_namespace(env),
    )


def load_monitor_settings(env: Mapping[str, str]) -> MonitorSettings:
    """Build the monitor's settings from an environment mapping (``os.environ`` in Lambda)."""
    raw = env.get("LOOKBACK_MINUTES", "").strip()
    lookback = DEFAULT_LOOKBACK_MINUTES
    if raw:
        try:
            lookback = int(raw)
        except ValueError:
            lookback = 0
        if lookback <= 0:
            raise ConfigurationError(
                f"Environment variable LOOKBACK_MINUTES={raw!r} is invalid: expected a positive integer "
                f"(default {DEFAULT_LOOKBACK_MINUTES})."
            )
    return MonitorSettings(
        knowledge_base_id=_resource_id(env, "KNOWLEDGE_BASE_ID"),
        data_source_id=_resource_id(env, "DATA_SOURCE_ID"),
        lookback_minutes=lookback,
        metrics_namespace=_namespace(env),
    )
