"""``report.html``: one self-contained page per run folder (no network, opens from disk).

The arms side by side with every headline metric, its interval and the cost breakdown; the differences
between arms; the one figure (inline SVG); the verdict when ``ladder justify`` wrote one for the run; and the
item matrix (a row per item, a column per arm, filterable and sortable), drawn by the inlined script
(``viewer_js.py``) from JSON embedded in the page. Every text from the run is escaped: as HTML here, and
inside the embedded JSON so that no answer can end the ``<script>`` element that holds it.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from ..headless import RECORD_ERRORS_JS
from . import tables
from .tables import Table
from .viewer_js import SCRIPT, STYLE

REPORT_HTML = "report.html"
PAGE_ROWS = 50
"""Rows of the matrix drawn at a time (more as the reader scrolls): keeps the DOM light at any run size."""
DATA_ELEMENT = "ladder-data"


def embedded_json(data: Any) -> str:
    """JSON safe inside a ``<script type="application/json">`` element: ``<``, ``>`` and ``&`` are written
    as ``\\u003c`` ... (the same string to ``JSON.parse``), so no ``</script>`` or ``<!--`` can appear."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page_data(matrix: dict[str, Any]) -> dict[str, Any]:
    """What the page embeds: the matrix (``matrix.build``) and how many rows it draws at a time."""
    return {**matrix, "pageRows": PAGE_ROWS}


def render(
    summary: dict[str, Any], matrix: dict[str, Any], figure_svg: str, verdict: dict[str, Any] | None
) -> str:
    """The whole page."""
    run = summary["run"]
    evalset = run.get("evalSet") or {}
    esc = html.escape
    parts = [
        f"<h1>Evaluation {esc(str(run['id']))}</h1>",
        "<ul>"
        f"<li>Set: <code>{esc(str(evalset.get('path')))}</code> ({esc(str(evalset.get('items')))} items, "
        f"sha256 <code>{esc(str(evalset.get('sha256', ''))[:12])}</code>)</li>"
        f"<li>API: {esc(str(run.get('url')))}</li>"
        f"<li>Started: {esc(str(run.get('createdAt')))}; generation model: "
        f"{esc(str(run.get('generationModelId') or 'unknown'))}</li></ul>",
    ]
    sections = [("items", "the items"), ("arms", "the arms"), ("figure", "the figure")]
    if verdict is not None:
        sections.insert(0, ("verdict", "the verdict"))
    parts.append(
        "<p>Go to: " + " \u00b7 ".join(f'<a href="#{key}">{label}</a>' for key, label in sections) + "</p>"
    )
    if verdict is not None:
        parts += _verdict(verdict)
    parts += [
        '<h2 id="arms">Arms side by side</h2>',
        _table(tables.arms_table(summary), "numbers arms"),
        "<p>Rates are means over the items where the metric applies (<code>-</code>: none applied), with the "
        "95 % interval of a seeded bootstrap over items in brackets when the run has one. Errors are "
        "counted, not scored. A cost whose price is unknown is shown as unknown, never as 0.</p>",
    ]
    differences = tables.differences_table(summary)
    if differences is not None:
        parts += [
            '<h2 id="differences">Differences between arms</h2>',
            "<p><code>B-A</code> is B minus A over the items both answered, with its 95 % interval; "
            "an interval that includes 0 is within noise.</p>",
            _table(differences, "numbers"),
        ]
    parts += [
        '<h2 id="figure">Every headline metric per arm</h2>',
        f'<div class="figure">{figure_svg}</div>',
        '<h2 id="items">Items</h2>',
        _matrix_shell(matrix),
    ]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Evaluation {esc(str(run['id']))}</title>"
        # Nothing may load from the network: the page is read from disk, on machines without access.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        f"<style>{STYLE}</style><script>{RECORD_ERRORS_JS}</script></head><body>\n"
        + "\n".join(parts)
        + f'\n<script type="application/json" id="{DATA_ELEMENT}">{embedded_json(page_data(matrix))}'
        + f"</script>\n<script>{SCRIPT}</script>\n</body></html>\n"
    )


def _matrix_shell(matrix: dict[str, Any]) -> str:
    """The filter bar and the empty table the script fills."""
    esc = html.escape
    columns = [("id", "Item"), ("question", "Question"), *((arm, arm) for arm in matrix["arms"])]
    header = "".join(
        f'<th data-column="{esc(key, quote=True)}" aria-sort="none" title="sort">{esc(label)}</th>'
        for key, label in columns
    )
    cols = '<col class="id"><col class="question">' + "<col>" * len(matrix["arms"])
    return (
        "<p>Each cell: PASS when every pass/fail check of the answer holds, FAIL with the rule that failed "
        "when one does not (or the request ended in an error). To see where one arm failed and another did "
        "not, press <em>failed</em> on the first and <em>passed</em> on the second.</p>"
        '<div id="filters"><span id="arm-filters"></span>'
        '<label>judged by <select id="by"><option value="any">every check</option></select></label>'
        '<label><input type="checkbox" id="disagree"> only disagreements</label>'
        '<label>tag <select id="tag"><option value="">any</option></select></label>'
        '<label>text <input type="search" id="text" placeholder="id, question, answer, reason"></label>'
        '<button type="button" id="reset">reset</button><span id="count"></span></div>'
        f'<table id="matrix"><colgroup>{cols}</colgroup><thead><tr>{header}</tr></thead><tbody></tbody>'
        '</table><button type="button" id="more" hidden></button>'
    )


def _verdict(document: dict[str, Any]) -> list[str]:
    view = tables.verdict_view(document)
    esc = html.escape
    parts = [
        '<h2 id="verdict">Verdict (ladder justify)</h2>',
        f"<p><strong>{esc(view.headline)}</strong></p>",
    ]
    if view.conclusions:
        parts.append("<ul>" + "".join(f"<li>{esc(text)}</li>" for text in view.conclusions) + "</ul>")
    if view.rules.rows:
        parts.append(_table(view.rules, "rules"))
    if view.notes:
        parts.append("<ul>" + "".join(f"<li>{esc(text)}</li>" for text in view.notes) + "</ul>")
    return parts


def _table(table: Table, css: str) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(cell)}</th>" for cell in table.header)
    body = "".join("<tr>" + "".join(_cell(cell) for cell in row) + "</tr>" for row in table.rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(text: str) -> str:
    css = ' class="unknown"' if tables.UNKNOWN in text else ""
    return f"<td{css}>{html.escape(text)}</td>"


def write(folder: Path, page: str) -> Path:
    path = folder / REPORT_HTML
    path.write_text(page, encoding="utf-8")
    return path
