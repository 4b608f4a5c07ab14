"""Rewriting a local run folder's ``scores.jsonl`` and ``summary.json`` (the rules are
``ladder_core.evaluation.summary``'s), with the LLM judge's scores when its jobs have finished."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ladder_core.evaluation.prices import PriceTable
from ladder_core.evaluation.summary import score_rows, scores_text, summarise, summary_text
from ladder_core.evaluation.uncertainty import repeat_of

from ..pricing import imported
from . import rundir
from .judge import for_answer
from .runner import read_answers


def read_judge_scores(folder: Path) -> dict[tuple[str, str], dict[str, float]]:
    """``judge-scores.jsonl`` (written when judge jobs finish): (id, arm) -> {metric: score}."""
    path = folder / rundir.JUDGE_SCORES
    scores: dict[tuple[str, str], dict[str, float]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                scores.setdefault((entry["id"], entry["arm"]), {}).update(entry["scores"])
    return scores


def write_scores(folder: Path, prices: PriceTable) -> dict[str, Any]:
    """Rewrite ``scores.jsonl`` and ``summary.json`` from the folder's responses; the summary."""
    info = rundir.load_info(folder)
    evalset = rundir.load_run_set(folder)
    records = read_answers(folder / rundir.RESPONSES)
    prices = imported.with_recorded_units(prices, folder)
    rows = score_rows(evalset, records, info.arms, prices)
    judge = read_judge_scores(folder)
    for row in rows:
        # The judge scored repeat 0, the answer it was given.
        if repeat_of(row) == 0 and (row["id"], row["arm"]) in judge:
            row["judge"] = for_answer(judge[(row["id"], row["arm"])], refusal=row["refusal"])
    (folder / rundir.SCORES).write_text(scores_text(rows), encoding="utf-8")
    summary = summarise(info, rows, records, prices)
    (folder / rundir.SUMMARY).write_text(summary_text(summary), encoding="utf-8")
    return summary
