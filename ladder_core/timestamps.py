"""The one time format of Ladder's files (``ladder-verdict.json``'s ``createdAt``/``expiresAt``, the drift
watch's reading of them): ISO-8601 with a UTC offset, written in UTC with seconds and a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def parse_utc(value: Any) -> datetime:
    """``value`` as an aware UTC datetime; ValueError saying what is wrong (not a string, not ISO-8601, no
    offset: a naive time is ambiguous)."""
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO-8601 timestamp string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"must be an ISO-8601 timestamp, got {value!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"must carry a UTC offset (e.g. 2026-01-31T12:00:00Z), got {value!r}")
    return parsed.astimezone(UTC)


def format_utc(moment: datetime) -> str:
    """``2026-01-31T12:00:00Z``: ``moment`` in UTC, to the second."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
