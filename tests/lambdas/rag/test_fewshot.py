"""Given a deployment with a few-shot examples store (moto S3 for the manifest, Stubber for Bedrock and S3
Vectors), when a question is asked in mode fewshot, then ..."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ladder_core.examples import MANIFEST_KEY, canonical_json, vector_key

from .conftest import App, streaming_json

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

INDEX_ARN = "arn:aws:s3vectors:us-east-1:123456789012:bucket/ladder-examples/index/ladder-examples-abc123"
BUCKET = "ladder-documents-fewshot"
QUESTION = "How many days of annual leave do employees get?"
FEW_SHOT = {
    "EXAMPLES_INDEX_ARN": INDEX_ARN,
    "EXAMPLES_MANIFEST_BUCKET": BUCKET,
    "FEW_SHOT_K": "2",
    "EMBEDDING_MODEL_ID": "amazon.titan-embed-text-v2:0",
    "EMBEDDING_DIMENSIONS": "256",
}
NEAREST = {
    "messages": [
        {"role": "system", "content": "You are the HR desk."},
        {"role": "user", "content": "How much parental leave is there?"},
        {"role": "assistant", "content": "Parental leave: 16 weeks [1]."},
    ]
}
SECOND = {
    "messages": [
        {"role": "user", "content": "Can I work from home?"},
        {"role": "assistant", "content": "Remote work: up to 3 days a week [1]."},
        {"role": "user", "content": "And abroad?"},
        {"role": "assistant", "content": "Abroad: 20 days a year [2]."},
    ]
}


def manifest(**overrides: Any) -> dict[str, Any]:
    return {
        "sha256": "f" * 64,
        "count": 2,
        "createdAt": "2026-12-03T19:00:00Z",
        "embeddingModelId": "amazon.titan-embed-text-v2:0",
        "embeddingDimensions": 256,
        "indexArn": INDEX_ARN,
        **overrides,
    }


def query_response(*records: dict[str, Any], distances: tuple[float, ...] = (0.1, 0.35)) -> dict[str, Any]:
    return {
        "vectors": [
            {"key": vector_key(record), "distance": distance, "metadata": {"example": canonical_json(record)}}
            for record, distance in zip(records, distances, strict=False)
        ],
        "distanceMetric": "cosine",
    }


@pytest.fixture
def fewshot(make_app: Callable[..., App]) -> Iterator[Callable[..., tuple[App, Stubber]]]:
    """A cold-started function with an examples store; ``upload`` writes the manifest into moto's S3."""
    stubbers: list[Stubber] = []

    def make(upload: dict[str, Any] | None = None, **overrides: str | None) -> tuple[App, Stubber]:
        app = make_app(**{**FEW_SHOT, **overrides})
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        if upload is not None:
            s3.put_object(Bucket=BUCKET, Key=MANIFEST_KEY, Body=json.dumps(upload).encode())
        vectors = Stubber(app.runtime.clients.s3vectors)
        vectors.activate()
        stubbers.append(vectors)
        return app, vectors

    yield make
    for stubber in stubbers:
        stubber.deactivate()


def expect_embedding(app: App, question: str = QUESTION) -> None:
    """Bedrock user guide, "Amazon Titan Embeddings G1 - Text"
    (docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html), V2 Request
    {"inputText", "dimensions", "normalize"} and V2 Response {"embedding", "inputTextTokenCount", ...}, the
    body of InvokeModel; the question is embedded as ladder examples upload embedded the examples."""
    body = {"inputText": question, "dimensions": 256, "normalize": True}
    app.bedrock.add_response(
        "invoke_model",
        {
            "body": streaming_json({"embedding": [0.5] * 256, "inputTextTokenCount": 12}),
            "contentType": "application/json",
        },
        {
            "modelId": "amazon.titan-embed-text-v2:0",
            "body": json.dumps(body).encode(),
            "contentType": "application/json",
            "accept": "application/json",
        },
    )


def expect_query(vectors: Stubber, response: dict[str, Any]) -> None:
    """botocore's s3vectors model, QueryVectorsInput: indexArn, topK, queryVector {float32: [...]},
    returnMetadata, returnDistance; QueryOutputVector: key, distance, metadata."""
    vectors.add_response(
        "query_vectors",
        response,
        {
            "indexArn": INDEX_ARN,
            "topK": 2,
            "queryVector": {"float32": [0.5] * 256},
            "returnMetadata": True,
            "returnDistance": True,
        },
    )


def capture_converse(app: App) -> list[dict[str, Any]]:
    """The Converse parameters as sent. Bedrock user guide, "Include a guardrail with the Converse API":
    with guardContent blocks the guardrail evaluates only those, not the rest of the messages (its example
    guards only the latest user turn of a conversation with earlier turns), which is how the examples ride
    along as plain earlier turns."""
    calls: list[dict[str, Any]] = []
    app.hook(
        app.runtime.clients.bedrock_runtime,
        "provide-client-params.bedrock-runtime.Converse",
        lambda params, **_: calls.append(params),
    )
    return calls


