"""``ladder eval run | status | report | stage | runs``: one evaluation set through every rung, side by side,
here or in AWS."""

from __future__ import annotations

import argparse
import webbrowser
from pathlib import Path
from typing import Any

import boto3

from ladder_core.api import FEWSHOT, FINETUNED, MODEL_MODES

from .. import outputs
from ..aws import ClientFactory, region, session
from ..console import error, print_json
from ..errors import EXIT_SETUP, LadderError
from ..evaluation import commands as eval_commands
from ..evaluation import judge, remote, rundir
from ..evaluation import runner as evaluation_runner
from ..evaluation.commands import ARM_CHOICES, DEFAULT_ARMS
from ..evaluation.viewer import REPORT_HTML
from ..pricing import models as model_prices
from .common import URL_HELP, aws_options, command, configured_context, int_range, now

MAX_EVAL_CONCURRENCY = 32
DEFAULT_LISTED_RUNS = 20
MAX_LISTED_RUNS = 1000


def register(commands: Any) -> None:
    """Add ``eval`` and its subcommands to the root's subparsers."""
    aws = aws_options()
    eval_parser = commands.add_parser(
        "eval", help="eval run|status|report|stage|runs: one evaluation set through every rung, side by side"
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
    report = command(subcommands, "report", cmd_eval_report, parents=[aws, prices])
    report.add_argument(
        "folder",
        nargs="?",
        metavar="RUN_DIR",
        help="the run folder, or a run in AWS as s3://BUCKET/runs/<runId>/ (ladder eval runs lists them)",
    )
    report.add_argument(
        "--run-id", metavar="ID", help="a run in the deployment's evaluations bucket (instead of RUN_DIR)"
    )
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

    stage = command(subcommands, "stage", cmd_eval_stage, parents=[aws])
    stage.add_argument(
        "--verdict",
        type=Path,
        default=Path("ladder-verdict.json"),
        metavar="FILE",
        help="the verdict whose targets and expiry the watch holds the arms to (default: %(default)s)",
    )
    stage.add_argument(
        "--set",
        dest="set_file",
        type=Path,
        metavar="FILE",
        help="the set the watch measures (default: the copy in the verdict's run folder)",
    )
    stage.add_argument("--json", action="store_true", help="print what was staged as JSON")
    runs = command(subcommands, "runs", cmd_eval_runs, parents=[aws])
    runs.add_argument(
        "--limit",
        type=int_range(1, MAX_LISTED_RUNS),
        default=DEFAULT_LISTED_RUNS,
        help=f"newest runs to show, 1-{MAX_LISTED_RUNS} (default: %(default)s)",
    )
    runs.add_argument("--json", action="store_true", help="print the runs as JSON")


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
    responses (offline); --open shows report.html in the default browser.

    A run in AWS (s3://BUCKET/runs/<runId>/, or --run-id ID in the deployment's evaluations bucket) is
    downloaded to eval-runs/s3/<bucket>/<runId>/ first and reported from there."""
    folder = _report_folder(args, clients)
    summary = eval_commands.refresh(
        folder,
        model_prices.load_prices(args.prices, configured_context(args)),
        verdict_file=args.verdict,
    )
    eval_commands.print_summary(summary, as_json=args.json)
    page = folder / REPORT_HTML
    error(f"Report: {folder / rundir.REPORT} and {page}")
    if args.open and not webbrowser.open(page.resolve().as_uri()):
        error(f"No web browser could be started: open {page} yourself")
    return 0


def _report_folder(args: argparse.Namespace, clients: ClientFactory) -> Path:
    """The local run folder to report: RUN_DIR itself, or a run in AWS downloaded first."""
    if (args.folder is None) == (args.run_id is None):
        raise LadderError(
            "give one of RUN_DIR (a folder or s3://BUCKET/runs/<runId>/) and --run-id ID",
            exit_code=EXIT_SETUP,
        )
    if args.folder is not None and not args.folder.startswith("s3://"):
        return Path(args.folder)
    aws = session(args)
    if args.run_id is not None:
        bucket = outputs.read_evaluations_bucket(clients(aws, "cloudformation"), args.stack_prefix)
        run_id = args.run_id
    else:
        bucket, run_id = remote.parse_location(args.folder)
    folder = remote.download_run(clients(aws, "s3"), bucket, run_id)
    error(f"Downloaded s3://{bucket}/{remote.RUNS_PREFIX}{run_id}/ to {folder}")
    return folder


def cmd_eval_stage(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Upload the drift watch's evaluation set and verdict to the evaluations bucket (staged/watch/).

    The scheduled watch measures the set's first driftWatchMaxItems items and holds the served arms to the
    verdict's correctness target and expiry. The set defaults to the copy in the verdict's run folder."""
    aws = session(args)
    bucket = outputs.read_evaluations_bucket(clients(aws, "cloudformation"), args.stack_prefix)
    staged = remote.stage(clients(aws, "s3"), bucket, verdict_path=args.verdict, set_path=args.set_file)
    for warning in staged.warnings:
        error(f"Warning: {warning}")
    if args.json:
        print_json(staged.to_json())
        return 0
    print(f"Staged {staged.items} items (sha256 {staged.set_sha256[:12]}) to s3://{bucket}/{staged.set_key}")
    print(f"Staged the verdict to s3://{bucket}/{staged.verdict_key}")
    return 0


def cmd_eval_runs(args: argparse.Namespace, clients: ClientFactory) -> int:
    """List the evaluation runs in AWS, newest first: the drift watch's, the promotion gate's and manual
    ones, each with correctness, format compliance and cost per query per arm (from its summary.json)."""
    aws = session(args)
    bucket = outputs.read_evaluations_bucket(clients(aws, "cloudformation"), args.stack_prefix)
    rows = remote.list_runs(clients(aws, "s3"), bucket, limit=args.limit)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        error(f"No runs in s3://{bucket}/{remote.RUNS_PREFIX} yet")
        return 0
    for row in rows:
        print(
            f"{row['runId']}  ({row['purpose'] or 'unknown purpose'})  s3://{bucket}/{remote.RUNS_PREFIX}{row['runId']}/"
        )
        if row["summary"] is None:
            print("    no summary.json yet")
        for arm, values in (row["summary"] or {}).items():
            print(f"    {arm:<36} {_headline(values)}")
    return 0


def _headline(values: dict[str, Any]) -> str:
    """``correctness 84%  format 97%  cost/query $0.004100`` ("-" for what the run did not measure)."""
    correct, fmt, cost = values["correctness"], values["formatCompliance"], values["costPerQueryUsd"]
    return (
        f"correctness {'-' if correct is None else f'{correct:.0%}'}  "
        f"format {'-' if fmt is None else f'{fmt:.0%}'}  "
        f"cost/query {'-' if cost is None else f'${cost:.6f}'}"
    )
