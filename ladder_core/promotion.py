"""Whether a fine-tuned candidate may be published: the promotion gate's pure decision.

The fine-tune pipeline evaluates each imported candidate on the verdict's evaluation set, beside the best
non-fine-tuned arm the verdict recorded, and publishes it only when :func:`decide` says so:

- its correctness and its format compliance meet the verdict's ``targets`` by the lower bound of their
  95 % interval (``ci95``); a set without format checks has no format compliance, which meets the target
  as it does in ``ladder justify``;
- the lower bound of the paired 95 % interval of ``finetuned - BEST`` in correctness (from the summary's
  ``differences``, whichever direction the pair was written in) lies above ``-maxCorrectnessDrop``.

Any number it needs and does not find rejects the candidate, saying which. No boto3 and no CDK: the
pipeline's gate function bundles this module and ``ladder finetune start`` imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ladder_core.api import FEWSHOT, FINETUNED, PROMPT, RAG
from ladder_core.metrics import CORRECTNESS, COST_PER_QUERY, FORMAT_COMPLIANCE
from ladder_core.tags import tag_value

COUNTED_ARMS = ((2, PROMPT), (3, RAG), (8, FEWSHOT))
"""The non-fine-tuned arms ``ladder justify`` decides on, with the number of the rule that checks each
(``ladder/justify/rules.py``): a fine-tuned model is compared with the best of them."""
NOT_COUNTED_OUTCOME = "undecided"
"""The outcome justify gives an arm's rule, without a ``check``, when the arm does not count as measured (a
``fewshot`` arm whose examples were not checked clean against the evaluation set)."""
DIFFERENCE_SEPARATOR = "-"
"""``summary.json`` keys a difference ``"B-A"`` (B minus A)."""


PROMOTION_TAG = "ladder:promotion"
"""Tag on an imported model: ``promoted`` or ``rejected`` by the gate, ``manual`` by ``finetune promote``."""
PROMOTION_REASON_TAG = "ladder:promotionReason"
PROMOTED, REJECTED, MANUAL = "promoted", "rejected", "manual"
HEADLINE_TAGS = (
    ("ladder:correctness", CORRECTNESS.summary_key),
    ("ladder:formatCompliance", FORMAT_COMPLIANCE.summary_key),
    ("ladder:costPerQueryUsd", COST_PER_QUERY.summary_key),
)
"""Tag key -> the candidate's ``summary.json`` number it holds (``ladder finetune models`` reads them)."""
UNMEASURED = "none"
"""A headline tag's value when the evaluation gave no number."""


class VerdictUnusable(ValueError):
    """The verdict names no arm a fine-tuned model can be compared with; the message says why."""


@dataclass(frozen=True)
class Promotion:
    """The gate's answer: publish or not, why (each condition, with its numbers), and the numbers side by
    side for the notification and the model's tags."""

    promote: bool
    reasons: list[str]
    numbers: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"promote": self.promote, "reasons": list(self.reasons), "numbers": self.numbers}


def counted_arms(verdict: Mapping[str, Any]) -> list[str]:
    """The non-fine-tuned arms of the verdict that its rules counted as measured."""
    arms = verdict.get("arms") or {}
    rules = {rule.get("number"): rule for rule in verdict.get("rules") or [] if isinstance(rule, Mapping)}
    counted = []
    for number, arm in COUNTED_ARMS:
        if arm not in arms:
            continue
        rule = rules.get(number)
        if arm == FEWSHOT and rule is None:
            # A verdict older than schema 3 has no few-shot rule: justify did not count the arm then.
            continue
        if rule is not None and rule.get("outcome") == NOT_COUNTED_OUTCOME and "check" not in rule:
            continue
        counted.append(arm)
    return counted


def best_other_arm(verdict: Mapping[str, Any]) -> str:
    """The verdict's best arm other than ``finetuned``, as ``ladder justify`` ranks them: the highest
    correctness, then the highest format compliance (none measured counts as full), ``rag`` on a tie.

    Raises VerdictUnusable when the verdict has no counted arm with a correctness."""
    arms = verdict.get("arms") or {}

    def rank(name: str) -> tuple[float, float, bool]:
        entry = arms[name] or {}
        fmt = _number(entry.get(FORMAT_COMPLIANCE.summary_key))
        return (_number(entry.get(CORRECTNESS.summary_key)) or 0.0, 1.0 if fmt is None else fmt, name == RAG)

    candidates = [
        arm
        for arm in counted_arms(verdict)
        if _number((arms[arm] or {}).get(CORRECTNESS.summary_key)) is not None
    ]
    if not candidates:
        raise VerdictUnusable(
            f"the verdict has no measured {', '.join(arm for _, arm in COUNTED_ARMS)} arm with a correctness "
            f"to compare a fine-tuned model with (arms: {', '.join(arms) or 'none'}); run `ladder eval run` "
            "and `ladder justify` again"
        )
    return max(candidates, key=rank)


def decide(
    summary: Mapping[str, Any], verdict: Mapping[str, Any], candidate_arm: str = FINETUNED
) -> Promotion:
    """Promote ``candidate_arm`` only when every condition of the module docstring holds."""
    targets = verdict.get("targets") or {}
    arms = summary.get("arms") or {}
    reasons: list[str] = []
    try:
        best = best_other_arm(verdict)
    except VerdictUnusable as err:
        return Promotion(False, [f"rejected: {err}"], {"candidate": candidate_arm})
    numbers: dict[str, Any] = {
        "candidate": candidate_arm,
        "baseline": best,
        "targets": {
            key: targets.get(key)
            for key in (CORRECTNESS.summary_key, FORMAT_COMPLIANCE.summary_key, "maxCorrectnessDrop")
        },
        "arms": {arm: _headline(arms.get(arm)) for arm in (candidate_arm, best)},
    }
    passed = [
        _rate_meets(arms.get(candidate_arm), candidate_arm, CORRECTNESS.summary_key, targets, reasons),
        _rate_meets(arms.get(candidate_arm), candidate_arm, FORMAT_COMPLIANCE.summary_key, targets, reasons),
        _keeps_correctness(summary, candidate_arm, best, targets, reasons, numbers),
    ]
    promote = all(passed)
    verb = "promoted" if promote else "rejected"
    reasons.insert(0, f"{verb}: {candidate_arm} against the targets and {best}, the verdict's best other arm")
    return Promotion(promote, reasons, numbers)


