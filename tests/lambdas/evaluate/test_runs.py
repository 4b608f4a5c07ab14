"""The evaluation function over a small set: S3 via moto, the RAG function's direct invocation via Stubber
on the Lambda client (the RAG function's answers as the Invoke ``Payload``)."""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from ladder.evaluation.summary import write_scores
from ladder.pricing.models import load_prices
from ladder_core.evaluation.run import RECORDED_MANIFEST_KEYS
from ladder_core.examples import MANIFEST_KEY
from ladder_core.metrics import COST_PER_QUERY
from lambdas.evaluate import constants, runs
from lambdas.evaluate.handler import run
from lambdas.evaluate.settings import load_settings

REGION = "us-east-1"
BUCKET = "ladder-evaluations"
FUNCTION = "LadderRag-RagFunction"
SET_KEY = "staged/watch/set.jsonl"
NOW = datetime(2026, 12, 3, 22, 30, 5, tzinfo=UTC)
CONTEXT = {
    "embeddingModelId": "amazon.titan-embed-text-v2:0",
    "rerankModelId": "",
    "vectorStore": "s3vectors",
    "ragMemoryMb": 1024,
}
SETTINGS = load_settings(
    {
        "BUCKET": BUCKET,
        "RAG_FUNCTION": FUNCTION,
        "RAG_TIMEOUT_S": "28",
        "EMBEDDING_MODEL_ID": CONTEXT["embeddingModelId"],
        "RERANK_MODEL_ID": "",
        "VECTOR_STORE": CONTEXT["vectorStore"],
        "RAG_MEMORY_MB": "1024",
    }
)
ITEMS = [
    {"id": "leave", "question": "How much annual leave?", "mustInclude": ["27 days"]},
    {"id": "carry", "question": "How many days carry over?", "mustInclude": ["5 days"]},
    {"id": "moon", "question": "Who owns the moon?", "answerable": False},
]
ARMS = ["prompt", "rag@us.amazon.nova-pro-v1:0", "finetuned"]
CANDIDATE = "arn:aws:bedrock:us-east-1:123456789012:imported-model/cand12345678"


def rag_body(arm: str, answer: str) -> dict[str, Any]:
    """What the API returns for one question (the shape the CLI records)."""
    mode = arm.split("@")[0]
    return {
        "answer": answer,
        "citations": [] if mode == "prompt" else [{"sourceUri": "s3://d/leave.md", "excerpt": answer}],
        "mode": mode,
        "modelId": "imported-model/cand12345678" if mode == "finetuned" else "us.amazon.nova-pro-v1:0",
        "usage": {
            "inputTokens": 900,
            "outputTokens": 40,
            "guardrail": None,
            "embeddingTokens": None if mode == "prompt" else 12,
        },
        "latencyMs": {"total": 1200},
    }


ANSWERS = {
    "leave": "You get 27 days of leave [1].",
    "carry": "Up to 3 days carry over [1].",
    "moon": "I could not find the answer to that question in the documents, so I cannot answer it from them.",
}


def invoke_response(status: int, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    raw = json.dumps({"statusCode": status, "body": body}).encode()
    return {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(raw), len(raw)), **extra}


def direct_payload(question: str, arm: str) -> bytes:
    """Contract of the RAG function's direct invocation: ``{"ladderDirect": {"body": <POST /ask body>,
    "candidateModelArn": only for the finetuned arm}}``."""
    mode, _, model = arm.partition("@")
    body: dict[str, Any] = {"question": question, "mode": mode, "include": ["passages"]}
    if model:
        body["modelId"] = model
    direct: dict[str, Any] = {"body": body}
    if mode == "finetuned":
        direct["candidateModelArn"] = CANDIDATE
    return json.dumps({"ladderDirect": direct}).encode()


@pytest.fixture
def aws() -> Iterator[Any]:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        yield s3


@pytest.fixture
def rag() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("lambda", region_name=REGION)
    with Stubber(client) as stub:
        yield client, stub


@pytest.fixture
def one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stubber answers calls in the order they were queued: one thread keeps that order (item, then arm).
    monkeypatch.setattr(constants, "THREADS", 1)


