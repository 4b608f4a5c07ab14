"""The one error type the CLI turns into a one-line message and an exit code (no traceback)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

EXIT_FAILED = 1
"""The command ran and the answer is no: an API error, unusable data, a failed execution."""
EXIT_SETUP = 2
"""The command could not run: a missing stack or output, file, region or credentials."""
EXIT_INTERRUPTED = 130
"""Ctrl-C stopped the command (128 + SIGINT, as shells report it); what it started goes on."""


class LadderError(Exception):
    """A failure a person can act on; ``str(error)`` is the whole message."""

    def __init__(self, message: str, *, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class SetupError(LadderError):
    """Something the command needs is missing: a stack, an output, a file, a region, credentials."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=EXIT_SETUP)


def network_problem(err: BotoCoreError) -> str | None:
    """``cannot reach AWS at <endpoint> (network, proxy or VPC endpoint?)`` for a connection failure, with
    botocore's own words after it; None for any other botocore error."""
    if not isinstance(err, BotoConnectionError | HTTPClientError):
        return None
    kwargs = getattr(err, "kwargs", {}) or {}
    where = kwargs.get("endpoint_url") or kwargs.get("proxy_url") or "its endpoint"
    return f"cannot reach AWS at {where} (network, proxy or VPC endpoint?): {err}"
