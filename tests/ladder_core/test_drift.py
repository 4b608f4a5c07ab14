"""The drift watch's findings (ladder_core/drift.py) from crafted ``summary.json`` contents and verdicts:
each of the three findings, and none when nothing drifted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ladder_core import drift

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def arm(
    correctness: float, cost: float, low: float | None = None, high: float | None = None
) -> dict[str, Any]:
    low = correctness - 0.05 if low is None else low
    high = correctness + 0.05 if high is None else high
    return {
        "n": 200,
        "correctness": correctness,
        "costPerQueryUsd": cost,
        "ci95": {"correctness": [low, high]},
    }


def difference(diff: float, low: float, high: float) -> dict[str, Any]:
    return {"correctness": {"diff": diff, "ci95": [low, high], "n": 200}}


def verdict(target: float = 0.8, expires: str = "2027-03-01T00:00:00Z") -> dict[str, Any]:
    return {"targets": {"correctness": target, "formatCompliance": 0.95}, "expiresAt": expires}


def healthy_summary() -> dict[str, Any]:
    """The fine-tuned model clearly ahead of rag and of a general model; every served arm above 0.8."""
    return {
        "arms": {
            "rag": arm(0.82, 0.004),
            "rag@us.amazon.nova-pro-v1:0": arm(0.84, 0.012),
            "finetuned": arm(0.93, 0.002),
        },
        "differences": {
            "rag@us.amazon.nova-pro-v1:0-rag": difference(0.02, -0.01, 0.05),
            "finetuned-rag": difference(0.11, 0.07, 0.15),
            "finetuned-rag@us.amazon.nova-pro-v1:0": difference(0.09, 0.05, 0.13),
        },
    }


def test_no_finding_when_the_fine_tuned_model_still_wins_and_targets_hold() -> None:
    assert drift.findings(healthy_summary(), verdict(), now=NOW) == []


def test_a_general_model_that_does_as_well_is_named_with_its_cost() -> None:
    # Given a general model whose correctness the fine-tuned model no longer beats by its interval
    summary = healthy_summary()
    summary["arms"]["rag@us.amazon.nova-pro-v1:0"] = arm(0.92, 0.012)
    summary["differences"]["finetuned-rag@us.amazon.nova-pro-v1:0"] = difference(0.01, -0.02, 0.04)
    # When the watch decides
    found = drift.findings(summary, verdict(), now=NOW)
    # Then one finding names the general model, its cost and the paired interval
    assert [f.kind for f in found] == [drift.GENERAL_MODEL_CATCHES_UP]
    finding = found[0].to_json()
    assert finding["arm"] == "rag@us.amazon.nova-pro-v1:0"
    assert finding["message"].startswith(
        "a general model now does as well: the fine-tuned model's cost and upkeep no longer buy anything"
    )
    assert "rag@us.amazon.nova-pro-v1:0 answers 92% correctly at $0.01200 per query" in finding["message"]
    assert finding["costPerQueryUsd"] == 0.012
    assert finding["difference"] == {"diff": 0.01, "ci95": [-0.02, 0.04], "n": 200}


def test_the_difference_is_read_whichever_way_the_run_keyed_the_pair() -> None:
    summary = healthy_summary()
    summary["arms"]["rag@us.amazon.nova-pro-v1:0"] = arm(0.95, 0.012)
    del summary["differences"]["finetuned-rag@us.amazon.nova-pro-v1:0"]
    # Arms run in the order finetuned, rag@...: the run keys the pair "rag@...-finetuned".
    summary["differences"]["rag@us.amazon.nova-pro-v1:0-finetuned"] = difference(0.02, -0.01, 0.05)
    found = drift.findings(summary, None, now=NOW)
    assert [f.kind for f in found] == [drift.GENERAL_MODEL_CATCHES_UP]
    assert found[0].numbers["difference"] == {"diff": -0.02, "ci95": [-0.05, 0.01], "n": 200}


def test_a_lower_bound_exactly_at_zero_no_longer_counts_as_beating() -> None:
    summary = healthy_summary()
    summary["arms"]["rag@us.amazon.nova-pro-v1:0"] = arm(0.93, 0.012)
    summary["differences"]["finetuned-rag@us.amazon.nova-pro-v1:0"] = difference(0.0, 0.0, 0.03)
    assert [f.kind for f in drift.findings(summary, None, now=NOW)] == [drift.GENERAL_MODEL_CATCHES_UP]


def test_without_a_published_model_there_is_nothing_to_be_caught_up_with() -> None:
    summary = healthy_summary()
    del summary["arms"]["finetuned"]
    assert drift.findings(summary, verdict(), now=NOW) == []


def test_a_served_arm_below_the_correctness_target_alarms_but_a_measured_model_does_not() -> None:
    # Given rag below target by its point estimate, and a general model (only measured) below it too
    summary = healthy_summary()
    summary["arms"]["rag"] = arm(0.74, 0.004, low=0.68, high=0.80)
    summary["arms"]["rag@us.amazon.nova-pro-v1:0"] = arm(0.70, 0.012)
    found = drift.findings(summary, verdict(target=0.8), now=NOW)
    # Then only the served arm alarms, with its interval and the target
    assert [(f.kind, f.arm) for f in found] == [(drift.BELOW_TARGET, "rag")]
    assert found[0].numbers == {"correctness": 0.74, "ci95": [0.68, 0.80], "target": 0.8, "n": 200}
    assert "below the verdict's correctness target 80%" in found[0].message


def test_an_arm_at_its_target_by_the_point_estimate_does_not_alarm_whatever_its_lower_bound() -> None:
    summary = healthy_summary()
    summary["arms"]["rag"] = arm(0.80, 0.004, low=0.74, high=0.86)
    assert drift.findings(summary, verdict(target=0.8), now=NOW) == []


def test_the_fine_tuned_and_fewshot_arms_are_served_arms_too() -> None:
    summary = healthy_summary()
    summary["arms"]["fewshot"] = arm(0.6, 0.005)
    summary["arms"]["finetuned"] = arm(0.79, 0.002)
    found = drift.findings(summary, verdict(target=0.8), now=NOW)
    assert [(f.kind, f.arm) for f in found if f.kind == drift.BELOW_TARGET] == [
        (drift.BELOW_TARGET, "fewshot"),
        (drift.BELOW_TARGET, "finetuned"),
    ]


def test_a_verdict_expiring_within_14_days_alarms_and_one_in_15_does_not() -> None:
    found = drift.findings(healthy_summary(), verdict(expires="2026-12-14T06:00:00Z"), now=NOW)
    assert [f.to_json()["kind"] for f in found] == [drift.VERDICT_EXPIRING]
    assert found[0].numbers == {"expiresAt": "2026-12-14T06:00:00Z", "daysLeft": 13.0}
    assert found[0].arm is None
    assert drift.findings(healthy_summary(), verdict(expires="2026-12-16T06:00:01Z"), now=NOW) == []


def test_an_expired_verdict_says_so() -> None:
    found = drift.findings(healthy_summary(), verdict(expires="2026-11-01T00:00:00Z"), now=NOW)
    assert "the verdict expired at 2026-11-01T00:00:00Z" in found[0].message
    assert found[0].numbers["daysLeft"] < 0
