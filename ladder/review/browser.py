"""``make review-check``: open the review page in headless Chromium at the width a reviewer's laptop gives it
and check what a person sees, not what the page holds: every diagram was drawn, every label in it is at
least 11 px high on screen, no label covers another, and the page met no error. Then write a screenshot of
the page down to its last diagram beside it (``screenshot.png``) for the pull request.

The page measures itself (render.DRAW_JS): once Mermaid has drawn, it writes each label's on-screen text box
and font size, and every error it recorded, as JSON into a hidden ``#diagram-check`` element, which this
module reads from Chromium's ``--dump-dom``. The decisions are made here, on that JSON.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder import headless
from ladder.review.diagram import DECLARED_NODE

VIEWPORT_WIDTH_PX = 1280
# The height of the window that measures; the screenshot's window is as tall as the page down to its last
# diagram (the width, not the height, decides the layout).
MEASURE_HEIGHT_PX = 1000
SCREENSHOT_MARGIN_PX = 24
# Chromium's headless screenshot is one bitmap; keep it under the texture size GPUs commonly allow.
SCREENSHOT_MAX_HEIGHT_PX = 16384
MIN_FONT_PX = 11.0
# Two text boxes that share less than this (px, both ways) only touch: rounding, not an overlap.
OVERLAP_TOLERANCE_PX = 1.0
CHECK_ELEMENT = headless.element_pattern("diagram-check")


@dataclass(frozen=True)
class Label:
    """One label as drawn: which diagram, node / edge / group, its text, font size and box (page px)."""

    diagram: str
    kind: str
    text: str
    font_px: float
    box: tuple[float, float, float, float]
    """left, top, right, bottom."""


@dataclass(frozen=True)
class Verdict:
    """What the check found: the problems (none when the page passes) and the numbers it reports."""

    problems: list[str]
    labels: list[Label]
    overlaps: list[tuple[Label, Label]]
    diagrams: int
    scrolling: list[str]
    """Titles of the diagrams wider than the page (a person scrolls them sideways)."""

    @property
    def min_font_px(self) -> float | None:
        return min((label.font_px for label in self.labels), default=None)


def _chromium(browser: str, page: Path, height: int, *extra: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on the page at VIEWPORT_WIDTH_PX; Mermaid lays the diagrams out within the
    virtual time budget after load."""
    return headless.run(browser, page, *extra, width=VIEWPORT_WIDTH_PX, height=height)


def rendered_dom(page: Path, browser: str) -> str:
    """The DOM after the page's scripts ran, as headless Chromium dumps it."""
    return _chromium(browser, page, MEASURE_HEIGHT_PX, "--dump-dom").stdout


def screenshot(page: Path, browser: str, height: int, out: Path) -> bool:
    """Write a PNG of the page's top ``height`` px at the check's width; False when Chromium wrote none."""
    out.unlink(missing_ok=True)
    _chromium(browser, page, height, f"--screenshot={out.resolve()}")
    return out.is_file() and out.stat().st_size > 0


def measurements(dom: str) -> dict[str, Any] | None:
    """The JSON the page wrote into ``#diagram-check``; None when it wrote none (its scripts never ended)."""
    return headless.reported_json(dom, CHECK_ELEMENT)


def labels(measured: dict[str, Any]) -> list[Label]:
    return [
        Label(
            diagram=str(diagram.get("title", "")),
            kind=str(label["kind"]),
            text=str(label["text"]),
            font_px=float(label["fontPx"]),
            box=(
                float(label["box"][0]),
                float(label["box"][1]),
                float(label["box"][2]),
                float(label["box"][3]),
            ),
        )
        for diagram in measured.get("diagrams", [])
        for label in diagram.get("labels", [])
    ]


def overlapping(drawn: Sequence[Label]) -> list[tuple[Label, Label]]:
    """Pairs of labels of one diagram whose text boxes share more than OVERLAP_TOLERANCE_PX both ways."""
    found = []
    for index, a in enumerate(drawn):
        for b in drawn[index + 1 :]:
            if a.diagram != b.diagram:
                continue
            across = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
            down = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
            if across > OVERLAP_TOLERANCE_PX and down > OVERLAP_TOLERANCE_PX:
                found.append((a, b))
    return found


