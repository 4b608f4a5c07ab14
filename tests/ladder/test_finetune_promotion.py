"""`ladder finetune start` and the promotion gate: the verdict's evaluation set and the verdict are staged
with the run, and the execution input tells the pipeline what to measure the candidate against."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from . import test_finetune
from .conftest import REGION, write_jsonl
from .test_finetune import Pipeline

VERDICT_FIXTURE = Path(__file__).parents[1] / "stacks" / "fixtures" / "justified-verdict.json"
EVALUATIONS_BUCKET = "ladder-evaluations"
pipeline = test_finetune.pipeline
"""The moto fine-tune pipeline of the start tests (a fixture)."""
EVAL_SET = '{"id": "q1", "question": "How long is the warranty?", "mustInclude": ["two years"]}\n'


@pytest.fixture
def gated(pipeline: Pipeline, stacks: Any, tmp_path: Path) -> dict[str, Any]:
    """A deployed FineTune and RagApi stack, the evaluations bucket, and a verdict whose run folder holds
    the copy of its evaluation set (as `ladder eval run` leaves it)."""
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=EVALUATIONS_BUCKET)
    run_dir = tmp_path / "eval-runs" / "20261130T100000Z"
    run_dir.mkdir(parents=True)
    (run_dir / "evalset.jsonl").write_text(EVAL_SET, encoding="utf-8")
    document = json.loads(VERDICT_FIXTURE.read_text())
    document["evalRun"]["dir"] = run_dir.as_posix()
    verdict = tmp_path / "ladder-verdict.json"
    verdict.write_text(json.dumps(document), encoding="utf-8")
    data = write_jsonl(tmp_path / "chats.jsonl", clean=5)
    return {"verdict": verdict, "run_dir": run_dir, "data": data}


def _deployed(stacks: Any, pipeline: Pipeline) -> None:
    stacks.deployed("LadderFineTune", pipeline.outputs)
    stacks.deployed("LadderRagApi", {"AskUrl": "https://x/ask", "EvaluationsBucket": EVALUATIONS_BUCKET})


def _staged(s3: Any) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=EVALUATIONS_BUCKET).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=EVALUATIONS_BUCKET, Key=o["Key"])["Body"].read() for o in listed}


def _start(run_cli: Any, gated: dict[str, Any], *extra: str) -> Any:
    return run_cli(
        "finetune",
        "start",
        "--data",
        str(gated["data"]),
        "--min-examples",
        "5",
        "--no-wait",
        "--verdict",
        str(gated["verdict"]),
        *extra,
    )


def test_start_stages_the_verdicts_set_and_the_verdict_and_asks_for_the_gate(
    stacks, run_cli, pipeline, gated
):
    _deployed(stacks, pipeline)

    # When a run is started with a verdict and nothing else about the gate
    result = _start(run_cli, gated)

    # Then the set copy of the verdict's run folder and the verdict are staged under the execution's name
    assert result.code == 0, result.err
    [execution] = pipeline.executions()
    prefix = f"staged/promotion/{execution['name']}/"
    assert _staged(pipeline.s3) == {
        f"{prefix}set.jsonl": EVAL_SET.encode(),
        f"{prefix}verdict.json": gated["verdict"].read_bytes(),
    }
    # And the execution input names them, with the arms to evaluate: the verdict's best arm and the candidate
    described = pipeline.sfn.describe_execution(executionArn=execution["executionArn"])
    execution_input = json.loads(described["input"])
    assert execution_input["promotionGate"] is True
    assert execution_input["evalSet"] == {"bucket": EVALUATIONS_BUCKET, "key": f"{prefix}set.jsonl"}
    assert execution_input["verdict"] == {"bucket": EVALUATIONS_BUCKET, "key": f"{prefix}verdict.json"}
    assert execution_input["promotionArms"] == ["rag", "finetuned"]
    assert "promotionGateReason" not in execution_input
    # And the user reads what the candidate will be compared with
    assert "Promotion gate: rag vs finetuned" in result.out


def test_eval_set_overrides_the_verdicts_copy(stacks, run_cli, pipeline, gated, tmp_path):
    _deployed(stacks, pipeline)
    other = tmp_path / "other.jsonl"
    other.write_text('{"id": "z", "question": "Other?"}\n', encoding="utf-8")

    result = _start(run_cli, gated, "--eval-set", str(other))

    assert result.code == 0, result.err
    staged = _staged(pipeline.s3)
    assert [body for key, body in staged.items() if key.endswith("/set.jsonl")] == [other.read_bytes()]


def test_a_run_without_a_set_is_refused_before_anything_is_uploaded(stacks, run_cli, pipeline, gated):
    # Given a verdict whose run folder no longer holds its set copy
    (gated["run_dir"] / "evalset.jsonl").unlink()

    result = _start(run_cli, gated)

    # Then it is a usage error naming both ways out; nothing is uploaded, staged or started
    assert result.code == 2
    assert "no evaluation set to measure the candidate on" in result.err
    assert "--eval-set FILE" in result.err
    assert "--no-promotion-gate --reason TEXT" in result.err
    assert pipeline.keys() == [] and _staged(pipeline.s3) == {} and pipeline.executions() == []


def test_no_promotion_gate_needs_a_reason_and_records_it(stacks, run_cli, pipeline, gated):
    refused = _start(run_cli, gated, "--no-promotion-gate")
    assert refused.code == 2
    assert "--no-promotion-gate needs --reason TEXT" in refused.err
    assert pipeline.executions() == []

    # With a reason the run starts (only the FineTune stack is read), nothing is staged, and the reason is
    # recorded in the execution input and printed
    stacks.deployed("LadderFineTune", pipeline.outputs)
    result = _start(run_cli, gated, "--no-promotion-gate", "--reason", "first  model,\nno set yet")
    assert result.code == 0, result.err
    [execution] = pipeline.executions()
    described = pipeline.sfn.describe_execution(executionArn=execution["executionArn"])
    execution_input = json.loads(described["input"])
    assert execution_input["promotionGate"] is False
    assert execution_input["promotionGateReason"] == "first model, no set yet"
    assert not {"evalSet", "verdict", "promotionArms"} & set(execution_input)
    assert "Promotion gate off: first model, no set yet" in result.out
    assert _staged(pipeline.s3) == {}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--reason", "why"), "--reason is recorded only with --no-promotion-gate"),
        (("--no-promotion-gate", "--reason", "x", "--eval-set", "s.jsonl"), "contradict each other"),
    ],
)
def test_contradictory_gate_options_are_usage_errors(run_cli, pipeline, gated, extra, message):
    result = _start(run_cli, gated, *extra)
    assert result.code == 2
    assert message in result.err
    assert pipeline.keys() == []


def test_a_missing_verdict_names_the_options(run_cli, pipeline, gated):
    gated["verdict"].unlink()
    result = _start(run_cli, gated)
    assert result.code == 2
    assert "ladder-verdict.json not found" in result.err
    assert "--verdict FILE" in result.err


def test_an_eval_set_that_does_not_parse_is_refused_before_anything_is_uploaded(
    run_cli, pipeline, gated, tmp_path
):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a"}\n{not json\n', encoding="utf-8")

    result = _start(run_cli, gated, "--eval-set", str(broken))

    # Then it exits 1 (a LadderError) naming each bad line
    assert result.code == 1
    assert "line 1" in result.err and "line 2" in result.err
    assert pipeline.keys() == [] and pipeline.executions() == []
