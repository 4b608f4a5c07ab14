"""Reads an evaluation run folder (``ladder eval run``): ``summary.json`` and ``scores.jsonl``.

A score line may carry ``repeat`` (0-based, absent = 0: ``ladder eval run --repeat N``); the rules see one
value per item, the mean of its answered repeats (:meth:`EvalRun.arm_items`).

Only what ``ladder justify`` decides on is checked; the files' full contract is the eval's. A missing
folder or file is missing setup (exit 2: run the evaluation first); a file that is there but does not have
the contract's shape is unusable input (exit 1), and the message names the file, the line and the field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder_core.evaluation.run import SET_COPY
from ladder_core.metrics import CORRECTNESS, COST_PER_QUERY, FORMAT_COMPLIANCE, MRR, SOURCE_HIT_RATE

from .. import hints
from ..errors import LadderError, SetupError

SUMMARY_FILE = "summary.json"
SCORES_FILE = "scores.jsonl"
RUN_FILE = "run.json"
"""What the run was; read only for ``examples`` when the summary lacks it."""
"""The run's copy of its evaluation set (the questions the contamination check compares)."""
STATUSES = ("ok", "error")
ARM_METRICS = (CORRECTNESS, FORMAT_COMPLIANCE, SOURCE_HIT_RATE, MRR, COST_PER_QUERY)
"""The summary's per-arm metrics the rules read (checked: a number >= 0, at most 1 on a bounded scale)."""
PER_ITEM_BOOLEANS = tuple(metric.score_key for metric in (CORRECTNESS, FORMAT_COMPLIANCE, SOURCE_HIT_RATE))


class UnusableRunError(LadderError):
    """The run folder's files exist but cannot be used (exit 1)."""


@dataclass(frozen=True)
class ArmSummary:
    """One arm's rates from ``summary.json`` (None where no item had the metric)."""

    name: str
    n: int
    errors: int
    correctness: float | None
    format_compliance: float | None
    source_hit_rate: float | None
    mrr: float | None
    cost_per_query_usd: float | None
    error_causes: tuple[dict[str, Any], ...] = ()
    """``errorCauses`` of the summary (absent in runs made before it existed)."""
    cost_breakdown_usd: Mapping[str, float | None] | None = None
    """``costBreakdownUsd`` of the summary: USD per query by component (None in runs made before it)."""


@dataclass(frozen=True)
class Score:
    """One item x arm line of ``scores.jsonl`` (the fields the verdict uses)."""

    id: str
    arm: str
    ok: bool
    correct: bool | None
    format_ok: bool | None
    source_hit: bool | None
    reciprocal_rank: float | None
    repeat: int = 0


@dataclass(frozen=True)
class ItemScore:
    """One item of one arm: each per-item metric as the mean of its answered repeats (1.0/0.0 without
    repeats), None where no answered repeat has it."""

    id: str
    correct: float | None
    format_ok: float | None

    def value(self, key: str) -> float | None:
        """The metric whose ``scores.jsonl`` key is ``key`` (``correct`` or ``formatOk``)."""
        return self.correct if key == CORRECTNESS.score_key else self.format_ok


@dataclass(frozen=True)
class EvalRun:
    """An evaluation run: where it is, what it measured, the summary per arm and every score."""

    dir: Path
    id: str
    generation_model_id: str | None
    """None when no answer came back (every request ended in an error)."""
    eval_set_sha256: str
    eval_set_items: int
    arms: Mapping[str, ArmSummary]
    raw_arms: Mapping[str, Any]
    scores: tuple[Score, ...]
    examples: Mapping[str, Any] | None = None
    """The examples manifest the run's ``fewshot`` arm was measured with (``run.examples`` of the summary,
    else of ``run.json``); None when the run recorded none (runs made before the few-shot rung)."""

    def arm_items(self, arm: str) -> dict[str, ItemScore]:
        """The arm's answered items (at least one ``ok`` repeat), repeats averaged, in item id order."""
        answered: dict[str, list[Score]] = {}
        for score in self.scores:
            if score.arm == arm and score.ok:
                answered.setdefault(score.id, []).append(score)
        return {
            item: ItemScore(
                id=item,
                correct=_mean([s.correct for s in repeats]),
                format_ok=_mean([s.format_ok for s in repeats]),
            )
            for item, repeats in sorted(answered.items())
        }

    @property
    def set_copy(self) -> Path:
        return self.dir / SET_COPY