def stage(s3: Any, items: list[dict[str, Any]], key: str = SET_KEY) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body="".join(json.dumps(item) + "\n" for item in items).encode())


def execution_input(**overrides: Any) -> dict[str, Any]:
    return {"purpose": "watch", "evalSet": {"bucket": BUCKET, "key": SET_KEY}, "arms": ARMS, **overrides}


def plan(s3: Any, **overrides: Any) -> dict[str, Any]:
    event = {"action": "plan", "input": execution_input(**overrides), "executionName": "exec-1"}
    return runs.plan(s3, SETTINGS, event, NOW)


def read(s3: Any, key: str) -> str:
    return str(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode("utf-8"))


def test_a_run_writes_the_same_files_the_cli_engine_writes_for_the_same_answers(
    aws: Any, rag: tuple[Any, Stubber], one_thread: None, tmp_path: Path
) -> None:
    # Given a staged set of three items and the RAG function's answers for three arms
    stage(aws, ITEMS)
    client, stub = rag
    for item in ITEMS:
        for arm in ARMS:
            stub.add_response(
                "invoke",
                invoke_response(200, rag_body(arm, ANSWERS[item["id"]])),
                {
                    "FunctionName": FUNCTION,
                    "InvocationType": "RequestResponse",
                    "Payload": direct_payload(item["question"], arm),
                },
            )

    # When the state machine's three steps run (plan, each chunk, summarise)
    planned = plan(aws, candidateModelArn=CANDIDATE)
    for chunk in planned["chunks"]:
        runs.answer(
            aws,
            client,
            SETTINGS,
            {"runId": planned["runId"], "arms": ARMS, "candidateModelArn": CANDIDATE, "chunk": chunk},
            sleep=lambda _: None,
        )
    output = runs.summarise_run(
        aws, SETTINGS, {"runId": planned["runId"], "chunkCount": planned["chunkCount"]}
    )

    # Then every answer was sent, the run id is derived from the time, the purpose and the execution
    stub.assert_no_pending_responses()
    run_id = "20261203T223005Z-watch-exec-1"
    assert planned["runId"] == output["runId"] == run_id
    assert output["prefix"] == f"runs/{run_id}/" and output["bucket"] == BUCKET and output["arms"] == ARMS
    # And the folder, downloaded, is a run folder: the CLI's engine rewrites the same scores and summary
    folder = tmp_path / run_id
    folder.mkdir()
    for name in ("run.json", "evalset.jsonl", "responses.jsonl"):
        (folder / name).write_text(read(aws, f"runs/{run_id}/{name}"), encoding="utf-8")
    local = write_scores(folder, load_prices(None, CONTEXT))
    assert read(aws, f"runs/{run_id}/scores.jsonl") == (folder / "scores.jsonl").read_text(encoding="utf-8")
    assert read(aws, f"runs/{run_id}/summary.json") == (folder / "summary.json").read_text(encoding="utf-8")
    assert output["summary"] == {"arms": local["arms"], "differences": local["differences"]}
    # And the numbers are the answers': leave correct everywhere, carry wrong, the moon refused
    assert local["arms"]["finetuned"]["correctness"] == pytest.approx(2 / 3)
    assert set(local["differences"]) == {
        f"{b}-{a}" for a, b in [(ARMS[0], ARMS[1]), (ARMS[0], ARMS[2]), (ARMS[1], ARMS[2])]
    }
    records = [json.loads(line) for line in read(aws, f"runs/{run_id}/responses.jsonl").splitlines()]
    assert [(r["id"], r["arm"], r["status"], r["attempts"]) for r in records[:3]] == [
        ("leave", arm, "ok", 1) for arm in ARMS
    ]
    assert records[0]["response"] == rag_body("prompt", ANSWERS["leave"])
    run_json = json.loads(read(aws, f"runs/{run_id}/run.json"))
    assert run_json["evalSet"]["path"] == f"s3://{BUCKET}/{SET_KEY}" and run_json["evalSet"]["items"] == 3
    assert run_json["url"] == f"lambda:{FUNCTION}" and run_json["repeat"] == 1


FINE_TUNE_SETTINGS = dataclasses.replace(
    SETTINGS, imported_model_arn_prefix="arn:aws:bedrock:us-east-1:123456789012:"
)


