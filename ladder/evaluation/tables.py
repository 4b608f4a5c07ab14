"""The numbers ``report.md`` and ``report.html`` both show, as plain-text tables (a header and rows of
cells): each writer only formats them. Every key of ``summary.json`` that came later than the first
version (``ci95``, ``repeatSpread``, ``judgeAgreement``, ``costBreakdownUsd``, ``costUnknown``,
``differences``) is optional here, so a run folder written before them still gets its report."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder_core import metrics

from ..errors import SetupError

VERDICT_FILE = "ladder-verdict.json"
"""``ladder justify``'s default ``--out``, looked for in the run folder and then in the working folder."""
UNKNOWN = "unknown"
RULE_LINE = re.compile(r"^Rule (\d+) \((.+?)\): (\S+) - (.*)$", re.DOTALL)
"""How ``ladder justify`` writes a rule into the verdict's ``reasons`` (``RuleOutcome.line``)."""
JUDGE_AGREEMENT_ASPECTS = ("correctness", "refusal")
EN_DASH = "\u2013"
MINUS = "\u2212"


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]


def rate(value: float | None, interval: list[float] | None = None) -> str:
    """``0.85 (0.74\u20130.94)`` (an en dash); ``0.85`` without an interval; ``-`` when the metric
    applied to no item."""
    if value is None:
        return "-"
    if not interval:
        return f"{value:.2f}"
    return f"{value:.2f} ({interval[0]:.2f}{EN_DASH}{interval[1]:.2f})"


def usd(value: float | None) -> str:
    return "-" if value is None else f"${value:.6f}"


def signed(value: float) -> str:
    return f"{value:+.2f}".replace("-", MINUS)


def arms_table(summary: dict[str, Any]) -> Table:
    """The arms side by side: counts, every rate of the registry with its interval (and its spread across
    repeats when the run repeated), the judge's means and its agreement with the rules, latency, the cost
    per query and its parts, the model."""
    data = summary["arms"]
    arms = list(data)
    rows = [
        ["Items", *[str(data[a]["n"]) for a in arms]],
        ["Errors", *[str(data[a]["errors"]) for a in arms]],
    ]
    for metric in metrics.RATES:
        cells = []
        for arm in arms:
            entry = data[arm]
            cell = rate(entry.get(metric.summary_key), (entry.get("ci95") or {}).get(metric.summary_key))
            spread = (entry.get("repeatSpread") or {}).get(metric.summary_key)
            cells.append(cell if spread is None else f"{cell}, sd {spread:.2f} across repeats")
        rows.append([metric.label, *cells])
    judged = sorted({m for a in arms for m in (data[a].get("judge") or {})})
    rows += [[f"Judge: {m}", *[rate((data[a].get("judge") or {}).get(m)) for a in arms]] for m in judged]
    if any(data[a].get("judgeAgreement") for a in arms):
        for aspect in JUDGE_AGREEMENT_ASPECTS:
            rows.append(
                [
                    f"Judge agrees with the rules: {aspect}",
                    *[_agreement((data[a].get("judgeAgreement") or {}).get(aspect)) for a in arms],
                ]
            )
    latency, cost = metrics.LATENCY, metrics.COST_PER_QUERY
    rows.append(
        [
            f"{latency.label} p50 / p95 ({latency.scale.unit})",
            *[_latency(data[a][latency.summary_key]) for a in arms],
        ]
    )
    rows.append([f"{cost.label} ({cost.scale.unit})", *[_total_cost(data[a], cost) for a in arms]])
    for component in cost_components(summary):
        rows.append([f"{cost.label}: {component}", *[_component(data[a], component) for a in arms]])
    rows.append(["Model", *[data[a].get("modelId") or "-" for a in arms]])
    return Table(["Metric", *arms], rows)


def cost_components(summary: dict[str, Any]) -> list[str]:
    """The parts of the cost per query any arm names, in the order the summary lists them."""
    found: dict[str, None] = {}
    for entry in summary["arms"].values():
        found.update(dict.fromkeys(entry.get("costBreakdownUsd") or {}))
        found.update(dict.fromkeys(entry.get("costUnknown") or []))
    return list(found)


def _component(entry: dict[str, Any], component: str) -> str:
    breakdown = entry.get("costBreakdownUsd")
    if breakdown is None:
        return "-"
    value = breakdown.get(component)
    # A price nobody knows is said, never shown as 0.
    if value is None or component in (entry.get("costUnknown") or []):
        return UNKNOWN
    return usd(value)


def _total_cost(entry: dict[str, Any], cost: metrics.Metric) -> str:
    total = usd(entry.get(cost.summary_key))
    unknown = entry.get("costUnknown") or []
    if unknown and entry.get(cost.summary_key) is not None:
        return f"{total} + {UNKNOWN} ({', '.join(unknown)})"
    return total


