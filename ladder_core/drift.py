"""What the drift watch alarms on, decided from one evaluation run's ``summary.json`` and the staged verdict.

Pure: no AWS SDK, so the watch function and the CLI share one copy. Three findings (issue "Measured
promotion and a drift watch"):

- ``generalModelCatchesUp``: the published fine-tuned model no longer beats the best other arm of the run
  (the highest correctness; the cheaper one on a tie): the lower bound of the paired 95 % interval of
  ``finetuned - BEST`` in correctness is at or below zero. The message names that arm and its cost.
- ``belowTarget``: a served arm (``rag``, ``fewshot``, ``finetuned``; an ``@MODEL`` arm is only measured)
  has a measured correctness below the verdict's ``targets.correctness``. The point estimate decides, not
  the interval's lower bound: the lower bound is the burden of proof a change must meet (``ladder
  justify``, the promotion gate); an arm that is already served alarms when the measurement itself falls
  below, or a set of 200 items and an arm near its target would alarm every month. The interval is in the
  finding's numbers.
- ``verdictExpiring``: the verdict's ``expiresAt`` is within 14 days of ``now`` (or past).

Without a verdict only the first finding can be decided (there is no target and no expiry).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ladder_core import timestamps
from ladder_core.metrics import CORRECTNESS, COST_PER_QUERY, FORMAT_COMPLIANCE

FINE_TUNED_ARM = "finetuned"
SERVED_ARMS = ("rag", "fewshot", FINE_TUNED_ARM)
"""The API modes a caller is answered by; the watch measures them as bare arms (no ``@MODEL``)."""
EXPIRY_WARNING = timedelta(days=14)

GENERAL_MODEL_CATCHES_UP = "generalModelCatchesUp"
BELOW_TARGET = "belowTarget"
VERDICT_EXPIRING = "verdictExpiring"
KINDS = (GENERAL_MODEL_CATCHES_UP, BELOW_TARGET, VERDICT_EXPIRING)


@dataclass(frozen=True)
class Finding:
    """One reason to alarm: its ``kind`` (one of :data:`KINDS`), a message a person acts on, the arm it is
    about (None for the verdict's expiry) and the numbers behind it."""

    kind: str
    message: str
    arm: str | None
    numbers: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"kind", "message", "arm", ...numbers}``."""
        return {"kind": self.kind, "message": self.message, "arm": self.arm, **self.numbers}


def findings(
    summary: Mapping[str, Any],
    verdict: Mapping[str, Any] | None,
    *,
    now: datetime,
    fine_tuned_arm: str = FINE_TUNED_ARM,
    expiry_warning: timedelta = EXPIRY_WARNING,
) -> list[Finding]:
    """Every finding of one run (``summary``: its ``summary.json``, or at least its ``arms`` and
    ``differences``) against ``verdict`` (the staged ``ladder-verdict.json``, or None)."""
    arms: Mapping[str, Any] = summary.get("arms") or {}
    found: list[Finding] = []
    catches_up = _general_model_catches_up(arms, summary.get("differences") or {}, fine_tuned_arm)
    if catches_up is not None:
        found.append(catches_up)
    if verdict is not None:
        target = (verdict.get("targets") or {}).get(CORRECTNESS.summary_key)
        if isinstance(target, int | float):
            found += [
                finding
                for name in (*SERVED_ARMS[:-1], fine_tuned_arm)
                if name in arms and (finding := _below_target(name, arms[name], float(target))) is not None
            ]
        expiring = _verdict_expiring(verdict.get("expiresAt"), now, expiry_warning)
        if expiring is not None:
            found.append(expiring)
    return found


def correctness_difference(
    differences: Mapping[str, Any], candidate: str, baseline: str
) -> tuple[float, float, float, int] | None:
    """``candidate - baseline`` in correctness from ``summary["differences"]`` whichever way round the run
    keyed the pair: ``(diff, low, high, paired items)``; None when the run has no paired correctness."""
    forward = (differences.get(f"{candidate}-{baseline}") or {}).get(CORRECTNESS.summary_key)
    if forward is not None:
        low, high = forward["ci95"]
        return float(forward["diff"]), float(low), float(high), int(forward["n"])
    backward = (differences.get(f"{baseline}-{candidate}") or {}).get(CORRECTNESS.summary_key)
    if backward is not None:
        low, high = backward["ci95"]
        return -float(backward["diff"]), -float(high), -float(low), int(backward["n"])
    return None


def _general_model_catches_up(
    arms: Mapping[str, Any], differences: Mapping[str, Any], fine_tuned_arm: str
) -> Finding | None:
    if fine_tuned_arm not in arms:
        return None
    others = [
        (name, values)
        for name, values in arms.items()
        if name != fine_tuned_arm and values.get(CORRECTNESS.summary_key) is not None
    ]
    if not others:
        return None
    best, values = max(
        others, key=lambda pair: (pair[1][CORRECTNESS.summary_key], -_cost_or_infinite(pair[1]))
    )
    difference = correctness_difference(differences, fine_tuned_arm, best)
    if difference is None:
        return None
    diff, low, high, paired = difference
    if low > 0:
        return None
    tuned = arms[fine_tuned_arm]
    best_cost, tuned_cost = values.get(COST_PER_QUERY.summary_key), tuned.get(COST_PER_QUERY.summary_key)
    message = (
        "a general model now does as well: the fine-tuned model's cost and upkeep no longer buy anything. "
        f"{best} answers {_share(values[CORRECTNESS.summary_key])} correctly at {_usd(best_cost)} per query; "
        f"{fine_tuned_arm} {_share(tuned.get(CORRECTNESS.summary_key))} at {_usd(tuned_cost)} "
        f"({fine_tuned_arm} - {best}: {diff:+.3f}, 95% interval [{low:+.3f}, {high:+.3f}] over {paired} "
        "items). Re-measure with ladder eval run and decide again with ladder justify."
    )
    return Finding(
        GENERAL_MODEL_CATCHES_UP,
        message,
        best,
        {
            "fineTunedArm": fine_tuned_arm,
            "correctness": values[CORRECTNESS.summary_key],
            "costPerQueryUsd": best_cost,
            "fineTunedCorrectness": tuned.get(CORRECTNESS.summary_key),
            "fineTunedCostPerQueryUsd": tuned_cost,
            "difference": {"diff": diff, "ci95": [low, high], "n": paired},
        },
    )


def _below_target(name: str, values: Mapping[str, Any], target: float) -> Finding | None:
    correctness = values.get(CORRECTNESS.summary_key)
    if correctness is None or correctness >= target:
        return None
    interval = (values.get("ci95") or {}).get(CORRECTNESS.summary_key)
    shown = f" (95% interval [{interval[0]:.2f}, {interval[1]:.2f}])" if interval else ""
    message = (
        f"{name} answers {_share(correctness)} correctly{shown}, below the verdict's correctness target "
        f"{_share(target)}: callers of mode {name} get worse answers than the verdict was made on. Look at "
        "the run's report (ladder eval report) for what changed: documents, the model, the questions."
    )
    return Finding(
        BELOW_TARGET,
        message,
        name,
        {"correctness": correctness, "ci95": interval, "target": target, "n": values.get("n")},
    )


def _verdict_expiring(value: Any, now: datetime, warning: timedelta) -> Finding | None:
    expires = parse_utc(value)
    if expires is None:
        return None
    left = expires - now.astimezone(UTC)
    if left > warning:
        return None
    when = expires.isoformat(timespec="seconds").replace("+00:00", "Z")
    days = left.total_seconds() / 86_400
    state = f"expires at {when}, in {days:.1f} days" if days >= 0 else f"expired at {when}"
    message = (
        f"the verdict {state}: measure again (ladder eval run), decide again (ladder justify) and stage the "
        "new verdict for the watch (ladder eval stage); base models keep improving."
    )
    return Finding(VERDICT_EXPIRING, message, None, {"expiresAt": when, "daysLeft": round(days, 1)})


def parse_utc(value: Any) -> datetime | None:
    """An ISO-8601 timestamp with an offset (``...Z``) as an aware UTC datetime; None otherwise."""
    try:
        return timestamps.parse_utc(value)
    except ValueError:
        return None


def _cost_or_infinite(values: Mapping[str, Any]) -> float:
    cost = values.get(COST_PER_QUERY.summary_key)
    return float(cost) if isinstance(cost, int | float) else float("inf")


def _share(value: Any) -> str:
    return f"{float(value):.0%}" if isinstance(value, int | float) else "an unknown share"


def _usd(value: Any) -> str:
    return f"${float(value):.5f}" if isinstance(value, int | float) else "an unknown cost"


STAGED_SET_KEY = "staged/watch/set.jsonl"
"""Where ``ladder eval stage`` puts the set the watch measures, in the evaluations bucket."""
STAGED_VERDICT_KEY = "staged/watch/verdict.json"
"""Where ``ladder eval stage`` puts the verdict the watch holds the arms to (targets, expiry)."""
METRICS_NAMESPACE = "Ladder/Evaluation"
ARM_DIMENSION = "Arm"
"""The per-arm metrics' one dimension, valued with the arm's full name (``rag@us.amazon.nova-pro-v1:0``)."""
ARM_METRICS = {
    "Correctness": CORRECTNESS.summary_key,
    "FormatCompliance": FORMAT_COMPLIANCE.summary_key,
    "CostPerQueryUsd": COST_PER_QUERY.summary_key,
}
"""CloudWatch metric name -> the arm's ``summary.json`` key it carries."""
FINDINGS_METRIC = "DriftFindings"
"""Dimensionless: how many findings the run had (the alarm fires at 1)."""


def watch_arms(*, examples: bool, fine_tuned_published: bool, model_ids: tuple[str, ...]) -> list[str]:
    """The arms one scheduled run measures: ``rag``; ``fewshot`` with uploaded examples; ``finetuned`` with
    a published model; per extra model ``rag@ID`` and (with examples) ``fewshot@ID``."""
    arms = ["rag", *(["fewshot"] if examples else []), *([FINE_TUNED_ARM] if fine_tuned_published else [])]
    for model in model_ids:
        arms += [f"rag@{model}", *([f"fewshot@{model}"] if examples else [])]
    return arms
