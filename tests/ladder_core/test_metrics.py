"""The metric registry: one entry per metric, whose keys are the public keys of the run folder's files."""

from __future__ import annotations

import re
from pathlib import Path

from ladder_core import metrics
from ladder_core.evaluation.summary import SUMMARY_ARM_KEYS
from ladder_core.scoring import SCORE_KEYS

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_registry_reproduces_the_public_keys_and_labels() -> None:
    # The keys of summary.json and scores.jsonl and the report's labels as they were before the registry
    # existed: a public contract (README: "The run folder"), so this table is written out, not derived.
    assert [(m.summary_key, m.score_key, m.label) for m in metrics.METRICS] == [
        ("correctness", "correct", "Correctness"),
        ("mustIncludeRecall", "mustIncludeRecall", "Must-include recall"),
        ("tokenF1", "tokenF1", "Token F1"),
        ("refusalAccuracy", "refusalCorrect", "Refusal accuracy"),
        ("sourceHitRate", "sourceHit", "Source hit rate"),
        ("mrr", "reciprocalRank", "MRR"),
        ("formatCompliance", "formatOk", "Format compliance"),
        ("citationValidity", "citationsValid", "Citation validity"),
        ("latencyMs", "latencyMs", "Latency"),
        ("costPerQueryUsd", "costUsd", "Cost per query"),
    ]


def test_summary_and_score_lines_keep_every_key_they_had_in_order() -> None:
    summary_before = (
        "n",
        "errors",
        "correctness",
        "mustIncludeRecall",
        "tokenF1",
        "refusalAccuracy",
        "sourceHitRate",
        "mrr",
        "formatCompliance",
        "citationValidity",
        "judge",
        "judgeAgreement",
        "latencyMs",
        "costPerQueryUsd",
        "modelId",
        "errorCauses",
        "costBreakdownUsd",
        "costUnknown",
    )
    assert tuple(key for key in SUMMARY_ARM_KEYS if key in summary_before) == summary_before
    assert {"ci95", "repeatSpread"} <= set(SUMMARY_ARM_KEYS)
    before = (
        "id",
        "arm",
        "status",
        "correct",
        "mustIncludeRecall",
        "tokenF1",
        "refusal",
        "refusalCorrect",
        "sourceHit",
        "reciprocalRank",
        "formatOk",
        "citationsValid",
        "judge",
        "latencyMs",
        "inputTokens",
        "outputTokens",
        "costUsd",
    )
    assert tuple(key for key in SCORE_KEYS if key in before) == before
    assert set(SCORE_KEYS) - set(before) == {"schemaVersion", "repeat", "missingFacts", "formatFailures"}


def test_rates_lie_in_0_to_1_and_higher_is_better_while_latency_and_cost_are_lower_is_better() -> None:
    assert all(m.scale.bounded and m.higher_is_better for m in metrics.RATES)
    assert [m.summary_key for m in metrics.RATES if not m.scale.share] == ["tokenF1", "mrr"]
    for metric in (metrics.LATENCY, metrics.COST_PER_QUERY):
        assert not metric.scale.bounded and not metric.higher_is_better
    assert (metrics.LATENCY.scale.unit, metrics.COST_PER_QUERY.scale.unit) == ("ms", "USD")


def test_keys_are_unique_and_looked_up_by_summary_key() -> None:
    assert len({m.summary_key for m in metrics.METRICS}) == len(metrics.METRICS)
    assert len({m.score_key for m in metrics.METRICS}) == len(metrics.METRICS)
    assert metrics.BY_SUMMARY_KEY["formatCompliance"] is metrics.FORMAT_COMPLIANCE


def test_the_readme_documents_every_key_of_a_score_line_and_of_an_arm_summary() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### The run folder") : readme.index("### The LLM judge")]
    documented = set(re.findall(r"`([A-Za-z0-9]+)`", section)) | set(re.findall(r'"([A-Za-z0-9]+)"', section))
    assert set(SCORE_KEYS) - documented == set()
    assert set(SUMMARY_ARM_KEYS) - documented == set()
