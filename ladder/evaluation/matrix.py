"""The item matrix of ``report.html``: a row per item of the set, a cell per arm with the answer, its
citations, each metric's value and, when the answer failed, which rule failed, in words.

A cell *fails* when its answer ended in an error or any pass/fail metric is false; it *passes* when it was
answered and none is; a pair not answered yet does neither. Which metrics are pass/fail is read from the
scores themselves (true/false per item: correctness, refusal, source hit, format, citations), the others
(recall, token F1, MRR) are shown as numbers. The metrics come from the registry (``ladder_core.metrics``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ladder_core import metrics
from ladder_core.evaluation.evalset import EvalSet
from ladder_core.scoring import Item, cited_numbers

ERROR, OK, MISSING = "error", "ok", "missing"
EXCERPT_CHARS = 500
"""A citation's text in the page (the API's excerpt is at most this long already; a full passage is cut)."""
DECLINED = "declined on an answerable item"
ANSWERED_UNANSWERABLE = "answered an item the documents do not answer (it should have declined)"


def pass_fail_metrics(rows: list[dict[str, Any]]) -> list[metrics.Metric]:
    """The rate metrics whose per-item values are true/false (and present somewhere), registry order."""
    found = []
    for metric in metrics.RATES:
        values = [row.get(metric.score_key) for row in rows if row.get(metric.score_key) is not None]
        if values and all(isinstance(value, bool) for value in values):
            found.append(metric)
    return found


def score_metrics(rows: list[dict[str, Any]]) -> list[metrics.Metric]:
    """The rate metrics with a number per item (not true/false), shown as values."""
    judged = set(pass_fail_metrics(rows))
    return [
        m for m in metrics.RATES if m not in judged and any(row.get(m.score_key) is not None for row in rows)
    ]


def reasons(item: Item, row: dict[str, Any], record: dict[str, Any] | None) -> list[str]:
    """Why the answer failed, one sentence per broken rule (empty when nothing failed)."""
    if row["status"] != OK:
        error = (record or {}).get("error")
        if not error:
            return ["the request ended in an error"]
        status, code = error.get("httpStatus", "?"), error.get("code", "?")
        return [f"error {status} {code}: {error.get('message') or ''}".strip()]
    found = []
    refused = bool(row.get("refusal"))
    if refused and item.answerable:
        found.append(DECLINED)
    if not refused and not item.answerable:
        found.append(ANSWERED_UNANSWERABLE)
    found += [f"missing fact: {fact}" for fact in row.get("missingFacts") or []]
    found += [
        f"format check failed: {_format_check(name, item.format)}" for name in row.get("formatFailures") or []
    ]
    if row.get(metrics.SOURCE_HIT_RATE.score_key) is False:
        found.append(f"no expected source among the citations (expected: {', '.join(item.sources)})")
    if row.get(metrics.CITATION_VALIDITY.score_key) is False:
        answered = (record or {}).get("response")
        if not answered:
            found.append("cites a passage that does not exist")
        else:
            count = len(answered.get("citations") or [])
            bad = sorted({n for n in cited_numbers(str(answered.get("answer", ""))) if not 1 <= n <= count})
            found.append(
                f"cites a passage that does not exist: {', '.join(f'[{n}]' for n in bad) or '?'} "
                f"({count} citation{'s' if count != 1 else ''})"
            )
    explained = {
        metrics.CORRECTNESS.score_key,
        metrics.REFUSAL_ACCURACY.score_key,
        metrics.FORMAT_COMPLIANCE.score_key,
        metrics.SOURCE_HIT_RATE.score_key,
        metrics.CITATION_VALIDITY.score_key,
    }
    # A pass/fail metric the rules above do not explain (one added to the registry later) still says so.
    found += [
        f"{metric.label}: failed"
        for metric in metrics.RATES
        if metric.score_key not in explained and row.get(metric.score_key) is False
    ]
    if not found:
        # Score lines written before missingFacts and formatFailures existed: name the checks that failed.
        found = [f"{metric.label}: failed" for metric in metrics.RATES if row.get(metric.score_key) is False]
    return found


def _format_check(name: str, checks: dict[str, Any]) -> str:
    value = checks.get(name)
    if name == "maxWords":
        return f"maxWords (at most {value} words)"
    if name in ("regex", "startsWith"):
        return f"{name} {value!r}"
    return name


def cell(
    item: Item,
    rows: list[dict[str, Any]],
    record: dict[str, Any] | None,
    judged: list[metrics.Metric],
    scored: list[metrics.Metric],
) -> dict[str, Any]:
    """One arm's answer to one item as the page embeds it (``rows``: its score lines, one per repeat)."""
    if not rows:
        return {"status": MISSING, "verdict": None, "reasons": []}
    first = rows[0]
    why: list[str] = []
    for row in rows:
        label = f" (repeat {row.get('repeat', 0) + 1})" if len(rows) > 1 else ""
        # The run folder's record is the first repeat's (runner.read_records): only its answer is at hand.
        answered = record if row.get("repeat", 0) == 0 else None
        why += [reason + label for reason in reasons(item, row, answered)]
    failed = any(row["status"] != OK for row in rows) or any(
        row.get(m.score_key) is False for row in rows for m in judged
    )
    response = (record or {}).get("response") or {}
    citations = [c for c in response.get("citations") or [] if isinstance(c, dict)]
    return {
        "status": first["status"],
        "verdict": "fail" if failed else "pass",
        "reasons": why,
        "checks": {m.score_key: _all(rows, m.score_key) for m in judged},
        "scores": {m.score_key: first.get(m.score_key) for m in scored},
        "judge": first.get("judge"),
        "answer": str(response.get("answer", "")) if first["status"] == OK else None,
        "citations": [
            {
                "source": str(c.get("sourceUri", "")),
                "text": str(c.get("excerpt") or c.get("text") or "")[:EXCERPT_CHARS],
            }
            for c in citations
        ],
        "latencyMs": first.get(metrics.LATENCY.score_key),
        "costUsd": first.get(metrics.COST_PER_QUERY.score_key),
        "repeats": len(rows),
    }


def _all(rows: list[dict[str, Any]], key: str) -> bool | None:
    """False when any repeat failed the check, True when every one that applies passed, None otherwise."""
    values = [row.get(key) for row in rows if row.get(key) is not None]
    return None if not values else all(values)


def build(
    evalset: EvalSet,
    arms: list[str],
    rows: list[dict[str, Any]],
    records: dict[tuple[str, str], dict[str, Any]],
) -> dict[str, Any]:
    """What the page's matrix shows: the arms, the metrics (pass/fail and numbers) and one entry per item."""
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_pair[(row["id"], row["arm"])].append(row)
    for pair in by_pair.values():
        pair.sort(key=lambda row: row.get("repeat", 0))
    judged, scored = pass_fail_metrics(rows), score_metrics(rows)
    return {
        "arms": list(arms),
        "checks": [{"key": m.score_key, "label": m.label} for m in judged],
        "scores": [{"key": m.score_key, "label": m.label} for m in scored],
        "items": [
            {
                "id": item.id,
                "question": item.question,
                "tags": list(item.tags),
                "answerable": item.answerable,
                "cells": {
                    arm: cell(
                        item, by_pair.get((item.id, arm), []), records.get((item.id, arm)), judged, scored
                    )
                    for arm in arms
                },
            }
            for item in evalset.items
        ],
    }
