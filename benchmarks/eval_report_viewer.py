"""Benchmark of the evaluation reports at size: a synthetic run of 1,000 items x 4 arms (answers of about 400
characters with citations, a quarter of them failing in some arm, tags on every item), scored by the real
summary code; times writing ``report.md`` + ``report.html``, then opens the page in headless Chromium with
``make eval-check``'s check (two clicks: failed on ``rag``, passed on ``fewshot``; then disagreements, tag,
text, sort, more rows) and prints the page's own timings.

Run from the repository root (needs Chromium; no AWS account, no network):

    .venv/bin/python benchmarks/eval_report_viewer.py --items 1000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ARMS = ("prompt", "fewshot", "rag", "finetuned")
TAGS = ("handbook", "benefits", "security", "travel", "payroll")
FILLER = (
    "According to the employee handbook, the policy applies to every permanent employee after the "
    "probation period, and the details are agreed with your manager before the start of the quarter. "
)


def write_run(folder: Path, items: int, seed: int) -> None:
    """run.json, evalset.jsonl and responses.jsonl as ``ladder eval run`` writes them."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    evalset = []
    for n in range(items):
        item: dict[str, Any] = {
            "id": f"q{n:04d}",
            "question": f"Question {n}: how many days of leave does policy {n} give?",
            "tags": [TAGS[n % len(TAGS)]],
        }
        if n % 10 == 9:
            item["answerable"] = False
        else:
            item["mustInclude"] = [f"{n % 40 + 1} days"]
            item["sources"] = [f"handbook/policy-{n}.md"]
        if n % 7 == 0:
            item["format"] = {"maxWords": 60}
        evalset.append(item)
    (folder / "evalset.jsonl").write_text("".join(json.dumps(i) + "\n" for i in evalset), encoding="utf-8")
    info = {
        "id": folder.name,
        "createdAt": "2026-12-01T10:00:00+00:00",
        "url": "https://api.example/prod/ask",
        "arms": list(ARMS),
        "evalSet": {"path": "bench.jsonl", "sha256": "cd" * 32, "items": items},
    }
    (folder / "run.json").write_text(json.dumps(info), encoding="utf-8")
    with (folder / "responses.jsonl").open("w", encoding="utf-8") as out:
        for item in evalset:
            for arm in ARMS:
                good = rng.random() > 0.25
                if not item.get("answerable", True):
                    text = "The documents do not say." if good else FILLER + "It is 12 days [1]."
                elif good:
                    text = FILLER + f"You get {item['mustInclude'][0]} [1]."
                else:
                    text = FILLER + "You get some days off [2]."
                source = f"s3://docs/{(item.get('sources') or ['handbook/other.md'])[0]}"
                response = {
                    "answer": text,
                    "citations": [{"sourceUri": source, "excerpt": FILLER[:200]}] if arm != "prompt" else [],
                    "mode": arm,
                    "modelId": "us.amazon.nova-lite-v1:0",
                    "usage": {"inputTokens": 1500, "outputTokens": 120},
                }
                record = {
                    "id": item["id"],
                    "arm": arm,
                    "status": "ok",
                    "attempts": 1,
                    "latencyMs": rng.randint(400, 3000),
                    "at": "2026-12-01T10:00:01+00:00",
                    "response": response,
                    "error": None,
                }
                out.write(json.dumps(record) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    from ladder import headless
    from ladder.evaluation import check
    from ladder.evaluation.report import write_report
    from ladder.evaluation.summary import write_scores
    from ladder.pricing.models import load_prices

    browser = headless.find_browser()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "bench-run"
        write_run(folder, args.items, args.seed)
        started = time.perf_counter()
        summary = write_scores(folder, load_prices())
        scored = time.perf_counter()
        write_report(folder, summary)
        written = time.perf_counter()
        page = folder / "report.html"
        print(
            f"{args.items} items x {len(ARMS)} arms: scores + summary {scored - started:.2f} s, "
            f"report.md + report.html {written - scored:.2f} s; "
            f"report.html {page.stat().st_size / 1e6:.1f} MB"
        )
        if browser is None:
            print(f"no Chromium: {headless.INSTALL_HINT}", file=sys.stderr)
            return 2
        began = time.perf_counter()
        _, result = check.run_check(page, browser, fail="rag", passed="fewshot")
        print(f"Chromium run (start to exit) {time.perf_counter() - began:.1f} s")
        if result.measured is not None and not result.measured.get("errors"):
            print(check.describe(result.measured))
        for problem in result.problems:
            print(f"FAIL: {problem}", file=sys.stderr)
        return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
