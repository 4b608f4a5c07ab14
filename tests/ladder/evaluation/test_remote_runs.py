"""``ladder eval stage``, ``ladder eval runs`` and ``ladder eval report s3://...`` against moto S3, the
evaluations bucket found through the RAG API stack's ``EvaluationsBucket`` output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from ladder.evaluation import rundir
from ladder_core.evaluation import run as run_folder
from tests.ladder.conftest import REGION
from tests.ladder.evaluation.conftest import items, write_set
from tests.ladder.evaluation.crafted_run import three_arms

BUCKET = "ladder-evaluations"
WATCH_RUN = "20261201T060000Z-watch"
MANUAL_RUN = "20261115T090000Z-manual"


@pytest.fixture
def bucket(aws: None, stacks: Any) -> Any:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    return s3


def deployed(stacks: Any) -> None:
    stacks.deployed("LadderRagApi", {"EvaluationsBucket": BUCKET})


def verdict_for(run_dir: Path, set_sha256: str, **changes: Any) -> dict[str, Any]:
    return {
        "rung": "rag",
        "evalRun": {"dir": run_dir.as_posix(), "id": run_dir.name, "evalSetSha256": set_sha256, "items": 3},
        "targets": {"correctness": 0.8, "formatCompliance": 0.95},
        "expiresAt": "2027-03-01T00:00:00Z",
        **changes,
    }


def test_stage_uploads_the_verdicts_own_set_copy_and_the_verdict(
    tmp_path, monkeypatch, bucket, stacks, run_cli
) -> None:
    # Given a verdict whose run folder holds its copy of the set
    monkeypatch.chdir(tmp_path)
    run_dir = Path("eval-runs") / "run1"
    run_dir.mkdir(parents=True)
    copy = write_set(run_dir / rundir.SET_COPY, items(3))
    sha = hashlib.sha256(copy.read_bytes()).hexdigest()
    Path("ladder-verdict.json").write_text(json.dumps(verdict_for(run_dir, sha)))
    deployed(stacks)
    # When the watch's inputs are staged
    result = run_cli("eval", "stage", "--json")
    # Then the set copy and the verdict are in staged/watch/, and nothing is warned about
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "bucket": BUCKET,
        "set": {"key": "staged/watch/set.jsonl", "sha256": sha, "items": 3},
        "verdict": {"key": "staged/watch/verdict.json"},
        "warnings": [],
    }
    staged = bucket.get_object(Bucket=BUCKET, Key="staged/watch/set.jsonl")["Body"].read()
    assert staged == copy.read_bytes()
    verdict = json.loads(bucket.get_object(Bucket=BUCKET, Key="staged/watch/verdict.json")["Body"].read())
    assert verdict["targets"]["correctness"] == 0.8


def test_stage_warns_when_the_set_is_not_the_one_the_verdict_measured(
    tmp_path, monkeypatch, bucket, stacks, run_cli
) -> None:
    monkeypatch.chdir(tmp_path)
    other = write_set(tmp_path / "other.jsonl", items(5))
    Path("v.json").write_text(json.dumps(verdict_for(Path("eval-runs/run1"), "0" * 64)))
    deployed(stacks)
    result = run_cli("eval", "stage", "--verdict", "v.json", "--set", str(other))
    assert result.code == 0, result.err
    assert "is not the set the verdict was measured on" in result.err
    assert "Staged 5 items" in result.out


def test_stage_refuses_a_file_that_is_not_a_verdict(tmp_path, monkeypatch, bucket, stacks, run_cli) -> None:
    monkeypatch.chdir(tmp_path)
    Path("v.json").write_text(json.dumps({"rung": "rag"}))
    deployed(stacks)
    result = run_cli(
        "eval", "stage", "--verdict", "v.json", "--set", str(write_set(tmp_path / "s.jsonl", items(1)))
    )
    assert result.code == 1
    assert "targets.correctness" in result.err and "expiresAt" in result.err
    assert "Contents" not in bucket.list_objects_v2(Bucket=BUCKET)


def put_run(s3: Any, run_id: str, summary: dict[str, Any] | None) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"runs/{run_id}/run.json", Body=b"{}")
    if summary is not None:
        s3.put_object(Bucket=BUCKET, Key=f"runs/{run_id}/summary.json", Body=json.dumps(summary).encode())


def headline(correctness: float, cost: float) -> dict[str, Any]:
    return {"correctness": correctness, "formatCompliance": 0.97, "costPerQueryUsd": cost, "n": 200}


def test_runs_lists_newest_first_with_purpose_and_headline_numbers(bucket, stacks, run_cli) -> None:
    put_run(bucket, MANUAL_RUN, {"arms": {"rag": headline(0.8, 0.004)}})
    put_run(
        bucket,
        WATCH_RUN,
        {"arms": {"rag": headline(0.84, 0.0041), "rag@us.amazon.nova-pro-v1:0": headline(0.9, 0.012)}},
    )
    put_run(bucket, "20261202T060000Z-promotion-exec1", None)
    deployed(stacks)
    result = run_cli("eval", "runs", "--json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert [(r["runId"], r["purpose"]) for r in rows] == [
        ("20261202T060000Z-promotion-exec1", "promotion"),
        (WATCH_RUN, "watch"),
        (MANUAL_RUN, "manual"),
    ]
    assert rows[0]["summary"] is None
    assert rows[1]["arms"] == ["rag", "rag@us.amazon.nova-pro-v1:0"]
    assert rows[1]["summary"]["rag@us.amazon.nova-pro-v1:0"] == {
        "correctness": 0.9,
        "formatCompliance": 0.97,
        "costPerQueryUsd": 0.012,
    }


def test_runs_prints_one_line_per_arm_and_honours_the_limit(bucket, stacks, run_cli) -> None:
    put_run(bucket, MANUAL_RUN, {"arms": {"rag": headline(0.8, 0.004)}})
    put_run(bucket, WATCH_RUN, {"arms": {"rag": headline(0.84, 0.0041)}})
    deployed(stacks)
    result = run_cli("eval", "runs", "--limit", "1")
    assert result.code == 0, result.err
    assert WATCH_RUN in result.out and MANUAL_RUN not in result.out
    assert "correctness 84%  format 97%  cost/query $0.004100" in result.out


def upload_run(s3: Any, folder: Path, run_id: str) -> None:
    """The run folder's files under the names the evaluation function writes them by
    (``lambdas/evaluate/runs.py``: ``ladder_core.evaluation.run``'s file names under ``runs/<runId>/``)."""
    names = (run_folder.RUN, run_folder.SET_COPY, run_folder.RESPONSES, run_folder.SCORES, run_folder.SUMMARY)
    for name in names:
        key = f"{run_folder.RUNS_PREFIX}{run_id}/{name}"
        s3.put_object(Bucket=BUCKET, Key=key, Body=(folder / name).read_bytes())


def test_report_downloads_a_run_from_s3_and_renders_it_like_a_local_one(
    tmp_path, monkeypatch, bucket, stacks, run_cli
) -> None:
    # Given a run in the bucket, made with the same files a local run folder has
    local = tmp_path / "made"
    summary = three_arms(local)
    upload_run(bucket, local, WATCH_RUN)
    monkeypatch.chdir(tmp_path)
    # When it is reported from its S3 location
    result = run_cli("eval", "report", f"s3://{BUCKET}/runs/{WATCH_RUN}/", "--json")
    # Then the cached copy holds the report and the summary is the run's
    assert result.code == 0, result.err
    cached = tmp_path / "eval-runs" / "s3" / BUCKET / WATCH_RUN
    assert (cached / "report.html").is_file() and (cached / rundir.REPORT).is_file()
    assert json.loads(result.out)["arms"].keys() == summary["arms"].keys()
    assert json.loads(result.out)["arms"]["rag"]["correctness"] == summary["arms"]["rag"]["correctness"]
    # And a run without a fine-tuned arm has no imported-model.json to fetch
    assert not (cached / "imported-model.json").exists()


def test_report_fetches_the_imported_models_units_with_the_run(
    tmp_path, monkeypatch, bucket, stacks, run_cli
) -> None:
    """The evaluation function writes imported-model.json beside the summary when an imported model answered
    the finetuned arm; the downloaded folder keeps it, so every later report prices the arm with it."""
    local = tmp_path / "made"
    three_arms(local)
    upload_run(bucket, local, WATCH_RUN)
    units = {"modelId": "imported-model/abcdef123456", "customModelUnitsPerModelCopy": 1}
    bucket.put_object(Bucket=BUCKET, Key=f"runs/{WATCH_RUN}/imported-model.json", Body=json.dumps(units))
    monkeypatch.chdir(tmp_path)
    result = run_cli("eval", "report", f"s3://{BUCKET}/runs/{WATCH_RUN}/", "--json")
    assert result.code == 0, result.err
    cached = tmp_path / "eval-runs" / "s3" / BUCKET / WATCH_RUN / "imported-model.json"
    assert json.loads(cached.read_text(encoding="utf-8")) == units


def test_report_finds_a_run_by_id_in_the_deployments_bucket(
    tmp_path, monkeypatch, bucket, stacks, run_cli
) -> None:
    three_arms(tmp_path / "made")
    upload_run(bucket, tmp_path / "made", MANUAL_RUN)
    monkeypatch.chdir(tmp_path)
    deployed(stacks)
    result = run_cli("eval", "report", "--run-id", MANUAL_RUN)
    assert result.code == 0, result.err
    assert (tmp_path / "eval-runs" / "s3" / BUCKET / MANUAL_RUN / "report.html").is_file()


@pytest.mark.parametrize(
    ("argv", "code", "fragment"),
    [
        (("s3://b/elsewhere/x/",), 1, "expected s3://BUCKET/runs/<runId>/"),
        ((), 2, "give one of RUN_DIR"),
        ((f"s3://{BUCKET}/runs/{WATCH_RUN}/", "--run-id", WATCH_RUN), 2, "give one of RUN_DIR"),
    ],
)
def test_report_refuses_unclear_locations(bucket, run_cli, argv, code, fragment) -> None:
    result = run_cli("eval", "report", *argv)
    assert result.code == code
    assert fragment in result.err


def test_report_of_a_prefix_that_is_no_run_says_so(tmp_path, monkeypatch, bucket, run_cli) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("eval", "report", f"s3://{BUCKET}/runs/nothing-here/")
    assert result.code == 2
    assert "holds no run.json" in result.err
