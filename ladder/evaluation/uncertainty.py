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
from itertools import combinations
from typing import Any

from ladder_core import stats
from ladder_core.metrics import RATES, Metric

Row = dict[str, Any]
"""A ``scores.jsonl`` line."""


def repeat_of(row: Row) -> int:
    """The line's repeat (0-based); lines written before repeats existed have none: repeat 0."""
    return int(row.get("repeat") or 0)


def _values(rows: Sequence[Row], metric: Metric) -> list[tuple[str, float | None]]:
    return [(row["id"], row[metric.score_key]) for row in rows]


def rate(rows: Sequence[Row], metric: Metric) -> float | None:
    """The arm's rate: the mean over its items of each item's mean over repeats (non-null values only);
    None when the metric applies to no item. Without repeats it is the plain mean of the lines."""
    means = stats.item_means(_values(rows, metric))
    return math.fsum(means.values()) / len(means) if means else None


def intervals(rows: Sequence[Row]) -> dict[str, list[float]]:
    """``ci95``: ``{summary key: [low, high]}`` for each rate that applies to some item of the arm."""
    found = {}
    for metric in RATES:
        estimate = stats.bootstrap_items(_values(rows, metric))
        if estimate is not None:
            found[metric.summary_key] = [estimate.low, estimate.high]
    return found


def differences(rows: Sequence[Row], arms: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """``differences``: for each pair of arms A, B (A before B in the run's order) under the key
    ``"B-A"``, per rate ``{"diff": B - A, "ci95": [low, high], "n": paired items}`` over the items where
    the rate applies in both arms; a rate that applies to no shared item is left out."""
    by_arm: dict[str, list[Row]] = {arm: [] for arm in arms}
    for row in rows:
        if row["arm"] in by_arm:
            by_arm[row["arm"]].append(row)
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for baseline, candidate in combinations(arms, 2):
        pair: dict[str, dict[str, Any]] = {}
        for metric in RATES:
            interval = stats.paired_items(
                _values(by_arm[candidate], metric), _values(by_arm[baseline], metric)
            )
            if interval is not None:
                pair[metric.summary_key] = {
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
