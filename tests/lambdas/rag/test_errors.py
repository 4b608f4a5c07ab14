"""Given a cold-started handler, when a request or an upstream call fails, then the error contract holds."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from moto.core import models as moto_models

from lambdas.rag import deadline

from .conftest import (
    IMPORTED_MODEL_ARN,
    App,
    ask_event,
    converse_response,
    guardrail_response,
    http_error,
    load_event,
    streaming_bytes,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def assert_error(response: Any, status: int, code: str) -> str:
    assert response.status == status
    assert response.headers["Content-Type"] == "application/json"
    assert set(response.body) == {"error"}
    assert set(response.body["error"]) == {"code", "message"}
    assert response.body["error"]["code"] == code
    message = response.body["error"]["message"]
    assert "arn:" not in message and "123456789012" not in message and "Traceback" not in message
    return message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "question"),
        ({"question": ""}, "question"),
        ({"question": " \n\t "}, "question"),
        ({"question": 42}, "question"),
        ({"question": "x" * 2001}, "question"),
        ({"question": "\ud800 lone surrogate"}, "body"),
        ('{"question": "ok", "filter": {"equals": {"key": "k", "value": "\\udc00"}}}', "body"),
        ({"question": "ok", "mode": "chat"}, "mode"),
        ({"question": "ok", "mode": None}, "mode"),
        ({"question": "ok", "topK": 0}, "topK"),
        ({"question": "ok", "topK": 21}, "topK"),
        ({"question": "ok", "topK": True}, "topK"),
        ({"question": "ok", "topK": 5.0}, "topK"),
        ({"question": "ok", "topK": "5"}, "topK"),
        ({"question": "ok", "filter": []}, "filter"),
        ({"question": "ok", "filter": {"equals": {"key": "k"}}}, "filter.equals"),
        ({"question": "ok", "filter": {"like": {"key": "k", "value": "v"}}}, "filter"),
        # JSON reads these as infinity and a 401-digit integer; Bedrock would reject them with a 503
        (
            '{"question": "ok", "filter": {"greaterThan": {"key": "year", "value": 1e999}}}',
            "filter.greaterThan",
        ),
        ('{"question": "ok", "filter": {"equals": {"key": "n", "value": -1e999}}}', "filter.equals"),
        ('{"question": "ok", "filter": {"in": {"key": "n", "value": [1' + "0" * 400 + "]}}}", "filter.in"),
        ({"question": "ok", "temperature": 1}, "temperature"),
        ([{"question": "ok"}], "body"),
        ("null", "body"),
        ('{"question": NaN}', "body"),
        ('{"question": "unterminated', "body"),
        ("[" * 5000 + "]" * 5000, "body"),
    ],
)
def test_invalid_input_is_a_400_that_names_the_field(app: App, body: Any, field: str) -> None:
    # Given no upstream response is queued
    # When an invalid body is posted
    response = app.ask(body)

    # Then 400 names the offending field and nothing upstream was called
    message = assert_error(response, 400, "InvalidRequest")
    assert message.startswith(field + ":") or message.startswith(field + ".")
    app.assert_no_pending()


def test_question_at_the_limit_is_accepted(app: App) -> None:
    # Given a question of exactly MAX_QUESTION_CHARS characters
    app.expect_converse()

    # When it is posted in prompt mode
    response = app.ask({"question": "é" * 2000, "mode": "prompt"})

    # Then it is answered
    assert response.status == 200


@pytest.mark.parametrize(
    ("resource", "path"), [("/other", "/other"), ("/{proxy+}", "/ask/more"), (None, None)]
)
def test_unknown_route_is_a_404(app: App, resource: str | None, path: str | None) -> None:
    response = app.invoke(ask_event({"question": "ok"}, resource=resource, path=path))
    assert_error(response, 404, "NotFound")


def test_proxy_resource_routes_on_the_path(app: App) -> None:
    # Given a greedy proxy resource whose path is /ask/
    app.expect_converse()

    # When the question is posted there
    response = app.invoke(ask_event({"question": "ok", "mode": "prompt"}, resource="/{proxy+}", path="/ask/"))

    # Then it is served as /ask
    assert response.status == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "OPTIONS", None])
def test_other_methods_are_a_405_with_allow(app: App, method: str | None) -> None:
    response = app.invoke(ask_event({"question": "ok"}, httpMethod=method))
    assert_error(response, 405, "MethodNotAllowed")
    assert response.headers["Allow"] == "POST"


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "application/jsonp"},
        {},
        None,
    ],
)
def test_a_body_that_is_not_json_is_a_415(app: App, headers: dict[str, str] | None) -> None:
    response = app.invoke(ask_event({"question": "ok"}, headers=headers, multiValueHeaders=None))
    assert_error(response, 415, "UnsupportedMediaType")


@pytest.mark.parametrize(
    ("headers", "multi"),
    [
        ({"content-type": "application/json"}, None),
        ({"CONTENT-TYPE": "Application/JSON ; charset=UTF-8"}, None),
        (None, {"Content-Type": ["application/json"]}),
    ],
)
def test_content_type_lookup_is_case_insensitive_and_allows_charset(
    app: App, headers: dict[str, str] | None, multi: dict[str, list[str]] | None
) -> None:
    app.expect_converse()
    response = app.invoke(
        ask_event({"question": "ok", "mode": "prompt"}, headers=headers, multiValueHeaders=multi)
    )
    assert response.status == 200


@pytest.mark.parametrize("base64_body", [False, True])
def test_a_body_over_max_body_bytes_is_a_413(app: App, base64_body: bool) -> None:
    body = json.dumps({"question": "ok", "padding": "x" * 16_384})
    response = app.ask(body, base64_body=base64_body)
    assert_error(response, 413, "PayloadTooLarge")


def test_a_base64_encoded_body_is_decoded(app: App) -> None:
    app.expect_converse()
    response = app.ask({"question": "¿Qué es RAG?", "mode": "prompt"}, base64_body=True)
    assert response.status == 200


@pytest.mark.parametrize("body", ["not base64!", base64.b64encode(b"\xff\xfe{}").decode()])
def test_a_broken_base64_body_is_a_400(app: App, body: str) -> None:
    response = app.invoke(ask_event(body, isBase64Encoded=True))
    assert_error(response, 400, "InvalidRequest")


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "ServiceQuotaExceededException", "TooManyRequestsException"]
)
def test_throttling_after_retries_is_a_429_with_retry_after(app: App, code: str) -> None:
    # Given Converse keeps throttling (the Stubber's error is what the retries ended with)
    app.expect_retrieve()
    app.bedrock.add_client_error(
        "converse", service_error_code=code, service_message="Rate exceeded", http_status_code=429
    )

    # When a question is asked
    response = app.ask({"question": "How much leave?"})

    # Then 429 with Retry-After
    assert_error(response, 429, "Throttled")
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    ("code", "status", "retry_after"),
    [
        ("ServiceUnavailableException", 503, True),
        ("InternalServerException", 500, True),
        ("ModelNotReadyException", 429, True),
        ("SomethingNew", 502, True),
        ("AccessDeniedException", 403, False),
        ("ResourceNotFoundException", 404, False),
        ("ValidationException", 400, False),
    ],
)
def test_other_upstream_failures_are_a_503_without_internal_details(
    app: App, code: str, status: int, retry_after: bool
) -> None:
    # Given Retrieve fails with a message that holds an internal ARN
    app.retrieve.add_client_error(
        "retrieve",
        service_error_code=code,
        service_message="User arn:aws:sts::123456789012:assumed-role/x is not authorized on arn:aws:bedrock",
        http_status_code=status,
    )

    # When a question is asked
    response = app.ask({"question": "How much leave?"})

    # Then 503 with a generic message, and Retry-After only when a retry can help
    assert_error(response, 503, "UpstreamUnavailable")
    assert ("Retry-After" in response.headers) is retry_after
    # And the details are in the logs for the operator
    assert any(r.get("error_code") == code for r in app.log_records())


def test_model_timeout_is_a_504(app: App) -> None:
    app.expect_retrieve()
    app.bedrock.add_client_error("converse", service_error_code="ModelTimeoutException", http_status_code=408)
    assert_error(app.ask({"question": "How much leave?"}), 504, "UpstreamTimeout")


def raise_on_send(exc: Exception) -> Callable[..., None]:
    def handler(**_: Any) -> None:
        raise exc

    return handler


def test_read_timeout_is_a_504(make_app: Callable[..., App]) -> None:
    # Given Converse never answers within the read timeout (one attempt, so no backoff)
    app = make_app(BEDROCK_MAX_ATTEMPTS="1")
    app.retrieve.deactivate()
    app.hook(
        app.runtime.clients.agent_runtime,
        "before-send.bedrock-agent-runtime.Retrieve",
        raise_on_send(ReadTimeoutError(endpoint_url="https://bedrock-agent-runtime.us-east-1.amazonaws.com")),
    )

    # When a question is asked
    response = app.ask({"question": "How much leave?"})

    # Then 504
    assert_error(response, 504, "UpstreamTimeout")


def test_connection_failure_is_a_503(make_app: Callable[..., App]) -> None:
    app = make_app(BEDROCK_MAX_ATTEMPTS="1")
    app.retrieve.deactivate()
    app.hook(
        app.runtime.clients.agent_runtime,
        "before-send.bedrock-agent-runtime.Retrieve",
        raise_on_send(
            EndpointConnectionError(endpoint_url="https://bedrock-agent-runtime.us-east-1.amazonaws.com")
        ),
    )
    response = app.ask({"question": "How much leave?"})
    assert_error(response, 503, "UpstreamUnavailable")
    assert "Retry-After" in response.headers


def test_too_little_lambda_time_left_is_a_504_before_any_call(app: App) -> None:
    # Given Lambda has under a second left
    app.context.remaining_ms = 900

    # When a question is asked
    response = app.ask({"question": "How much leave?"})

    # Then 504 DeadlineExceeded, with nothing called
    assert_error(response, 504, "DeadlineExceeded")
    app.assert_no_pending()


def test_a_slow_retrieval_leaves_no_time_to_generate_and_is_a_504(app: App) -> None:
    # Given a clock that stands still except while Retrieve runs, which takes 24 of the 25 s budget
    now = [0.0]
    app.use_clock(lambda: now[0])
    app.hook(
        app.runtime.clients.agent_runtime,
        "after-call.bedrock-agent-runtime.Retrieve",
        lambda **_: now.__setitem__(0, now[0] + 24.0),
    )
    app.expect_retrieve()

    # When a question is asked (no Converse response queued)
    response = app.ask({"question": "How much leave?"})

    # Then retrieval ran, the model was not called, and the request ended with 504
    assert_error(response, 504, "DeadlineExceeded")
    assert "generate" in response.body["error"]["message"]
    app.assert_no_pending()


def test_a_call_that_hangs_ends_in_a_504_at_the_deadline_not_at_the_client_timeout(app: App) -> None:
    # Given Lambda has 1.55 s left (a 1.05 s budget) and Retrieve hangs, as a trickling response would
    app.context.remaining_ms = 1_550
    release = threading.Event()
    app.hook(
        app.runtime.clients.agent_runtime,
        "provide-client-params.bedrock-agent-runtime.Retrieve",
        lambda **_: release.wait(10) and None,
    )
    app.expect_retrieve()

    # When a question is asked
    started = time.monotonic()
    response = app.ask({"question": "How much leave?"})
    waited = time.monotonic() - started
    release.set()

    # Then the caller gets Ladder's 504 with Retry-After once the budget is spent, long before the
    # client's 10 s read timeout or Lambda's own timeout
    assert_error(response, 504, "DeadlineExceeded")
    assert "retrieve" in response.body["error"]["message"]
    assert response.headers["Retry-After"] == "5"
    assert 0.9 <= waited < 1.5
    _wait_until(lambda: not app.retrieve._queue)  # the abandoned call finishes in the background


def test_deadline_run_returns_results_and_propagates_errors_within_the_budget() -> None:
    clock = time.monotonic
    budget = deadline.Deadline(clock=clock, expires_at=clock() + 5.0)
    assert budget.run("retrieve", lambda: 42) == 42
    with pytest.raises(ZeroDivisionError):
        budget.run("retrieve", lambda: 1 // 0)


def test_deadline_run_stops_waiting_for_a_slow_call_at_the_deadline() -> None:
    # Given 50 ms left and a call that would take 10 s
    release = threading.Event()
    budget = deadline.Deadline(clock=time.monotonic, expires_at=time.monotonic() + 0.05)

    # When it runs under the deadline, then DeadlineExceeded comes after about 50 ms
    started = time.monotonic()
    with pytest.raises(deadline.DeadlineExceeded) as raised:
        budget.run("generate", lambda: release.wait(10))
    assert time.monotonic() - started < 0.5
    assert raised.value.retry_after_s == 5 and "generate" in raised.value.message
    release.set()


def _wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    stop = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < stop, "condition not met in time"
        time.sleep(0.01)


def test_an_unexpected_exception_is_a_500_with_the_request_id_only(app: App) -> None:
    # Given retrieval returns a shape the code does not expect (a score that is not a number)
    broken = load_event("retrieve_response.json")
    app.expect_retrieve(broken)
    app.hook(
        app.runtime.clients.agent_runtime,
        "after-call.bedrock-agent-runtime.Retrieve",
        lambda parsed, **_: parsed["retrievalResults"][0].update(score="high"),
    )

    # When a question is asked
    response = app.ask({"question": "How much leave?"})

    # Then 500 InternalError quotes the API Gateway request id, and the trace is only in the logs
    message = assert_error(response, 500, "InternalError")
    assert "c6af9ac6-7b61-11e6-9a41-93e8deadbeef" in message
    assert "ValueError" not in message
    records = app.log_records()
    assert any("Traceback" in json.dumps(r) for r in records if r["level"] == "ERROR")


def test_an_invalid_setting_fails_the_request_with_a_500_and_logs_the_variable(
    make_app: Callable[..., App],
) -> None:
    # Given a working app whose container is then cold-started with a bad TEMPERATURE
    app = make_app()
    vars(app.module)["_runtime"] = None
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TEMPERATURE", "hot")

        # When a request arrives
        response = app.ask({"question": "ok"})

    # Then 500 without details, and the log names the variable
    message = assert_error(response, 500, "InternalError")
    assert "TEMPERATURE" not in message
    assert any(r.get("variable") == "TEMPERATURE" for r in app.log_records())


def test_throttling_is_retried_up_to_bedrock_max_attempts_then_a_429(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Converse answers every HTTP attempt with 429 ThrottlingException (Stubber would bypass retries;
    # moto's own before-send handler, which would claim the request, stays out of this rag-mode test)
    app = make_app(BEDROCK_MAX_ATTEMPTS="2")
    monkeypatch.setattr(moto_models.botocore_stubber, "enabled", False)
    app.expect_retrieve()
    app.bedrock.deactivate()
    attempts: list[int] = []

    def throttled(**_: Any) -> Any:
        attempts.append(1)
        return http_error(429, "ThrottlingException", "Too many requests, please wait before trying again.")

    app.hook(
        app.runtime.clients.bedrock_runtime, "before-send.bedrock-runtime.Converse", throttled, first=False
    )

    # When a question is asked
    response = app.ask({"question": "How much leave?"})

    # Then botocore retried exactly up to BEDROCK_MAX_ATTEMPTS, and the caller gets 429 with Retry-After
    assert len(attempts) == 2
    assert_error(response, 429, "Throttled")
    assert int(response.headers["Retry-After"]) > 0


def test_no_retry_starts_once_the_deadline_leaves_too_little_time(make_app: Callable[..., App]) -> None:
    # Given a Converse attempt that times out after 23.5 s of a 25 s deadline, with 3 attempts allowed
    app = make_app(BEDROCK_MAX_ATTEMPTS="3")
    now = [0.0]
    app.use_clock(lambda: now[0])
    app.expect_retrieve()
    app.bedrock.deactivate()
    attempts: list[int] = []

    def slow_then_timeout(**_: Any) -> None:
        attempts.append(1)
        now[0] += 23.5
        raise ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com")

    client = app.runtime.clients.bedrock_runtime
    app.hook(client, "before-send.bedrock-runtime.Converse", slow_then_timeout, first=False)

    # When a question is asked
    response = app.ask({"question": "How much leave?"})

    # Then the retry is not started (it would outlive the Lambda), and the answer is the function's own 504
    assert len(attempts) == 1
    message = assert_error(response, 504, "DeadlineExceeded")
    assert "generate" in message
    # And the request's deadline no longer governs calls made after it
    assert deadline._CURRENT.get() is None


def test_unusable_model_output_is_a_503(app: App) -> None:
    # Given the model's output could not be parsed by Bedrock
    app.expect_retrieve()
    app.expect_converse(converse_response("{{garbled", stop_reason="malformed_model_output"))

    # When a question is asked
    response = app.ask({"question": "How much leave?"})

    # Then the garbled text is not served as a grounded answer
    assert_error(response, 503, "UpstreamUnavailable")


@pytest.mark.parametrize(
    "body",
    [b"<html>502 Bad Gateway</html>", b'{"outputs": []}', b"[1, 2]", b'{"generation": 7}'],
)
def test_an_invoke_model_body_of_another_shape_is_a_503(
    make_app: Callable[..., App], publish_model: Callable[[str], None], body: bytes
) -> None:
    # Given an imported model whose InvokeModel body is none of the shapes imported models answer with
    app = make_app(FINETUNED_MODEL_API="invoke_model")
    publish_model(IMPORTED_MODEL_ARN)
    app.expect_architecture("LLAMA3")
    app.expect_retrieve()
    app.bedrock.add_response("apply_guardrail", guardrail_response())
    app.bedrock.add_response(
        "invoke_model", {"body": streaming_bytes(body), "contentType": "application/json"}
    )
    # (an output check that would pass, were the body read as an empty or made-up answer)
    app.bedrock.add_response("apply_guardrail", guardrail_response())

    # When a finetuned question is asked
    response = app.ask({"question": "How much leave?", "mode": "finetuned"})

    # Then it is the upstream's failure, not an internal error
    assert_error(response, 503, "UpstreamUnavailable")


def test_a_cold_start_that_fails_outside_settings_is_a_500_not_a_crash(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a container whose prompt templates cannot be loaded
    app = make_app()
    vars(app.module)["_runtime"] = None

    def broken_templates() -> None:
        raise ValueError(
            "prompts/rag.txt: the [[user]] section needs {{passages}} and {{question}} once each"
        )

    monkeypatch.setattr("lambdas.rag.service.load_templates", broken_templates)

    # When a request arrives
    response = app.ask({"question": "ok"})

    # Then the error shape comes back (no Lambda crash, no detail), and the cause is logged
    message = assert_error(response, 500, "InternalError")
    assert "prompts" not in message
    assert any(r["message"] == "cold start failed" and r["level"] == "ERROR" for r in app.log_records())


# The message Bedrock answers a first call with when the automatic AWS Marketplace subscription could not be
# made (as reported in aws-samples/anthropic-on-aws#251 and ministryofjustice/modernisation-platform-
# environments#18323); Bedrock user guide, "Request access to models": "If any prerequisites are missing, the
# subscription attempt fails and subsequent API calls will return AccessDeniedException".
MARKETPLACE_DENIAL = (
    "Model access is denied due to IAM user or service role is not authorized to perform the required AWS "
    "Marketplace actions (aws-marketplace:ViewSubscriptions, aws-marketplace:Subscribe) to enable access to "
    "this model. Refer to the Amazon Bedrock documentation for further details. Your AWS Marketplace "
    "subscription for this model cannot be completed at this time. If you recently fixed this issue, try "
    "again after 2 minutes."
)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (MARKETPLACE_DENIAL, "AWS Marketplace"),
        ("User: x is not authorized to perform: bedrock:InvokeModel", "policy covers the model"),
    ],
)
def test_access_denied_is_a_503_and_the_log_says_what_to_do(app: App, message: str, expected: str) -> None:
    # Given Converse refused by Bedrock
    app.expect_retrieve()
    app.bedrock.add_client_error(
        "converse", service_error_code="AccessDeniedException", service_message=message, http_status_code=403
    )

    # When a question is asked
    response = app.ask({"question": "How much leave?"})

    # Then the caller gets the generic 503 without Retry-After
    assert_error(response, 503, "UpstreamUnavailable")
    assert "Retry-After" not in response.headers
    # And the operator's log line says what to check and points at ladder doctor
    (failure,) = [r for r in app.log_records() if r.get("message") == "upstream call failed"]
    assert expected in failure["hint"]
    assert "ladder doctor" in failure["hint"]


def test_other_upstream_failures_carry_no_access_hint(app: App) -> None:
    app.retrieve.add_client_error("retrieve", service_error_code="ValidationException", http_status_code=400)

    app.ask({"question": "How much leave?"})

    (failure,) = [r for r in app.log_records() if r.get("message") == "upstream call failed"]
    assert "hint" not in failure


def test_a_filter_the_s3_vectors_store_cannot_run_is_a_400_before_retrieval(
    make_app: Callable[..., App],
) -> None:
    # Given a deployment on S3 Vectors
    app = make_app(VECTOR_STORE="s3vectors")

    # When a question filters with startsWith
    response = app.ask({"question": "q", "filter": {"startsWith": {"key": "path", "value": "hr/"}}})

    # Then it is refused naming the operators that work, and Bedrock is never called
    message = assert_error(response, 400, "InvalidRequest")
    assert message.startswith("filter: operator 'startsWith' is not supported")
    assert "accepted: equals, notEquals" in message
    app.assert_no_pending()
