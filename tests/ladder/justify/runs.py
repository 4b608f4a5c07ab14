"""Crafted evaluation run folders in the `ladder eval` contract (summary.json + scores.jsonl)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

MODEL = "us.amazon.nova-lite-v1:0"
SET_SHA256 = "c0ffee" * 10 + "abcd"
"""The evaluation set's sha256 every crafted run records."""

Item = tuple[bool | None, bool | None]
"""(correct, formatOk) of one item in one arm."""


def items(correct: int, total: int, *, format_ok: int | None = None) -> list[Item]:
    """``total`` items, the first ``correct`` correct; the first ``format_ok`` pass a format check
    (None: no item has a format check)."""
    return [(n < correct, None if format_ok is None else n < format_ok) for n in range(total)]


def manifest(*, eval_set_sha256: str = SET_SHA256, exact: int = 0, near: int = 0) -> dict[str, Any]:
    """An examples manifest (``ladder examples upload``) as a run records it in ``run.examples``; clean
    against the crafted runs' set by default."""
    ids = [f"item-{n:03d}" for n in range(exact + near)]
    return {
        "sha256": "e" * 64,
        "count": 200,
        "createdAt": "2026-11-29T09:00:00Z",
        "embeddingModelId": "amazon.titan-embed-text-v2:0",
        "overlap": {"evalSetSha256": eval_set_sha256, "exact": exact, "near": near, "ids": ids},
    }


def write_run(
    folder: Path,
    arms: dict[str, Sequence[Item]],
    *,
    cost_per_query: dict[str, float] | None = None,
    source_hit_rate: float = 0.55,
    mrr: float = 0.41,
    errors: dict[str, int] | None = None,
    error_cause: dict[str, Any] | None = None,
    items_in_set: int | None = None,
    questions: dict[int, str] | None = None,
    examples: dict[str, Any] | None = None,
    examples_in: str = "summary",
) -> Path:
    """A run folder whose summary rates are the means of the crafted per-item scores.

        ``errors`` adds error lines per arm (counted in ``n``, as the eval counts them), all of
        ``error_cause`` (``httpStatus``, ``code``, ``message``); ``items_in_set`` makes a set larger than the
        answers (an unfinished run). ``evalset.jsonl`` holds one item per answered item (``item-NNN``), with
        the question ``questions[N]`` where given, else a crafted one. ``examples`` is the manifest recorded
    as ``run.examples`` in ``summary.json`` (``examples_in="summary"``) or only in ``run.json`` (``"run"``); a
    run with a ``fewshot`` arm and no ``examples`` gets a clean :func:`manifest`, as ``ladder eval run``
    records one."""
    if examples is None and "fewshot" in arms:
        examples = manifest()
    folder.mkdir(parents=True, exist_ok=True)
    longest = max((len(scored) for scored in arms.values()), default=0)
    questions = questions or {}
    (folder / "evalset.jsonl").write_text(
        "".join(
            json.dumps({"id": f"item-{n:03d}", "question": questions.get(n, f"Crafted question {n}?")}) + "\n"
            for n in range(max(longest, 1))
        )
    )
    lines: list[dict[str, Any]] = []
    summary_arms: dict[str, Any] = {}
    for arm, scored in arms.items():
        for n, (correct, format_ok) in enumerate(scored):
            lines.append(score(f"item-{n:03d}", arm, correct=correct, format_ok=format_ok))
        for n in range((errors or {}).get(arm, 0)):
            lines.append(score(f"error-{n:03d}", arm, status="error", correct=None, format_ok=None))
        failed = (errors or {}).get(arm, 0)
        summary_arms[arm] = {
            "n": len(scored) + failed,
            "errors": failed,
            "correctness": _mean([c for c, _ in scored]),
            "mustIncludeRecall": None,
            "tokenF1": None,
            "refusalAccuracy": None,
            "sourceHitRate": None if arm == "prompt" else source_hit_rate,
            "mrr": None if arm == "prompt" else mrr,
            "formatCompliance": _mean([f for _, f in scored]),
            "citationValidity": None,
            "judge": None,
            "latencyMs": {"p50": 900, "p95": 2100},
            "costPerQueryUsd": (cost_per_query or {}).get(arm, 0.0004),
            "modelId": MODEL if scored else None,
            "errorCauses": [{**(error_cause or {}), "count": failed}] if failed else [],
        }
    total = items_in_set or max((arm["n"] for arm in summary_arms.values()), default=0)
    summary = {
        "run": {
            "id": folder.name,
            "createdAt": "2026-11-30T09:00:00Z",
            "url": "https://example.execute-api.us-east-1.amazonaws.com/prod/ask",
            "generationModelId": MODEL if any(arms.values()) else None,
            "evalSet": {"path": "sample_corpus/eval.jsonl", "sha256": SET_SHA256, "items": total},
            **({"examples": examples} if examples_in == "summary" and examples else {}),
        },
        "arms": summary_arms,
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2))
    if examples_in == "run":
        (folder / "run.json").write_text(json.dumps({"id": folder.name, "examples": examples}))
    (folder / "scores.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return folder


def score(
    item: str, arm: str, *, correct: bool | None, format_ok: bool | None, status: str = "ok"
) -> dict[str, Any]:
    retrieval = arm != "prompt"
    return {
        "id": item,
        "arm": arm,
        "status": status,
        "correct": correct,
        "mustIncludeRecall": None,
        "tokenF1": None,
        "refusal": False,
        "refusalCorrect": None,
        "sourceHit": (correct is True) if retrieval else None,
        "reciprocalRank": (1.0 if correct else 0.0) if retrieval else None,
        "formatOk": format_ok,
        "citationsValid": None,
        "judge": None,
        "latencyMs": 900,
        "inputTokens": 1200,
        "outputTokens": 80,
        "costUsd": 0.0004,
    }


def _mean(values: Sequence[bool | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
