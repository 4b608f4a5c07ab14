"""Seeded bootstrap intervals over the items of one evaluation run: the one copy that `ladder eval`'s
summary and `ladder justify` both use. Standard library only.

The method, for one arm's rate (:func:`bootstrap_mean`) and for the difference between two arms
(:func:`paired_bootstrap`), is the percentile bootstrap over items:

1. each item contributes one value (1.0/0.0 for a pass/fail metric; with repeats, the mean of its
   repeats, :func:`item_means`), and for a difference the candidate's value minus the baseline's on the
   same item;
2. ``resamples`` times (at least 2,000), draw as many items as there are, with replacement, and take the
   mean of the drawn values;
3. the interval is the 2.5th and 97.5th percentile of those means (linear interpolation between closest
   ranks, numpy's default).

Items are the unit that is resampled, never single answers: repeats of one item are averaged first, so
an item asked three times does not count as three independent items.

The result depends only on the values (as a multiset), the number of resamples and the seed: the same
seed always gives the same interval, whatever order the items come in. A resample is drawn in one of two
equivalent ways. When the values take few distinct levels (pass/fail rates, their paired differences and
repeat means, all on many items), the counts of each level in a resample are drawn directly as a
multinomial (successive binomials), which costs a few draws per resample instead of one per item; otherwise
the items are drawn one by one (:meth:`random.Random.choices`). Both give exactly the bootstrap distribution
of the mean; only the random stream differs.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

DEFAULT_RESAMPLES = 2_000
MIN_RESAMPLES = 2_000
DEFAULT_SEED = 20_240_601
CONFIDENCE = 0.95
_DRAWS_PER_LEVEL = 256
"""Draw level counts (multinomial) when the items outnumber the distinct values this many times: a
binomial draw costs about as much as drawing this many items one by one."""
_DIRECT_BINOMIAL_BELOW = 16


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


@dataclass(frozen=True)
class Estimate:
    """One arm's rate (the mean over its items) and its percentile interval."""

    mean: float
    low: float
    high: float
    items: int
    resamples: int
    seed: int
    confidence: float = CONFIDENCE

    def describe(self) -> str:
        """``0.850 (95% interval 0.740-0.940 over 40 items, 2,000 resamples, seed 20240601)``."""
        return (
            f"{self.mean:.3f} ({self.confidence:.0%} interval {self.low:.3f}-{self.high:.3f} "
            f"over {self.items} items, {self.resamples:,} resamples, seed {self.seed})"
        )


