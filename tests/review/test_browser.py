"""``make review-check``'s decisions on what the page measured of itself, on crafted DOM and JSON. The
real-browser run is ``make review-check`` itself (it needs Chromium, which ``make test`` does not)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest

from ladder.review import browser, render


def _label(text: str, box: list[float], font_px: float = 14.0, kind: str = "node") -> dict[str, Any]:
    return {"kind": kind, "text": text, "fontPx": font_px, "box": box}


def _source(labels: list[dict[str, Any]]) -> str:
    """Mermaid source declaring one box per node label, the way the review's diagrams declare them."""
    boxes = [f'  n{i}["{label["text"]}"]' for i, label in enumerate(labels) if label["kind"] == "node"]
    return "\n".join(["flowchart LR", *boxes, '  n0 -->|"IAM"| n1']) + "\n"


def _measured(*labels: dict[str, Any]) -> dict[str, Any]:
    diagram = {
        "title": "LadderRagApi",
        "drawn": True,
        "width": 900,
        "scrolls": False,
        "labels": list(labels),
        "source": _source(list(labels)),
    }
    return {
        "viewportWidth": 1280,
        "pageHeight": 9000,
        "diagramsBottom": 2400,
        "errors": [],
        "diagrams": [diagram],
    }


def _dom(measured: dict[str, Any]) -> str:
    # What Chromium's --dump-dom gives back: the JSON as the text of a hidden element, HTML-escaped
    return (
        "<html><body><pre class=mermaid data-processed=true><svg></svg></pre>"
        f'<pre id="diagram-check" hidden="">{html.escape(json.dumps(measured), quote=False)}</pre>'
        "</body></html>"
    )


def test_the_measurements_are_read_back_from_the_dumped_dom_even_with_markup_in_a_label() -> None:
    measured = _measured(_label("<b>RagApi</b> & co", [0, 0, 50, 20]))
    assert browser.measurements(_dom(measured)) == measured


def test_a_page_whose_scripts_never_reported_fails() -> None:
    assert browser.measurements("<html><body><pre class=mermaid>flowchart LR</pre></body></html>") is None
    verdict = browser.judge(None)
    assert verdict.problems and "never reported" in verdict.problems[0]


def test_a_readable_page_passes_and_reports_its_smallest_label() -> None:
    verdict = browser.judge(
        _measured(_label("RagApi", [0, 0, 60, 16], 14.0), _label("IAM", [100, 0, 130, 12], 11.0, "edge"))
    )
    assert verdict.problems == []
    assert verdict.min_font_px == 11.0, "11 px is the threshold itself: allowed"
    assert verdict.diagrams == 1 and len(verdict.labels) == 2


def test_a_label_under_eleven_pixels_fails_naming_it_and_its_size() -> None:
    verdict = browser.judge(_measured(_label("KnowledgeBase", [0, 0, 30, 4], 3.46)))
    assert verdict.problems == ["LadderRagApi: node label 'KnowledgeBase' is 3.46 px high, under 11 px"]


def test_overlapping_labels_fail_and_labels_that_only_touch_do_not() -> None:
    a = _label("RagFunction", [100, 100, 200, 120])
    overlapping = _label("runs as", [190, 110, 240, 126], kind="edge")
    touching = _label("Guardrail", [199.5, 100, 260, 120])
    below = _label("RagApi", [100, 119.5, 200, 140])
    verdict = browser.judge(_measured(a, overlapping))
    assert verdict.problems == ["LadderRagApi: label 'RagFunction' overlaps label 'runs as'"]
    assert browser.judge(_measured(a, touching, below)).problems == []


def test_a_diagram_missing_a_box_it_declares_fails() -> None:
    # Given a source of three boxes, of which Chromium drew two (one went missing, or into another SVG)
    measured = _measured(_label("A", [0, 0, 10, 10]), _label("B", [50, 0, 60, 10]))
    measured["diagrams"][0]["source"] += '  n9["C<br/><i>queue</i>"]:::outside\n'
    assert browser.judge(measured).problems == [
        "diagram 'LadderRagApi' declares 3 boxes but 2 were drawn with a label in it"
    ]


def test_labels_of_different_diagrams_never_overlap_each_other() -> None:
    measured = _measured(_label("A", [0, 0, 100, 20]))
    other = dict(measured["diagrams"][0], title="LadderKnowledge")
    measured["diagrams"].append(other)
    assert browser.overlapping(browser.labels(measured)) == []


def test_page_errors_a_missing_drawing_and_the_wrong_width_each_fail() -> None:
    measured = _measured(_label("A", [0, 0, 10, 10]))
    measured["errors"] = ["mermaid: Parse error on line 3", "failed to load file:///x.png"]
    measured["viewportWidth"] = 800
    measured["diagrams"].append({"title": "Overview", "drawn": False, "labels": []})
    measured["diagrams"].append({"title": "LadderKnowledge", "drawn": True, "labels": []})
    problems = browser.judge(measured).problems
    assert problems == [
        "the page was laid out 800 px wide, not 1280 px",
        "page error: mermaid: Parse error on line 3",
        "page error: failed to load file:///x.png",
        "diagram 'Overview' was not drawn (no SVG)",
        "diagram 'LadderKnowledge' was drawn without a single label",
    ]
    assert browser.judge(dict(measured, diagrams=[], errors=[], viewportWidth=1280)).problems == [
        "the page has no diagram"
    ]


def test_diagrams_wider_than_the_page_are_reported_not_failed() -> None:
    measured = _measured(_label("A", [0, 0, 10, 10]))
    measured["diagrams"][0]["scrolls"] = True
    verdict = browser.judge(measured)
    assert verdict.problems == [] and verdict.scrolling == ["LadderRagApi"]


@pytest.mark.parametrize(
    ("bottom", "height"),
    [
        (2400, 2400 + browser.SCREENSHOT_MARGIN_PX),
        (100, browser.MEASURE_HEIGHT_PX),
        (10**6, 16384),
        (None, browser.MEASURE_HEIGHT_PX + browser.SCREENSHOT_MARGIN_PX),
    ],
)
def test_the_screenshot_reaches_the_last_diagram_within_one_bitmap(bottom: int | None, height: int) -> None:
    assert browser.screenshot_height({"diagramsBottom": bottom}) == height


def test_the_page_writes_the_element_the_check_reads() -> None:
    assert "out.id = 'diagram-check'" in render.DRAW_JS
    assert browser.CHECK_ELEMENT.search('<pre id="diagram-check" hidden="">{}</pre>')


def test_without_a_page_or_a_browser_the_check_exits_2_saying_what_to_do(
    tmp_path, capsys, monkeypatch
) -> None:
    assert browser.main([str(tmp_path / "index.html")]) == 2
    assert "run `make review` first" in capsys.readouterr().err
    page = tmp_path / "index.html"
    page.write_text("<html></html>")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert browser.main([str(page)]) == 2
    assert "apt-get install chromium" in capsys.readouterr().err


def test_a_browser_that_reports_nothing_fails_the_check(tmp_path, capsys, monkeypatch) -> None:
    # Given a "browser" that prints an empty DOM and writes no screenshot (a Chromium that crashed)
    fake = Path(tmp_path / "chromium")
    fake.write_text("#!/bin/sh\necho '<html></html>'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    page = tmp_path / "index.html"
    page.write_text("<html></html>")
    # Then the check fails, saying the page never reported
    assert browser.main([str(page)]) == 1
    assert "never reported" in capsys.readouterr().err
