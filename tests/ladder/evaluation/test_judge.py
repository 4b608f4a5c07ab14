"""The LLM judge: CreateEvaluationJob requests checked by botocore's Stubber against the bedrock service
model, datasets uploaded to (moto) S3 in Bedrock's bring-your-own-inference shapes, scores merged back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ladder.errors import SetupError
from ladder.evaluation import judge, rundir
from ladder.evaluation.evalset import load_set
from ladder.evaluation.summary import write_scores
from ladder.pricing.models import load_prices

from .conftest import write_set

REGION = "us-east-1"
BUCKET = "ladder-eval-bucket"
ROLE = "arn:aws:iam::123456789012:role/LadderEvaluationRole"
JUDGE_MODEL = "anthropic.claude-3-5-sonnet-20241022-v2:0"
SETUP = judge.JudgeSetup(bucket=BUCKET, prefix="evaluations", role_arn=ROLE, judge_model_id=JUDGE_MODEL)
ITEMS = [
    {"id": "leave", "question": "How much leave?", "reference": "27 days.", "mustInclude": ["27 days"]},
    {"id": "shares", "question": "Share price?", "answerable": False},
]


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def bedrock() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("bedrock", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def make_run(tmp_path: Path) -> Path:
    evalset = load_set(write_set(tmp_path / "set.jsonl", ITEMS))
    folder = tmp_path / "20260101T000000Z-abcdef12"
    rundir.start(
        folder, evalset, url="https://x/ask", arms=["prompt", "rag"], now=datetime(2026, 1, 1, tzinfo=UTC)
    )
    records = []
    for item in ITEMS:
        for arm in ("prompt", "rag"):
            citations = (
                []
                if arm == "prompt"
                else [{"sourceUri": "s3://d/docs/handbook/leave.md", "excerpt": "27 days"}]
            )
            response = {
                "answer": f"{arm} answer",
                "citations": citations,
                "modelId": "us.amazon.nova-lite-v1:0",
            }
            records.append(
                {"id": item["id"], "arm": arm, "status": "ok", "latencyMs": 5, "response": response}
            )
    records.append(
        {"id": "shares", "arm": "rag", "status": "error", "latencyMs": 5, "error": {"httpStatus": 503}}
    )
    (folder / rundir.RESPONSES).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return folder


def expected_request(arm: str, rubric: bool) -> dict[str, Any]:
    return judge.job_request(
        SETUP,
        "20260101T000000Z-abcdef12",
        arm,
        f"s3://{BUCKET}/evaluations/20260101T000000Z-abcdef12/{arm}/dataset.jsonl",
        f"s3://{BUCKET}/evaluations/20260101T000000Z-abcdef12/{arm}/output/",
        "Answer in plain English." if rubric else None,
    )


def test_requests_use_byoi_sources_and_the_fitting_metrics() -> None:
    prompt = expected_request("prompt", rubric=False)
    rag = expected_request("rag", rubric=True)
    assert prompt["applicationType"] == "ModelEvaluation"
    assert prompt["inferenceConfig"] == {
        "models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": "ladder-prompt"}}]
    }
    assert prompt["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["metricNames"] == [
        "Builtin.Correctness",
        "Builtin.Completeness",
    ]
    assert "customMetricConfig" not in prompt["evaluationConfig"]["automated"]
    assert rag["applicationType"] == "RagEvaluation"
    source = rag["inferenceConfig"]["ragConfigs"][0]["precomputedRagSourceConfig"]
    assert source == {"retrieveAndGenerateSourceConfig": {"ragSourceIdentifier": "ladder-rag"}}
    automated = rag["evaluationConfig"]["automated"]
    assert automated["datasetMetricConfigs"][0]["metricNames"][-1] == judge.STYLE_METRIC
    assert "Builtin.Faithfulness" in automated["datasetMetricConfigs"][0]["metricNames"]
    custom = automated["customMetricConfig"]["customMetrics"][0]["customMetricDefinition"]
    assert (
        custom["instructions"].startswith("Answer in plain English.")
        and "{{prediction}}" in custom["instructions"]
    )
    assert rag["jobName"] == "ladder-20260101t000000z-abcdef12-rag"


def test_jobs_start_per_arm_with_datasets_in_bedrock_shapes(
    tmp_path: Path, s3: Any, bedrock: tuple[Any, Stubber]
) -> None:
    client, stubber = bedrock
    folder = make_run(tmp_path)
    for arm in ("prompt", "rag"):
        stubber.add_response(
            "create_evaluation_job",
            {"jobArn": f"arn:aws:bedrock:{REGION}:123456789012:evaluation-job/{arm}12345678"},
            expected_request(arm, rubric=True),
        )
    jobs = judge.start_jobs(client, s3, folder, SETUP, "Answer in plain English.")
    assert [job["arm"] for job in jobs] == ["prompt", "rag"]
    assert jobs[1]["items"] == ["leave"]  # the error record is not judged
    prefix = "evaluations/20260101T000000Z-abcdef12"
    prompt_lines = [
        json.loads(x)
        for x in s3.get_object(Bucket=BUCKET, Key=f"{prefix}/prompt/dataset.jsonl")["Body"]
        .read()
        .splitlines()
    ]
    assert prompt_lines[0] == {
        "prompt": "How much leave?",
        "referenceResponse": "27 days.",
        "modelResponses": [{"response": "prompt answer", "modelIdentifier": "ladder-prompt"}],
    }
    assert "referenceResponse" not in prompt_lines[1]
    rag_lines = [
        json.loads(x)
        for x in s3.get_object(Bucket=BUCKET, Key=f"{prefix}/rag/dataset.jsonl")["Body"].read().splitlines()
    ]
    turn = rag_lines[0]["conversationTurns"][0]
    assert turn["prompt"] == {"content": [{"text": "How much leave?"}]}
    assert turn["referenceResponses"] == [{"content": [{"text": "27 days."}]}]
    assert turn["output"]["knowledgeBaseIdentifier"] == "ladder-rag"
    assert turn["output"]["retrievedPassages"]["retrievalResults"][0]["content"] == {"text": "27 days"}
    assert json.loads((folder / rundir.JUDGE_JOBS).read_text())[0]["status"] == "InProgress"


def test_finished_jobs_are_merged_into_scores_and_summary(
    tmp_path: Path, s3: Any, bedrock: tuple[Any, Stubber]
) -> None:
    client, stubber = bedrock
    folder = make_run(tmp_path)
    for arm in ("prompt", "rag"):
        stubber.add_response(
            "create_evaluation_job",
            {"jobArn": f"arn:aws:bedrock:{REGION}:123456789012:evaluation-job/{arm}1"},
        )
    jobs = judge.start_jobs(client, s3, folder, SETUP, None)
    for job, status in zip(jobs, ("Completed", "InProgress"), strict=True):
        request = expected_request(job["arm"], rubric=False)
        stubber.add_response(
            "get_evaluation_job",
            {
                "jobName": "ladder-x",
                "status": status,
                "jobArn": job["jobArn"],
                "roleArn": ROLE,
                "jobType": "Automated",
                "evaluationConfig": request["evaluationConfig"],
                "inferenceConfig": request["inferenceConfig"],
                "outputDataConfig": {"s3Uri": f"s3://{BUCKET}/{job['outputPrefix']}"},
                "creationTime": datetime(2026, 1, 1, tzinfo=UTC),
            },
            {"jobIdentifier": job["jobArn"]},
        )
    output = [
        {
            "inputRecord": {"prompt": "Share price?"},
            "automatedEvaluationResult": {"scores": [{"metricName": "Builtin.Correctness", "result": 0.0}]},
        },
        {
            "inputRecord": {"prompt": "How much leave?"},
            "automatedEvaluationResult": {
                "scores": [
                    {"metricName": "Builtin.Correctness", "result": 1.0},
                    {"metricName": "Builtin.Completeness", "result": 0.5},
                ]
            },
        },
    ]
    key = (
        f"{jobs[0]['outputPrefix']}ladder-x/abc/models/ladder-prompt/taskTypes/QuestionAndAnswer/"
        "datasets/ladder-prompt/output.jsonl"
    )
    s3.put_object(Bucket=BUCKET, Key=key, Body="\n".join(json.dumps(line) for line in output).encode())
    followed = judge.follow_jobs(client, s3, folder)
    assert [job["status"] for job in followed] == ["Completed", "InProgress"]
    summary = write_scores(folder, load_prices())
    rows = {
        (row["id"], row["arm"]): row
        for row in map(json.loads, (folder / rundir.SCORES).read_text().splitlines())
    }
    assert rows[("leave", "prompt")]["judge"] == {"Correctness": 1.0, "Completeness": 0.5}
    assert rows[("shares", "prompt")]["judge"] == {"Correctness": 0.0}
    assert rows[("leave", "rag")]["judge"] is None
    assert summary["arms"]["prompt"]["judge"] == {"Completeness": 0.5, "Correctness": 0.5}
    assert summary["arms"]["rag"]["judge"] is None


def test_a_rubric_that_is_empty_or_too_long_is_refused() -> None:
    with pytest.raises(SetupError, match="empty"):
        judge.style_instructions("  ")
    with pytest.raises(SetupError, match="5000"):
        judge.style_instructions("x" * 5000)
    assert judge.style_instructions("Rate {{prediction}} for tone.") == "Rate {{prediction}} for tone."
