"""Small-sample decisions for ``ladder justify``: the exact McNemar test for two arms scored on the same
items, the smallest difference such a comparison could detect, how many items would decide a rate against
a target, and a one-arm interval. Standard library only.

Why an exact test and not the bootstrap interval alone: with few disagreeing items the percentile bootstrap
is generous (4 items won and none lost gives an interval above zero, while the exact one-sided p is
0.0625). McNemar's test looks only at the items where the arms disagree; under "no difference" each of them
is won by either arm with probability 1/2, so the number won is Binomial(disagreeing, 1/2) and its tail is
the exact p-value. For per-item means (repeats averaged) it is the sign test on the items whose means
differ, of which McNemar's test is the binary case.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

from .stats import CONFIDENCE

ALPHA = 0.025
"""One-sided level of "better": the tail a 95 % two-sided interval leaves above zero."""
POWER = 0.8
"""The chance of detecting a true difference that :func:`detectable_difference` assumes."""


@dataclass(frozen=True)
class McNemar:
    """The exact McNemar test of a candidate against a baseline on paired items.

    ``wins``: items where the candidate scores higher; ``losses``: where it scores lower; ``items``: all
    paired items (ties included)."""

    wins: int
    losses: int
    items: int

    @property
    def disagreeing(self) -> int:
        return self.wins + self.losses

    @property
    def p_greater(self) -> float:
        """One-sided p of "the candidate is better": P(X >= wins), X ~ Binomial(disagreeing, 1/2)."""
        return upper_tail(self.wins, self.disagreeing)

    @property
    def p_less(self) -> float:
        """One-sided p of "the candidate is worse": P(X >= losses)."""
        return upper_tail(self.losses, self.disagreeing)

    @property
    def p_two_sided(self) -> float:
        """Twice the smaller one-sided p, at most 1 (1 when no item disagrees)."""
        return min(1.0, 2 * min(self.p_greater, self.p_less))

    def better(self, alpha: float = ALPHA) -> bool:
        return self.p_greater <= alpha

    def describe(self) -> str:
        return (
            f"{self.wins} won, {self.losses} lost of {self.items} paired items "
            f"(exact McNemar one-sided p = {self.p_greater:.4f})"
        )

    def to_dict(self) -> dict[str, float | int]:
        return {
            "items": self.items,
            "wins": self.wins,
            "losses": self.losses,
            "pOneSided": round(self.p_greater, 6),
            "pTwoSided": round(self.p_two_sided, 6),
        }


def mcnemar(candidate: Sequence[float], baseline: Sequence[float]) -> McNemar:
    """The test on per-item scores (1.0/0.0 for pass/fail, or means of repeats), ``candidate[i]`` and
    ``baseline[i]`` being the same item's."""
    if len(candidate) != len(baseline):
        raise ValueError("paired scores need the same items in both arms")
    wins = sum(1 for c, b in zip(candidate, baseline, strict=True) if c > b)
    losses = sum(1 for c, b in zip(candidate, baseline, strict=True) if c < b)
    return McNemar(wins=wins, losses=losses, items=len(candidate))


def upper_tail(k: int, n: int) -> float:
    """P(X >= k) for X ~ Binomial(n, 1/2), exactly (integer arithmetic, one rounding at the end)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return sum(math.comb(n, i) for i in range(k, n + 1)) / 2**n


def detectable_difference(
    items: int, disagreeing_share: float, *, alpha: float = ALPHA, power: float = POWER
) -> float | None:
    """The smallest true difference (candidate - baseline, as a share of items) that a one-sided paired test
    at ``alpha`` over ``items`` items detects with probability ``power``, when ``disagreeing_share`` of the
    items disagree (None without items).

    Connor's sample size for McNemar's test (Biometrics 43, 1987), solved for the difference ``d``:
    ``n = (z_alpha sqrt(s) + z_power sqrt(s - d^2))^2 / d^2`` with ``s`` the share of disagreeing items. The
    share is at least ``d`` (a difference needs that many disagreeing items), so a run whose arms agree
    everywhere reports the difference it could detect had every disagreement gone the candidate's way.
    """
    if items <= 0:
        return None
    z_alpha, z_power = NormalDist().inv_cdf(1 - alpha), NormalDist().inv_cdf(power)

    def needed(d: float) -> float:
        share = min(1.0, max(disagreeing_share, d))
        return (z_alpha * math.sqrt(share) + z_power * math.sqrt(max(0.0, share - d * d))) ** 2 / (d * d)

    if needed(1.0) > items:
        return 1.0
    low, high = 1e-6, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        if needed(middle) <= items:
            high = middle
        else:
            low = middle
    return high


def items_to_decide(
    observed: float, target: float, variance: float, *, confidence: float = CONFIDENCE
) -> int | None:
    """How many items would put the ``confidence`` interval of a mean clear of ``target``, if the mean
    stayed ``observed`` and the per-item variance ``variance`` (normal approximation); None when the
    observed mean equals the target (no number of items decides it)."""
    gap = abs(observed - target)
    if gap < 1e-12:
        return None
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    return max(1, math.ceil(z * z * max(variance, 0.0) / (gap * gap)))


def sample_variance(values: Sequence[float]) -> float:
    """The per-item variance of ``values`` (population form; 0 for fewer than two values)."""
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)
