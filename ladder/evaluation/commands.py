"""What ``ladder eval run / status / report`` do; ``ladder/cli.py`` only parses arguments and calls these."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ladder_core import metrics
from ladder_core.api import PROMPT, RAG

from ..errors import SetupError
from ..pricing.models import PriceTable
from . import judge, rundir
from .evalset import EvalSet
from .progress import progress_bar
from .report import write_report
from .runner import Runner, Send, pending_pairs, read_records
from .summary import describe_causes, write_scores

DEFAULT_ARMS = (PROMPT, RAG)
SUMMARY_TABLE = (
    metrics.CORRECTNESS,
    metrics.REFUSAL_ACCURACY,
    metrics.SOURCE_HIT_RATE,
    metrics.FORMAT_COMPLIANCE,
)
"""The rates ``ladder eval``'s terminal table shows, after the counts and before latency and cost."""


@dataclass(frozen=True)
class RunResult:
    folder: Path
    summary: dict[str, Any]
    sent: int
    errors: int
    interrupted: bool
    stopped: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Arms stopped early by a run of identical 4xx answers, with that error."""
    not_sent: int = 0


def run(
    evalset: EvalSet,
    *,
    url: str,
    arms: list[str],
    folder: Path,
    send: Send,
    concurrency: int,
    prices: PriceTable,
    now: datetime,
    judge_model: str | None = None,
    style: str | None = None,
    log: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
) -> RunResult:
    """Send what the folder does not have yet, then rewrite its scores, summary and report.

    KeyboardInterrupt is caught: what finished is kept and scored, and ``interrupted`` is set.
    """
    rundir.start(folder, evalset, url=url, arms=arms, now=now, judge=judge_model, style=style)
    done = read_records(folder / rundir.RESPONSES)
    pairs = pending_pairs(evalset, arms, done)
    skipped = len(evalset.items) * len(arms) - len(pairs)
    log(
        f"{folder}: {len(pairs)} answers to fetch ({len(evalset.items)} items x {len(arms)} arms"
        + (f", {skipped} already done" if skipped else "")
        + ")"
    )
    runner = Runner(send, folder / rundir.RESPONSES, concurrency=concurrency)
    interrupted = False
    sent = errors = not_sent = 0
    stopped: dict[str, dict[str, Any]] = {}
    try:
        with progress_bar(len(pairs)) as bar:
            outcome = runner.run(pairs, bar)
        sent, errors, stopped, not_sent = outcome.sent, outcome.errors, outcome.stopped, outcome.not_sent
    except KeyboardInterrupt:
        interrupted = True
    finally:
        summary = write_scores(folder, prices)
        write_report(folder, summary)
    return RunResult(folder, summary, sent, errors, interrupted, stopped, not_sent)


def describe_errors(result: RunResult) -> list[str]:
    """One line per arm with errors, grouped by cause, and one per arm stopped early."""
    lines = []
    for arm, data in result.summary["arms"].items():
        if data["errors"]:
            causes = describe_causes(data.get("errorCauses") or [])
            lines.append(f"{arm}: {data['errors']} answers ended in an error: {causes}")
    for arm, failure in result.stopped.items():
        lines.append(
            f"{arm}: stopped after {failure['count']} answers in a row ended in {failure['httpStatus']} "
            f"{failure['code']}; retrying cannot fix a client error, so the rest of the arm was not sent "
            "(check --url and that the arm is deployed)"
        )
    return lines


def refresh(folder: Path, prices: PriceTable) -> dict[str, Any]:
    """Rewrite ``scores.jsonl``, ``summary.json`` and ``report.md`` from the folder; the summary."""
    rundir.load_info(folder)
    summary = write_scores(folder, prices)
    write_report(folder, summary)
    return summary


def progress_counts(folder: Path) -> dict[str, dict[str, int]]:
    """Per arm: ``ok``, ``error`` and ``pending`` pairs of the run."""
    info = rundir.load_info(folder)
    evalset = rundir.load_run_set(folder)
    records = read_records(folder / rundir.RESPONSES)
    counts = {}
    for arm in info.arms:
        statuses = [records.get((item.id, arm), {}).get("status") for item in evalset.items]
        counts[arm] = {
            "ok": statuses.count("ok"),
            "error": statuses.count("error"),
            "pending": statuses.count(None),
        }
    return counts


def parse_arms(text: str | None, choices: tuple[str, ...]) -> list[str] | None:
    """``--arms prompt,rag``: the arms in the order given; None when not given (use the defaults)."""
    if text is None:
        return None
    arms = [arm.strip() for arm in text.split(",") if arm.strip()]
    unknown = [arm for arm in arms if arm not in choices]
    if unknown or not arms:
        raise SetupError(f"--arms {text}: expected a comma-separated list of {', '.join(choices)}")
    return list(dict.fromkeys(arms))


def format_summary(summary: dict[str, Any]) -> str:
    """A short table of the headline numbers per arm, for a terminal, labelled as the report labels them;
    ``answers`` is answers so far of the set's items, so an unfinished run shows what is missing."""
    total = (summary.get("run", {}).get("evalSet") or {}).get("items")
    latency, cost = metrics.LATENCY, metrics.COST_PER_QUERY
    columns = (
        ("arm", 10),
        ("answers", 9),
        ("errors", 6),
        *((metric.column, len(metric.column)) for metric in SUMMARY_TABLE),
        (f"p50 {latency.scale.unit}", 7),
        (f"{cost.scale.unit}/query", 10),
    )
    lines = [
        " ".join(
            f"{title:<{width}}" if n == 0 else f"{title:>{width}}" for n, (title, width) in enumerate(columns)
        )
    ]
    for arm, data in summary["arms"].items():
        answers = f"{data['n']} of {total}" if total is not None else str(data["n"])
        values = (
            arm,
            answers,
            str(data["errors"]),
            *(_pct(data[metric.summary_key]) for metric in SUMMARY_TABLE),
            _int(data[latency.summary_key]["p50"]),
            _usd(data[cost.summary_key]),
        )
        lines.append(
            " ".join(
                f"{value:<{width}}" if n == 0 else f"{value:>{width}}"
                for n, (value, (_, width)) in enumerate(zip(values, columns, strict=True))
            )
        )
    return "\n".join(line.rstrip() for line in lines)


def read_rubric(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise SetupError(f"cannot read --style {path}: {err.strerror or err}") from None


def start_judge(
    bedrock: Any, s3: Any, folder: Path, setup: judge.JudgeSetup, rubric: str | None
) -> list[str]:
    """Start the judge jobs of a finished run; their ARNs."""
    jobs = judge.start_jobs(bedrock, s3, folder, setup, rubric)
    return [job["jobArn"] for job in jobs]


def ensure_judge_allowed(model_id: str, allowed: str) -> None:
    """The evaluation role may invoke only the judge models in ``evaluationJudgeModelIds`` (an output)."""
    models = [m for m in allowed.split(",") if m]
    if model_id not in models:
        raise SetupError(
            f"--judge {model_id}: the evaluation role may only invoke {', '.join(models) or 'no model'}; "
            "add it with -c evaluationJudgeModelIds=... and redeploy"
        )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _int(value: int | None) -> str:
    return "-" if value is None else str(value)


def _usd(value: float | None) -> str:
    return "-" if value is None else f"{value:.6f}"
