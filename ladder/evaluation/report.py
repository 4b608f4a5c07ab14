"""A scored run's reports: ``report.md`` with ``charts/metrics.png``, and the self-contained
``report.html`` (``viewer.py``). Both show the same numbers (``tables.py``) and the same reasons an answer
failed (``matrix.py``)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from ladder_core import metrics
from ladder_core.evaluation.evalset import EvalSet

from . import figure, matrix, rundir, tables, viewer
from .runner import read_records
from .tables import Table

_CORRECT = metrics.CORRECTNESS.score_key
WORST_PER_ARM = 5
ANSWER_PREVIEW_CHARS = 300


def write_report(folder: Path, summary: dict[str, Any], *, verdict_file: Path | None = None) -> Path:
    """Write ``report.md``, ``charts/metrics.png`` and ``report.html`` into the run folder; the path of
    ``report.md``. ``verdict_file``: a ``ladder-verdict.json`` of this run elsewhere than the folder or the
    working folder (see ``tables.find_verdict``)."""
    rows = [
        json.loads(line) for line in (folder / rundir.SCORES).read_text(encoding="utf-8").splitlines() if line
    ]
    records = read_records(folder / rundir.RESPONSES)
    evalset = rundir.load_run_set(folder)
    verdict = tables.find_verdict(folder, summary, verdict_file)
    arms = list(summary["arms"])
    items = matrix.build(evalset, arms, rows, records)
    _clear_charts(folder / rundir.CHARTS)
    chart = figure.write_png(folder / rundir.CHARTS, summary)
    report = folder / rundir.REPORT
    report.write_text(markdown(summary, items, evalset, chart, verdict), encoding="utf-8")
    viewer.write(folder, viewer.render(summary, items, figure.svg(summary), verdict))
    return report


def _clear_charts(folder: Path) -> None:
    """``charts/`` is derived and rewritten whole: the single-metric charts of earlier versions go."""
    if folder.is_dir():
        for old in folder.glob("*.png"):
            old.unlink()


def markdown(
    summary: dict[str, Any],
    items: dict[str, Any],
    evalset: EvalSet,
    chart: Path,
    verdict: dict[str, Any] | None,
) -> str:
    """The text of ``report.md``."""
    run = summary["run"]
    lines = [
        f"# Evaluation {run['id']}",
        "",
        f"- Set: `{run['evalSet']['path']}` ({run['evalSet']['items']} items, sha256 "
        f"`{run['evalSet']['sha256'][:12]}`)",
        f"- API: {run['url']}",
        f"- Started: {run['createdAt']}; generation model: {run['generationModelId'] or 'unknown'}",
        f"- The item matrix, filterable by arm, failure, tag and text: [{viewer.REPORT_HTML}]"
        f"({viewer.REPORT_HTML})",
        "",
    ]
    if verdict is not None:
        lines += _verdict(verdict)
    lines += [
        "## Arms side by side",
        "",
        _table(tables.arms_table(summary)),
        "",
        "Rates are means over the items where the metric applies (`-`: none applied), with the 95 % interval "
        "of a seeded bootstrap over items in brackets when the run has one. Errors are counted, not scored. "
        "A cost whose price is unknown is shown as unknown, never as 0.",
        "",
    ]
    differences = tables.differences_table(summary)
    if differences is not None:
        lines += [
            "## Differences between arms",
            "",
            "`B-A` is B minus A over the items both answered, with its 95 % interval; an interval that "
            "includes 0 is within noise.",
            "",
            _table(differences),
            "",
        ]
    lines += [f"![Every headline metric per arm]({rundir.CHARTS}/{chart.name})", ""]
    lines += ["## Items where the arms disagree", ""]
    lines += _disagreements(items)
    for arm in items["arms"]:
        lines += ["", f"## Worst items: {arm}", ""]
        lines += _worst(items, arm)
    return "\n".join(lines) + "\n"


def _verdict(document: dict[str, Any]) -> list[str]:
    view = tables.verdict_view(document)
    lines = ["## Verdict (ladder justify)", "", f"**{view.headline}**", ""]
    lines += [f"- {text}" for text in view.conclusions]
    if view.rules.rows:
        lines += ["", _table(view.rules)]
    if view.notes:
        lines += ["", *[f"- {text}" for text in view.notes]]
    return [*lines, ""]


def _disagreements(items: dict[str, Any]) -> list[str]:
    """Items correct in one arm and not in another, with why each wrong answer failed."""
    arms = items["arms"]
    table = []
    for item in items["items"]:
        verdicts = {arm: (item["cells"][arm].get("checks") or {}).get(_CORRECT) for arm in arms}
        if len({v for v in verdicts.values() if v is not None}) > 1:
            why = "; ".join(
                f"{arm}: {', '.join(item['cells'][arm]['reasons'])}"
                for arm in arms
                if verdicts[arm] is False and item["cells"][arm]["reasons"]
            )
            table.append(
                [item["id"], _cell(item["question"]), *[_bool(verdicts[a]) for a in arms], _cell(why)]
            )
    if not table:
        return ["No item is correct in one arm and wrong in another."]
    return [_table(Table(["Item", "Question", *arms, "Why"], table))]


def _worst(items: dict[str, Any], arm: str) -> list[str]:
    """Errors first, then the answers that broke the most rules."""

    def badness(item: dict[str, Any]) -> tuple[int, int]:
        cell = item["cells"][arm]
        return (0 if cell["status"] == matrix.ERROR else 1, -len(cell["reasons"]))

    failed = [item for item in items["items"] if item["cells"][arm].get("verdict") == "fail"]
    worst = sorted(failed, key=badness)[:WORST_PER_ARM]
    if not worst:
        return ["Nothing to show: no errors and no failed checks."]
    table = []
    for item in worst:
        cell = item["cells"][arm]
        table.append(
            [
                item["id"],
                _bool((cell.get("checks") or {}).get(_CORRECT)),
                _cell("; ".join(cell["reasons"])),
                _cell(cell["answer"] if cell["answer"] is not None else "-"),
            ]
        )
    return [_table(Table(["Item", "Correct", "Why", "Answer"], table))]


def _table(table: Table) -> str:
    lines = ["| " + " | ".join(_escape(h) for h in table.header) + " |", "|" + "---|" * len(table.header)]
    lines += ["| " + " | ".join(_escape(cell) for cell in row) + " |" for row in table.rows]
    return "\n".join(lines)


def _escape(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _cell(text: str) -> str:
    return textwrap.shorten(" ".join(text.split()), ANSWER_PREVIEW_CHARS, placeholder=" ...")


def _bool(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "-"}[value]
