"""``ladder eval run`` and the few-shot rung: the ``fewshot`` arm, its place in the default arms, and the
examples manifest a run records (``run.examples`` of ``run.json`` and ``summary.json``).

S3 is moto (the documents bucket holding ``examples/manifest.json``), CloudFormation the suite's stubbed
stacks, the API the loopback server, which answers any mode."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from ladder.evaluation import rundir
from ladder.evaluation.evalset import load_set
from ladder.justify.runs import read_run
from ladder_core.examples import MANIFEST_KEY

from ..conftest import REGION
from .conftest import write_set
from .loopback import LoopbackApi, serve

BUCKET = "ladder-documents"
ITEMS = [
    {"id": "leave", "question": "How much leave?", "mustInclude": ["27 days"]},
    {"id": "short", "question": "One word only: how much leave?", "format": {"maxWords": 1}},
]
KNOWLEDGE = {
    "DocumentsBucketName": BUCKET,
    "ExamplesIndexArn": f"arn:aws:s3vectors:{REGION}:123456789012:bucket/ladder-examples/index/examples",
    "ExamplesIndexName": "examples",
    "ExamplesVectorBucketName": "ladder-examples",
    "EmbeddingModelId": "amazon.titan-embed-text-v2:0",
    "EmbeddingDimensions": "256",
}


def answer(question: str, mode: str) -> dict[str, Any]:
    return {
        "answer": "27 days" if mode == "fewshot" else "You get 27 days of leave [1].",
        "citations": [{"sourceUri": "s3://b/docs/handbook/leave.md", "excerpt": "27 days"}],
        "mode": mode,
        "modelId": "us.amazon.nova-lite-v1:0",
        "usage": {"inputTokens": 3000 if mode == "fewshot" else 1000, "outputTokens": 100},
    }


@pytest.fixture
def api() -> Iterator[LoopbackApi]:
    with serve(LoopbackApi(answer=answer)) as loop:
        yield loop


@pytest.fixture
def documents(aws: None) -> Any:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    return s3


def upload_manifest(s3: Any, evalset: Path, *, sha256: str = "a" * 64, exact: int = 0) -> dict[str, Any]:
    """The manifest `ladder examples upload FILE --eval-set SET` writes (ladder_core/examples.py)."""
    manifest = {
        "sha256": sha256,
        "count": 200,
        "createdAt": "2026-12-01T09:00:00Z",
        "embeddingModelId": "amazon.titan-embed-text-v2:0",
        "embeddingDimensions": 256,
        "indexArn": KNOWLEDGE["ExamplesIndexArn"],
        "overlap": {
            "evalSetSha256": load_set(evalset).sha256,
            "exact": exact,
            "near": 0,
            "ids": ["leave"] if exact else [],
        },
    }
    s3.put_object(Bucket=BUCKET, Key=MANIFEST_KEY, Body=json.dumps(manifest).encode())
    return manifest


def recorded(manifest: dict[str, Any]) -> dict[str, Any]:
    return {key: manifest[key] for key in ("sha256", "count", "createdAt", "embeddingModelId", "overlap")}


def test_the_fewshot_arm_is_sent_and_the_run_records_the_manifest_it_was_measured_with(
    run_cli: Any, stacks: Any, api: LoopbackApi, documents: Any, tmp_path: Path
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    manifest = upload_manifest(documents, evalset)
    stacks.deployed("LadderKnowledge", KNOWLEDGE)
    out = tmp_path / "run"

    result = run_cli(
        "eval",
        "run",
        "--set",
        str(evalset),
        "--url",
        api.url,
        "--arms",
        "prompt,rag,fewshot",
        "--out",
        str(out),
    )

    assert result.code == 0, result.err
    assert sorted(mode for _, mode in api.received) == ["fewshot"] * 2 + ["prompt"] * 2 + ["rag"] * 2
    run_json = json.loads((out / rundir.RUN).read_text())
    summary = json.loads((out / rundir.SUMMARY).read_text())
    assert run_json["arms"] == ["prompt", "rag", "fewshot"]
    # The index ARN names the account; the run folder travels, so it keeps only which set, checked how.
    assert run_json["examples"] == summary["run"]["examples"] == recorded(manifest)
    assert list(summary["arms"]) == ["prompt", "rag", "fewshot"]
    # The examples lengthen the prompt, and the arm's cost shows it.
    fewshot, rag = summary["arms"]["fewshot"], summary["arms"]["rag"]
    assert fewshot["costBreakdownUsd"]["generation"] > rag["costBreakdownUsd"]["generation"]
    # What ladder justify reads back is the same record.
    assert read_run(out).examples == recorded(manifest)


def test_the_default_arms_include_fewshot_when_examples_are_uploaded(
    run_cli: Any, stacks: Any, api: LoopbackApi, documents: Any, tmp_path: Path
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS[:1])
    upload_manifest(documents, evalset)
    stacks.deployed("LadderRagApi", {"AskUrl": api.url})
    stacks.deployed("LadderKnowledge", KNOWLEDGE)
    stacks.missing("LadderFineTune")

    result = run_cli("eval", "run", "--set", str(evalset), "--out", str(tmp_path / "run"))

    assert result.code == 0, result.err
    # The arms are answered concurrently; the run records them in their order
    assert sorted(mode for _, mode in api.received) == ["fewshot", "prompt", "rag"]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["arms"] == ["prompt", "rag", "fewshot"]
    assert "Warning" not in result.err


def test_without_uploaded_examples_the_default_arms_leave_fewshot_out_and_record_none(
    run_cli: Any, stacks: Any, api: LoopbackApi, documents: Any, tmp_path: Path
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS[:1])
    stacks.deployed("LadderRagApi", {"AskUrl": api.url})
    stacks.deployed("LadderKnowledge", KNOWLEDGE)
    stacks.missing("LadderFineTune")

    result = run_cli("eval", "run", "--set", str(evalset), "--out", str(tmp_path / "run"))

    assert result.code == 0, result.err
    assert sorted(mode for _, mode in api.received) == ["prompt", "rag"]
    assert json.loads((tmp_path / "run" / rundir.SUMMARY).read_text())["run"]["examples"] is None


def test_asking_for_fewshot_without_uploaded_examples_is_refused_before_sending(
    run_cli: Any, stacks: Any, api: LoopbackApi, documents: Any, tmp_path: Path
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    stacks.deployed("LadderKnowledge", KNOWLEDGE)

    result = run_cli("eval", "run", "--set", str(evalset), "--url", api.url, "--arms", "rag,fewshot")

    assert result.code == 2
    assert (
        f"--arms names fewshot, but no examples were uploaded (no s3://{BUCKET}/{MANIFEST_KEY})" in result.err
    )
    assert "ladder examples upload FILE --eval-set SET" in result.err
    assert api.received == []


def test_examples_checked_against_another_set_are_measured_with_a_warning(
    run_cli: Any, stacks: Any, api: LoopbackApi, documents: Any, tmp_path: Path
) -> None:
    other = write_set(tmp_path / "other.jsonl", [{"id": "x", "question": "Another question?"}])
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    upload_manifest(documents, other)
    stacks.deployed("LadderKnowledge", KNOWLEDGE)

    result = run_cli("eval", "run", "--set", str(evalset), "--url", api.url, "--arms", "rag,fewshot")

    assert result.code == 0, result.err
    assert "Warning: its examples were checked against another evaluation set" in result.err
    assert "`ladder justify` will not count the fewshot arm" in result.err


def test_a_run_is_not_continued_after_the_examples_changed(
    run_cli: Any, stacks: Any, api: LoopbackApi, documents: Any, tmp_path: Path
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    upload_manifest(documents, evalset, sha256="a" * 64)
    stacks.deployed("LadderKnowledge", KNOWLEDGE)
    out = tmp_path / "run"
    arms = ("--url", api.url, "--arms", "rag,fewshot", "--out", str(out))
    assert run_cli("eval", "run", "--set", str(evalset), *arms).code == 0
    upload_manifest(documents, evalset, sha256="b" * 64)
    stacks.deployed("LadderKnowledge", KNOWLEDGE)

    result = run_cli("eval", "run", "--set", str(evalset), *arms)

    assert result.code == 2
    assert (
        "the examples store now holds another set of examples (bbbbbbbbbbbb) than the run's fewshot arm was "
        "measured with (aaaaaaaaaaaa)" in result.err
    )


def test_an_unknown_arm_is_refused_naming_fewshot_among_those_accepted(
    run_cli: Any, api: LoopbackApi, tmp_path: Path
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)

    result = run_cli("eval", "run", "--set", str(evalset), "--url", api.url, "--arms", "rag,fewshots")

    assert result.code == 2
    assert "MODE one of rag, prompt, finetuned, fewshot" in result.err
    assert api.received == []
