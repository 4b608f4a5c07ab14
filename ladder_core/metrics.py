"""The evaluation's metrics, each declared once: the key it has in ``summary.json`` (per arm), the key of
the per-item value in ``scores.jsonl``, the label the report and ``ladder eval``'s summary table show, its
scale and which direction is better.

The summary, the report, the CLI, ``ladder justify`` and the fine-tune verdict read their metric names
from here; the keys are public contracts (README: "The run folder"), so an entry's keys never change.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """What a metric's numbers are: ``unit`` as a chart's axis or a table's header names it; ``bounded``
    when every value lies in 0..1; ``share`` when the value is a share of items (shown as a percentage)
    rather than a mean of scores (shown as a number)."""

    name: str
    unit: str
    bounded: bool = False
    share: bool = False


RATE = Scale("rate", "share of items", bounded=True, share=True)
"""The share of the items where the metric applies whose per-item value is true."""
SCORE = Scale("score", "share of items", bounded=True)
"""The mean of per-item scores from 0 to 1 (charted on the rates' axis, shown as a number)."""
MS = Scale("ms", "ms")
USD = Scale("usd", "USD")


@dataclass(frozen=True)
class Metric:
    """One metric: ``summary_key`` per arm in ``summary.json``, ``score_key`` per item in ``scores.jsonl``."""

    summary_key: str
    score_key: str
    label: str
    scale: Scale
    higher_is_better: bool = True

    @property
    def column(self) -> str:
        """The header of its column in ``ladder eval``'s summary table."""
        return self.label.lower()


CORRECTNESS = Metric("correctness", "correct", "Correctness", RATE)
MUST_INCLUDE_RECALL = Metric("mustIncludeRecall", "mustIncludeRecall", "Must-include recall", RATE)
TOKEN_F1 = Metric("tokenF1", "tokenF1", "Token F1", SCORE)
REFUSAL_ACCURACY = Metric("refusalAccuracy", "refusalCorrect", "Refusal accuracy", RATE)
SOURCE_HIT_RATE = Metric("sourceHitRate", "sourceHit", "Source hit rate", RATE)
MRR = Metric("mrr", "reciprocalRank", "MRR", SCORE)
FORMAT_COMPLIANCE = Metric("formatCompliance", "formatOk", "Format compliance", RATE)
CITATION_VALIDITY = Metric("citationValidity", "citationsValid", "Citation validity", RATE)
LATENCY = Metric("latencyMs", "latencyMs", "Latency", MS, higher_is_better=False)
"""Per arm the nearest-rank ``{"p50", "p95"}`` of the answered items' round trips."""
COST_PER_QUERY = Metric("costPerQueryUsd", "costUsd", "Cost per query", USD, higher_is_better=False)

RATES = (
    CORRECTNESS,
    MUST_INCLUDE_RECALL,
    TOKEN_F1,
    REFUSAL_ACCURACY,
    SOURCE_HIT_RATE,
    MRR,
    FORMAT_COMPLIANCE,
    CITATION_VALIDITY,
)
"""The metrics in 0..1 whose arm value is the mean of the non-null per-item values, in ``summary.json``
order."""
METRICS = (*RATES, LATENCY, COST_PER_QUERY)
BY_SUMMARY_KEY = {metric.summary_key: metric for metric in METRICS}