def answered_run(aws: Any, rag: tuple[Any, Stubber], settings: Any, bedrock: Any = None) -> dict[str, Any]:
    """Plan, answer and summarise the three items in ARMS, each answer ANSWERS', each taking 1.5 s."""
    ticks = itertools.count(0.0, 1.5)
    client, stub = rag
    for item in ITEMS:
        for arm in ARMS:
            stub.add_response("invoke", invoke_response(200, rag_body(arm, ANSWERS[item["id"]])))
    event = {"action": "plan", "input": execution_input(candidateModelArn=CANDIDATE), "executionName": "e"}
    planned = runs.plan(aws, settings, event, NOW)
    for chunk in planned["chunks"]:
        answer = {"runId": planned["runId"], "arms": ARMS, "candidateModelArn": CANDIDATE, "chunk": chunk}
        runs.answer(aws, client, settings, answer, sleep=lambda _: None, clock=lambda: next(ticks))
    done = {"runId": planned["runId"], "chunkCount": planned["chunkCount"]}
    return runs.summarise_run(aws, settings, done, bedrock=bedrock)


def test_the_fine_tuned_arm_is_priced_with_its_imported_models_own_units(
    aws: Any, rag: tuple[Any, Stubber], one_thread: None, tmp_path: Path
) -> None:
    """GetImportedModel's customModelUnits (botocore's bedrock model: customModelUnitsPerModelCopy,
    customModelUnitsVersion), read for the model that answered the finetuned arm, as ladder eval run does.
    Its modelIdentifier is a name or the model's ARN, ``ImportedModelIdentifier``'s pattern in the Bedrock API
    Reference (read here from botocore's copy of the model; botocore's validation does not check patterns)."""
    identifier = (
        boto3.client("bedrock", region_name=REGION)
        .meta.service_model.operation_model("GetImportedModel")
        .input_shape.members["modelIdentifier"]
    )
    arn_pattern = identifier.metadata["pattern"].split("|")[0]
    # The ARN the function builds (its prefix and the answer's public id), which the Stubber below expects
    # exactly, is one the API accepts
    assert re.fullmatch(arn_pattern, CANDIDATE)
    stage(aws, ITEMS)
    # Given the fine-tuned arm answered by the candidate, which needs one CMU per copy (the catalog: two)
    bedrock = boto3.client("bedrock", region_name=REGION)
    with Stubber(bedrock) as control:
        control.add_response(
            "get_imported_model",
            {"customModelUnits": {"customModelUnitsPerModelCopy": 1, "customModelUnitsVersion": "v1.0"}},
            {"modelIdentifier": CANDIDATE},
        )
        output = answered_run(aws, rag, FINE_TUNE_SETTINGS, bedrock)
        control.assert_no_pending_responses()

    # Then the run folder records the units as ladder eval run does
    run_id = output["runId"]
    assert json.loads(read(aws, f"runs/{run_id}/imported-model.json")) == {
        "modelId": "imported-model/cand12345678",
        "customModelUnitsPerModelCopy": 1,
        "customModelUnitsVersion": "v1.0",
    }
    # And the CLI's engine, reading the downloaded folder, prices the arm the same way
    folder = tmp_path / run_id
    folder.mkdir()
    for name in ("run.json", "evalset.jsonl", "responses.jsonl", "imported-model.json"):
        (folder / name).write_text(read(aws, f"runs/{run_id}/{name}"), encoding="utf-8")
    local = write_scores(folder, load_prices(None, CONTEXT))
    assert read(aws, f"runs/{run_id}/summary.json") == (folder / "summary.json").read_text(encoding="utf-8")
    # And the fine-tuned arm's copy time costs half of the catalog's two-CMU default, the other arms the same
    (folder / "imported-model.json").unlink()
    default = write_scores(folder, load_prices(None, CONTEXT))
    cost = COST_PER_QUERY.summary_key
    assert local["arms"]["finetuned"][cost] < default["arms"]["finetuned"][cost]
    assert local["arms"]["prompt"][cost] == default["arms"]["prompt"][cost]


