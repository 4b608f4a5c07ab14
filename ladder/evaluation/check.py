"""``make eval-check RUN=DIR``: open a run folder's ``report.html`` in headless Chromium and use it as a
person would: press *failed* on one arm and *passed* on another (two clicks), then only the disagreements,
a tag, a text, a sort and the next page of rows, each after *reset*. The page clicks its own buttons and
times each step (``viewer_js.py``); this module computes, from the data the page embeds, which rows each
step must show and fails on any difference, on a failing row that does not say why, on any page error and
on any markup that came from the run's text. It prints the times.

    .venv/bin/python -m ladder.evaluation.check eval-runs/<run> [--fail rag --pass prompt]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from .. import headless
from . import viewer

VIEWPORT_WIDTH_PX = 1280
VIEWPORT_HEIGHT_PX = 1000
CHECK_ELEMENT = headless.element_pattern("eval-check")
DATA_PATTERN = re.compile(
    rf'<script type="application/json" id="{viewer.DATA_ELEMENT}">(.*?)</script>', re.DOTALL
)
RANK = {"fail": 0, "pass": 1}


@dataclass(frozen=True)
class Plan:
    """What the check does: the arm that fails, the arm that passes, the tag and the text it filters by, and
    the one check (a score key) it then judges the failing arm by."""

    fail: str | None
    passed: str | None
    tag: str | None
    text: str | None
    by: str | None = None

    def fragment(self) -> str:
        params: dict[str, str] = {"check": "1"}
        chosen = {"fail": self.fail, "pass": self.passed, "tag": self.tag, "text": self.text, "by": self.by}
        params.update({key: value for key, value in chosen.items() if value is not None})
        return urlencode(params)


@dataclass(frozen=True)
class Result:
    problems: list[str]
    measured: dict[str, Any] | None


def embedded(page_text: str) -> dict[str, Any]:
    """The data ``report.html`` embeds (ValueError when it has none)."""
    found = DATA_PATTERN.search(page_text)
    if found is None:
        raise ValueError(f"no #{viewer.DATA_ELEMENT} element: not a report.html")
    data = json.loads(found.group(1))
    if not isinstance(data, dict):
        raise ValueError(f"#{viewer.DATA_ELEMENT} is not a JSON object")
    return data


def plan(data: dict[str, Any], fail: str | None = None, passed: str | None = None) -> Plan:
    """The arms (default: the second arm fails, the first passes, as ``rag`` against ``prompt``), the first
    tag of the set and the id of the middle item as the text."""
    arms = data["arms"]
    for name, arm in (("--fail", fail), ("--pass", passed)):
        if arm is not None and arm not in arms:
            raise ValueError(f"{name} {arm}: the run's arms are {', '.join(arms)}")
    if fail is None and len(arms) > 1:
        fail = arms[1]
    if passed is None and len(arms) > 1:
        passed = next(arm for arm in arms if arm != fail)
    items = data["items"]
    tags = sorted({tag for item in items for tag in item["tags"]})
    text = str(items[len(items) // 2]["id"]).strip().lower() if items else None
    by = data["checks"][0]["key"] if data["checks"] else None
    return Plan(fail, passed, tags[0] if tags else None, text, by)


def _verdict(cell: dict[str, Any]) -> str | None:
    return None if cell["status"] == "missing" else cell["verdict"]


def _haystack(item: dict[str, Any], arms: list[str]) -> str:
    parts = [item["id"], item["question"], " ".join(item["tags"])]
    for arm in arms:
        cell = item["cells"][arm]
        if cell.get("answer"):
            parts.append(cell["answer"])
        parts += cell["reasons"]
    return "\n".join(parts).lower()


def expected(data: dict[str, Any], chosen: Plan) -> dict[str, list[str]]:
    """Per step, the ids of every item it must match, in the order the page must list them."""
    arms, items = data["arms"], data["items"]
    steps: dict[str, list[str]] = {}
    if chosen.fail and chosen.passed:
        steps["failPass"] = [
            item["id"]
            for item in items
            if _verdict(item["cells"][chosen.fail]) == "fail"
            and _verdict(item["cells"][chosen.passed]) == "pass"
        ]
    steps["disagreements"] = [
        item["id"]
        for item in items
        if len({v for arm in arms if (v := _verdict(item["cells"][arm])) is not None}) > 1
    ]
    if chosen.tag is not None:
        steps["tag"] = [item["id"] for item in items if chosen.tag in item["tags"]]
    if chosen.text is not None:
        steps["text"] = [item["id"] for item in items if chosen.text in _haystack(item, arms)]
    if chosen.fail:
        fail = chosen.fail

        def key(pair: tuple[int, dict[str, Any]]) -> tuple[int, int, int]:
            index, item = pair
            cell = item["cells"][fail]
            return (RANK.get(_verdict(cell) or "", 2), -len(cell["reasons"]), index)

        steps["sort"] = [item["id"] for _, item in sorted(enumerate(items), key=key)]
    # The question column sorted twice: descending, as JavaScript compares strings (UTF-16 code units),
    # equal questions in the set's order.
    steps["sortQuestionDown"] = [
        item["id"]
        for item in sorted(items, key=lambda item: str(item["question"]).encode("utf-16-be"), reverse=True)
    ]
    if chosen.fail and chosen.by:
        fail, by = chosen.fail, chosen.by
        steps["judgedBy"] = [
            item["id"]
            for item in items
            if item["cells"][fail]["status"] == "error"
            or (item["cells"][fail]["status"] == "ok" and item["cells"][fail]["checks"].get(by) is False)
        ]
    steps["more"] = [item["id"] for item in items]
    return steps


def judge(data: dict[str, Any], chosen: Plan, measured: dict[str, Any] | None) -> list[str]:
    """Every way the page differs from what ``data`` says a person must see."""
    if measured is None:
        return ["the page never reported (#eval-check missing: its scripts did not finish)"]
    problems = [f"page error: {error}" for error in measured.get("errors") or []]
    if measured.get("injected"):
        problems.append(f"{measured['injected']} element(s) from the run's text became markup")
    rows = data["pageRows"]
    if measured.get("renderedAtLoad") != min(rows, len(data["items"])):
        problems.append(
            f"{measured.get('renderedAtLoad')} rows drawn at load, expected {min(rows, len(data['items']))}"
        )
    steps = {step["name"]: step for step in measured.get("steps") or []}
    for name, ids in expected(data, chosen).items():
        step = steps.get(name)
        if step is None:
            problems.append(f"step {name} did not run")
            continue
        limit = 2 * rows if name == "more" else rows
        if step["matches"] != len(ids):
            problems.append(f"{name}: the page counts {step['matches']} matching items, expected {len(ids)}")
        if step["rendered"] != ids[:limit]:
            problems.append(
                f"{name}: the page lists {step['rendered'][:10]}..., expected {ids[:limit][:10]}..."
            )
        if "whyShown" in step and step["whyShown"] != len(step["rendered"]):
            problems.append(
                f"{name}: {len(step['rendered']) - step['whyShown']} rows where {chosen.fail} failed "
                "do not say why"
            )
    if measured.get("answersShown") != measured.get("opened"):
        problems.append(
            f"opened {measured.get('opened')} answers but {measured.get('answersShown')} show their text"
        )
    return problems


def run_check(
    page: Path, browser: str, fail: str | None = None, passed: str | None = None
) -> tuple[Plan, Result]:
    data = embedded(page.read_text(encoding="utf-8"))
    chosen = plan(data, fail, passed)
    dom = headless.run(
        browser,
        page,
        "--dump-dom",
        width=VIEWPORT_WIDTH_PX,
        height=VIEWPORT_HEIGHT_PX,
        fragment=chosen.fragment(),
    ).stdout
    measured = headless.reported_json(dom, CHECK_ELEMENT)
    return chosen, Result(judge(data, chosen, measured), measured)


def describe(measured: dict[str, Any]) -> str:
    steps = ", ".join(
        f"{step['name']} {step['ms']:.0f} ms, fastest {step['fastestMs']:.0f} ({step['matches']} items)"
        for step in measured["steps"]
    )
    return (
        f"{measured['items']} items: loaded and drew the first {measured['renderedAtLoad']} rows "
        f"{measured['loadMs']:.0f} ms after navigation (JSON parse {measured['parseMs']:.0f} ms); {steps}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ladder.evaluation.check", description=__doc__.splitlines()[0]
    )
    parser.add_argument("folder", type=Path, metavar="RUN_DIR")
    parser.add_argument("--fail", metavar="ARM", help="the arm that fails (default: the run's second arm)")
    parser.add_argument(
        "--pass", dest="passed", metavar="ARM", help="the arm that passes (default: the first)"
    )
    args = parser.parse_args(argv)
    page = args.folder / viewer.REPORT_HTML
    if not page.is_file():
        print(f"error: {page} does not exist: run `ladder eval report {args.folder}` first", file=sys.stderr)
        return 2
    browser = headless.browser_or_explain()
    if browser is None:
        return 2
    started = time.monotonic()
    try:
        chosen, result = run_check(page, browser, args.fail, args.passed)
    except ValueError as err:
        print(f"error: {page}: {err}", file=sys.stderr)
        return 2
    if result.problems:
        for problem in result.problems:
            print(f"FAIL: {problem}", file=sys.stderr)
        return 1
    assert result.measured is not None
    print(
        f"OK: {browser} opened {page} at {VIEWPORT_WIDTH_PX} px in {time.monotonic() - started:.1f} s: "
        + describe(result.measured)
    )
    if chosen.fail and chosen.passed:
        print(
            f"two clicks (failed: {chosen.fail}, passed: {chosen.passed}) list every such item "
            "with its reasons"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
