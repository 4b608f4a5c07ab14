"""The Bedrock client's retries and timeouts end before the function's own timeout."""

from __future__ import annotations

import botocore.retries.standard as standard_retries
import pytest

from lambdas.ingest import clients, constants


def worst_case_seconds(attempts: int, connect_s: float, read_s: float) -> float:
    """Every attempt times out; between attempts botocore's standard mode sleeps its longest backoff.

    Standard mode: ``t_i = rand(0, 1) * min(base_scale * 2 ** i, MAX_BACKOFF)`` with base_scale 1 s for
    throttling (the longer one), plus at most ``_RETRY_AFTER_MAX_ADDITIONAL`` seconds when the service sends
    ``x-amz-retry-after``; ``rand`` is taken as 1.
    """
    backoff = standard_retries.ExponentialBackoff
    sleeps = sum(
        min(2**i, backoff._MAX_BACKOFF) + backoff._RETRY_AFTER_MAX_ADDITIONAL for i in range(attempts - 1)
    )
    return attempts * (connect_s + read_s) + sleeps


def test_retries_and_timeouts_fit_inside_the_function_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the client the functions build (one per container)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    clients.bedrock_agent_client.cache_clear()
    config = clients.bedrock_agent_client().meta.config
    clients.bedrock_agent_client.cache_clear()
    # Then it uses the configured bounds
    # (total_max_attempts counts the first call; a max_attempts key would mean one attempt more)
    assert config.retries == {"mode": "standard", "total_max_attempts": constants.BEDROCK_MAX_ATTEMPTS}
    assert (config.connect_timeout, config.read_timeout) == (
        constants.BEDROCK_CONNECT_TIMEOUT_S,
        constants.BEDROCK_READ_TIMEOUT_S,
    )
    # and its worst case leaves the handler time to return the batch to the queue before the timeout
    attempts = config.retries["total_max_attempts"]
    worst = worst_case_seconds(attempts, config.connect_timeout, config.read_timeout)
    assert worst <= constants.FUNCTION_TIMEOUT_S - 5


def test_the_bound_would_catch_the_previous_settings() -> None:
    # max_attempts=3 (4 calls) of 5 s connect + 20 s read: 100 s of timeouts, past a 60 s function timeout
    assert worst_case_seconds(4, 5, 20) > constants.FUNCTION_TIMEOUT_S