def test_a_model_whose_units_cannot_be_read_is_priced_by_the_catalog_and_says_why(
    aws: Any, rag: tuple[Any, Stubber], one_thread: None
) -> None:
    stage(aws, ITEMS)
    bedrock = boto3.client("bedrock", region_name=REGION)
    with Stubber(bedrock) as control:
        control.add_client_error(
            "get_imported_model",
            "AccessDeniedException",
            "not authorized",
            403,
            expected_params={"modelIdentifier": CANDIDATE},
        )
        output = answered_run(aws, rag, FINE_TUNE_SETTINGS, bedrock)
    recorded = json.loads(read(aws, f"runs/{output['runId']}/imported-model.json"))
    assert recorded == {
        "modelId": "imported-model/cand12345678",
        "note": "GetImportedModel failed with AccessDeniedException",
    }


def test_without_the_fine_tune_stack_no_units_are_read(
    aws: Any, rag: tuple[Any, Stubber], one_thread: None
) -> None:
    stage(aws, ITEMS)
    # A Stubber with nothing queued fails any call made on it
    bedrock = boto3.client("bedrock", region_name=REGION)
    with Stubber(bedrock):
        output = answered_run(aws, rag, SETTINGS, bedrock)
    listed = aws.list_objects_v2(Bucket=BUCKET, Prefix=output["prefix"])["Contents"]
    assert f"{output['prefix']}imported-model.json" not in {o["Key"] for o in listed}


def test_max_items_keeps_the_first_items_and_a_large_set_splits_into_chunks_that_fit(aws: Any) -> None:
    # Given a set larger than one chunk holds with three arms at the default RAG timeout
    per_chunk = constants.items_per_chunk(SETTINGS.rag_timeout_s, len(ARMS))
    items = [{"id": f"q{n}", "question": f"Question {n}?"} for n in range(2 * per_chunk + 5)]
    stage(aws, items)

    # When it is planned whole, and with maxItems
    whole = plan(aws, runId="whole")
    first = plan(aws, runId="first", maxItems=per_chunk + 1)

    # Then the chunks cover every item once, in order, none larger than a chunk may be
    assert [(c["start"], c["stop"]) for c in whole["chunks"]] == [
        (0, per_chunk),
        (per_chunk, 2 * per_chunk),
        (2 * per_chunk, 2 * per_chunk + 5),
    ]
    assert whole["chunkCount"] == 3
    # And maxItems keeps the first N items: the copy in the run folder holds just those
    assert [(c["start"], c["stop"]) for c in first["chunks"]] == [(0, per_chunk), (per_chunk, per_chunk + 1)]
    copy = read(aws, "runs/first/evalset.jsonl").splitlines()
    assert [json.loads(line)["id"] for line in copy] == [f"q{n}" for n in range(per_chunk + 1)]
    assert json.loads(read(aws, "runs/first/run.json"))["evalSet"]["maxItems"] == per_chunk + 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"purpose": "nightly"}, "purpose 'nightly': expected one of promotion, watch, manual"),
        ({"evalSet": {"bucket": "other", "key": SET_KEY}}, "the evaluations bucket's staged sets"),
        ({"evalSet": {"bucket": BUCKET, "key": "runs/x/set.jsonl"}}, '"key": "staged/..."'),
        ({"arms": []}, "arms: expected a non-empty list"),
        ({"arms": ["rag", "rag"]}, "each once"),
        ({"arms": ["finetuned@x"]}, "answers with its own model"),
        ({"candidateModelArn": CANDIDATE, "arms": ["rag"]}, "add it to arms"),
        ({"maxItems": 0}, "maxItems 0: expected a whole number of at least 1"),
        ({"runId": "../x"}, "runId '../x': expected 1-128 letters"),
        ({"colour": "red"}, "unknown input key(s) colour"),
    ],
)
def test_a_bad_input_fails_the_plan_naming_what_is_accepted(
    aws: Any, overrides: dict[str, Any], message: str
) -> None:
    stage(aws, ITEMS)
    with pytest.raises(runs.InvalidInput) as caught:
        plan(aws, **overrides)
    assert message in str(caught.value)
    # And nothing was written
    assert aws.list_objects_v2(Bucket=BUCKET, Prefix="runs/")["KeyCount"] == 0


