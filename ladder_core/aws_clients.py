"""How every boto3 client in Ladder retries and times out, as the keywords of ``botocore.config.Config``.

Standard library only, so the CLI (``ladder/``) and each Lambda function build their ``Config`` from the same
values: ``botocore.config.Config(**client_config(...))``. A client with a reason for other numbers (a read
timeout bounded by a request deadline, fewer attempts inside a short function) passes them here, so every
client still counts its attempts the same way.
"""

from __future__ import annotations

from typing import Any

RETRY_MODE = "standard"
"""botocore's standard retry mode: exponential backoff with jitter, retrying throttling, transient and
timeout errors (the adaptive mode adds client-side rate limiting, which short-lived callers do not need)."""

DEFAULT_TOTAL_ATTEMPTS = 5
"""Calls per request, the first one included."""

DEFAULT_CONNECT_TIMEOUT_S = 60
DEFAULT_READ_TIMEOUT_S = 60
"""botocore's own defaults (``botocore.endpoint.DEFAULT_TIMEOUT``), written here so that no client depends
on them silently."""


def client_config(
    *,
    total_attempts: int = DEFAULT_TOTAL_ATTEMPTS,
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
) -> dict[str, Any]:
    """Keywords for ``botocore.config.Config``: standard retries making at most ``total_attempts`` calls."""
    if total_attempts < 1:
        raise ValueError(f"total_attempts must be at least 1 (the first call), got {total_attempts}")
    return {
        "connect_timeout": connect_timeout_s,
        "read_timeout": read_timeout_s,
        # total_max_attempts counts the first call, as AWS_MAX_ATTEMPTS and the config file's max_attempts
        # do; the Config key max_attempts counts retries only (5 would mean 6 calls). One way everywhere.
        "retries": {"mode": RETRY_MODE, "total_max_attempts": total_attempts},
    }
