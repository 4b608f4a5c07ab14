"""``report.md`` and its charts (matplotlib, Agg backend: no display needed) from a scored run."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from ladder_core import metrics

from . import rundir
from .runner import read_records

HEADLINE = (
    metrics.CORRECTNESS,
    metrics.MUST_INCLUDE_RECALL,
    metrics.REFUSAL_ACCURACY,
    metrics.SOURCE_HIT_RATE,
    metrics.MRR,
    metrics.FORMAT_COMPLIANCE,
    metrics.CITATION_VALIDITY,
    metrics.TOKEN_F1,
)
"""The rates in the order the report shows them, charted on the same 0..1 scale; latency and cost get
charts of their own."""
_CORRECT = metrics.CORRECTNESS.score_key
_FORMAT_OK = metrics.FORMAT_COMPLIANCE.score_key
_CITATIONS_VALID = metrics.CITATION_VALIDITY.score_key
_RECALL = metrics.MUST_INCLUDE_RECALL.score_key
WORST_PER_ARM = 5
ANSWER_PREVIEW_CHARS = 300


def write_report(folder: Path, summary: dict[str, Any]) -> Path:
    """Write ``report.md`` and ``charts/*.png`` into the run folder; the report's path."""
    rows = [
        json.loads(line) for line in (folder / rundir.SCORES).read_text(encoding="utf-8").splitlines() if line
    ]
    records = read_records(folder / rundir.RESPONSES)
    evalset = rundir.load_run_set(folder)
    questions = {item.id: item.question for item in evalset.items}
    charts = write_charts(folder / rundir.CHARTS, summary)
    arms = list(summary["arms"])
    run = summary["run"]
    lines = [
        f"# Evaluation {run['id']}",
        "",
        f"- Set: `{run['evalSet']['path']}` ({run['evalSet']['items']} items, sha256 "
        f"`{run['evalSet']['sha256'][:12]}`)",
        f"- API: {run['url']}",
        f"- Started: {run['createdAt']}; generation model: {run['generationModelId'] or 'unknown'}",
        "",
        "## Arms side by side",
        "",
        _table(["Metric", *arms], _metric_rows(summary, arms)),
        "",
        "Rates are means over the items where the metric applies (`-`: none applied). Errors are counted, "
        "not scored.",
        "",
    ]
    lines += [f"![{title}]({rundir.CHARTS}/{path.name})" for title, path in charts]
    lines += ["", "## Items where the arms disagree", ""]
    lines += _disagreements(rows, arms, questions)
    for arm in arms:
        lines += ["", f"## Worst items: {arm}", ""]
        lines += _worst(rows, records, arm)
    report = folder / rundir.REPORT
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report


def write_charts(folder: Path, summary: dict[str, Any]) -> list[tuple[str, Path]]:
    """One bar chart per headline metric across arms (only metrics that apply to some arm)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    arms = list(summary["arms"])
    data = summary["arms"]
    specs: list[tuple[str, str, list[float | None], str]] = [
        (m.summary_key, m.label, [data[a][m.summary_key] for a in arms], m.scale.unit) for m in HEADLINE
    ]
    latency, cost = metrics.LATENCY, metrics.COST_PER_QUERY
    specs.append(
        (
            "latencyP95",
            f"{latency.label} p95",
            [data[a][latency.summary_key]["p95"] for a in arms],
            latency.scale.unit,
        )
    )
    specs.append(("costPerQuery", cost.label, [data[a][cost.summary_key] for a in arms], cost.scale.unit))
    written = []
    for key, title, values, unit in specs:
        if all(v is None for v in values):
            continue
        figure, axes = plt.subplots(figsize=(5, 3.2))
        heights = [v or 0 for v in values]
        bars = axes.bar(arms, heights, color="#4C72B0")
        axes.bar_label(bars, labels=["n/a" if v is None else f"{v:.3g}" for v in values])
        axes.set_title(title)
        axes.set_ylabel(unit)
        if unit == metrics.RATE.unit:
            axes.set_ylim(0, 1.1)
        figure.tight_layout()
        path = folder / f"{key}.png"
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append((title, path))
    return written


def _metric_rows(summary: dict[str, Any], arms: list[str]) -> list[list[str]]:
    data = summary["arms"]
    rows = [
        ["Items", *[str(data[a]["n"]) for a in arms]],
        ["Errors", *[str(data[a]["errors"]) for a in arms]],
    ]
    for metric in HEADLINE:
        show = _pct if metric.scale.share else _num
        rows.append([metric.label, *[show(data[a][metric.summary_key]) for a in arms]])
    judge_metrics = sorted({m for a in arms for m in (data[a]["judge"] or {})})
    rows += [[f"Judge: {m}", *[_num((data[a]["judge"] or {}).get(m)) for a in arms]] for m in judge_metrics]
    latency, cost = metrics.LATENCY, metrics.COST_PER_QUERY
    rows.append(
        [
            f"{latency.label} p50 / p95 ({latency.scale.unit})",
            *[_latency(data[a][latency.summary_key]) for a in arms],
        ]
    )
    rows.append([f"{cost.label} ({cost.scale.unit})", *[_usd(data[a][cost.summary_key]) for a in arms]])
    rows.append(["Model", *[f"`{data[a]['modelId']}`" if data[a]["modelId"] else "-" for a in arms]])
    return rows


def _disagreements(rows: list[dict[str, Any]], arms: list[str], questions: dict[str, str]) -> list[str]:
    by_item: dict[str, dict[str, Any]] = {}
    for row in rows:
        by_item.setdefault(row["id"], {})[row["arm"]] = row[_CORRECT]
    table = [
        [item_id, _cell(questions.get(item_id, "")), *[_bool(verdicts.get(a)) for a in arms]]
        for item_id, verdicts in by_item.items()
        if len({v for v in verdicts.values() if v is not None}) > 1
    ]
    if not table:
        return ["No item is correct in one arm and wrong in another."]
    return [_table(["Item", "Question", *arms], table)]


def _worst(rows: list[dict[str, Any]], records: dict[tuple[str, str], dict[str, Any]], arm: str) -> list[str]:
    """Errors first, then wrong answers, failed format checks and invalid citations, least recall first."""

    def is_bad(row: dict[str, Any]) -> bool:
        return row["status"] != "ok" or False in (row[_CORRECT], row[_FORMAT_OK], row[_CITATIONS_VALID])

    def badness(row: dict[str, Any]) -> tuple[float, float, float]:
        if row["status"] != "ok":
            return (-1.0, 0.0, 0.0)
        recall = row[_RECALL]
        f1 = row[metrics.TOKEN_F1.score_key]
        return (
            float(row[_CORRECT] is not False),
            1.0 if recall is None else recall,
            1.0 if f1 is None else f1,
        )

    worst = sorted((row for row in rows if row["arm"] == arm and is_bad(row)), key=badness)[:WORST_PER_ARM]
    if not worst:
        return ["Nothing to show: no errors, wrong answers, failed format checks or invalid citations."]
    table = []
    for row in worst:
        record = records.get((row["id"], arm), {})
        if row["status"] == "ok":
            answer = str((record.get("response") or {}).get("answer", ""))
        else:
            error = record.get("error") or {}
            answer = f"error {error.get('httpStatus')} {error.get('code')}: {error.get('message')}"
        table.append(
            [
                row["id"],
                _bool(row[_CORRECT]),
                _bool(row[_FORMAT_OK]),
                _pct(row[_RECALL]),
                _cell(answer),
            ]
        )
    return [_table(["Item", "Correct", "Format", "Recall", "Answer"], table)]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(text: str) -> str:
    short = textwrap.shorten(" ".join(text.split()), ANSWER_PREVIEW_CHARS, placeholder=" ...")
    return short.replace("|", "\\|")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _usd(value: float | None) -> str:
    return "-" if value is None else f"{value:.6f}"


def _bool(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "-"}[value]


def _latency(latency: dict[str, int | None]) -> str:
    p50, p95 = latency.get("p50"), latency.get("p95")
    return "-" if p50 is None else f"{p50} / {p95}"
