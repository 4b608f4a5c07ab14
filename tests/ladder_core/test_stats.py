"""The seeded bootstrap over items in ``ladder_core.stats``: one arm's rate, paired differences, repeats
averaged per item first."""

from __future__ import annotations

import bisect
import math
import random

import pytest

from ladder_core import stats


def test_a_rate_interval_is_deterministic_for_a_seed_and_ignores_item_order() -> None:
    values = [(n * 7 % 11) / 10 for n in range(40)]

    first = stats.bootstrap_mean(values, seed=7)
    again = stats.bootstrap_mean(list(reversed(values)), seed=7)
    other = stats.bootstrap_mean(values, seed=8)

    assert first == again
    assert (first.low, first.high) != (other.low, other.high)
    assert first.low < first.mean < first.high
    assert first.mean == pytest.approx(sum(values) / 40) and first.items == 40


def test_a_known_small_case() -> None:
    # Two items, one right: a resample's mean is 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4, so about
    # 500 of 2,000 resamples are 0 and 500 are 1: both 2.5 % tails sit on the extremes.
    two = stats.bootstrap_mean([0.0, 1.0])
    assert (two.mean, two.low, two.high) == (0.5, 0.0, 1.0)
    # Every item agrees: no resample can differ.
    same = stats.bootstrap_mean([1.0] * 12)
    assert (same.low, same.high) == (1.0, 1.0)
    assert stats.bootstrap_mean([0.25]).describe().startswith("0.250 (95% interval 0.250-0.250 over 1 items")


def test_the_interval_covers_the_true_rate_about_95_times_in_100() -> None:
    """Coverage sanity: 200 simulated arms of 40 items that are right with probability 0.7."""
    rng = random.Random(1)
    covered = 0
    for run in range(200):
        values = [float(rng.random() < 0.7) for _ in range(40)]
        estimate = stats.bootstrap_mean(values, seed=run)
        covered += estimate.low <= 0.7 <= estimate.high
    assert 0.88 <= covered / 200 <= 0.99


def test_many_items_draw_level_counts_and_match_the_normal_interval() -> None:
    """10,000 pass/fail items take the multinomial path; its interval is the textbook one,
    p +- 1.96 sqrt(p (1 - p) / n), to within resampling noise."""
    values = [1.0] * 8_500 + [0.0] * 1_500
    estimate = stats.bootstrap_mean(values)
    half = 1.96 * math.sqrt(0.85 * 0.15 / 10_000)
    assert estimate.low == pytest.approx(0.85 - half, abs=0.0008)
    assert estimate.high == pytest.approx(0.85 + half, abs=0.0008)
    # Paired differences of pass/fail items have three levels (-1, 0, +1).
    candidate = [1.0] * 6_000 + [0.0] * 4_000
    baseline = [1.0] * 5_000 + [0.0] * 3_000 + [1.0] * 2_000
    interval = stats.paired_bootstrap(candidate, baseline)
    # 1,000 items +1, 2,000 items -1 (in the overlap): mean -0.1, variance (0.3 - 0.01) / n.
    half = 1.96 * math.sqrt((0.3 - 0.01) / 10_000)
    assert interval.mean == pytest.approx(-0.1)
    assert interval.low == pytest.approx(-0.1 - half, abs=0.0015)
    assert interval.high == pytest.approx(-0.1 + half, abs=0.0015)


@pytest.mark.parametrize("method", ["walk", "table"])
@pytest.mark.parametrize(("n", "p"), [(10, 0.3), (40, 0.5), (400, 0.85), (5_000, 0.02)])
def test_the_binomial_draw_follows_the_binomial_distribution(n: int, p: float, method: str) -> None:
    rng = random.Random(3)
    draws = 20_000
    low, cumulative = stats._binomial_table(n, p)

    def draw() -> int:
        if method == "walk":
            return stats._binomial(rng, n, p)
        return low + bisect.bisect_right(cumulative, rng.random() * cumulative[-1])

    counts: dict[int, int] = {}
    for _ in range(draws):
        k = draw()
        assert 0 <= k <= n
        counts[k] = counts.get(k, 0) + 1
    exact = {
        k: math.exp(
            math.lgamma(n + 1)
            - math.lgamma(k + 1)
            - math.lgamma(n - k + 1)
            + k * math.log(p)
            + (n - k) * math.log1p(-p)
        )
        for k in range(n + 1)
    }
    total_variation = sum(abs(counts.get(k, 0) / draws - exact[k]) for k in exact) / 2
    assert total_variation < 0.04


def test_repeats_are_averaged_per_item_before_the_items_are_resampled() -> None:
    rows = [("a", 1.0), ("a", 1.0), ("a", 0.0), ("b", 0.0), ("b", None), ("c", None)]

    assert stats.item_means(rows) == {"a": pytest.approx(2 / 3), "b": 0.0}
    estimate = stats.bootstrap_items(rows)
    assert estimate is not None
    # Two items, not five answers: (2/3 + 0) / 2, and the interval runs from item b alone to item a alone.
    assert estimate.items == 2 and estimate.mean == pytest.approx(1 / 3)
    assert (estimate.low, estimate.high) == (0.0, pytest.approx(2 / 3))
    assert stats.bootstrap_items([("c", None)]) is None


def test_paired_items_pair_only_the_items_both_arms_have_and_subtract_the_baseline() -> None:
    candidate = [("a", 1.0), ("b", 1.0), ("c", 1.0), ("only-candidate", 0.0)]
    baseline = [("a", 0.0), ("b", 0.0), ("c", 1.0), ("c", 0.0), ("only-baseline", 1.0)]

    interval = stats.paired_items(candidate, baseline)

    assert interval is not None
    assert interval.items == 3
    assert interval.mean == pytest.approx((1 + 1 + 0.5) / 3)  # candidate minus baseline
    assert interval.low > 0
    assert stats.paired_items([("a", 1.0)], [("b", 1.0)]) is None


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 2000"):
        stats.bootstrap_mean([1.0], resamples=1_999)
    with pytest.raises(ValueError, match="no items"):
        stats.bootstrap_mean([])
    with pytest.raises(ValueError, match="between 0 and 1"):
        stats.bootstrap_mean([1.0], confidence=95)