def test_a_missing_or_bad_set_fails_the_plan_naming_the_set_and_its_lines(aws: Any) -> None:
    with pytest.raises(runs.InvalidInput, match=f"evalSet s3://{BUCKET}/{SET_KEY} does not exist"):
        plan(aws)
    aws.put_object(Bucket=BUCKET, Key=SET_KEY, Body=b'{"id": "a", "question": "q"}\n{broken\n')
    with pytest.raises(runs.InvalidInput, match="1 bad line\\(s\\) of 2; nothing was sent") as caught:
        plan(aws)
    assert "line 2: not valid JSON" in str(caught.value)


def answer_one(client: Any, **kwargs: Any) -> tuple[dict[str, Any], list[float]]:
    waits: list[float] = []
    from ladder_core.scoring import Item

    item = Item(id="leave", question="How much annual leave?", answerable=True, must_include=("27 days",))
    record = runs.answer_one(client, FUNCTION, item, kwargs.pop("arm", "rag"), None, sleep=waits.append)
    return record, waits


def test_throttling_and_503_are_retried_with_backoff_then_answered(rag: tuple[Any, Stubber]) -> None:
    """Lambda API Reference, Invoke errors / botocore ``Lambda.Client.exceptions.TooManyRequestsException``:
    "The request throughput limit was exceeded" (HTTP 429; Reason e.g. ReservedFunctionConcurrentInvocation
    LimitExceeded). A throttled Invoke did not run the function, so retrying it sends nothing twice."""
    # Given Lambda throttles the first call (HTTP 429, TooManyRequestsException) and the API answers 503 once
    client, stub = rag
    stub.add_client_error("invoke", "TooManyRequestsException", "Rate Exceeded.", 429)
    stub.add_response("invoke", invoke_response(503, {"error": {"code": "ModelBusy", "message": "later"}}))
    stub.add_response("invoke", invoke_response(200, rag_body("rag", ANSWERS["leave"])))

    record, waits = answer_one(client)

    # Then the third attempt's answer is recorded, after two backoffs within their ceilings
    assert record["status"] == "ok" and record["attempts"] == 3
    assert 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 2.0


def test_retries_end_after_the_bounded_attempts_with_the_last_error_recorded(
    rag: tuple[Any, Stubber],
) -> None:
    client, stub = rag
    for _ in range(constants.MAX_ATTEMPTS):
        stub.add_response("invoke", invoke_response(429, {"error": {"code": "Throttled", "message": "slow"}}))

    record, waits = answer_one(client)

    stub.assert_no_pending_responses()
    assert record["status"] == "error" and record["attempts"] == constants.MAX_ATTEMPTS
    assert record["error"] == {"httpStatus": 429, "code": "Throttled", "message": "slow"}
    assert len(waits) == constants.MAX_ATTEMPTS - 1


def test_a_client_error_is_recorded_once_and_a_function_failure_as_a_502(rag: tuple[Any, Stubber]) -> None:
    """Lambda API Reference, Invoke response ``FunctionError``: "If present, indicates that an error occurred
    during function execution. Details about the error are included in the response payload" (Unhandled:
    "the function ran out of memory or timed out"); StatusCode is still 200 for RequestResponse."""
    client, stub = rag
    stub.add_response("invoke", invoke_response(400, {"error": {"code": "BadRequest", "message": "no"}}))
    crash = json.dumps({"errorType": "KeyError", "errorMessage": "x"}).encode()
    stub.add_response(
        "invoke",
        {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "Payload": StreamingBody(io.BytesIO(crash), len(crash)),
        },
    )

    refused, waits = answer_one(client)
    crashed, _ = answer_one(client)

    assert refused["error"] == {"httpStatus": 400, "code": "BadRequest", "message": "no"} and waits == []
    assert crashed["error"]["httpStatus"] == 502 and "KeyError" in crashed["error"]["message"]


def test_a_rag_function_that_cannot_be_invoked_fails_the_chunk(rag: tuple[Any, Stubber]) -> None:
    client, stub = rag
    stub.add_client_error("invoke", "AccessDeniedException", "not allowed", 403)
    with pytest.raises(runs.RagFunctionUnavailable, match="AccessDeniedException"):
        answer_one(client)


