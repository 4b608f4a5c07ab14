"""``summary.json``'s intervals, differences and repeat spread from crafted ``scores.jsonl`` rows."""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from ladder_core import stats
from ladder_core.evaluation import uncertainty
from ladder_core.metrics import CORRECTNESS, FORMAT_COMPLIANCE, SOURCE_HIT_RATE


def row(item: str, arm: str, correct: bool | None, repeat: int | None = 0, **more: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "id": item,
        "arm": arm,
        "correct": correct,
        **dict.fromkeys(("mustIncludeRecall", "tokenF1", "refusalCorrect", "sourceHit", "reciprocalRank")),
        **dict.fromkeys(("formatOk", "citationsValid")),
        **more,
    }
    if repeat is not None:
        line["repeat"] = repeat
    return line


def test_a_rate_averages_each_items_repeats_first() -> None:
    rows = [row("a", "rag", True, 0), row("a", "rag", True, 1), row("a", "rag", False, 2)]
    rows += [row("b", "rag", False, 0)]  # b's other repeats ended in errors (null)
    assert uncertainty.rate(rows, CORRECTNESS) == pytest.approx((2 / 3 + 0) / 2)
    assert uncertainty.rate(rows, FORMAT_COMPLIANCE) is None
    rates = uncertainty.measure(rows, ["rag"], repeats=3).rates["rag"]
    assert rates[CORRECTNESS.summary_key] == pytest.approx(1 / 3)
    assert rates[FORMAT_COMPLIANCE.summary_key] is None


def test_intervals_cover_every_rate_that_applies_and_no_other() -> None:
    rows = [row(f"q{n}", "rag", n % 4 != 0, sourceHit=True) for n in range(40)]

    found = uncertainty.measure(rows, ["rag"], repeats=1).ci95["rag"]

    assert set(found) == {CORRECTNESS.summary_key, SOURCE_HIT_RATE.summary_key}
    low, high = found[CORRECTNESS.summary_key]
    assert low < 0.75 < high
    assert found[SOURCE_HIT_RATE.summary_key] == [1.0, 1.0]
    # The same numbers ladder justify would get from the shared bootstrap.
    same = stats.bootstrap_mean([float(n % 4 != 0) for n in range(40)])
    assert [same.low, same.high] == [low, high]


def test_differences_name_each_pair_later_minus_earlier_over_the_shared_items() -> None:
    arms = ["prompt", "rag", "finetuned"]
    rows = [row(f"q{n}", "prompt", n < 10) for n in range(40)]
    rows += [row(f"q{n}", "rag", n < 30) for n in range(40)]
    rows += [row(f"q{n}", "finetuned", n < 20) for n in range(20)]  # half the items only
    rows += [row("q0", "finetuned", None, formatOk=True)]

    found = uncertainty.measure(rows, arms, repeats=1).differences

    assert list(found) == ["rag-prompt", "finetuned-prompt", "finetuned-rag"]
    rag_prompt = found["rag-prompt"][CORRECTNESS.summary_key]
    assert rag_prompt["diff"] == pytest.approx(0.5) and rag_prompt["n"] == 40
    assert 0 < rag_prompt["ci95"][0] < 0.5 < rag_prompt["ci95"][1]
    tuned_rag = found["finetuned-rag"][CORRECTNESS.summary_key]
    assert tuned_rag["n"] == 20 and tuned_rag["diff"] == pytest.approx(0.0)
    assert found["finetuned-prompt"][CORRECTNESS.summary_key]["diff"] == pytest.approx(0.5)
    # A rate that no shared item has (format: finetuned only) is left out rather than made up.
    assert all(FORMAT_COMPLIANCE.summary_key not in pair for pair in found.values())


def test_repeat_spread_is_the_std_of_the_per_repeat_rates() -> None:
    rows = [row(f"q{n}", "rag", True, 0) for n in range(4)]
    rows += [row(f"q{n}", "rag", n < 2, 1) for n in range(4)]
    rows += [row(f"q{n}", "rag", n < 3, 2) for n in range(4)]

    spread = uncertainty.repeat_spread(rows, repeats=3)

    assert spread == {CORRECTNESS.summary_key: pytest.approx(statistics.stdev([1.0, 0.5, 0.75]))}
    assert uncertainty.repeat_spread(rows[:4], repeats=1) is None
    # Lines written before repeats existed have no "repeat": they are repeat 0.
    old = [row("q0", "rag", True, None), row("q0", "rag", False, 1)]
    assert uncertainty.repeat_spread(old, repeats=2) == {
        CORRECTNESS.summary_key: pytest.approx(statistics.stdev([1.0, 0.0]))
    }
    # Only one repeat answered so far: nothing to measure a spread from yet.
    assert uncertainty.repeat_spread(rows[:4], repeats=3) == {}


def test_the_readmes_worked_example() -> None:
    """README, "Intervals, differences and repeats": 40 items, 3 repeats; rag right on 30 items every
    time, on 4 items 2 times of 3, on 2 items once; prompt right on 20 items every time."""
    right_in = {n: {0, 1, 2} for n in range(30)}
    right_in |= {30: {0, 1}, 31: {0, 2}, 32: {1, 2}, 33: {1, 2}, 34: {0}, 35: {2}}
    rows = [row(f"q{n}", "prompt", n < 20, r) for n in range(40) for r in range(3)]
    rows += [row(f"q{n}", "rag", r in right_in.get(n, set()), r) for n in range(40) for r in range(3)]

    found = uncertainty.measure(rows, ["prompt", "rag"], repeats=3)

    key = CORRECTNESS.summary_key
    assert found.rates["rag"][key] == pytest.approx(0.8333, abs=5e-5)
    assert found.ci95["prompt"][key] == [pytest.approx(0.35), pytest.approx(0.65)]
    assert found.ci95["rag"][key] == [pytest.approx(0.7333, abs=5e-5), pytest.approx(0.925)]
    assert found.repeat_spread["rag"] == {key: pytest.approx(0.0144, abs=5e-5)}
    assert found.repeat_spread["prompt"] == {key: 0.0}
    assert found.differences == {
        "rag-prompt": {
            key: {
                "diff": pytest.approx(0.3333, abs=5e-5),
                "ci95": [pytest.approx(0.2083, abs=5e-5), 0.475],
                "n": 40,
            }
        }
    }
