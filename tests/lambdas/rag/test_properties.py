"""Given arbitrary malformed events and bodies, the handler always answers with the error contract."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lambdas.rag.errors import InvalidRequest
from lambdas.rag.request import parse_ask_request

from .conftest import App, ask_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")
PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
header_maps = st.dictionaries(
    st.one_of(st.sampled_from(["Content-Type", "content-type", "CONTENT-TYPE"]), st.text(max_size=8)),
    st.one_of(
        st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain"]), json_values
    ),
    max_size=3,
)
malformed_events = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "resource": st.one_of(st.sampled_from(["/ask", "/{proxy+}", "/other"]), json_values),
            "path": st.one_of(st.sampled_from(["/ask", "/ask/", "/"]), json_values),
            "httpMethod": st.one_of(st.sampled_from(["POST", "GET", "post"]), json_values),
            "headers": st.one_of(header_maps, json_values),
            "multiValueHeaders": st.one_of(
                st.dictionaries(st.text(max_size=12), st.lists(json_values, max_size=2), max_size=2),
                json_values,
            ),
            "body": st.one_of(st.text(max_size=200), json_values),
            "isBase64Encoded": st.one_of(st.booleans(), json_values),
            "requestContext": st.one_of(st.fixed_dictionaries({"requestId": json_values}), json_values),
        },
    ),
)


def is_valid_request(body_text: Any) -> bool:
    try:
        body = json.loads(body_text.encode("utf-8"))
        json.dumps(body, ensure_ascii=False).encode("utf-8")
        parse_ask_request(body, max_question_chars=2000)
    except (InvalidRequest, AttributeError, TypeError, ValueError, RecursionError):
        return False
    return True


def assert_contract(raw: Any) -> int:
    assert isinstance(raw, dict)
    assert isinstance(raw["statusCode"], int)
    assert raw["headers"]["Content-Type"] == "application/json"
    body = json.loads(raw["body"])
    if raw["statusCode"] >= 400:
        assert set(body) == {"error"}
        assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
        assert "Traceback" not in body["error"]["message"]
    return raw["statusCode"]


@PROPERTY_SETTINGS
@given(event=malformed_events)
def test_malformed_events_never_raise_and_never_get_a_5xx(app: App, event: Any) -> None:
    # Given no upstream response is queued
    # When a malformed event arrives
    raw = app.module.handler(event, app.context)

    # Then the answer follows the contract; only a well-formed request could reach upstream (and get 503)
    status = assert_contract(raw)
    if status >= 500:
        assert status == 503 and isinstance(event, dict) and is_valid_request(event.get("body"))


@PROPERTY_SETTINGS
@given(
    body=st.one_of(
        json_values.map(json.dumps),
        st.text(max_size=300),
        st.fixed_dictionaries(
            {"question": st.one_of(st.text(max_size=30), json_values)},
            optional={
                "mode": st.one_of(st.sampled_from(["rag", "prompt", "finetuned"]), json_values),
                "topK": st.one_of(st.integers(-5, 30), json_values),
                "filter": json_values,
            },
        ).map(json.dumps),
    ),
    base64_body=st.booleans(),
)
@example(body='{"question": "What is the refund window?", "mode": "finetuned"}', base64_body=False)
@example(body='{"question": "What is the refund window?"}', base64_body=True)
def test_malformed_bodies_are_4xx_never_5xx(app: App, body: str, base64_body: bool) -> None:
    # Given a well-formed event whose body is arbitrary
    event = ask_event(body)
    if base64_body:
        event["body"] = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode()
        event["isBase64Encoded"] = True

    # When it is handled
    raw = app.module.handler(event, app.context)

    # Then a client mistake is a 4xx; only a valid request reaches (unstubbed, so 503) upstream
    status = assert_contract(raw)
    if is_valid_request(body) and json.loads(body).get("mode") == "finetuned":
        # no model is published in this account, which is the client's 400, before any upstream call
        assert status == 400 and json.loads(raw["body"])["error"]["code"] == "FineTunedModelUnavailable"
    elif is_valid_request(body):
        assert status == 503
    else:
        assert 400 <= status < 500