def _rate_meets(entry: Any, arm: str, key: str, targets: Mapping[str, Any], reasons: list[str]) -> bool:
    target = _number(targets.get(key))
    if target is None:
        reasons.append(f"the verdict has no targets.{key}")
        return False
    if not isinstance(entry, Mapping):
        reasons.append(f"the evaluation has no {arm} arm, so its {key} is unknown")
        return False
    value = entry.get(key)
    answered = entry.get(CORRECTNESS.summary_key) is not None
    if key == FORMAT_COMPLIANCE.summary_key and value is None and answered:
        reasons.append(f"{key}: the set has no format checks, so the target is met (as in ladder justify)")
        return True
    interval = (entry.get("ci95") or {}).get(key)
    low = _number(interval[0]) if isinstance(interval, list) and len(interval) == 2 else None
    if low is None:
        reasons.append(f"{key}: the evaluation gave {arm} no 95% interval, so the target cannot be checked")
        return False
    met = low >= target
    relation = ">=" if met else "<"
    reasons.append(
        f"{key} {'meets' if met else 'misses'} the target: lower bound {low:.3f} {relation} {target:.3f}"
    )
    return met


def _keeps_correctness(
    summary: Mapping[str, Any],
    candidate: str,
    best: str,
    targets: Mapping[str, Any],
    reasons: list[str],
    numbers: dict[str, Any],
) -> bool:
    allowed = _number(targets.get("maxCorrectnessDrop"))
    if allowed is None:
        reasons.append("the verdict has no targets.maxCorrectnessDrop")
        return False
    interval = paired_difference(summary, candidate, best)
    if interval is None:
        reasons.append(
            f"the evaluation has no paired correctness difference between {candidate} and {best}, so the "
            "drop cannot be checked"
        )
        return False
    diff, low, high, paired = interval
    pair = f"{candidate}{DIFFERENCE_SEPARATOR}{best}"
    numbers["difference"] = {"pair": pair, "diff": diff, "ci95": [low, high], "n": paired}
    kept = low > -allowed
    reasons.append(
        f"correctness {candidate} - {best} {diff:+.3f} (95% interval {low:+.3f} to {high:+.3f}): the lower "
        f"bound is {'above' if kept else 'at or below'} -{allowed:.2f} (maxCorrectnessDrop)"
    )
    return kept


def paired_difference(
    summary: Mapping[str, Any], candidate: str, baseline: str
) -> tuple[float, float, float, Any] | None:
    """``candidate - baseline`` in correctness: (diff, low, high, n) from the summary's ``differences``,
    turned round when the run wrote the pair the other way; None when absent."""
    differences = summary.get("differences") or {}
    key = CORRECTNESS.summary_key
    for pair, sign in (
        (f"{candidate}{DIFFERENCE_SEPARATOR}{baseline}", 1.0),
        (f"{baseline}{DIFFERENCE_SEPARATOR}{candidate}", -1.0),
    ):
        entry = (differences.get(pair) or {}).get(key)
        if not isinstance(entry, Mapping):
            continue
        interval = entry.get("ci95")
        diff = _number(entry.get("diff"))
        if diff is None or not isinstance(interval, list) or len(interval) != 2:
            continue
        low, high = _number(interval[0]), _number(interval[1])
        if low is None or high is None:
            continue
        if sign < 0:
            low, high = -high, -low
        return sign * diff, low, high, entry.get("n")
    return None


def _headline(entry: Any) -> dict[str, Any]:
    """An arm's headline numbers as the evaluation measured them (None where absent)."""
    entry = entry if isinstance(entry, Mapping) else {}
    intervals = entry.get("ci95") or {}
    return {
        CORRECTNESS.summary_key: entry.get(CORRECTNESS.summary_key),
        f"{CORRECTNESS.summary_key}Ci95": intervals.get(CORRECTNESS.summary_key),
        FORMAT_COMPLIANCE.summary_key: entry.get(FORMAT_COMPLIANCE.summary_key),
        f"{FORMAT_COMPLIANCE.summary_key}Ci95": intervals.get(FORMAT_COMPLIANCE.summary_key),
        COST_PER_QUERY.summary_key: entry.get(COST_PER_QUERY.summary_key),
    }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def model_tags(result: Promotion) -> list[dict[str, str]]:
    """The imported model's tags (Bedrock's ``[{"key", "value"}]``): the candidate's headline numbers and
    the gate's outcome."""
    candidate = (result.numbers.get("arms") or {}).get(result.numbers.get("candidate")) or {}
    tags = [
        {"key": key, "value": format_number(candidate.get(summary_key))} for key, summary_key in HEADLINE_TAGS
    ]
    tags.append({"key": PROMOTION_TAG, "value": PROMOTED if result.promote else REJECTED})
    return tags


def format_number(value: Any) -> str:
    """A headline number as a tag value: six significant digits, ``none`` when absent."""
    number = _number(value)
    return UNMEASURED if number is None else tag_value(f"{number:.6g}")