def test_a_missing_chunk_fails_the_summary_by_name(aws: Any) -> None:
    stage(aws, ITEMS)
    planned = plan(aws, runId="gap")
    with pytest.raises(runs.RunIncomplete, match=r"runs/gap/parts/00000\.jsonl"):
        runs.summarise_run(aws, SETTINGS, {"runId": "gap", "chunkCount": planned["chunkCount"]})


def test_an_unknown_action_is_refused_naming_the_actions() -> None:
    with pytest.raises(runs.InvalidInput, match="expected one of plan, answer, summarise"):
        run({"action": "explode"}, SETTINGS)


def test_a_set_needing_more_chunks_than_the_history_holds_is_refused_naming_max_items(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS Step Functions Developer Guide, "Using Map state in Inline mode": "Use the Map state in Inline
    mode if your workflow's execution history won't exceed 25,000 entries"."""
    # Given a cap of two chunks (the real cap, 1,000 chunks, would need a set of tens of thousands of items)
    monkeypatch.setattr(constants, "MAX_CHUNKS", 2)
    per_chunk = constants.items_per_chunk(SETTINGS.rag_timeout_s, len(ARMS))
    stage(aws, [{"id": f"q{n}", "question": f"Question {n}?"} for n in range(2 * per_chunk + 1)])
    # When it is planned whole, Then it is refused before anything is written, naming the maxItems that fits
    with pytest.raises(runs.InvalidInput, match=f"pass maxItems of at most {2 * per_chunk}"):
        plan(aws)
    assert aws.list_objects_v2(Bucket=BUCKET, Prefix="runs/")["KeyCount"] == 0
    # And with that maxItems it is planned
    assert plan(aws, maxItems=2 * per_chunk)["chunkCount"] == 2


def test_the_real_chunk_cap_keeps_the_map_inside_the_execution_history() -> None:
    # About seven history events per iteration, with room for retries: well under 25,000
    assert constants.MAX_CHUNKS * 7 * 2 < 25_000


def test_a_fewshot_arm_records_the_examples_it_was_measured_with_as_the_cli_does(aws: Any) -> None:
    # Given uploaded examples: their manifest in the documents bucket (ladder_core.examples.MANIFEST_KEY)
    aws.create_bucket(Bucket="ladder-documents")
    manifest = {
        "sha256": "ab" * 32,
        "count": 12,
        "createdAt": "2026-12-01T10:00:00+00:00",
        "embeddingModelId": "amazon.titan-embed-text-v2:0",
        "overlap": {"evalSetSha256": "cd" * 32, "exact": 0, "near": 0, "ids": []},
        "indexArn": "arn:aws:s3vectors:us-east-1:123456789012:bucket/b/index/examples",
    }
    aws.put_object(Bucket="ladder-documents", Key=MANIFEST_KEY, Body=json.dumps(manifest).encode())
    stage(aws, ITEMS)
    settings = dataclasses.replace(SETTINGS, examples_manifest_bucket="ladder-documents")
    event = {"action": "plan", "executionName": "e"}

    # When runs with and without a fewshot arm are planned
    runs.plan(aws, settings, {**event, "input": execution_input(runId="few", arms=["rag", "fewshot"])}, NOW)
    runs.plan(aws, settings, {**event, "input": execution_input(runId="none", arms=["rag"])}, NOW)

    # Then run.json keeps the manifest's recorded keys (not the index ARN) only for the fewshot run
    few = json.loads(read(aws, "runs/few/run.json"))["examples"]
    assert few == {key: manifest[key] for key in RECORDED_MANIFEST_KEYS}
    assert "indexArn" not in few
    assert json.loads(read(aws, "runs/none/run.json"))["examples"] is None
    # And without uploaded examples a fewshot run records none (its answers will say why)
    aws.delete_object(Bucket="ladder-documents", Key=MANIFEST_KEY)
    runs.plan(aws, settings, {**event, "input": execution_input(runId="gone", arms=["fewshot"])}, NOW)
    assert json.loads(read(aws, "runs/gone/run.json"))["examples"] is None
