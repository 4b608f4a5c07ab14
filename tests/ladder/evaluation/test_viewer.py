"""report.html as a file: self-contained, every text from the run escaped, the embedded data exactly the
matrix; and ``make eval-check``'s decisions on what a page reported of itself (crafted JSON)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ladder.evaluation import check, rundir, viewer
from ladder.evaluation.report import write_report

from .crafted_run import ARMS, HOSTILE, RAG_FAILED_FEWSHOT_PASSED, three_arms


@pytest.fixture
def page(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    write_report(folder, three_arms(folder))
    return folder / viewer.REPORT_HTML


def test_the_embedded_json_holds_no_markup_and_reads_back_unchanged() -> None:
    data = {"answer": HOSTILE, "nested": ["</script>", "<!--", "a & b"]}
    text = viewer.embedded_json(data)
    assert not set("<>&") & set(text)
    assert json.loads(text) == data


def test_no_text_of_the_run_becomes_markup(page: Path) -> None:
    html_text = page.read_text()
    # Three script elements, all the page's own: the error recorder, the data, the viewer.
    assert len(re.findall(r"<script\b", html_text, re.IGNORECASE)) == 3
    assert html_text.count("</script>") == 3
    assert "<img" not in html_text and "<b>Bold" not in html_text and "<i>tag" not in html_text
    embedded = check.embedded(html_text)
    hostile = next(item for item in embedded["items"] if item["id"] == "hostile")
    assert hostile["cells"]["rag"]["answer"] == HOSTILE
    assert hostile["question"] == "<b>Bold</b> & <script>alert(1)</script>?"
    assert hostile["tags"] == ["<i>tag</i>"]


def test_a_run_id_with_markup_is_escaped_in_the_static_parts(tmp_path: Path) -> None:
    folder = tmp_path / "run<img src=x onerror=alert(1)>"
    summary = three_arms(folder)
    write_report(folder, summary)
    html_text = (folder / viewer.REPORT_HTML).read_text()
    assert "<img" not in html_text
    assert "<h1>Evaluation run&lt;img src=x onerror=alert(1)&gt;</h1>" in html_text


def test_the_page_loads_nothing_from_the_network(page: Path) -> None:
    html_text = page.read_text()
    assert "default-src 'none'" in html_text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html_text)
    assert "@import" not in html_text and "url(http" not in html_text


def test_the_page_embeds_the_matrix_with_its_page_size(page: Path) -> None:
    data = check.embedded(page.read_text())
    assert data["arms"] == ARMS and data["pageRows"] == viewer.PAGE_ROWS
    assert [item["id"] for item in data["items"]] == [
        json.loads(line)["id"] for line in (page.parent / rundir.SET_COPY).read_text().splitlines()
    ]


def test_the_check_expects_every_rag_failure_fewshot_passed_in_set_order(page: Path) -> None:
    data = check.embedded(page.read_text())
    chosen = check.plan(data, fail="rag", passed="fewshot")
    expected = check.expected(data, chosen)
    assert expected["failPass"] == RAG_FAILED_FEWSHOT_PASSED
    assert expected["tag"] == ["hostile"], "the first tag in sort order is <i>tag</i>"
    # rag's failures first, the one that broke most rules leading; then its pass; then the unanswered
    assert expected["sort"] == [
        "leave",
        "shares",
        "short",
        "cite",
        "both",
        "err",
        "hostile",
        "pension",
        "unsent",
    ]
    assert check.plan(data).fail == "fewshot" and check.plan(data).passed == "prompt"
    with pytest.raises(ValueError, match="--fail rags: the run's arms are prompt, fewshot, rag"):
        check.plan(data, fail="rags")


def _measured(data: dict[str, Any], chosen: check.Plan) -> dict[str, Any]:
    """What a page that works reports (the steps exactly as expected)."""
    rows = data["pageRows"]
    steps = []
    for name, ids in check.expected(data, chosen).items():
        shown = ids[: 2 * rows if name == "more" else rows]
        step = {"name": name, "ms": 3.0, "fastestMs": 2.0, "matches": len(ids), "rendered": shown}
        if name == "failPass":
            step["whyShown"] = len(shown)
        steps.append(step)
    return {
        "viewportWidth": 1280,
        "items": len(data["items"]),
        "parseMs": 1.0,
        "loadMs": 50.0,
        "renderedAtLoad": min(rows, len(data["items"])),
        "steps": steps,
        "opened": 4,
        "answersShown": 4,
        "injected": 0,
        "errors": [],
    }


def test_a_page_that_shows_what_its_data_says_passes_and_every_difference_fails(page: Path) -> None:
    data = check.embedded(page.read_text())
    chosen = check.plan(data, fail="rag", passed="fewshot")
    good = _measured(data, chosen)
    assert check.judge(data, chosen, good) == []
    assert check.judge(data, chosen, None) == [
        "the page never reported (#eval-check missing: its scripts did not finish)"
    ]
    broken = json.loads(json.dumps(good))
    broken["errors"] = ["TypeError: x is undefined"]
    broken["injected"] = 1
    fail_pass = broken["steps"][0]
    fail_pass["rendered"] = fail_pass["rendered"][1:]
    fail_pass["whyShown"] -= 2
    broken["answersShown"] = 3
    assert check.judge(data, chosen, broken) == [
        "page error: TypeError: x is undefined",
        "1 element(s) from the run's text became markup",
        "failPass: the page lists ['shares', 'short', 'cite', 'err', 'hostile']..., expected "
        "['leave', 'shares', 'short', 'cite', 'err', 'hostile']...",
        "failPass: 1 rows where rag failed do not say why",
        "opened 4 answers but 3 show their text",
    ]
    missing = dict(good, steps=good["steps"][1:])
    assert check.judge(data, chosen, missing) == ["step failPass did not run"]


def test_the_check_exits_2_saying_what_to_do_without_a_page_or_a_browser(
    page: Path, capsys, monkeypatch
) -> None:
    assert check.main([str(page.parent.parent / "nowhere")]) == 2
    assert "run `ladder eval report" in capsys.readouterr().err
    monkeypatch.setenv("PATH", str(page.parent))
    assert check.main([str(page.parent)]) == 2
    assert "apt-get install chromium" in capsys.readouterr().err
