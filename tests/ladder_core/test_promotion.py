"""The promotion gate's decision on crafted summaries (``summary.json`` shape) and verdicts."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ladder_core.promotion import Promotion, VerdictUnusable, best_other_arm, decide


def _arm(correctness: float | None, low: float | None, fmt: float | None, fmt_low: float | None) -> dict:
    ci95: dict[str, list[float]] = {}
    if low is not None:
        ci95["correctness"] = [low, min(1.0, (correctness or 0) + 0.05)]
    if fmt_low is not None:
        ci95["formatCompliance"] = [fmt_low, 1.0]
    return {
        "n": 200,
        "errors": 0,
        "correctness": correctness,
        "formatCompliance": fmt,
        "costPerQueryUsd": 0.0012,
        "ci95": ci95,
    }


def verdict(**arms: dict[str, Any]) -> dict[str, Any]:
    """A schema-3 verdict: targets as `ladder justify` writes them, rules 2, 3, 8 with their checks."""
    return {
        "schemaVersion": 3,
        "targets": {"correctness": 0.8, "formatCompliance": 0.9, "maxCorrectnessDrop": 0.05},
        "arms": arms
        or {
            "prompt": _arm(0.5, 0.45, 0.6, 0.55),
            "rag": _arm(0.84, 0.8, 0.7, 0.65),
            "fewshot": _arm(0.82, 0.78, 0.8, 0.75),
        },
        "rules": [
            {"number": 2, "outcome": "not met", "detail": "...", "check": {}},
            {"number": 3, "outcome": "not met", "detail": "...", "check": {}},
            {"number": 8, "outcome": "not met", "detail": "...", "check": {}},
        ],
    }


def summary(
    candidate: dict[str, Any], diff: float, low: float, high: float, pair: str = "finetuned-rag"
) -> dict:
    return {
        "schemaVersion": 2,
        "arms": {"rag": _arm(0.84, 0.8, 0.7, 0.65), "finetuned": candidate},
        "differences": {pair: {"correctness": {"diff": diff, "ci95": [low, high], "n": 200}}},
    }


GOOD = _arm(0.86, 0.82, 0.95, 0.92)


def test_the_best_other_arm_is_the_highest_correctness_among_the_counted_arms() -> None:
    assert best_other_arm(verdict()) == "rag"
    arms = verdict()["arms"]
    arms["fewshot"] = _arm(0.9, 0.85, 0.9, 0.85)
    assert best_other_arm({**verdict(), "arms": arms}) == "fewshot"


def test_a_fewshot_arm_the_rules_did_not_count_is_never_the_best() -> None:
    # Given a fewshot arm with the highest correctness that justify left out (undecided, no check)
    document = verdict()
    document["arms"]["fewshot"] = _arm(0.95, 0.9, 0.95, 0.9)
    document["rules"][2] = {"number": 8, "outcome": "undecided", "detail": "does not count as measured"}
    assert best_other_arm(document) == "rag"
    # And a verdict older than schema 3 (no rule 8) never counted fewshot either
    older = {**document, "rules": document["rules"][:2]}
    assert best_other_arm(older) == "rag"


def test_ties_go_to_format_compliance_then_rag() -> None:
    tie = verdict(prompt=_arm(0.8, 0.7, 0.9, 0.8), rag=_arm(0.8, 0.7, 0.8, 0.7))
    assert best_other_arm(tie) == "prompt"
    exact = verdict(prompt=_arm(0.8, 0.7, 0.8, 0.7), rag=_arm(0.8, 0.7, 0.8, 0.7))
    assert best_other_arm(exact) == "rag"


def test_a_verdict_without_a_measured_arm_names_what_is_missing() -> None:
    with pytest.raises(VerdictUnusable, match="no measured prompt, rag, fewshot arm"):
        best_other_arm(verdict(finetuned=GOOD))


def test_a_candidate_meeting_every_condition_is_promoted_with_the_numbers_side_by_side() -> None:
    result = decide(summary(GOOD, 0.02, -0.03, 0.07), verdict())
    assert isinstance(result, Promotion)
    assert result.promote, result.reasons
    assert result.numbers["baseline"] == "rag"
    assert result.numbers["arms"]["finetuned"]["correctness"] == 0.86
    assert result.numbers["arms"]["rag"]["correctness"] == 0.84
    assert result.numbers["difference"]["ci95"] == [-0.03, 0.07]


@pytest.mark.parametrize(
    ("candidate", "low", "why"),
    [
        (_arm(0.82, 0.78, 0.95, 0.92), -0.03, "correctness misses the target: lower bound 0.780 < 0.800"),
        (_arm(0.86, 0.82, 0.9, 0.85), -0.03, "formatCompliance misses the target: lower bound 0.850 < 0.900"),
        (GOOD, -0.06, "the lower bound is at or below -0.05"),
        (GOOD, -0.05, "the lower bound is at or below -0.05"),
    ],
    ids=["correctness", "format", "drop", "drop-at-the-limit"],
)
def test_a_candidate_failing_one_condition_is_rejected_saying_which(
    candidate: dict, low: float, why: str
) -> None:
    result = decide(summary(candidate, 0.0, low, 0.05), verdict())
    assert not result.promote
    assert result.reasons[0].startswith("rejected")
    assert any(why in reason for reason in result.reasons), result.reasons


def test_the_difference_is_read_in_either_direction() -> None:
    # Given the run wrote the pair as rag - finetuned: +0.01 with interval [-0.02, 0.08]
    result = decide(summary(GOOD, 0.01, -0.02, 0.08, pair="rag-finetuned"), verdict())
    # Then finetuned - rag is -0.01 with interval [-0.08, 0.02]: below -0.05, rejected
    assert not result.promote
    assert result.numbers["difference"]["ci95"] == [-0.08, 0.02]
    assert result.numbers["difference"]["diff"] == pytest.approx(-0.01)


def test_a_set_without_format_checks_meets_the_format_target() -> None:
    no_format = _arm(0.86, 0.82, None, None)
    result = decide(summary(no_format, 0.02, -0.03, 0.07), verdict())
    assert result.promote, result.reasons
    assert any("no format checks" in reason for reason in result.reasons)


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda s, v: s["arms"].pop("finetuned"), "has no finetuned arm"),
        (lambda s, v: s["arms"]["finetuned"].update(ci95={}), "no 95% interval"),
        (lambda s, v: s["arms"]["finetuned"].update(correctness=None, ci95={}), "no 95% interval"),
        (lambda s, v: s.pop("differences"), "no paired correctness difference"),
        (lambda s, v: v["targets"].pop("maxCorrectnessDrop"), "no targets.maxCorrectnessDrop"),
        (lambda s, v: v["targets"].pop("correctness"), "no targets.correctness"),
        (lambda s, v: v.update(arms={}), "no measured prompt, rag, fewshot arm"),
    ],
    ids=["no-arm", "no-interval", "no-answers", "no-differences", "no-drop", "no-target", "no-baseline"],
)
def test_missing_numbers_reject_the_candidate_saying_why(damage: Any, why: str) -> None:
    the_summary, the_verdict = copy.deepcopy(summary(GOOD, 0.02, -0.03, 0.07)), verdict()
    damage(the_summary, the_verdict)
    result = decide(the_summary, the_verdict)
    assert not result.promote
    assert any(why in reason for reason in result.reasons), result.reasons
