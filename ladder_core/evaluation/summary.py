"""``scores.jsonl`` rows and the ``summary.json`` object from a run's answers: the one copy of these rules,
used by ``ladder eval`` (which adds the LLM judge's scores and reads and writes the local folder) and by
the evaluation function in AWS (which writes the same files to S3).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

from ..metrics import COST_PER_QUERY, LATENCY, RATES
from ..scoring import score
from . import costs, uncertainty
from .agreement import judge_agreement
from .evalset import EvalSet
from .prices import PriceTable
from .run import Answers, RunInfo

SCHEMA_VERSION = 2
"""``schemaVersion`` of ``summary.json``: 2 added ``ci95``, ``repeatSpread`` and ``differences`` (rates
became means over items of each item's mean over repeats); raised when a key changes meaning."""

SUMMARY_ARM_KEYS = (
    "n",
    "errors",
    *(metric.summary_key for metric in RATES),
    "judge",
    "judgeAgreement",
    LATENCY.summary_key,
    COST_PER_QUERY.summary_key,
    "modelId",
    "errorCauses",
    "ci95",
    "repeatSpread",
    "costBreakdownUsd",
    "costUnknown",
)


def score_rows(
    evalset: EvalSet, records: Answers, arms: list[str], prices: PriceTable
) -> list[dict[str, Any]]:
    """One ``scores.jsonl`` row per (item, arm, repeat) that has a record, in set order, then arm, then
    repeat (the CLI adds the LLM judge's scores to the repeat-0 rows when it has them)."""
    repeats = 1 + max((repeat for _, _, repeat in records), default=0)
    rows = []
    for item in evalset.items:
        for arm, repeat in ((arm, repeat) for arm in arms for repeat in range(repeats)):
            record = records.get((item.id, arm, repeat))
            if record is None:
                continue
            cost = costs.query_total(costs.query_breakdown(prices, record))
            rows.append(score(item, arm, record, cost_usd=cost))
    return rows


def summarise(
    info: RunInfo, rows: list[dict[str, Any]], records: Answers, prices: PriceTable
) -> dict[str, Any]:
    """The ``summary.json`` object: rates are means over the items where the metric is not null (of each
    item's mean over its repeats), with their intervals and the differences between arms
    (:mod:`.uncertainty`); ``rows`` are :func:`score_rows`'s."""
    arms: dict[str, Any] = {}
    measured = uncertainty.measure(rows, info.arms, info.repeat)
    for arm in info.arms:
        arm_rows = [row for row in rows if row["arm"] == arm]
        ok = [row for row in arm_rows if row["status"] == "ok"]
        entry: dict[str, Any] = {"n": len(arm_rows), "errors": len(arm_rows) - len(ok)}
        for metric in RATES:
            entry[metric.summary_key] = measured.rates[arm][metric.summary_key]
        entry["judge"] = _judge_means(arm_rows)
        entry["judgeAgreement"] = judge_agreement(arm_rows)
        latencies = sorted(row[LATENCY.score_key] for row in ok if row[LATENCY.score_key] is not None)
        entry[LATENCY.summary_key] = {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95)}
        breakdown, unknown = costs.arm_breakdown(
            costs.query_breakdown(prices, record)
            for (_, record_arm, _), record in records.items()
            if record_arm == arm and record["status"] == "ok"
        )
        entry[COST_PER_QUERY.summary_key] = costs.query_total(breakdown)
        models = Counter(
            str(record["response"].get("modelId"))
            for (_, record_arm, _), record in records.items()
            if record_arm == arm and record["status"] == "ok" and record.get("response", {}).get("modelId")
        )
        entry["modelId"] = models.most_common(1)[0][0] if models else None
        entry["errorCauses"] = error_causes(
            record for (_, record_arm, _), record in records.items() if record_arm == arm
        )
        entry["ci95"] = measured.ci95[arm]
        entry["repeatSpread"] = measured.repeat_spread[arm]
        entry["costBreakdownUsd"], entry["costUnknown"] = breakdown, unknown
        arms[arm] = entry
    generation = next(
        (arms[a]["modelId"] for a in ("rag", *info.arms) if a in arms and arms[a]["modelId"]), None
    )
    return {
        "schemaVersion": SCHEMA_VERSION,
        "run": {
            "id": info.id,
            "createdAt": info.createdAt,
            "url": info.url,
            "generationModelId": generation,
            "evalSet": info.evalSet,
            "repeat": info.repeat,
            "examples": info.examples,
        },
        "arms": arms,
        "differences": measured.differences,
    }


def error_causes(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The arm's errors grouped by HTTP status and code, most frequent first: ``httpStatus``, ``code``,
    ``count`` and the first ``message`` seen."""
    groups: dict[tuple[Any, Any], dict[str, Any]] = {}
    for record in records:
        if record.get("status") != "error":
            continue
        error = record.get("error") or {}
        key = (error.get("httpStatus"), error.get("code"))
        group = groups.setdefault(
            key, {"httpStatus": key[0], "code": key[1], "count": 0, "message": error.get("message")}
        )
        group["count"] += 1
    return sorted(groups.values(), key=lambda group: -group["count"])


def describe_causes(causes: list[dict[str, Any]]) -> str:
    """``404 NotFound x 45 ("Missing Authentication Token")``, the causes joined by ``; ``."""
    return "; ".join(
        f"{cause['httpStatus']} {cause['code']} x {cause['count']}"
        + (f' ("{cause["message"]}")' if cause.get("message") else "")
        for cause in causes
    )


def mean(values: Any) -> float | None:
    """The mean of the non-null values (booleans count as 0/1); None when there are none."""
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def percentile(sorted_values: list[int], pct: float) -> int | None:
    """Nearest-rank percentile of already sorted values; None when there are none."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _judge_means(rows: list[dict[str, Any]]) -> dict[str, float] | None:
    scores: dict[str, list[float]] = {}
    for row in rows:
        for metric, value in (row.get("judge") or {}).items():
            if value is not None:
                scores.setdefault(metric, []).append(float(value))
    return {metric: sum(v) / len(v) for metric, v in sorted(scores.items())} or None


def scores_text(rows: Iterable[dict[str, Any]]) -> str:
    """``scores.jsonl``'s text: one row a line."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def summary_text(summary: dict[str, Any]) -> str:
    """``summary.json``'s text."""
    return json.dumps(summary, indent=2) + "\n"
