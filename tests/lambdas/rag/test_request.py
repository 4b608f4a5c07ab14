"""Given request bodies, when validated, then the AskRequest and the boto3 filter are what Bedrock expects."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import botocore.session
import pytest
from botocore.serialize import create_serializer
from botocore.validate import ParamValidator

from lambdas.rag.errors import InvalidRequest
from lambdas.rag.request import AskRequest, parse_ask_request, parse_filter

AGENT_RUNTIME_MODEL = botocore.session.get_session().get_service_model("bedrock-agent-runtime")
RETRIEVAL_FILTER_SHAPE = AGENT_RUNTIME_MODEL.shape_for("RetrievalFilter")
RETRIEVE_OPERATION = AGENT_RUNTIME_MODEL.operation_model("Retrieve")
RETRIEVE_SERIALIZER = create_serializer(AGENT_RUNTIME_MODEL.metadata["protocol"])


def reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def test_defaults_apply_and_the_question_is_trimmed() -> None:
    assert parse_ask_request({"question": "  What is RAG? "}, max_question_chars=2000) == AskRequest(
        question="What is RAG?", mode="rag", top_k=5, retrieval_filter=None
    )


def test_max_question_chars_comes_from_settings() -> None:
    with pytest.raises(InvalidRequest, match="1 to 10 characters"):
        parse_ask_request({"question": "x" * 11}, max_question_chars=10)


@pytest.mark.parametrize(
    "metadata_filter",
    [
        {"equals": {"key": "department", "value": "hr"}},
        {"notEquals": {"key": "draft", "value": True}},
        {"greaterThanOrEquals": {"key": "year", "value": 2024}},
        {"lessThan": {"key": "version", "value": 2.5}},
        {"in": {"key": "department", "value": ["hr", "legal"]}},
        {"notIn": {"key": "year", "value": [2019, 2020]}},
        {"startsWith": {"key": "path", "value": "handbook/"}},
        {"stringContains": {"key": "title", "value": "leave"}},
        {"listContains": {"key": "tags", "value": "policy"}},
        {
            "orAll": [
                {"equals": {"key": "department", "value": "hr"}},
                {
                    "andAll": [
                        {"equals": {"key": "department", "value": "legal"}},
                        {"greaterThan": {"key": "year", "value": 2022}},
                    ]
                },
            ]
        },
    ],
)
def test_valid_filters_convert_to_a_retrieval_filter_botocore_accepts(
    metadata_filter: dict[str, Any],
) -> None:
    # When the filter is parsed
    converted = parse_filter(metadata_filter)

    # Then it equals the input and validates against the real RetrievalFilter shape
    assert converted == metadata_filter
    report = ParamValidator().validate(converted, RETRIEVAL_FILTER_SHAPE)
    assert not report.has_errors(), report.generate_report()


def test_converted_filter_does_not_share_lists_with_the_request() -> None:
    original = {"in": {"key": "k", "value": ["a", "b"]}}
    converted = parse_filter(original)
    converted["in"]["value"].append("c")
    assert original["in"]["value"] == ["a", "b"]


@pytest.mark.parametrize(
    ("metadata_filter", "path"),
    [
        ({}, "filter:"),
        ({"equals": {"key": "a", "value": "b"}, "in": {"key": "a", "value": ["b"]}}, "filter:"),
        ({"equals": {"key": "", "value": "b"}}, "filter.equals.key:"),
        ({"equals": {"key": "k" * 101, "value": "b"}}, "filter.equals.key:"),
        ({"equals": {"key": "a", "value": None}}, "filter.equals.value:"),
        ({"equals": {"key": "a", "value": {"nested": 1}}}, "filter.equals.value:"),
        ({"equals": {"key": "a", "value": "b", "extra": 1}}, "filter.equals:"),
        ({"greaterThan": {"key": "year", "value": "2020"}}, "filter.greaterThan.value:"),
        ({"greaterThan": {"key": "year", "value": True}}, "filter.greaterThan.value:"),
        ({"in": {"key": "a", "value": []}}, "filter.in.value:"),
        ({"in": {"key": "a", "value": "hr"}}, "filter.in.value:"),
        ({"in": {"key": "a", "value": [True]}}, "filter.in.value:"),
        ({"startsWith": {"key": "a", "value": 3}}, "filter.startsWith.value:"),
        ({"andAll": [{"equals": {"key": "a", "value": "b"}}]}, "filter.andAll:"),
        ({"andAll": [{"equals": {"key": "a", "value": "b"}}] * 6}, "filter.andAll:"),
        ({"orAll": [{"equals": {"key": "a", "value": "b"}}, {"nope": {}}]}, "filter.orAll[1]:"),
        (
            {"andAll": [{"orAll": [{"andAll": [{"equals": {"key": "a", "value": 1}}] * 2}] * 2}] * 2},
            "filter.andAll[0].orAll[0].andAll:",
        ),
    ],
)
def test_invalid_filters_are_rejected_with_the_path_of_the_mistake(
    metadata_filter: dict[str, Any], path: str
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        parse_ask_request({"question": "q", "filter": metadata_filter}, max_question_chars=2000)
    assert raised.value.message.startswith(path)


def test_unknown_fields_are_named() -> None:
    with pytest.raises(InvalidRequest, match=r"^top_k: is not an accepted field"):
        parse_ask_request({"question": "q", "top_k": 3}, max_question_chars=2000)


@pytest.mark.parametrize("raw_value", ["1e999", "-1e999", "1" + "0" * 400])
def test_numbers_json_reads_but_bedrock_cannot_take_are_rejected(raw_value: str) -> None:
    # Given a filter number that json.loads turns into infinity or a 401-digit integer
    body = json.loads(
        f'{{"question": "q", "filter": {{"lessThan": {{"key": "year", "value": {raw_value}}}}}}}'
    )

    # When validated, then the filter's value is named
    with pytest.raises(InvalidRequest, match=r"^filter\.lessThan\.value: must be a finite number"):
        parse_ask_request(body, max_question_chars=2000)


@pytest.mark.parametrize(
    ("raw_value", "accepted"),
    [
        ("1.7976931348623157e308", True),
        ("-9223372036854775808", True),
        ("5e-324", True),
        ("1e999", False),
        ("1" + "0" * 400, False),
    ],
)
def test_every_accepted_filter_number_reaches_bedrock_as_strict_json(raw_value: str, accepted: bool) -> None:
    # Given a filter number as JSON spells it
    body = json.loads(
        f'{{"question": "q", "filter": {{"greaterThan": {{"key": "n", "value": {raw_value}}}}}}}'
    )
    if not accepted:
        # a number no double can hold is refused with a 400: nothing reaches Bedrock
        with pytest.raises(InvalidRequest, match="finite number"):
            parse_ask_request(body, max_question_chars=2000)
        return
    request = parse_ask_request(body, max_question_chars=2000)

    # When botocore serializes the Retrieve request for an accepted filter
    http = RETRIEVE_SERIALIZER.serialize_to_request(
        {
            "knowledgeBaseId": "KB12345678",
            "retrievalQuery": {"text": "q"},
            "retrievalConfiguration": {"vectorSearchConfiguration": {"filter": request.retrieval_filter}},
        },
        RETRIEVE_OPERATION,
    )

    # Then the body is JSON that a strict parser (and Bedrock) accepts, with the number intact
    sent = json.loads(http["body"], parse_constant=reject_constant)
    value = sent["retrievalConfiguration"]["vectorSearchConfiguration"]["filter"]["greaterThan"]["value"]
    assert value == float(raw_value)


# Bedrock API reference, RetrievalFilter.startsWith: "This filter is currently only supported for Amazon
# OpenSearch Serverless vector stores." Amazon S3 User Guide, "Metadata filtering" (S3 Vectors): the
# filterable-metadata operators are $eq $ne $gt $gte $lt $lte $in $nin $exists $and $or, none of which matches
# a substring, so stringContains has no S3 Vectors equivalent either; listContains has no documented one.
@pytest.mark.parametrize(
    ("metadata_filter", "path"),
    [
        ({"startsWith": {"key": "path", "value": "handbook/"}}, "filter:"),
        ({"stringContains": {"key": "title", "value": "leave"}}, "filter:"),
        ({"listContains": {"key": "tags", "value": "policy"}}, "filter:"),
        (
            {
                "andAll": [
                    {"equals": {"key": "department", "value": "hr"}},
                    {"startsWith": {"key": "path", "value": "handbook/"}},
                ]
            },
            "filter.andAll[1]:",
        ),
    ],
)
def test_s3_vectors_refuses_the_operators_it_cannot_run_naming_the_ones_it_can(
    metadata_filter: dict[str, Any], path: str
) -> None:
    # Given a deployment on S3 Vectors, when a filter uses a substring operator
    with pytest.raises(InvalidRequest) as raised:
        parse_ask_request(
            {"question": "q", "filter": metadata_filter}, max_question_chars=2000, vector_store="s3vectors"
        )

    # Then the 400 names the place, the store and every operator it accepts, and not the refused ones
    message = raised.value.message
    assert message.startswith(path)
    assert "not supported by this deployment's vector store (S3 Vectors)" in message
    accepted = message.split("accepted: ", 1)[1].split(", ")
    assert accepted == [
        "equals",
        "notEquals",
        "greaterThan",
        "greaterThanOrEquals",
        "lessThan",
        "lessThanOrEquals",
        "in",
        "notIn",
        "andAll",
        "orAll",
    ]


def test_s3_vectors_accepts_the_operators_it_can_run() -> None:
    # Given every operator S3 Vectors has an equivalent for
    metadata_filter = {
        "andAll": [
            {"orAll": [{"equals": {"key": "d", "value": "hr"}}, {"notEquals": {"key": "d", "value": "x"}}]},
            {
                "andAll": [
                    {"greaterThan": {"key": "y", "value": 1}},
                    {"lessThanOrEquals": {"key": "y", "value": 9}},
                ]
            },
            {"orAll": [{"in": {"key": "d", "value": ["a"]}}, {"notIn": {"key": "d", "value": ["b"]}}]},
        ]
    }

    # Then it passes unchanged
    assert parse_filter(metadata_filter, vector_store="s3vectors") == metadata_filter


def test_opensearch_keeps_accepting_the_substring_operators() -> None:
    body = {"question": "q", "filter": {"startsWith": {"key": "path", "value": "handbook/"}}}

    request = parse_ask_request(body, max_question_chars=2000, vector_store="opensearch")

    assert request.retrieval_filter == body["filter"]
