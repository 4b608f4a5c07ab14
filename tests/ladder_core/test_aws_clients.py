"""One client configuration: the keywords build a botocore Config whose attempts count the first call."""

from __future__ import annotations

from typing import Any

import botocore.endpoint
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from ladder_core.aws_clients import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_READ_TIMEOUT_S, client_config


class _Unavailable:
    """A raw HTTP layer answering every call with 503, counting the calls (botocore's before-send hook)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.calls += 1
        return AWSResponse(request.url, 503, {}, _Body(b"<Error><Code>ServiceUnavailable</Code></Error>"))


class _Body:
    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> Any:
        yield self._content


def _calls_made(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda _seconds: None)  # skip the backoff waits
    session = botocore.session.get_session()
    client = session.create_client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**config),
    )
    unavailable = _Unavailable()
    client.meta.events.register("before-send", unavailable)
    with pytest.raises(ClientError):
        client.list_buckets()
    return unavailable.calls


@pytest.mark.parametrize("attempts", [1, 3, 5])
def test_total_attempts_is_the_number_of_calls_first_one_included(
    attempts: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore.config.Config, ``retries``: "total_max_attempts -- the maximum number of total attempts that
    will be made on a single request. This includes the initial request, so a value of 1 indicates that no
    requests will be retried." """
    # Given a client built from the shared configuration, When every call fails with a retryable 503
    calls = _calls_made(client_config(total_attempts=attempts), monkeypatch)
    # Then it made exactly that many calls
    assert calls == attempts


def test_the_retries_only_key_would_make_one_call_more(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore.config.Config: "max_attempts -- the maximum number of retry attempts ... setting this value to
    2 will result in the request being retried at most two times after the initial request." The counting
    the shared configuration avoids: the same number under max_attempts is one call more."""
    config = client_config(total_attempts=3)
    config["retries"] = {"mode": "standard", "max_attempts": 3}
    assert _calls_made(config, monkeypatch) == 4


def test_timeouts_reach_the_client_and_default_to_botocores_own() -> None:
    assert (DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_READ_TIMEOUT_S) == (botocore.endpoint.DEFAULT_TIMEOUT,) * 2
    config = Config(**client_config(connect_timeout_s=2, read_timeout_s=7))
    assert (config.connect_timeout, config.read_timeout) == (2, 7)
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}


def test_fewer_than_one_attempt_is_refused_naming_the_value() -> None:
    with pytest.raises(ValueError, match=r"at least 1.*got 0"):
        client_config(total_attempts=0)