def judge(measured: dict[str, Any] | None) -> Verdict:
    """Every reason the page fails the check, from what it measured of itself."""
    if measured is None:
        problem = "the page never reported its diagrams (#diagram-check missing: its scripts did not finish)"
        return Verdict([problem], [], [], 0, [])
    problems = []
    width = measured.get("viewportWidth")
    if width != VIEWPORT_WIDTH_PX:
        problems.append(f"the page was laid out {width} px wide, not {VIEWPORT_WIDTH_PX} px")
    problems += [f"page error: {error}" for error in measured.get("errors", [])]
    diagrams = measured.get("diagrams", [])
    if not diagrams:
        problems.append("the page has no diagram")
    for diagram in diagrams:
        if not diagram.get("drawn"):
            problems.append(f"diagram {diagram.get('title')!r} was not drawn (no SVG)")
        elif not diagram.get("labels"):
            problems.append(f"diagram {diagram.get('title')!r} was drawn without a single label")
        else:
            declared = len(DECLARED_NODE.findall(str(diagram.get("source", ""))))
            drawn_boxes = sum(1 for label in diagram["labels"] if label.get("kind") == "node")
            if drawn_boxes != declared:
                problems.append(
                    f"diagram {diagram.get('title')!r} declares {declared} boxes but {drawn_boxes} were "
                    "drawn with a label in it"
                )
    drawn = labels(measured)
    problems += [
        f"{label.diagram}: {label.kind} label {label.text!r} is {label.font_px:g} px high, "
        f"under {MIN_FONT_PX:g} px"
        for label in drawn
        if label.font_px < MIN_FONT_PX
    ]
    overlaps = overlapping(drawn)
    problems += [f"{a.diagram}: label {a.text!r} overlaps label {b.text!r}" for a, b in overlaps]
    scrolling = [str(d.get("title")) for d in diagrams if d.get("scrolls")]
    return Verdict(problems, drawn, overlaps, len(diagrams), scrolling)


def screenshot_height(measured: dict[str, Any]) -> int:
    """Down to the last diagram, plus a margin; within what one screenshot can hold."""
    bottom = int(measured.get("diagramsBottom") or MEASURE_HEIGHT_PX)
    return max(MEASURE_HEIGHT_PX, min(bottom + SCREENSHOT_MARGIN_PX, SCREENSHOT_MAX_HEIGHT_PX))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    page = Path(args[0] if args else "cdk.out/review/index.html")
    if not page.is_file():
        print(f"error: {page} does not exist: run `make review` first", file=sys.stderr)
        return 2
    browser = headless.browser_or_explain()
    if browser is None:
        return 2
    started = time.monotonic()
    measured = measurements(rendered_dom(page, browser))
    verdict = judge(measured)
    shot = page.parent / "screenshot.png"
    if measured is not None and not screenshot(page, browser, screenshot_height(measured), shot):
        verdict.problems.append(f"{browser} wrote no screenshot at {shot}")
    seconds = time.monotonic() - started
    if verdict.problems:
        for problem in verdict.problems:
            print(f"FAIL: {problem}", file=sys.stderr)
        return 1
    counts = ", ".join(
        f"{sum(1 for label in verdict.labels if label.kind == kind)} {kind}"
        for kind in ("node", "edge", "group")
    )
    print(
        f"OK: {browser} drew {page} at {VIEWPORT_WIDTH_PX} px in {seconds:.0f} s: {verdict.diagrams} "
        f"diagrams, {len(verdict.labels)} labels ({counts}), the smallest {verdict.min_font_px:g} px high "
        f"(at least {MIN_FONT_PX:g}), none overlapping, no page errors; wider than the page (scroll "
        f"sideways): {', '.join(verdict.scrolling) or 'none'}"
    )
    print(f"screenshot: {shot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