def test_fewshot_shows_the_nearest_examples_as_prior_turns_and_reports_them(fewshot) -> None:
    # Given an uploaded set whose two nearest examples the index returns
    app, vectors = fewshot(upload=manifest())
    app.expect_retrieve(retrievalQuery={"text": QUESTION})
    expect_embedding(app)
    expect_query(vectors, query_response(NEAREST, SECOND))
    app.expect_converse(modelId="us.anthropic.claude-3-5-haiku-20241022-v1:0")
    calls = capture_converse(app)

    # When a question is asked in mode fewshot
    response = app.ask({"question": QUESTION, "mode": "fewshot", "topK": 3})

    # Then the conversation opens with the examples' user/assistant turns (system messages left out), the
    # nearest example last, then the question's turn exactly as rag builds it
    assert response.status == 200, response.body
    messages = calls[0]["messages"]
    assert [(m["role"], m["content"]) for m in messages[:-1]] == [
        ("user", [{"text": "Can I work from home?"}]),
        ("assistant", [{"text": "Remote work: up to 3 days a week [1]."}]),
        ("user", [{"text": "And abroad?"}]),
        ("assistant", [{"text": "Abroad: 20 days a year [2]."}]),
        ("user", [{"text": "How much parental leave is there?"}]),
        ("assistant", [{"text": "Parental leave: 16 weeks [1]."}]),
    ]
    question_turn = messages[-1]
    assert question_turn["role"] == "user"
    guarded = [block["guardContent"]["text"] for block in question_turn["content"] if "guardContent" in block]
    assert [g["qualifiers"] for g in guarded] == [["grounding_source"], ["query"]]
    assert guarded[1]["text"] == QUESTION
    assert calls[0]["system"][0]["text"] == app.runtime.templates["fewshot"].system
    # And the response names the examples (nearest first, score = 1 - cosine distance) and the set
    body = response.body
    assert body["mode"] == "fewshot"
    assert body["examples"] == [
        {"id": vector_key(NEAREST), "score": 0.9},
        {"id": vector_key(SECOND), "score": 0.65},
    ]
    assert body["examplesSetSha256"] == "f" * 64
    assert body["promptVersion"] == app.runtime.templates["fewshot"].version
    assert len(body["citations"]) == 2 and body["grounded"] is True
    # And the question's two embeddings (Retrieve's and the examples query's) are both in the usage
    assert body["usage"]["embeddingTokens"] == 2 * math.ceil(len(QUESTION) / 4)
    app.assert_no_pending()
    vectors.assert_no_pending_responses()


def test_other_modes_keep_their_response_keys(fewshot) -> None:
    # Given the same deployment, when a question is asked in mode rag
    app, vectors = fewshot(upload=manifest())
    app.expect_retrieve()
    app.expect_converse()
    response = app.ask({"question": QUESTION})
    # Then no example is looked up and the response has no few-shot keys
    assert response.status == 200
    assert "examples" not in response.body and "examplesSetSha256" not in response.body
    vectors.assert_no_pending_responses()


def test_the_manifest_is_read_once_per_ttl(fewshot) -> None:
    # Given an uploaded set and two fewshot questions
    app, vectors = fewshot(upload=manifest())
    reads: list[int] = []
    s3 = app.runtime.clients.s3
    app.hook(s3, "before-call.s3.GetObject", lambda **_: reads.append(1))
    for _ in range(2):
        app.expect_retrieve()
        expect_embedding(app)
        expect_query(vectors, query_response(NEAREST))
        app.expect_converse()
        assert app.ask({"question": QUESTION, "mode": "fewshot"}).status == 200
    # Then S3 was asked for the manifest once
    assert len(reads) == 1


