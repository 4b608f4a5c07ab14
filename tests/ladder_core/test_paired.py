"""ladder_core.paired: exact McNemar test, detectable difference, items to decide, one-arm interval."""

from __future__ import annotations

import math

import pytest

from ladder_core.paired import (
    ALPHA,
    McNemar,
    detectable_difference,
    items_to_decide,
    mcnemar,
    sample_variance,
    upper_tail,
)
from ladder_core.stats import paired_bootstrap


def exact_power(items: int, share: float, difference: float) -> float:
    """The exact one-sided McNemar test's power at ``difference`` when ``share`` of ``items`` disagree:
    summed over the number of disagreeing items (binomial), the chance the wins reach the critical value."""
    won = (share + difference) / (2 * share)
    power = 0.0
    for disagreeing in range(items + 1):
        chance = math.comb(items, disagreeing) * share**disagreeing * (1 - share) ** (items - disagreeing)
        if chance < 1e-12:
            continue
        critical, tail = disagreeing + 1, 0
        while critical > 0 and tail + math.comb(disagreeing, critical - 1) <= ALPHA * 2**disagreeing:
            critical -= 1
            tail += math.comb(disagreeing, critical)
        assert critical > disagreeing or upper_tail(critical, disagreeing) <= ALPHA
        power += chance * sum(
            math.comb(disagreeing, w) * won**w * (1 - won) ** (disagreeing - w)
            for w in range(critical, disagreeing + 1)
        )
    return power


def test_four_wins_and_no_loss_is_not_better_by_the_exact_test() -> None:
    """The case the percentile bootstrap calls better: exact one-sided p = 1/16."""
    candidate = [1.0] * 4 + [1.0] * 30 + [0.0] * 6
    baseline = [0.0] * 4 + [1.0] * 30 + [0.0] * 6

    test = mcnemar(candidate, baseline)
    interval = paired_bootstrap(candidate, baseline)

    assert (test.wins, test.losses, test.items) == (4, 0, 40)
    assert test.p_greater == pytest.approx(0.0625)
    assert not test.better()
    assert interval.low > 0, "the bootstrap alone would have called it better"


def test_six_wins_and_no_loss_is_the_fewest_that_can_be_better() -> None:
    assert McNemar(wins=5, losses=0, items=40).p_greater == pytest.approx(1 / 32)
    assert not McNemar(wins=5, losses=0, items=40).better()
    assert McNemar(wins=6, losses=0, items=40).p_greater == pytest.approx(1 / 64)
    assert McNemar(wins=6, losses=0, items=40).better()


def test_p_values_match_the_binomial_tails() -> None:
    # 9 won, 1 lost: P(X >= 9 | 10, 1/2) = (10 + 1) / 1024; two-sided doubles it.
    test = McNemar(wins=9, losses=1, items=50)

    assert test.p_greater == pytest.approx(11 / 1024)
    assert test.p_less == pytest.approx(1 - 1 / 1024)
    assert test.p_two_sided == pytest.approx(22 / 1024)
    assert McNemar(wins=0, losses=0, items=50).p_two_sided == 1.0
    assert upper_tail(0, 5) == 1.0 and upper_tail(6, 5) == 0.0


def test_the_tail_is_exact_for_large_counts() -> None:
    # Symmetry of Binomial(2001, 1/2): P(X >= 1001) is exactly 1/2.
    assert upper_tail(1001, 2001) == 0.5


def test_repeats_averaged_per_item_are_compared_by_sign() -> None:
    test = mcnemar([1.0, 2 / 3, 0.5, 0.0], [0.5, 2 / 3, 1.0, 0.0])

    assert (test.wins, test.losses, test.items) == (1, 1, 4)


def test_unequal_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="same items"):
        mcnemar([1.0], [1.0, 0.0])


@pytest.mark.parametrize(("items", "share"), [(155, 0.2), (40, 0.2), (300, 0.1), (40, 0.0)])
def test_the_detectable_difference_is_detected_about_80_percent_of_the_time(items: int, share: float) -> None:
    difference = detectable_difference(items, share)

    assert difference is not None
    effective = max(share, difference)
    # The exact test is conservative, so its power at Connor's difference is a little under 0.8.
    assert 0.72 <= exact_power(items, effective, difference) <= 0.85
    assert exact_power(items, effective, 0.7 * difference) < 0.5


def test_the_detectable_difference_shrinks_with_more_items() -> None:
    # Connor's formula at 20 % disagreement: about 155 items for a difference of 0.10.
    assert detectable_difference(155, 0.2) == pytest.approx(0.10, abs=0.002)
    assert detectable_difference(40, 0.2) == pytest.approx(0.19, abs=0.01)
    assert detectable_difference(0, 0.2) is None


def test_items_to_decide_a_rate_against_a_target() -> None:
    # 1.96^2 x 0.85 x 0.15 / 0.05^2 = 195.9: 196 items put the interval of 0.85 clear of 0.80.
    assert items_to_decide(0.85, 0.80, 0.85 * 0.15) == 196
    assert items_to_decide(0.80, 0.80, 0.16) is None
    assert items_to_decide(0.5, 0.8, 0.0) == 1


def test_the_per_item_variance_of_a_rate() -> None:
    values = [1.0] * 34 + [0.0] * 6
    assert sample_variance(values) == pytest.approx(0.85 * 0.15)
    assert sample_variance([1.0]) == 0.0
