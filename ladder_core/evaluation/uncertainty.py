"""The uncertainty in ``summary.json``: each arm's rates with their 95 % intervals, the paired
differences between arms, and how much the rates move between repeats.

Every figure starts from the per-item value: an item answered ``--repeat N`` times counts once, with the
mean of its repeats (``ladder_core.stats.item_means``), so the interval is over items, as the bootstrap in
``ladder_core.stats`` (the one ``ladder justify`` uses) describes.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from .. import stats
from ..metrics import RATES, Metric

Row = dict[str, Any]
"""A ``scores.jsonl`` line."""


@dataclass(frozen=True)
class Measured:
    """What :func:`measure` found, in the shapes ``summary.json`` writes."""

    rates: dict[str, dict[str, float | None]]
    """arm -> summary key -> the arm's rate (None when the metric applies to no item)."""
    ci95: dict[str, dict[str, list[float]]]
    """arm -> ``ci95``."""
    repeat_spread: dict[str, dict[str, float] | None]
    """arm -> ``repeatSpread``."""
    differences: dict[str, dict[str, dict[str, Any]]]
    """``differences``."""


def repeat_of(row: Row) -> int:
    """The line's repeat (0-based); lines written before repeats existed have none: repeat 0."""
    return int(row.get("repeat") or 0)


def measure(rows: Sequence[Row], arms: Sequence[str], repeats: int) -> Measured:
    """Everything ``summary.json`` says about uncertainty, for the run's ``arms`` in order."""
    by_arm: dict[str, list[Row]] = {arm: [] for arm in arms}
    for row in rows:
        if row["arm"] in by_arm:
            by_arm[row["arm"]].append(row)
    means = {arm: _item_means(by_arm[arm]) for arm in arms}
    return Measured(
        rates={arm: {key: _mean(found) for key, found in means[arm].items()} for arm in arms},
        ci95={arm: intervals(means[arm]) for arm in arms},
        repeat_spread={arm: repeat_spread(by_arm[arm], repeats) for arm in arms},
        differences=differences(means, arms),
    )


def rate(rows: Sequence[Row], metric: Metric) -> float | None:
    """The rate of ``rows``: the mean over the items of each item's mean over repeats (non-null values
    only); None when the metric applies to no item. Without repeats it is the plain mean of the lines."""
    return _mean(stats.item_means((row["id"], row[metric.score_key]) for row in rows))


def intervals(means: dict[str, dict[str, float]]) -> dict[str, list[float]]:
    """``ci95`` from an arm's per-item means (summary key -> item -> mean): ``{summary key: [low,
    high]}`` for each rate that applies to some item of the arm."""
    found = {}
    for key, items in means.items():
        if items:
            estimate = stats.bootstrap_mean(list(items.values()))
            found[key] = [estimate.low, estimate.high]
    return found


def differences(
    means: dict[str, dict[str, dict[str, float]]], arms: Sequence[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """``differences`` from each arm's per-item means: for each pair of arms A, B (A before B in the run's
    order) under the key ``"B-A"``, per rate ``{"diff": B - A, "ci95": [low, high], "n": paired items}``
    over the items where the rate applies in both arms; a rate that applies to no shared item is left
    out."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for baseline, candidate in combinations(arms, 2):
        pair: dict[str, dict[str, Any]] = {}
        for metric in RATES:
            key = metric.summary_key
            interval = stats.paired_means(means[candidate][key], means[baseline][key])
            if interval is not None:
                pair[key] = {
                    "diff": interval.mean,
                    "ci95": [interval.low, interval.high],
                    "n": interval.items,
                }
        found[f"{candidate}-{baseline}"] = pair
    return found


def repeat_spread(rows: Sequence[Row], repeats: int) -> dict[str, float] | None:
    """``repeatSpread``: per rate, the sample standard deviation (n - 1) of the arm's rate computed
    separately for each repeat, that is how far the headline figure moves between two runs of the same
    set. None for a run without repeats (``repeats`` 1); a rate measured in fewer than two repeats is left
    out."""
    if repeats <= 1:
        return None
    by_repeat: dict[int, list[Row]] = {}
    for row in rows:
        by_repeat.setdefault(repeat_of(row), []).append(row)
    found = {}
    for metric in RATES:
        rates = [r for r in (rate(part, metric) for part in by_repeat.values()) if r is not None]
        if len(rates) >= 2:
            found[metric.summary_key] = statistics.stdev(rates)
    return found


def _item_means(rows: Sequence[Row]) -> dict[str, dict[str, float]]:
    """Summary key -> item -> the item's mean over its repeats, for every rate."""
    return {
        metric.summary_key: stats.item_means((row["id"], row[metric.score_key]) for row in rows)
        for metric in RATES
    }


def _mean(means: dict[str, float]) -> float | None:
    return math.fsum(means.values()) / len(means) if means else None
