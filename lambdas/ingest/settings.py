"""Environment of the ingestion functions, validated once at cold start into frozen settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ladder_core import environment as env
from ladder_core.environment import SettingsError as SettingsError

from .constants import DEFAULT_LOOKBACK_MINUTES, DEFAULT_METRICS_NAMESPACE, RESOURCE_ID_PATTERN


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


def _resource_id(environ: Mapping[str, str], name: str) -> str:
    return env.matching(environ, name, RESOURCE_ID_PATTERN, "10 letters or digits")


def _namespace(environ: Mapping[str, str]) -> str:
    return env.optional(environ, "POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE


def load_ingest_settings(environ: Mapping[str, str]) -> IngestSettings:
    """Build the ingestion trigger's settings from an environment mapping (``os.environ`` in Lambda)."""
    return IngestSettings(
        knowledge_base_id=_resource_id(environ, "KNOWLEDGE_BASE_ID"),
        data_source_id=_resource_id(environ, "DATA_SOURCE_ID"),
        # Not stripped: a prefix is matched against S3 keys as written, and a key may start with a space.
        documents_prefix=environ.get("DOCUMENTS_PREFIX", ""),
        metrics_namespace=_namespace(environ),
    )


def load_monitor_settings(environ: Mapping[str, str]) -> MonitorSettings:
    """Build the monitor's settings from an environment mapping (``os.environ`` in Lambda)."""
    return MonitorSettings(
        knowledge_base_id=_resource_id(environ, "KNOWLEDGE_BASE_ID"),
        data_source_id=_resource_id(environ, "DATA_SOURCE_ID"),
        lookback_minutes=env.integer(environ, "LOOKBACK_MINUTES", DEFAULT_LOOKBACK_MINUTES, 1),
        metrics_namespace=_namespace(environ),
    )