def read_run(folder: Path) -> EvalRun:
    """The run in ``folder``; SetupError when it or a file is missing, UnusableRunError when malformed."""
    if not folder.is_dir():
        raise SetupError(
            f"{folder}: no such run folder (measure first: "
            f"{hints.command('eval', 'run', '--set', 'EVAL.jsonl')})"
        )
    summary_path, scores_path = folder / SUMMARY_FILE, folder / SCORES_FILE
    for path in (summary_path, scores_path):
        if not path.is_file():
            raise SetupError(f"{path}: missing; is {folder} a finished `ladder eval run` folder?")
    summary = _read_summary(summary_path)
    run = summary["run"]
    scores = _read_scores(scores_path)
    return EvalRun(
        dir=folder,
        id=run["id"],
        generation_model_id=run["generationModelId"],
        eval_set_sha256=run["evalSet"]["sha256"],
        eval_set_items=run["evalSet"]["items"],
        arms={name: _arm(summary_path, name, values) for name, values in summary["arms"].items()},
        raw_arms=summary["arms"],
        scores=scores,
        examples=_examples(folder, run),
    )


def _examples(folder: Path, run: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``run.examples`` of the summary, else of ``run.json``; a value that is not an object is None (the
    rules then say the fewshot arm recorded no manifest)."""
    examples = run.get("examples")
    if examples is None and (folder / RUN_FILE).is_file():
        try:
            examples = json.loads((folder / RUN_FILE).read_text(encoding="utf-8")).get("examples")
        except (OSError, ValueError, AttributeError):
            examples = None
    return examples if isinstance(examples, Mapping) else None


def _read_summary(path: Path) -> dict[str, Any]:
    document = _load_json(path, path.read_bytes())
    problems = []
    run = document.get("run") if isinstance(document, dict) else None
    if not isinstance(run, dict):
        raise UnusableRunError(f"{path}: expected an object with 'run' and 'arms'")
    if not isinstance(run.get("id"), str) or not run["id"]:
        problems.append("run.id must be a non-empty string")
    model = run.get("generationModelId")
    if model is not None and (not isinstance(model, str) or not model):
        problems.append("run.generationModelId must be a non-empty string or null (no answer came back)")
    eval_set = run.get("evalSet")
    if not isinstance(eval_set, dict):
        problems.append("run.evalSet must be an object with sha256 and items")
    else:
        if not isinstance(eval_set.get("sha256"), str):
            problems.append("run.evalSet.sha256 must be a string")
        if not _is_count(eval_set.get("items")):
            problems.append("run.evalSet.items must be a whole number >= 0")
    if not isinstance(document.get("arms"), dict):
        problems.append("arms must be an object of arm name -> metrics")
    if problems:
        raise UnusableRunError(f"{path}: " + "; ".join(problems))
    return document


def _arm(path: Path, name: str, values: Any) -> ArmSummary:
    if not isinstance(values, dict):
        raise UnusableRunError(f"{path}: arms.{name} must be an object")
    problems = [
        f"arms.{name}.{key} must be a whole number >= 0"
        for key in ("n", "errors")
        if not _is_count(values.get(key))
    ]
    for metric in ARM_METRICS:
        key, value = metric.summary_key, values.get(metric.summary_key)
        if value is not None and not (_is_number(value) and value >= 0):
            problems.append(f"arms.{name}.{key} must be a number >= 0 or null, got {value!r}")
    for metric in ARM_METRICS:
        key, value = metric.summary_key, values.get(metric.summary_key)
        if metric.scale.bounded and value is not None and _is_number(value) and value > 1:
            problems.append(f"arms.{name}.{key} is a rate from 0 to 1, got {value!r}")
    causes = values.get("errorCauses") or []
    if not isinstance(causes, list):
        problems.append(f"arms.{name}.errorCauses must be a list")
    breakdown = values.get("costBreakdownUsd")
    if breakdown is not None and not (
        isinstance(breakdown, dict)
        and all(value is None or (_is_number(value) and value >= 0) for value in breakdown.values())
    ):
        problems.append(f"arms.{name}.costBreakdownUsd must be an object of component -> USD >= 0 or null")
    if problems:
        raise UnusableRunError(f"{path}: " + "; ".join(problems))
    return ArmSummary(
        name=name,
        n=values["n"],
        errors=values["errors"],
        correctness=values.get(CORRECTNESS.summary_key),
        format_compliance=values.get(FORMAT_COMPLIANCE.summary_key),
        source_hit_rate=values.get(SOURCE_HIT_RATE.summary_key),
        mrr=values.get(MRR.summary_key),
        cost_per_query_usd=values.get(COST_PER_QUERY.summary_key),
        error_causes=tuple(cause for cause in causes if isinstance(cause, dict)),
        cost_breakdown_usd=breakdown,
    )


def _read_scores(path: Path) -> tuple[Score, ...]:
    scores: list[Score] = []
    seen: set[tuple[str, str, int]] = set()
    problems: list[str] = []
    for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError) as err:
            problems.append(f"line {number}: not valid JSON ({err})")
            continue
        problem = _score_problem(line)
        if problem:
            problems.append(f"line {number}: {problem}")
            continue
        repeat = line.get("repeat", 0)
        key = (line["id"], line["arm"], repeat)
        if key in seen:
            again = f" (repeat {repeat})" if repeat else ""
            problems.append(f"line {number}: item {line['id']!r} of arm {line['arm']!r}{again} appears twice")
            continue
        seen.add(key)
        scores.append(
            Score(
                id=line["id"],
                arm=line["arm"],
                ok=line["status"] == "ok",
                correct=line[CORRECTNESS.score_key],
                format_ok=line[FORMAT_COMPLIANCE.score_key],
                source_hit=line[SOURCE_HIT_RATE.score_key],
                reciprocal_rank=line[MRR.score_key],
                repeat=repeat,
            )
        )
    if problems:
        shown = problems[:10] + ([f"... and {len(problems) - 10} more"] if len(problems) > 10 else [])
        raise UnusableRunError(f"{path}: {len(problems)} unusable lines:\n  " + "\n  ".join(shown))
    return tuple(scores)


def _score_problem(line: Any) -> str | None:
    if not isinstance(line, dict):
        return "expected a JSON object"
    for key in ("id", "arm"):
        if not isinstance(line.get(key), str) or not line[key]:
            return f"{key} must be a non-empty string"
    if line.get("status") not in STATUSES:
        return f"status must be one of {', '.join(STATUSES)}, got {line.get('status')!r}"
    for key in PER_ITEM_BOOLEANS:
        if key not in line:
            return f"missing key {key!r}"
        if line[key] is not None and not isinstance(line[key], bool):
            return f"{key} must be true, false or null, got {line[key]!r}"
    repeat = line.get("repeat", 0)
    if not _is_count(repeat):
        return f"repeat must be a whole number >= 0 (0-based), got {repeat!r}"
    rank = line.get(MRR.score_key, "missing")
    if rank is not None and not (_is_number(rank) and 0 <= rank <= 1):
        return f"{MRR.score_key} must be a number from 0 to 1 or null, got {rank!r}"
    return None


def _mean(values: list[bool | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _load_json(path: Path, raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as err:
        raise UnusableRunError(f"{path}: not valid JSON ({err})") from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
