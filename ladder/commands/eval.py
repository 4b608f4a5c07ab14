"""``ladder eval run | status | report``: one evaluation set through every rung, side by side."""

from __future__ import annotations

import argparse
import webbrowser
from pathlib import Path
from typing import Any

import boto3

from ladder_core.api import FEWSHOT, FINETUNED, MODEL_MODES

from ..aws import ClientFactory, region, session
from ..console import error, print_json
from ..evaluation import commands as eval_commands
from ..evaluation import judge, rundir
from ..evaluation import runner as evaluation_runner
from ..evaluation.commands import ARM_CHOICES, DEFAULT_ARMS
from ..evaluation.viewer import REPORT_HTML
from ..pricing import models as model_prices
from .common import URL_HELP, add_context_options, aws_options, command, configured_context, int_range, now

MAX_EVAL_CONCURRENCY = 32


def register(commands: Any) -> None:
    """Add ``eval`` and its subcommands to the root's subparsers."""
    aws = aws_options()
    eval_parser = commands.add_parser(
        "eval", help="eval run|status|report: one evaluation set through every rung, side by side"
    )
    subcommands = eval_parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    prices = argparse.ArgumentParser(add_help=False)
    prices.add_argument(
        "--prices", type=Path, metavar="FILE", help="JSON file overriding the model price table"
    )
    prices.add_argument("--json", action="store_true", help="print summary.json instead of the table")
    run = command(subcommands, "run", cmd_eval_run, parents=[aws, prices])
    run.add_argument(
        "--set",
        dest="set_file",
        type=Path,
        metavar="FILE",
        help="evaluation set (JSON Lines); needed for a new run, a continued run uses its own copy",
    )
    run.add_argument(
        "--arms",
        metavar="LIST",
        help=f"comma-separated, from {','.join(ARM_CHOICES)}, or {'|'.join(MODEL_MODES)}@MODEL_ID for "
        "another model of the deployment's allowedGenerationModelIds "
        f"(default: {','.join(DEFAULT_ARMS)}, plus {FEWSHOT} when examples are uploaded and {FINETUNED} "
        "when published)",
    )
    run.add_argument("--url", help=URL_HELP)
    run.add_argument(
        "--concurrency",
        type=int_range(1, MAX_EVAL_CONCURRENCY),
        default=evaluation_runner.DEFAULT_CONCURRENCY,
        help="requests in flight, 1-%(const)s (default: %(default)s)".replace(
            "%(const)s", str(MAX_EVAL_CONCURRENCY)
        ),
    )
    run.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="run folder; an existing one is continued with its own set, URL, arms and judge",
    )
    run.add_argument(
        "--repeat",
        type=int_range(1, rundir.MAX_REPEAT),
        metavar="N",
        help=f"send each item N times per arm, 1-{rundir.MAX_REPEAT}, to measure how much answers vary "
        "(default: 1; a continued run keeps its own, or raises it)",
    )
    run.add_argument(
        "--judge", metavar="MODEL_ID", help="also score with a Bedrock evaluation job (LLM judge)"
    )
    run.add_argument("--style", type=Path, metavar="RUBRIC.md", help="house-style rubric for the judge")
    status = command(subcommands, "status", cmd_eval_status, parents=[aws, prices])
    status.add_argument("folder", type=Path, metavar="RUN_DIR", help="the run folder")
    report = command(subcommands, "report", cmd_eval_report, parents=[prices])
    add_context_options(report)  # the deployment the per-query cost depends on (memory, reranker, store)
    report.add_argument("folder", type=Path, metavar="RUN_DIR", help="the run folder")
    report.add_argument(
        "--open", action="store_true", help="open report.html in the default web browser afterwards"
    )
    report.add_argument(
        "--verdict",
        type=Path,
        metavar="FILE",
        help="this run's ladder-verdict.json (default: the one in RUN_DIR, else ./ladder-verdict.json "
        "when it names this run)",
    )


def cmd_eval_run(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Send every item of the set once per arm (--repeat N: N times) to POST /ask, score the answers and
    write the run folder.

    The folder (default eval-runs/<UTC time>-<set sha256[:8]>) gets run.json, responses.jsonl,
    scores.jsonl, summary.json, report.md, report.html and charts/. Rerunning with the same --out continues
    where it stopped, with the run's own set, URL, arms and judge (from run.json); an option that
    contradicts them is refused. Exit 0 when every answer came back, 1 when some ended in an error, 130
    after Ctrl-C.
    """
    request = eval_commands.RunRequest(
        set_file=args.set_file,
        out=args.out,
        arms=args.arms,
        url=args.url,
        judge=args.judge,
        style=args.style,
        concurrency=args.concurrency,
        repeat=args.repeat,
        prices=args.prices,
        deployment=configured_context(args),
        stack_prefix=args.stack_prefix,
        as_json=args.json,
        resume_options=_typed_aws_options(args),
    )

    def connect() -> tuple[boto3.session.Session, str]:
        opened = session(args)
        return opened, region(opened)

    return eval_commands.run_command(request, connect=connect, clients=clients, now=now)


def _typed_aws_options(args: argparse.Namespace) -> tuple[str, ...]:
    """The ``--region`` / ``--profile`` / ``--stack-prefix`` the user typed, to repeat in a printed command
    (the values filled in from the configuration would be found again)."""
    words: list[str] = []
    for option, value in (
        ("--region", args.given_region),
        ("--profile", args.profile),
        ("--stack-prefix", args.given_stack_prefix),
    ):
        if value is not None:
            words += [option, value]
    return tuple(words)


def cmd_eval_status(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Show how far a run is (answers per arm) and follow its judge jobs; finished judge scores are merged."""
    counts = eval_commands.progress_counts(args.folder)
    jobs: list[dict[str, Any]] = []
    if (args.folder / rundir.JUDGE_JOBS).exists():
        aws = session(args)
        jobs = judge.follow_jobs(clients(aws, "bedrock"), clients(aws, "s3"), args.folder)
        eval_commands.refresh(args.folder, model_prices.load_prices(args.prices, configured_context(args)))
    if args.json:
        print_json({"answers": counts, "judgeJobs": jobs})
        return 0
    for arm, count in counts.items():
        print(f"{arm:<10} {count['ok']} ok, {count['error']} errors, {count['pending']} pending")
    for job in jobs:
        print(f"judge {job['arm']:<10} {job['status']:<11} {job['jobArn']}")
    return 0


def cmd_eval_report(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Rewrite scores.jsonl, summary.json, report.md, charts/ and report.html of a run folder from its
    responses (offline); --open shows report.html in the default browser."""
    summary = eval_commands.refresh(
        args.folder,
        model_prices.load_prices(args.prices, configured_context(args)),
        verdict_file=args.verdict,
    )
    eval_commands.print_summary(summary, as_json=args.json)
    page = args.folder / REPORT_HTML
    error(f"Report: {args.folder / rundir.REPORT} and {page}")
    if args.open and not webbrowser.open(page.resolve().as_uri()):
        error(f"No web browser could be started: open {page} yourself")
    return 0