def bootstrap_mean(
    values: Sequence[float],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = CONFIDENCE,
) -> Estimate:
    """The mean of one value per item and its seeded percentile-bootstrap interval (module docstring)."""
    if not values:
        raise ValueError("no items to estimate a rate from")
    means, tail = _resampled_means(values, resamples, seed, confidence)
    return Estimate(
        mean=math.fsum(values) / len(values),
        low=_percentile(means, tail),
        high=_percentile(means, 1 - tail),
        items=len(values),
        resamples=resamples,
        seed=seed,
        confidence=confidence,
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
    differences = [c - b for c, b in zip(candidate, baseline, strict=True)]
    means, tail = _resampled_means(differences, resamples, seed, confidence)
    return Interval(
        mean=math.fsum(differences) / len(differences),
        low=_percentile(means, tail),
        high=_percentile(means, 1 - tail),
        items=len(differences),
        resamples=resamples,
        seed=seed,
        confidence=confidence,
    )


def item_means(values: Iterable[tuple[str, float | None]]) -> dict[str, float]:
    """Per item id, the mean of its non-null values (its repeats), in the order items first appear;
    an item whose every value is null is left out."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for item, value in values:
        if value is None:
            continue
        if item in counts:
            sums[item] += value
            counts[item] += 1
        else:
            sums[item] = float(value)
            counts[item] = 1
    return {item: total if counts[item] == 1 else total / counts[item] for item, total in sums.items()}


def bootstrap_items(
    values: Iterable[tuple[str, float | None]],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = CONFIDENCE,
) -> Estimate | None:
    """:func:`bootstrap_mean` over the items of ``(item id, value)`` rows with repeats: each item's
    repeats are averaged first (:func:`item_means`). None when no row has a value."""
    means = item_means(values)
    if not means:
        return None
    return bootstrap_mean(list(means.values()), resamples=resamples, seed=seed, confidence=confidence)


def paired_items(
    candidate: Iterable[tuple[str, float | None]],
    baseline: Iterable[tuple[str, float | None]],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = CONFIDENCE,
) -> Interval | None:
    """:func:`paired_bootstrap` of two arms' ``(item id, value)`` rows with repeats: each item's repeats
    are averaged per arm first (:func:`item_means`), then :func:`paired_means`."""
    return paired_means(
        item_means(candidate),
        item_means(baseline),
        resamples=resamples,
        seed=seed,
        confidence=confidence,
    )


def paired_means(
    candidate: Mapping[str, float],
    baseline: Mapping[str, float],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = CONFIDENCE,
) -> Interval | None:
    """:func:`paired_bootstrap` over the items (ids) that have a value in both arms' per-item means;
    None when no item does."""
    paired = [item for item in candidate if item in baseline]
    if not paired:
        return None
    return paired_bootstrap(
        [candidate[item] for item in paired],
        [baseline[item] for item in paired],
        resamples=resamples,
        seed=seed,
        confidence=confidence,
    )


def _resampled_means(
    values: Sequence[float], resamples: int, seed: int, confidence: float
) -> tuple[list[float], float]:
    """The sorted means of ``resamples`` bootstrap resamples of ``values``, and the lower tail's share."""
    if resamples < MIN_RESAMPLES:
        raise ValueError(f"resamples must be at least {MIN_RESAMPLES}, got {resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1, got {confidence}")
    n = len(values)
    rng = random.Random(seed)
    levels = sorted(Counter(values).items())
    if len(levels) * _DRAWS_PER_LEVEL <= n:
        first = _binomial_table(n, levels[0][1] / n)
        means = [_multinomial_mean(rng, levels, n, first) for _ in range(resamples)]
    else:
        ordered = sorted(values)
        means = [math.fsum(rng.choices(ordered, k=n)) / n for _ in range(resamples)]
    means.sort()
    return means, (1 - confidence) / 2


def _multinomial_mean(
    rng: random.Random, levels: list[tuple[float, int]], n: int, first: tuple[int, list[float]]
) -> float:
    """The mean of one resample of ``n`` items drawn from ``levels`` (value, count): the count drawn of
    each level, one binomial at a time, conditional on the levels before it. The first level's binomial
    is the same in every resample: ``first`` is its table (:func:`_binomial_table`)."""
    left, remaining_weight, total = n, n, 0.0
    for index, (value, count) in enumerate(levels[:-1]):
        if index == 0:
            low, cumulative = first
            drawn = low + bisect.bisect_right(cumulative, rng.random() * cumulative[-1])
        else:
            drawn = _binomial(rng, left, count / remaining_weight) if left else 0
        total += value * drawn
        left -= drawn
        remaining_weight -= count
    total += levels[-1][0] * left
    return total / n


def _binomial_table(n: int, p: float) -> tuple[int, list[float]]:
    """Binomial(n, p) for drawing by inversion with a bisection: the lowest outcome kept and the
    cumulative probabilities from it on. Outcomes less likely than 1e-20 times the mode are left out (a
    share of the whole below 1e-15); a draw scales its uniform by the kept total."""
    if p <= 0 or p >= 1:
        outcome = 0 if p <= 0 else n
        return outcome, [1.0]
    mode = min(n, int((n + 1) * p))
    odds = p / (1 - p)
    below: list[float] = []
    pmf = 1.0
    for k in range(mode, 0, -1):
        pmf *= k / ((n - k + 1) * odds)
        if pmf < 1e-20:
            break
        below.append(pmf)
    above: list[float] = []
    pmf = 1.0
    for k in range(mode, n):
        pmf *= (n - k) / (k + 1) * odds
        if pmf < 1e-20:
            break
        above.append(pmf)
    weights = [*reversed(below), 1.0, *above]
    return mode - len(below), list(itertools.accumulate(weights))


def _binomial(rng: random.Random, n: int, p: float) -> int:
    """One Binomial(n, p) draw by inversion, enumerating the outcomes outward from the mode (so the
    probabilities never underflow and the walk takes about one standard deviation's worth of steps)."""
    if p <= 0:
        return 0
    if p >= 1:
        return n
    if n < _DIRECT_BINOMIAL_BELOW:
        return sum(rng.random() < p for _ in range(n))
    mode = min(n, int((n + 1) * p))
    log_pmf = (
        math.lgamma(n + 1)
        - math.lgamma(mode + 1)
        - math.lgamma(n - mode + 1)
        + mode * math.log(p)
        + (n - mode) * math.log1p(-p)
    )
    odds = p / (1 - p)
    u = rng.random() - math.exp(log_pmf)
    if u < 0:
        return mode
    low = high = mode
    p_low = p_high = math.exp(log_pmf)
    while low > 0 or high < n:
        if high < n:
            p_high *= (n - high) / (high + 1) * odds
            high += 1
            u -= p_high
            if u < 0:
                return high
        if low > 0:
            p_low *= low / ((n - low + 1) * odds)
            low -= 1
            u -= p_low
            if u < 0:
                return low
    # Rounding left a sliver of probability unassigned: the mode is the likeliest outcome.
    return mode


def _percentile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
