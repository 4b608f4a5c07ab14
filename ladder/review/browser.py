"""Open the review page in a real headless browser and check that the diagram was drawn (an SVG made by
Mermaid in the rendered DOM), not just that the page holds its source: ``make review-check``."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# Mermaid needs a few seconds of (virtual) time after load to lay the flowchart out.
VIRTUAL_TIME_BUDGET_MS = 15000
TIMEOUT_S = 180
# The SVG element Mermaid writes for a flowchart; the inlined library's own source only holds "<svg" pieces.
RENDERED_FLOWCHART = re.compile(r'<svg id="mermaid-[^"]*"[^>]*aria-roledescription="flowchart')


def find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def rendered_dom(page: Path, browser: str) -> str:
    """The DOM after scripts ran, as headless Chromium dumps it (no network, no GPU, no sandbox in CI)."""
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    return done.stdout


def diagram_rendered(dom: str) -> bool:
    return RENDERED_FLOWCHART.search(dom) is not None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    page = Path(args[0] if args else "cdk.out/review/index.html")
    if not page.is_file():
        print(f"error: {page} does not exist: run `make review` first", file=sys.stderr)
        return 2
    browser = find_browser()
    if browser is None:
        print("error: no Chromium found: install it (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    dom = rendered_dom(page, browser)
    if not diagram_rendered(dom):
        print(f"FAIL: {browser} rendered {page} without the architecture diagram's SVG", file=sys.stderr)
        return 1
    nodes = len(re.findall(r'class="node[ "]', dom))
    print(f"OK: {browser} rendered {page}; the architecture diagram is an SVG with {nodes} nodes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
