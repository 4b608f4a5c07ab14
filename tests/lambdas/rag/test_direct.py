"""Given the RAG function invoked directly (``lambda:Invoke``, as the evaluation does) with
``{"ladderDirect": {"body": ..., "candidateModelArn": ...}}``, then it answers exactly as ``POST /ask`` would,
as ``{"statusCode", "body": <object>}``; a candidate model answers the finetuned mode in place of the
published one."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from ladder_core.evaluation.run import ask_body
from ladder_core.scoring import Item
from lambdas.evaluate.runs import answer_one
from tests.support.lambda_context import LambdaContext

from .conftest import IMPORTED_MODEL_ARN, App, load_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

CANDIDATE = "arn:aws:bedrock:us-east-1:123456789012:imported-model/candidate001"


def direct(app: App, payload: Any) -> dict[str, Any]:
    result: dict[str, Any] = app.module.handler({"ladderDirect": payload}, app.context)
    return result


def test_a_direct_call_answers_as_the_api_would_with_the_body_as_an_object(app: App) -> None:
    # Given the same question sent through API Gateway and directly
    body = {"question": "How many days of annual leave do employees get?", "include": ["passages"]}
    for _ in range(2):
        app.expect_retrieve()
        app.expect_converse(modelId="us.anthropic.claude-3-5-haiku-20241022-v1:0")
    through_api = app.ask(body)

    # When the function is invoked directly
    result = direct(app, {"body": body})

    # Then the status and the answer's JSON are the API's (the latencies aside), the body an object
    assert result["statusCode"] == through_api.status == 200
    assert isinstance(result["body"], dict)
    for answer in (result["body"], through_api.body):
        answer.pop("latencyMs")
    assert result["body"] == through_api.body
    assert result["body"]["citations"][0]["text"]
    # And the log line says it was a direct call
    answered = [r for r in app.log_records() if r.get("message") == "answered"]
    assert [r["direct"] for r in answered] == [False, True]
    app.assert_no_pending()


def test_a_direct_call_is_validated_as_the_api_body_is(app: App) -> None:
    result = direct(app, {"body": {"question": "q", "topK": 0}})
    assert result["statusCode"] == 400
    assert result["body"]["error"]["code"] == "InvalidRequest"
    assert result["body"]["error"]["message"].startswith("topK: must be an integer from 1 to 20")
    too_large = direct(
        app, {"body": {"question": "q", "filter": {"equals": {"key": "k", "value": "x" * 17000}}}}
    )
    assert too_large["statusCode"] == 413
    app.assert_no_pending()


@pytest.mark.parametrize(
    "payload",
    [None, "question", {}, {"question": "q"}, {"body": {"question": "q"}, "modelArn": CANDIDATE}],
)
def test_a_payload_that_is_not_body_and_candidate_is_a_400(app: App, payload: Any) -> None:
    result = direct(app, payload)
    assert result["statusCode"] == 400
    assert result["body"]["error"]["message"].startswith('ladderDirect: must be an object {"body"')


def test_an_api_gateway_event_never_becomes_a_direct_call(app: App) -> None:
    # Given an API Gateway event that also carries the key (API Gateway never builds one, but if it did)
    event = {**load_event("ask_rag.json"), "ladderDirect": {"body": {"question": "q"}}}
    event["body"] = json.dumps({"question": "How much leave?", "topK": 0})
    # Then it is answered as an API request: its own body is read, the answer is a string body
    raw = app.module.handler(event, app.context)
    assert raw["statusCode"] == 400 and isinstance(raw["body"], str)
    assert json.loads(raw["body"])["error"]["message"].startswith("topK:")


def test_a_candidate_answers_the_finetuned_mode_instead_of_the_published_model(
    make_app: Callable[..., App], publish_model: Callable[[str], None]
) -> None:
    # Given a published model and a candidate under evaluation that Bedrock serves with Converse
    app = make_app()
    publish_model(IMPORTED_MODEL_ARN)
    app.expect_architecture("LLAMA3", model_arn=CANDIDATE, instruct_supported=True)
    app.expect_retrieve()
    app.expect_converse(modelId=CANDIDATE)

    # When the evaluation asks the candidate directly
    result = direct(
        app, {"body": {"question": "How much leave?", "mode": "finetuned"}, "candidateModelArn": CANDIDATE}
    )

    # Then the candidate answered (its ARN shortened as every model ARN is), not the published model
    assert result["statusCode"] == 200, result["body"]
    assert result["body"]["modelId"] == "imported-model/candidate001"
    answered = [r for r in app.log_records() if r.get("message") == "answered"]
    assert answered[-1]["direct"] is True and answered[-1]["candidate"] is True
    app.assert_no_pending()


def test_a_candidate_without_fine_tuning_deployed_is_refused(make_app: Callable[..., App]) -> None:
    app = make_app(FINETUNED_MODEL_PARAMETER="")
    result = direct(app, {"body": {"question": "q", "mode": "finetuned"}, "candidateModelArn": CANDIDATE})
    assert result["statusCode"] == 400
    assert result["body"]["error"]["code"] == "FineTunedModelUnavailable"
    app.assert_no_pending()


@pytest.mark.parametrize(
    "candidate",
    [
        "arn:aws:bedrock:us-west-2:123456789012:imported-model/candidate001",
        "arn:aws:bedrock:us-east-1:210987654321:imported-model/candidate001",
        "arn:aws-cn:bedrock:us-east-1:123456789012:imported-model/candidate001",
        "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0/abcdefabcdef",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
        "us.amazon.nova-pro-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:imported-model/candidate001 ",
        42,
    ],
)
def test_a_candidate_of_another_account_region_or_kind_is_refused(app: App, candidate: Any) -> None:
    """botocore's bedrock model, shape ImportedModelArn: ``arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:
    [0-9]{12}:imported-model/[a-z0-9]{12}``; the function's role may invoke only this account's and
    region's imported models. Lambda developer guide, "AWS Lambda context object in Python":
    ``invoked_function_arn`` is "The Amazon Resource Name (ARN) that's used to invoke the function"."""
    result = direct(app, {"body": {"question": "q", "mode": "finetuned"}, "candidateModelArn": candidate})
    assert result["statusCode"] == 400
    assert result["body"]["error"]["message"].startswith(
        "ladderDirect.candidateModelArn: must be the ARN of a model imported into this function's own account"
    )
    app.assert_no_pending()


@pytest.mark.parametrize("mode", ["rag", "prompt", "fewshot"])
def test_a_candidate_is_only_for_the_finetuned_mode(app: App, mode: str) -> None:
    result = direct(app, {"body": {"question": "q", "mode": mode}, "candidateModelArn": CANDIDATE})
    assert result["statusCode"] == 400
    assert result["body"]["error"]["message"] == (
        f'ladderDirect.candidateModelArn: only with mode "finetuned" (the mode was "{mode}")'
    )
    app.assert_no_pending()


def test_a_function_invoked_through_an_alias_still_knows_its_account_and_region(
    make_app: Callable[..., App],
) -> None:
    """Lambda developer guide, "AWS Lambda context object in Python": ``invoked_function_arn`` "Indicates
    if the invoker specified a version number or alias" (``...:function:NAME:ALIAS``)."""
    app = make_app()
    app.context = LambdaContext(function_name="ladder-rag:live", memory_limit_in_mb=512, remaining_ms=29_000)
    app.expect_architecture("LLAMA3", model_arn=CANDIDATE, instruct_supported=True)
    app.expect_retrieve()
    app.expect_converse(modelId=CANDIDATE)
    result = direct(app, {"body": {"question": "q", "mode": "finetuned"}, "candidateModelArn": CANDIDATE})
    assert result["statusCode"] == 200, result["body"]
    app.assert_no_pending()


def test_the_evaluation_reads_a_direct_answer_as_an_answered_record(app: App) -> None:
    """The two ends of the direct invocation together: the evaluation function's request
    (``ladder_core.evaluation.run.ask_body``), this function's answer serialised as Lambda returns it, and
    the evaluation's reading of that answer into a ``responses.jsonl`` record."""
    # Given the RAG function's answer to the evaluation's request for the rag arm
    question = "How many days of annual leave do employees get?"
    app.expect_retrieve()
    app.expect_converse()
    answered = direct(app, {"body": ask_body(question, "rag")})
    payload = json.dumps(answered).encode()

    # When the evaluation function invokes it and reads the payload
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response(
            "invoke",
            {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(payload), len(payload))},
            {"FunctionName": "ladder-rag", "InvocationType": "RequestResponse", "Payload": ANY},
        )
        record = answer_one(client, "ladder-rag", Item(id="leave", question=question), "rag", None)

    # Then the record is an answer with its passages, as the scoring rules and the judge read it
    assert record["status"] == "ok" and record["attempts"] == 1
    assert record["response"]["answer"] == answered["body"]["answer"]
    assert record["response"]["citations"][0]["text"]
    app.assert_no_pending()
