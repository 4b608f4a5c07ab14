"""Evaluation runs kept in AWS: staging the drift watch's set and verdict, listing the runs, fetching one.

The evaluations bucket (the RAG API stack's ``EvaluationsBucket`` output) holds ``staged/watch/`` (what the
scheduled drift watch measures and holds the arms to) and ``runs/<runId>/`` (one folder per run, the files
of a local run folder). Every function takes an S3 client, so a test passes a moto one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ladder_core import drift
from ladder_core.evaluation.imported import IMPORTED_MODEL_FILE
from ladder_core.evaluation.run import PURPOSES, RUNS_PREFIX
from ladder_core.metrics import CORRECTNESS, COST_PER_QUERY, FORMAT_COMPLIANCE

from ..errors import LadderError, SetupError
from . import rundir
from .evalset import load_set

RUN_FILES = (
    rundir.RUN,
    rundir.SET_COPY,
    rundir.RESPONSES,
    rundir.SCORES,
    rundir.SUMMARY,
    IMPORTED_MODEL_FILE,
)
"""A run folder's files in S3; imported-model.json only where a fine-tuned arm was answered."""
CACHE_ROOT = rundir.DEFAULT_ROOT / "s3"
"""Where ``ladder eval report s3://...`` keeps the runs it downloads: ``eval-runs/s3/<bucket>/<runId>/``."""


@dataclass(frozen=True)
class Staged:
    """What ``ladder eval stage`` uploaded."""

    bucket: str
    set_key: str
    set_sha256: str
    items: int
    verdict_key: str
    warnings: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "set": {"key": self.set_key, "sha256": self.set_sha256, "items": self.items},
            "verdict": {"key": self.verdict_key},
            "warnings": list(self.warnings),
        }


def read_verdict(path: Path) -> dict[str, Any]:
    """The verdict file, checked for what the watch reads (``targets.correctness``, ``expiresAt``)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise SetupError(f"cannot read verdict {path}: {err.strerror or err}") from None
    except ValueError as err:
        raise LadderError(
            f"{path} is not JSON ({err}); expected a ladder-verdict.json from ladder justify"
        ) from None
    target = (
        (document.get("targets") or {}).get(CORRECTNESS.summary_key) if isinstance(document, dict) else None
    )
    if not isinstance(target, int | float) or drift.parse_utc(document.get("expiresAt")) is None:
        raise LadderError(
            f"{path} is not a verdict the drift watch can use: it needs targets.correctness (a number) and "
            "expiresAt (an ISO-8601 time with an offset), as ladder justify writes them"
        )
    return document


def default_set(verdict: dict[str, Any], verdict_path: Path) -> Path:
    """The copy of the set in the verdict's run folder (``evalRun.dir``, relative to the working folder or
    to the verdict)."""
    folder = (verdict.get("evalRun") or {}).get("dir")
    if not isinstance(folder, str) or not folder:
        raise LadderError(f"{verdict_path} names no evalRun.dir: pass the set with --set FILE")
    for base in (Path.cwd(), verdict_path.resolve().parent):
        candidate = base / folder / rundir.SET_COPY
        if candidate.is_file():
            return candidate
    raise LadderError(
        f"the verdict's run folder {folder} has no {rundir.SET_COPY} here: pass the set with --set FILE"
    )


def stage(s3: Any, bucket: str, *, verdict_path: Path, set_path: Path | None) -> Staged:
    """Upload the watch's set and verdict to ``staged/watch/``; the set is checked first, and a set other
    than the one the verdict was measured on is staged with a warning (the targets still apply)."""
    verdict = read_verdict(verdict_path)
    path = set_path or default_set(verdict, verdict_path)
    evalset = load_set(path)
    warnings = []
    measured = (verdict.get("evalRun") or {}).get("evalSetSha256")
    if measured and measured != evalset.sha256:
        warnings.append(
            f"{path} is not the set the verdict was measured on (sha256 {evalset.sha256[:12]} vs "
            f"{str(measured)[:12]}): the watch compares new numbers with targets made on another set"
        )
    s3.put_object(
        Bucket=bucket, Key=drift.STAGED_SET_KEY, Body=path.read_bytes(), ContentType="application/x-ndjson"
    )
    s3.put_object(
        Bucket=bucket,
        Key=drift.STAGED_VERDICT_KEY,
        Body=json.dumps(verdict, indent=2).encode("utf-8"),
        ContentType="application/json",
    )
    return Staged(
        bucket,
        drift.STAGED_SET_KEY,
        evalset.sha256,
        len(evalset.items),
        drift.STAGED_VERDICT_KEY,
        tuple(warnings),
    )


def purpose_of(run_id: str) -> str | None:
    """``watch`` of ``20261201T060000Z-watch``; None for an id not of the form ``<time>-<purpose>[-...]``."""
    parts = run_id.split("-", 2)
    return parts[1] if len(parts) >= 2 and parts[1] in PURPOSES else None


def list_runs(s3: Any, bucket: str, *, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` runs under ``runs/`` (run ids start with their UTC time, so they sort by it):
    ``runId``, ``purpose``, ``arms`` and per arm the headline ``correctness``, ``formatCompliance`` and
    ``costPerQueryUsd`` of its ``summary.json`` (``summary`` null while the run has none)."""
    run_ids: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=RUNS_PREFIX, Delimiter="/"
    ):
        run_ids += [p["Prefix"][len(RUNS_PREFIX) : -1] for p in page.get("CommonPrefixes", [])]
    rows = []
    for run_id in sorted(run_ids, reverse=True)[:limit]:
        summary = _read_json(s3, bucket, f"{RUNS_PREFIX}{run_id}/{rundir.SUMMARY}")
        arms = (summary or {}).get("arms") or {}
        rows.append(
            {
                "runId": run_id,
                "purpose": purpose_of(run_id),
                "arms": list(arms),
                "summary": None
                if summary is None
                else {
                    arm: {
                        key: values.get(key)
                        for key in (
                            CORRECTNESS.summary_key,
                            FORMAT_COMPLIANCE.summary_key,
                            COST_PER_QUERY.summary_key,
                        )
                    }
                    for arm, values in arms.items()
                },
            }
        )
    return rows


def parse_location(location: str) -> tuple[str, str]:
    """``(bucket, runId)`` of ``s3://BUCKET/runs/<runId>/``; a LadderError naming the accepted form."""
    accepted = "expected s3://BUCKET/runs/<runId>/ (ladder eval runs lists them)"
    if not location.startswith("s3://"):
        raise LadderError(f"{location} is not an S3 location; {accepted}")
    bucket, _, key = location[len("s3://") :].partition("/")
    parts = [p for p in key.split("/") if p]
    if not bucket or len(parts) != 2 or f"{parts[0]}/" != RUNS_PREFIX:
        raise LadderError(f"{location}: {accepted}")
    return bucket, parts[1]


def download_run(s3: Any, bucket: str, run_id: str, root: Path = CACHE_ROOT) -> Path:
    """Copy the run's files to ``root/<bucket>/<runId>/``, so the report
    reads it as a local run folder; SetupError when the run has no ``run.json``."""
    folder = root / bucket / run_id
    folder.mkdir(parents=True, exist_ok=True)
    for name in RUN_FILES:
        key = f"{RUNS_PREFIX}{run_id}/{name}"
        target = folder / name
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise
            if name == rundir.RUN:
                raise SetupError(
                    f"s3://{bucket}/{RUNS_PREFIX}{run_id}/ holds no {rundir.RUN}: not a run "
                    "(ladder eval runs lists them)"
                ) from None
            continue
        target.write_bytes(body)
    return folder


def _read_json(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None