def _agreement(value: dict[str, Any] | None) -> str:
    """``agree 0.88 of 8, κ 0.71``: the share of the items both scored on which the judge (score 0.5 or more
    counted as yes) and the rules said the same, and Cohen's kappa (``-`` when undefined)."""
    if not value or not value.get("n") or value.get("agree") is None:
        return "-"
    kappa = value.get("kappa")
    return f"agree {value['agree']:.2f} of {value['n']}, κ {'-' if kappa is None else f'{kappa:.2f}'}"


def _latency(latency: dict[str, int | None]) -> str:
    p50, p95 = latency.get("p50"), latency.get("p95")
    return "-" if p50 is None else f"{p50} / {p95}"


def differences_table(summary: dict[str, Any]) -> Table | None:
    """Each pair of arms (``B-A`` = B minus A, paired over items) per rate: the difference, its interval
    and whether the interval leaves zero; None when the summary has no ``differences``."""
    differences = summary.get("differences") or {}
    if not differences:
        return None
    pairs, arms = list(differences), list(summary["arms"])
    rows = []
    for metric in metrics.RATES:
        cells = [
            _difference((differences[pair] or {}).get(metric.summary_key), _minuend(pair, arms))
            for pair in pairs
        ]
        if any(cell != "-" for cell in cells):
            rows.append([metric.label, *cells])
    return Table(["Metric", *pairs], rows)


def _minuend(pair: str, arms: list[str]) -> str:
    """B of ``B-A`` (an arm's name may itself hold a hyphen: the pair is split where both sides are arms)."""
    for arm in arms:
        if pair.startswith(f"{arm}-") and pair[len(arm) + 1 :] in arms:
            return arm
    return pair.partition("-")[0]


def _difference(value: dict[str, Any] | None, later: str) -> str:
    if not value or value.get("diff") is None:
        return "-"
    text = signed(value["diff"])
    interval = value.get("ci95")
    if interval:
        text += f" ({signed(interval[0])} to {signed(interval[1])})"
        if interval[0] > 0:
            text += f", {later} higher"
        elif interval[1] < 0:
            text += f", {later} lower"
        else:
            text += ", within noise"
    if value.get("n") is not None:
        text += f", n {value['n']}"
    return text


def find_verdict(folder: Path, summary: dict[str, Any], given: Path | None = None) -> dict[str, Any] | None:
    """The verdict ``ladder justify`` wrote for this run: ``given`` (SetupError when it is unreadable or
    about another run), else ``ladder-verdict.json`` in the run folder, else the one in the working folder
    (justify's default ``--out``) when it names this run; None when there is none."""
    if given is not None:
        document = _read_verdict(given)
        if document is None:
            raise SetupError(f"--verdict {given}: not a readable ladder-verdict.json")
        if not _about(document, summary):
            run = (document.get("evalRun") or {}).get("id")
            raise SetupError(f"--verdict {given} is about run {run}, not {summary['run']['id']}")
        return document
    for candidate in (folder / VERDICT_FILE, Path(VERDICT_FILE)):
        document = _read_verdict(candidate)
        if document is not None and _about(document, summary):
            return document
    return None


def _read_verdict(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) and "rung" in document else None


def _about(document: dict[str, Any], summary: dict[str, Any]) -> bool:
    run = document.get("evalRun") or {}
    return run.get("id") == summary["run"]["id"] and run.get("evalSetSha256") == (
        summary["run"].get("evalSet") or {}
    ).get("sha256")


@dataclass(frozen=True)
class VerdictView:
    """A verdict as the report shows it: the headline, the rules with their numbers, the other reasons."""

    headline: str
    rules: Table
    conclusions: list[str]
    notes: list[str]


def verdict_view(document: dict[str, Any]) -> VerdictView:
    justified = "justified" if document.get("fineTuneJustified") else "not justified"
    headline = (
        f"Rung {document.get('rung')}; fine-tuning {justified} (written {document.get('createdAt')}, "
        f"expires {document.get('expiresAt')})"
    )
    rules, conclusions, notes = [], [], []
    seen_rule = False
    for reason in document.get("reasons") or []:
        found = RULE_LINE.match(str(reason))
        if found:
            seen_rule = True
            rules.append([found.group(1), found.group(2), found.group(3), found.group(4)])
        elif seen_rule:
            notes.append(str(reason))
        else:
            conclusions.append(str(reason))
    structured = document.get("rules")
    if isinstance(structured, list) and structured:
        # Verdicts from schema 2 on list the rules themselves; the reasons repeat them as text.
        rules = [
            [str(rule.get(key, "")) for key in ("number", "name", "outcome", "detail")]
            for rule in structured
            if isinstance(rule, dict)
        ]
    overlap = (document.get("data") or {}).get("evalOverlap")
    if overlap:
        notes.append(
            f"Evaluation questions found in the training data: {overlap.get('exact', 0)} exact, "
            f"{overlap.get('near', 0)} near ({', '.join(map(str, overlap.get('ids') or [])) or 'none'})"
        )
    return VerdictView(headline, Table(["Rule", "Name", "Outcome", "Numbers"], rules), conclusions, notes)
