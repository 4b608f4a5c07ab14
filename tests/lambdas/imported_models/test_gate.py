"""The promotion gate action: the staged verdict from moto S3, TagResource through a Stubber."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from lambdas.imported_models.gate import GateInputError
from lambdas.imported_models.handler import run
from lambdas.imported_models.settings import load_settings

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "ladder-evaluations"
VERDICT_KEY = "staged/promotion/ladder-20250301T093000Z/verdict.json"
MODEL_ARN = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:imported-model/abcd1234efgh"
SETTINGS = load_settings({"MODEL_PARAMETER": "/ladder/fine-tune/model-arn", "KEEP_MODELS": "2"})
VERDICT = {
    "targets": {"correctness": 0.8, "formatCompliance": 0.9, "maxCorrectnessDrop": 0.05},
    "arms": {"prompt": {"correctness": 0.5}, "rag": {"correctness": 0.84, "formatCompliance": 0.7}},
    "rules": [],
}


def evaluation(low: float) -> dict[str, Any]:
    """The evaluation state machine's output (contract: runId, bucket, prefix, arms, summary)."""
    run_id = "20250301T160000Z-promotion-ladder-20250301T093000Z"
    return {
        "runId": run_id,
        "bucket": BUCKET,
        "prefix": f"runs/{run_id}/",
        "arms": ["rag", "finetuned"],
        "summary": {
            "arms": {
                "rag": {"correctness": 0.84, "formatCompliance": 0.7, "costPerQueryUsd": 0.0011, "ci95": {}},
                "finetuned": {
                    "correctness": 0.86,
                    "formatCompliance": 0.95,
                    "costPerQueryUsd": 0.00042,
                    "ci95": {"correctness": [0.82, 0.9], "formatCompliance": [0.92, 0.98]},
                },
            },
            "differences": {"finetuned-rag": {"correctness": {"diff": 0.02, "ci95": [low, 0.07], "n": 200}}},
        },
    }


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=VERDICT_KEY, Body=json.dumps(VERDICT).encode())
        bedrock = boto3.client("bedrock", region_name=REGION)
        stub = Stubber(bedrock)
        stub.activate()
        clients = {"s3": s3, "bedrock": bedrock}
        yield clients.__getitem__, stub
        stub.assert_no_pending_responses()


def _gate(low: float) -> dict[str, Any]:
    return {
        "action": "gate",
        "pipeline": "LadderFineTunePipeline",
        "modelArn": MODEL_ARN,
        "verdict": {"bucket": BUCKET, "key": VERDICT_KEY},
        "evaluation": evaluation(low),
    }


@pytest.mark.parametrize(("low", "outcome"), [(-0.03, "promoted"), (-0.06, "rejected")])
def test_the_gate_decides_with_the_staged_verdict_and_tags_the_model_with_its_numbers(
    services: tuple[Any, Stubber], low: float, outcome: str
) -> None:
    """Amazon Bedrock API Reference, Tag: value "Length Constraints: Minimum length of 0. Maximum length of
    256. Pattern: ([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)"; TagResource accepts ``imported-model/...`` ARNs."""
    clients, stub = services
    # Given the candidate's numbers, TagResource is expected with exactly these tags (checked by the
    # Stubber against Bedrock's model: keys and values within the Tag shape)
    stub.add_response(
        "tag_resource",
        {},
        {
            "resourceARN": MODEL_ARN,
            "tags": [
                {"key": "ladder:correctness", "value": "0.86"},
                {"key": "ladder:formatCompliance", "value": "0.95"},
                {"key": "ladder:costPerQueryUsd", "value": "0.00042"},
                {"key": "ladder:promotion", "value": outcome},
            ],
        },
    )
    # When the gate runs on the evaluation's output
    result = run(_gate(low), SETTINGS, clients)
    # Then it answers the decision, where the summary is kept, and the numbers side by side
    assert result["promote"] is (outcome == "promoted")
    assert result["gate"] == "measured"
    assert result["summary"] == f"s3://{BUCKET}/runs/{result['runId']}/summary.json"
    assert set(result["numbers"]["arms"]) == {"finetuned", "rag"}
    json.dumps(result)  # Step Functions carries it as JSON


def test_a_gate_without_its_inputs_names_them_and_tags_nothing(services: tuple[Any, Stubber]) -> None:
    clients, _ = services
    event = _gate(-0.03)
    del event["verdict"]
    with pytest.raises(GateInputError, match=r"'verdict': \{'bucket', 'key'\}"):
        run(event, SETTINGS, clients)
