"""Starts one Bedrock ingestion job for a whole batch of document changes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .constants import BUSY_ERROR_CODES, DESCRIPTION_MAX_CHARS
from .events import S3Change
from .settings import IngestSettings


@dataclass(frozen=True)
class JobStarted:
    """Bedrock accepted the job (or recognised the client token of one it already accepted)."""

    job_id: str
    status: str
    client_token: str


@dataclass(frozen=True)
class JobDeferred:
    """No job was started; every change of the batch must come back later."""

    error_code: str
    error_message: str
    busy: bool
    """True when Bedrock is merely busy (a job already runs, throttling, quota): expected, not a fault."""


def client_token(message_ids: Iterable[str]) -> str:
    """Idempotency token for a batch: the same SQS messages always give the same token.

    SHA-256 hex is 64 characters of [0-9a-f], inside StartIngestionJob's 33..256 length and its
    ``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,256}`` pattern.
    """
    joined = "\n".join(sorted(set(message_ids)))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def describe(changes: Sequence[S3Change]) -> str:
    """Job description for the console: how many changes the job covers."""
    deleted = sum(1 for change in changes if change.deleted)
    text = (
        f"Ladder auto-ingest: {len(changes)} document change(s) "
        f"({len(changes) - deleted} created or updated, {deleted} deleted)"
    )
    return text[:DESCRIPTION_MAX_CHARS]


def _error_code(error: ClientError | BotoCoreError) -> tuple[str, str]:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return str(details.get("Code", "Unknown")), str(details.get("Message", ""))
    return type(error).__name__, str(error)


def start_ingestion(
    client: Any, settings: IngestSettings, changes: Sequence[S3Change]
) -> JobStarted | JobDeferred:
    """Ask Bedrock to ingest the data source once for all ``changes``.

    Every failure is returned, never raised: the caller hands the batch back to SQS, so an upload is
    never lost to a busy data source, an outage or a misconfiguration (after maxReceiveCount it reaches
    the DLQ, where a person sees it).
    """
    token = client_token(change.message_id for change in changes)
    try:
        response = client.start_ingestion_job(
            knowledgeBaseId=settings.knowledge_base_id,
            dataSourceId=settings.data_source_id,
            clientToken=token,
            description=describe(changes),
        )
    except (ClientError, BotoCoreError) as error:
        code, message = _error_code(error)
        return JobDeferred(error_code=code, error_message=message, busy=code in BUSY_ERROR_CODES)
    job = response["ingestionJob"]
    return JobStarted(job_id=job["ingestionJobId"], status=job["status"], client_token=token)
