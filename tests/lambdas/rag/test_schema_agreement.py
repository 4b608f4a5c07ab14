"""Given request_schema.json (API Gateway's model), the handler accepts exactly what the schema accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdas.rag.errors import InvalidRequest
from lambdas.rag.request import parse_ask_request

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "lambdas" / "rag" / "request_schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text())
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)
MAX_CHARS = 2000


def handler_accepts(body: Any) -> bool:
    try:
        parse_ask_request(body, max_question_chars=MAX_CHARS)
    except InvalidRequest:
        return False
    return True


def test_the_schema_is_draft_04_and_mirrors_the_contract() -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert SCHEMA["type"] == "object"
    assert SCHEMA["additionalProperties"] is False
    assert SCHEMA["required"] == ["question"]
    question = SCHEMA["properties"]["question"]
    assert (question["type"], question["minLength"], question["maxLength"]) == ("string", 1, MAX_CHARS)
    assert SCHEMA["properties"]["mode"]["enum"] == ["rag", "prompt", "finetuned", "fewshot"]
    top_k = SCHEMA["properties"]["topK"]
    assert (top_k["type"], top_k["minimum"], top_k["maximum"]) == ("integer", 1, 20)
    assert SCHEMA["properties"]["filter"]["type"] == "object"


@pytest.mark.parametrize(
    "body",
    [
        {"question": "What is RAG?"},
        {"question": " x "},
        {"question": "x" * MAX_CHARS},
        {"question": "é" * MAX_CHARS, "mode": "prompt"},
        {"question": "q", "mode": "finetuned", "topK": 20},
        {"question": "q", "topK": 1, "filter": {"equals": {"key": "k", "value": "v"}}},
        {},
        {"question": ""},
        {"question": "   "},
        {"question": "\t\n"},
        {"question": "x" * (MAX_CHARS + 1)},
        {"question": " " + "x" * MAX_CHARS},
        {"question": None},
        {"question": ["q"]},
        {"question": "q", "mode": "RAG"},
        {"question": "q", "mode": ""},
        {"question": "q", "topK": 0},
        {"question": "q", "topK": 21},
        {"question": "q", "topK": 5.0},
        {"question": "q", "topK": 5.5},
        {"question": "q", "topK": True},
        {"question": "q", "topK": "5"},
        {"question": "q", "filter": []},
        {"question": "q", "filter": "department=hr"},
        {"question": "q", "filter": {}},
        {"question": "q", "extra": 1},
        {"question": "q", "include": ["passages"]},
        {"question": "q", "include": []},
        {"question": "q", "include": ["passages", "passages"]},
        {"question": "q", "include": "passages"},
        {"question": "q", "include": ["excerpts"]},
        {"question": "q", "include": [1]},
        {"question": "q", "include": None},
        ["question"],
        "question",
        None,
        3,
    ],
)
def test_handler_and_schema_agree(body: Any) -> None:
    assert handler_accepts(body) == VALIDATOR.is_valid(body)


questions = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=" \t\n\u00a0\u2003", max_size=5),
    st.integers(min_value=MAX_CHARS - 2, max_value=MAX_CHARS + 2).map(lambda n: "y" * n),
    st.none(),
    st.integers(),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 25), st.floats(allow_nan=False), st.text(max_size=8)
)
bodies_without_filter = st.fixed_dictionaries(
    {},
    optional={
        "question": questions,
        "mode": st.one_of(st.sampled_from(["rag", "prompt", "finetuned", "Rag", ""]), scalars),
        "topK": st.one_of(st.integers(-2, 23), scalars),
        "include": st.one_of(st.lists(st.one_of(st.just("passages"), scalars), max_size=2), scalars),
        "unexpected": scalars,
    },
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies_without_filter)
def test_handler_and_schema_agree_on_generated_bodies(body: dict[str, Any]) -> None:
    assert handler_accepts(body) == VALIDATOR.is_valid(body)


leaf_filters = st.builds(
    lambda operator, key, value: {operator: {"key": key, "value": value}},
    st.sampled_from(["equals", "notEquals", "startsWith", "greaterThan", "in"]),
    st.text(min_size=1, max_size=10),
    st.one_of(scalars, st.lists(st.one_of(st.text(max_size=4), st.integers()), max_size=3)),
)
well_formed_filters = st.recursive(
    leaf_filters,
    lambda inner: st.builds(
        lambda operator, items: {operator: items},
        st.sampled_from(["andAll", "orAll"]),
        st.lists(inner, min_size=1, max_size=6),
    ),
    max_leaves=8,
)
random_objects = st.recursive(
    st.dictionaries(st.text(max_size=12), scalars, max_size=3),
    lambda inner: st.dictionaries(
        st.text(max_size=12), st.one_of(inner, st.lists(inner, max_size=3)), max_size=2
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({"question": st.just("q")}), st.one_of(well_formed_filters, random_objects))
def test_every_filter_the_handler_accepts_the_schema_accepts(
    body: dict[str, Any], metadata_filter: Any
) -> None:
    # The schema checks only that a filter is a one-operator object; the handler checks the rest.
    body = {**body, "filter": metadata_filter}
    accepted = handler_accepts(body)
    if accepted:
        assert VALIDATOR.is_valid(body)
    # And a filter that is not a one-operator object is refused by both
    if not (isinstance(metadata_filter, dict) and len(metadata_filter) == 1):
        assert not accepted and not VALIDATOR.is_valid(body)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.sampled_from(["us.amazon.nova-pro-v1:0", "m"]), scalars, st.lists(scalars, max_size=2)))
def test_every_model_id_the_handler_accepts_the_schema_accepts(model_id: Any) -> None:
    # The schema checks only that modelId is a non-empty string; the handler checks it is an allowed one
    body = {"question": "q", "modelId": model_id}
    try:
        parse_ask_request(body, max_question_chars=MAX_CHARS, allowed_model_ids=("us.amazon.nova-pro-v1:0",))
        accepted = True
    except InvalidRequest:
        accepted = False
    if accepted:
        assert VALIDATOR.is_valid(body)
    if not (isinstance(model_id, str) and model_id):
        assert not accepted and not VALIDATOR.is_valid(body)