@pytest.mark.parametrize(
    ("upload", "vectors_found"),
    [
        (None, True),  # nothing uploaded: no manifest
        (manifest(indexArn=INDEX_ARN.replace("abc123", "old999")), True),  # the set of a replaced index
        (manifest(), False),  # a manifest, but the index holds no vectors
    ],
)
def test_no_uploaded_examples_is_a_409_that_says_how_to_upload(fewshot, upload, vectors_found) -> None:
    app, vectors = fewshot(upload=upload)
    if not vectors_found:
        app.expect_retrieve()
        expect_embedding(app)
        expect_query(vectors, {"vectors": [], "distanceMetric": "cosine"})

    response = app.ask({"question": QUESTION, "mode": "fewshot"})

    assert response.status == 409
    assert response.body["error"]["code"] == "ExamplesNotUploaded"
    assert "ladder examples upload FILE" in response.body["error"]["message"]
    if upload is None:
        # S3 answered NoSuchKey; the log says so, so that a refused GetObject can be told from no upload
        assert any(r.get("message") == "no examples manifest" for r in app.log_records())
    # (without a usable manifest nothing else is stubbed: the manifest is checked before any paid call, and
    # an unstubbed Retrieve, InvokeModel or QueryVectors would have failed the request)
    app.assert_no_pending()
    vectors.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "http_status", "status"),
    [
        ("TooManyRequestsException", 429, 429),
        ("ServiceUnavailableException", 503, 503),
    ],
)
def test_s3_vectors_trouble_is_a_429_or_503(fewshot, code, http_status, status) -> None:
    """botocore's s3vectors model lists TooManyRequestsException and ServiceUnavailableException among
    QueryVectors' errors."""
    app, vectors = fewshot(upload=manifest())
    app.expect_retrieve()
    expect_embedding(app)
    vectors.add_client_error("query_vectors", service_error_code=code, http_status_code=http_status)

    response = app.ask({"question": QUESTION, "mode": "fewshot"})

    assert response.status == status
    assert "few-shot examples store" in response.body["error"]["message"]
    assert "Retry-After" in response.headers


def test_a_throttled_question_embedding_is_a_429(fewshot) -> None:
    app, _ = fewshot(upload=manifest())
    app.expect_retrieve()
    app.bedrock.add_client_error(
        "invoke_model", service_error_code="ThrottlingException", http_status_code=429
    )

    response = app.ask({"question": QUESTION, "mode": "fewshot"})

    assert response.status == 429
    assert response.body["error"]["code"] == "Throttled"


def test_without_an_examples_store_fewshot_is_a_400_naming_the_accepted_modes(make_app) -> None:
    # Given a deployment with fewShot=false: no EXAMPLES_INDEX_ARN
    app = make_app(EXAMPLES_INDEX_ARN=None)
    assert app.runtime.clients.s3vectors is None

    response = app.ask({"question": QUESTION, "mode": "fewshot"})

    assert response.status == 400
    message = response.body["error"]["message"]
    assert "fewShot=false" in message
    assert '"rag", "prompt", "finetuned"' in message and '"fewshot"' not in message
    app.assert_no_pending()


def test_an_example_that_is_not_a_chat_record_is_left_out(fewshot) -> None:
    # Given the index returns one example written by something else (no alternating turns) and one good one
    broken = {"messages": [{"role": "assistant", "content": "no question"}]}
    app, vectors = fewshot(upload=manifest())
    app.expect_retrieve()
    expect_embedding(app)
    expect_query(vectors, query_response(broken, NEAREST))
    app.expect_converse()
    calls = capture_converse(app)

    response = app.ask({"question": QUESTION, "mode": "fewshot"})

    # Then only the good one is shown and reported, and the operator is told about the other
    assert response.status == 200
    assert [e["id"] for e in response.body["examples"]] == [vector_key(NEAREST)]
    assert len(calls[0]["messages"]) == 3
    assert any(r.get("message") == "unusable example in the examples index" for r in app.log_records())


def test_the_examples_step_counts_against_the_deadline(fewshot) -> None:
    # Given a Retrieve that leaves 0.5 s of the 25 s deadline (the examples step needs 1 s)
    app, vectors = fewshot(upload=manifest())
    now = [0.0]
    app.use_clock(lambda: now[0])
    app.expect_retrieve()

    def slow(**_: Any) -> None:
        now[0] += 24.5

    app.hook(app.runtime.clients.agent_runtime, "after-call.bedrock-agent-runtime.Retrieve", slow)

    response = app.ask({"question": QUESTION, "mode": "fewshot"})

    # Then the request ends with 504 before embedding or querying anything
    assert response.status == 504
    assert response.body["error"]["code"] == "DeadlineExceeded"
    assert "examples" in response.body["error"]["message"]
    app.assert_no_pending()
    vectors.assert_no_pending_responses()


def test_fewshot_with_an_allowed_model_asks_that_model_with_the_examples(fewshot) -> None:
    # Given a deployment that allows Nova Pro, with an uploaded set
    pro = "us.amazon.nova-pro-v1:0"
    app, vectors = fewshot(upload=manifest(), ALLOWED_MODEL_IDS=pro)
    app.expect_retrieve(retrievalQuery={"text": QUESTION})
    expect_embedding(app)
    expect_query(vectors, query_response(NEAREST, SECOND))
    app.expect_converse(modelId=pro)
    calls = capture_converse(app)

    # When a fewshot question names it
    response = app.ask({"question": QUESTION, "mode": "fewshot", "modelId": pro})

    # Then that model answers through Converse with the examples as prior turns, and is reported
    assert response.status == 200, response.body
    assert len(calls[0]["messages"]) == 7
    assert response.body["modelId"] == pro and response.body["examples"]
    app.assert_no_pending()
    vectors.assert_no_pending_responses()
