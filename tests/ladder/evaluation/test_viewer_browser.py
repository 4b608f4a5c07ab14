"""report.html in headless Chromium, used as a person would: two clicks (failed on ``rag``, passed on
``fewshot``) list every such item with why ``rag`` failed, an answer that carries markup stays text, and a
page error fails the check.

These tests need Chromium (``apt-get install chromium``): the page is JavaScript, and only a browser shows
whether it works. Chromium is a system package the Makefile cannot install, so on a machine without one they
are skipped with the install hint (the issue asks for them "where Chromium is present"), and ``make
eval-check``, which always needs one, is where the page is checked; ``LADDER_REQUIRE_BROWSER=1`` turns the
skip into a failure for a machine that must run them.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import pytest

from ladder import headless
from ladder.evaluation import check, viewer
from ladder.evaluation.report import write_report

from .crafted_run import HOSTILE, RAG_FAILED_FEWSHOT_PASSED, three_arms


@pytest.fixture(scope="module")
def browser() -> str:
    found = headless.find_browser()
    if found is None:
        message = f"no Chromium on the PATH: {headless.INSTALL_HINT} (report.html is tested in a browser)"
        if os.environ.get("LADDER_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def page(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    write_report(folder, three_arms(folder))
    return folder / viewer.REPORT_HTML


def test_two_clicks_list_every_item_where_rag_failed_and_fewshot_passed_and_why(
    page: Path, browser: str
) -> None:
    chosen, result = check.run_check(page, browser, fail="rag", passed="fewshot")
    assert result.problems == []
    measured = result.measured
    assert measured is not None and measured["errors"] == [] and measured["viewportWidth"] == 1280
    steps = {step["name"]: step for step in measured["steps"]}
    assert steps["failPass"]["rendered"] == RAG_FAILED_FEWSHOT_PASSED
    assert steps["failPass"]["matches"] == len(RAG_FAILED_FEWSHOT_PASSED)
    assert steps["failPass"]["whyShown"] == len(RAG_FAILED_FEWSHOT_PASSED)
    assert steps["tag"]["rendered"] == ["hostile"] and chosen.tag == "<i>tag</i>"
    # "both" fails in every arm: no disagreement
    assert steps["disagreements"]["rendered"] == [
        "leave",
        "pension",
        "shares",
        "short",
        "cite",
        "err",
        "hostile",
        "unsent",
    ]
    # Judged by correctness alone, rag's short (a format failure) and cite (a bad citation) pass
    assert chosen.by == "correct"
    assert steps["judgedBy"]["rendered"] == ["leave", "shares", "both", "err", "hostile"]
    assert steps["sortQuestionDown"]["rendered"] == [
        "err",
        "shares",
        "pension",
        "both",
        "short",
        "cite",
        "leave",
        "unsent",
        "hostile",
    ]
    # Opened after the two clicks: every answer of the 6 rows (rag's error has none) shows its text.
    assert measured["opened"] == measured["answersShown"] == 6 + 6 + 5
    assert measured["injected"] == 0


def test_an_answer_with_markup_is_shown_as_its_text(page: Path, browser: str) -> None:
    dom = headless.run(
        browser, page, "--dump-dom", width=1280, height=1000, fragment="check&fail=rag&pass=fewshot"
    ).stdout
    assert f'<div class="answer">{html.escape(HOSTILE, quote=False)}</div>' in dom
    assert "<img" not in dom and "data-injected=" not in dom


def test_a_page_error_fails_the_check(page: Path, browser: str) -> None:
    text = page.read_text()
    page.write_text(text.replace("</body>", "<script>undefinedFunction();</script></body>"))
    _, result = check.run_check(page, browser, fail="rag", passed="fewshot")
    assert [p for p in result.problems if p.startswith("page error:")] == [
        "page error: Uncaught ReferenceError: undefinedFunction is not defined"
    ]
