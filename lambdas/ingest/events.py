"""Turns an SQS batch of EventBridge S3 notifications into document changes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .constants import CHANGE_DETAIL_TYPES, DETAIL_TYPE_DELETED, REASON_LIFECYCLE_EXPIRATION, S3_EVENT_SOURCE


@dataclass(frozen=True)
class S3Change:
    """One created or deleted object, as announced by one SQS message."""

    message_id: str
    bucket: str
    key: str
    deleted: bool
    lifecycle: bool = False
    """Sent by a lifecycle expiration (old versions, abandoned uploads): nothing ingested changed."""


@dataclass(frozen=True)
class MalformedRecord:
    """An SQS message whose body is not an EventBridge S3 change; it goes back to the queue (then the DLQ)."""

    message_id: str
    reason: str


@dataclass(frozen=True)
class ParsedBatch:
    """The records of one SQS batch, sorted into what to ingest, what to ignore and what is broken."""

    changes: tuple[S3Change, ...]
    ignored: tuple[S3Change, ...]
    malformed: tuple[MalformedRecord, ...]

    @property
    def received(self) -> int:
        return len(self.changes) + len(self.ignored) + len(self.malformed)


class _Malformed(ValueError):
    pass


def _text(container: Any, name: str, where: str) -> str:
    value = container.get(name) if isinstance(container, Mapping) else None
    if not isinstance(value, str) or not value:
        raise _Malformed(f"{where}.{name} must be a non-empty string")
    return value


def _change(message_id: str, body: Any) -> S3Change:
    if not isinstance(body, str):
        raise _Malformed("body is missing")
    try:
        notification = json.loads(body)
    except json.JSONDecodeError as error:
        raise _Malformed(f"body is not JSON ({error.msg})") from None
    if not isinstance(notification, dict):
        raise _Malformed("body is not a JSON object")
    source = notification.get("source")
    if source != S3_EVENT_SOURCE:
        raise _Malformed(f"source is {source!r}, expected {S3_EVENT_SOURCE!r}")
    detail_type = notification.get("detail-type")
    if detail_type not in CHANGE_DETAIL_TYPES:
        raise _Malformed(f"detail-type is {detail_type!r}, expected one of {sorted(CHANGE_DETAIL_TYPES)}")
    detail = notification.get("detail")
    if not isinstance(detail, Mapping):
        raise _Malformed("detail must be an object")
    return S3Change(
        message_id=message_id,
        bucket=_text(detail.get("bucket"), "name", "detail.bucket"),
        key=_text(detail.get("object"), "key", "detail.object"),
        deleted=detail_type == DETAIL_TYPE_DELETED,
        lifecycle=detail.get("reason") == REASON_LIFECYCLE_EXPIRATION,
    )


def parse_batch(event: Mapping[str, Any], documents_prefix: str) -> ParsedBatch:
    """Sort an SQS event's records; keys are compared to the prefix as EventBridge sent them.

    The EventBridge rule already filters on the same raw key and drops lifecycle expirations, so this is a
    second line of defence that agrees with the rule rather than a different interpretation of it.
    """
    records = event.get("Records")
    if not isinstance(records, list):
        raise ValueError("Not an SQS batch event: 'Records' must be a list.")
    changes: list[S3Change] = []
    ignored: list[S3Change] = []
    malformed: list[MalformedRecord] = []
    for record in records:
        message_id = record.get("messageId") if isinstance(record, Mapping) else None
        message_id = message_id if isinstance(message_id, str) else ""
        try:
            change = _change(message_id, record.get("body") if isinstance(record, Mapping) else None)
        except _Malformed as error:
            malformed.append(MalformedRecord(message_id=message_id, reason=str(error)))
            continue
        ingestible = change.key.startswith(documents_prefix) and not change.lifecycle
        (changes if ingestible else ignored).append(change)
    return ParsedBatch(changes=tuple(changes), ignored=tuple(ignored), malformed=tuple(malformed))
