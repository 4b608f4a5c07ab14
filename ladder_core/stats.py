"""Seeded bootstrap intervals over the items of one evaluation run: the one copy that `ladder eval`'s
summary and `ladder justify` both use."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_RESAMPLES = 2_000
MIN_RESAMPLES = 2_000
DEFAULT_SEED = 20_240_601
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """Mean difference (candidate - baseline) over the paired items and its percentile interval."""

    mean: float
    low: float
    high: float
    items: int
    resamples: int
    seed: int
    confidence: float = CONFIDENCE

    @property
    def above_zero(self) -> bool:
        """The whole interval lies above zero: the candidate is measurably better."""
        return self.low > 0

    def describe(self) -> str:
        return (
            f"difference {self.mean:+.3f}, {self.confidence:.0%} interval "
            f"[{self.low:+.3f}, {self.high:+.3f}] "
            f"over {self.items} paired items ({self.resamples:,} resamples, seed {self.seed})"
        )


def paired_bootstrap(
    candidate: Sequence[float],
    baseline: Sequence[float],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = CONFIDENCE,
) -> Interval:
    """Resamples the items (with replacement, the same items for both arms) ``resamples`` times.

    ``candidate[i]`` and ``baseline[i]`` are the same item's scores (1.0/0.0 for a pass/fail metric).
    The interval is the percentile interval of the resampled mean differences; the same seed always
    gives the same interval.
    """
    if len(candidate) != len(baseline):
        raise ValueError("paired scores need the same items in both arms")
    if not candidate:
        raise ValueError("no paired items to compare")
    if resamples < MIN_RESAMPLES:
        raise ValueError(f"resamples must be at least {MIN_RESAMPLES}, got {resamples}")
    differences = [c - b for c, b in zip(candidate, baseline, strict=True)]
    n = len(differences)
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(differences, k=n)) / n for _ in range(resamples))
    tail = (1 - confidence) / 2
    return Interval(
        mean=sum(differences) / n,
        low=_percentile(means, tail),
        high=_percentile(means, 1 - tail),
        items=n,
        resamples=resamples,
        seed=seed,
        confidence=confidence,
    )


def _percentile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
