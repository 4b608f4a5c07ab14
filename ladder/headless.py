"""Headless Chromium for the checks that look at a generated page as a person's browser shows it
(``make review-check``, ``make eval-check``).

A page under check measures itself: its scripts write what they found as JSON into a hidden element with a
known id, and the check reads that element back from Chromium's ``--dump-dom``. The decisions are made in
Python, on that JSON.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = "install it (Debian/Ubuntu: apt-get install chromium)"
# Timers the page sets after load (Mermaid's layout, a lazily drawn list) run within this much time.
VIRTUAL_TIME_BUDGET_MS = 20000
TIMEOUT_S = 180

# The first script of a page under check: every error the page meets (a script that throws, a rejected
# promise, a console.error, a resource that failed to load: the capturing listener sees those) is kept in
# window.ladderErrors for the page's own report. Chromium's --enable-logging=stderr prints console messages
# without their level and never a failed load, so the page keeps its own record.
RECORD_ERRORS_JS = """
window.ladderErrors = [];
window.addEventListener('error', (e) => window.ladderErrors.push(
  e.message || 'failed to load ' + (e.target && (e.target.src || e.target.href))), true);
window.addEventListener('unhandledrejection',
  (e) => window.ladderErrors.push('unhandled rejection: ' + e.reason));
const ladderConsoleError = console.error.bind(console);
console.error = (...args) => {
  window.ladderErrors.push(args.map(String).join(' '));
  ladderConsoleError(...args);
};
"""


def find_browser() -> str | None:
    """The first Chromium on the ``PATH``; None when there is none."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def browser_or_explain() -> str | None:
    """The Chromium to use; None after saying on stderr how to install one (the checks then exit 2)."""
    browser = find_browser()
    if browser is None:
        print(f"error: no Chromium found: {INSTALL_HINT}", file=sys.stderr)
    return browser


def run(
    browser: str, page: Path, *extra: str, width: int, height: int, fragment: str = ""
) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on ``page`` (``#fragment`` appended) in a ``width`` x ``height`` window: no
    network, no GPU, no sandbox (CI containers have none)."""
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
        *extra,
        page.resolve().as_uri() + (f"#{fragment}" if fragment else ""),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def element_pattern(element_id: str) -> re.Pattern[str]:
    """The ``<pre id=element_id>`` a page writes its report into, as ``--dump-dom`` prints it."""
    return re.compile(rf'<pre[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</pre>', re.DOTALL)


def reported_json(dom: str, pattern: re.Pattern[str]) -> dict[str, Any] | None:
    """The JSON object the page wrote into its report element; None when it wrote none (its scripts never
    ended)."""
    found = pattern.search(dom)
    if found is None:
        return None
    data = json.loads(html.unescape(found.group(1)))
    return data if isinstance(data, dict) else None
