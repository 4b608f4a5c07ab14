"""Benchmark of scoring a large evaluation run: a synthetic run folder of 10,000 items x 3 arms (30,000
answers, each item with facts, a reference, sources and a format check; 1 in 10 unanswerable), then the
steps ``ladder eval report`` runs on it, timed one by one: score every answer, the bootstrap intervals
and paired differences, the whole ``scores.jsonl`` + ``summary.json`` rewrite, and ``report.md`` with its
charts. Nothing is sent anywhere.

Run from the repository root:

    .venv/bin/python benchmarks/eval_scoring.py --items 10000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ARMS = ("prompt", "rag", "finetuned")
SKILL = {"prompt": 0.45, "rag": 0.8, "finetuned": 0.83}
"""The chance that an arm's answer states the item's fact."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1, help="answers per item and arm")
    args = parser.parse_args(argv)
    from ladder.evaluation import rundir, uncertainty
    from ladder.evaluation.evalset import load_set
    from ladder.evaluation.report import write_report
    from ladder.evaluation.runner import read_answers
    from ladder.evaluation.summary import read_judge_scores, score_rows, summarise, write_scores
    from ladder.pricing.models import load_prices

    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        started = time.perf_counter()
        set_path = _write_set(Path(tmp) / "set.jsonl", args.items)
        evalset = load_set(set_path)
        rundir.start(
            folder,
            evalset,
            url="http://127.0.0.1/prod/ask",
            arms=list(ARMS),
            now=datetime.now(UTC),
            repeat=args.repeat,
        )
        _write_responses(folder / rundir.RESPONSES, args.items, args.repeat, rng)
        built_s = time.perf_counter() - started

        prices = load_prices(None)
        info = rundir.load_info(folder)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        records = read_answers(folder / rundir.RESPONSES)
        rows = score_rows(evalset, records, info.arms, prices, read_judge_scores(folder))
        timings["read + score every answer"] = time.perf_counter() - started
        started = time.perf_counter()
        uncertainty.measure(rows, ARMS, info.repeat)
        timings["bootstrap: ci95 per arm + differences"] = time.perf_counter() - started
        started = time.perf_counter()
        summarise(info, rows, records, prices)
        timings["summarise (rates, ci95, differences)"] = time.perf_counter() - started
        started = time.perf_counter()
        summary = write_scores(folder, prices)
        timings["write_scores: scores.jsonl + summary.json"] = time.perf_counter() - started
        started = time.perf_counter()
        write_report(folder, summary)
        timings["write_report: report.md + charts"] = time.perf_counter() - started

    answers = args.items * len(ARMS) * args.repeat
    print(f"run {args.items:,} items x {len(ARMS)} arms x {args.repeat} repeats = {answers:,} answers")
    print(f"building the folder {built_s:.1f} s (not part of scoring)")
    for step, seconds in timings.items():
        print(f"{step:<42} {seconds:6.2f} s")
    total = timings["write_scores: scores.jsonl + summary.json"] + timings["write_report: report.md + charts"]
    print(f"{'ladder eval report (write_scores + write_report)':<42} {total:6.2f} s")
    rag = summary["arms"]["rag"]
    print(f"rag correctness    {rag['correctness']:.3f} ci95 {rag['ci95']['correctness']}")
    print(f"rag-prompt         {summary['differences']['rag-prompt']['correctness']}")
    return 0


def _write_set(path: Path, items: int) -> Path:
    lines = []
    for n in range(items):
        item: dict[str, Any] = {"id": f"q{n}", "question": f"How many days of leave does grade {n} get?"}
        if n % 10 == 9:
            item["answerable"] = False
        else:
            item |= {
                "mustInclude": [f"{n % 40 + 1} days"],
                "reference": f"Grade {n} gets {n % 40 + 1} days of annual leave per calendar year.",
                "sources": [f"handbook/grade-{n % 50}.md"],
                "format": {"maxWords": 40},
            }
        lines.append(json.dumps(item))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _write_responses(path: Path, items: int, repeats: int, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8") as out:
        for repeat in range(repeats):
            for n in range(items):
                for arm in ARMS:
                    out.write(json.dumps(_record(n, arm, repeat, rng)) + "\n")


def _record(n: int, arm: str, repeat: int, rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.01:
        error = {"httpStatus": 503, "code": "UpstreamUnavailable", "message": "try later"}
        return {"id": f"q{n}", "arm": arm, "repeat": repeat, "status": "error", "attempts": 8,
                "latencyMs": 900, "response": None, "error": error}  # fmt: skip
    knows = rng.random() < SKILL[arm]
    if n % 10 == 9:
        answer = "The documents do not say." if knows else f"It is {rng.randint(1, 40)} days."
    elif knows:
        answer = f"Grade {n} gets {n % 40 + 1} days of leave per year [1]."
    else:
        answer = rng.choice(["I don't know.", f"Grade {n} gets {rng.randint(41, 60)} days [1]."])
    cited = (
        [] if arm == "prompt" else [{"sourceUri": f"s3://docs/handbook/grade-{n % 50}.md", "excerpt": "x"}]
    )
    response = {
        "answer": answer,
        "citations": cited,
        "mode": arm,
        "modelId": "us.amazon.nova-lite-v1:0",
        "usage": {"inputTokens": rng.randint(300, 3000), "outputTokens": rng.randint(20, 200)},
    }
    return {"id": f"q{n}", "arm": arm, "repeat": repeat, "status": "ok", "attempts": 1,
            "latencyMs": rng.randint(300, 3000), "response": response, "error": None}  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
