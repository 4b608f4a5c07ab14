"""What ``ladder eval run / status / report`` do; ``ladder/commands/eval.py`` only parses arguments and calls
these."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

from ladder_core import metrics
from ladder_core.api import FEWSHOT, FINETUNED, MODES, PROMPT, RAG, parse_arm
from ladder_core.evaluation.evalset import EvalSet
from ladder_core.evaluation.prices import PriceTable
from ladder_core.evaluation.run import recorded_examples
from ladder_core.evaluation.summary import describe_causes
from ladder_core.examples import MANIFEST_KEY

from .. import api, finetune, hints, outputs
from ..aws import ClientFactory
from ..console import error, print_json
from ..errors import EXIT_FAILED, EXIT_INTERRUPTED, SetupError
from ..examples import EXAMPLES_UPLOAD, manifest_problem, read_manifest
from ..pricing import imported
from ..pricing import models as model_prices
from . import evalset as evalsets
from . import judge, rundir
from .progress import progress_bar
from .report import write_report
from .runner import Runner, Send, pending_pairs, read_answers
from .summary import write_scores
from .viewer import REPORT_HTML

DEFAULT_ARMS = (PROMPT, RAG)
ARM_CHOICES = MODES
"""The modes ``--arms`` accepts, alone or as ``MODE@MODEL_ID`` for the modes that may name a model."""
SUMMARY_TABLE = (
    metrics.CORRECTNESS,
    metrics.REFUSAL_ACCURACY,
    metrics.SOURCE_HIT_RATE,
    metrics.FORMAT_COMPLIANCE,
)
"""The rates ``ladder eval``'s terminal table shows, after the counts and before latency and cost."""


@dataclass(frozen=True)
class RunRequest:
    """What ``ladder eval run`` was asked, as typed: None where an option was not given."""

    set_file: Path | None
    out: Path | None
    arms: str | None
    url: str | None
    judge: str | None
    style: Path | None
    concurrency: int
    prices: Path | None
    stack_prefix: str
    as_json: bool
    repeat: int | None = None
    """``--repeat``: None when not given (a new run sends each item once, a continued run keeps its own)."""
    resume_options: tuple[str, ...] = ()
    """The ``--region`` / ``--profile`` / ``--stack-prefix`` words the user typed, for the command that
    continues the run."""
    deployment: dict[str, Any] | None = None
    """cdk.json's context with -c overrides: what the per-query cost depends on besides the answer."""


Connect = Callable[[], tuple[boto3.session.Session, str]]
"""Opens the AWS session and its region; called only after the offline checks passed."""


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


def run_command(
    request: RunRequest, *, connect: Connect, clients: ClientFactory, now: Callable[[], datetime]
) -> int:
    """Run ``ladder eval run``: settle the set, URL, arms and judge (a continued run's from its run.json),
    send and score, print the summary, start the judge jobs; the exit code (0 done, 1 some answers ended
    in an error, 130 after Ctrl-C)."""
    saved = rundir.existing(request.out)
    if request.set_file is not None:
        evaluation_set = evalsets.load_set(request.set_file)
    elif saved is not None and request.out is not None:
        evaluation_set = rundir.load_run_set(request.out)
    else:
        raise SetupError("eval run needs --set FILE for a new run (or --out RUN_DIR of a run to continue)")
    arms = parse_arms(request.arms, ARM_CHOICES)
    if arms is None and saved is not None:
        arms = list(saved.arms)
    judge_model = request.judge or (saved.judge if saved else None)
    style = request.style or (Path(saved.style) if saved and saved.style else None)
    repeat = request.repeat or (saved.repeat if saved else 1)
    if style and not judge_model:
        raise SetupError("--style needs --judge MODEL_ID")
    rubric = read_rubric(style)
    prices = model_prices.load_prices(request.prices, request.deployment)
    session, region = connect()
    credentials = session.get_credentials()
    if credentials is None:
        raise SetupError("no AWS credentials found: configure a profile (aws configure / aws sso login)")
    chosen_url = request.url or (saved.url if saved else None)
    rag_outputs: dict[str, str] = {}
    if chosen_url is None or judge_model:
        rag_outputs = outputs.stack_outputs(
            clients(session, "cloudformation"), request.stack_prefix, outputs.RAG_API_STACK, ("AskUrl",)
        )
    url = chosen_url or rag_outputs["AskUrl"]
    setup = _judge_setup(rag_outputs, request.stack_prefix, judge_model) if judge_model else None
    model_arn: str | None = None
    manifest: dict[str, Any] | None = None
    if arms is None:
        arms = list(DEFAULT_ARMS)
        if not request.url:
            manifest = _uploaded_examples(request.stack_prefix, session, clients, required=False)
            if manifest is not None:
                arms.append(FEWSHOT)
        model_arn = None if request.url else _published_model_arn(request.stack_prefix, session, clients)
        if model_arn is not None:
            arms.append(FINETUNED)
    elif any(parse_arm(arm).mode == FEWSHOT for arm in arms):
        manifest = _uploaded_examples(request.stack_prefix, session, clients, required=True)
    if manifest is not None:
        problem = manifest_problem(manifest, evaluation_set.sha256)
        if problem:
            error(f"Warning: {problem}; `ladder justify` will not count the {FEWSHOT} arm.")

    def send(body: dict[str, Any]) -> dict[str, Any]:
        return api.post_signed_json(url, body, credentials=credentials, region=region)

    folder = request.out or rundir.default_folder(evaluation_set, now())
    if model_arn is not None:
        # The model's own CMUs per copy price its answers and the scale case (offline, from the folder).
        imported.record_units(folder, clients(session, "bedrock"), model_arn)
    result = run(
        evaluation_set,
        url=url,
        arms=arms,
        folder=folder,
        send=send,
        concurrency=request.concurrency,
        prices=prices,
        now=now(),
        judge_model=judge_model,
        style=None if style is None else str(style),
        repeat=repeat,
        examples=manifest,
    )
    print_summary(result.summary, as_json=request.as_json)
    error(f"Report: {result.folder / rundir.REPORT} and {result.folder / REPORT_HTML}")
    resume = hints.command("eval", "run", "--out", str(folder), *request.resume_options)
    if result.interrupted:
        error(f"Interrupted; continue with: {resume}")
        return EXIT_INTERRUPTED
    judged = (folder / rundir.JUDGE_JOBS).exists()
    # New answers are judged afresh; otherwise only the arms a failed start left without a job.
    if (
        setup is not None
        and not result.not_sent
        and (result.sent or not judged or judge.unjudged_arms(folder))
    ):
        jobs = start_judge(
            clients(session, "bedrock"),
            clients(session, "s3"),
            folder,
            setup,
            rubric,
            missing_only=judged and not result.sent,
        )
        for arn in jobs:
            error(f"Started judge job {arn}")
        error(f"Follow them with: {hints.command('eval', 'status', str(folder))}")
    if result.errors or result.not_sent:
        for line in describe_errors(result):
            error(line)
        error(f"Retry them with: {resume}")
        return EXIT_FAILED
    return 0


def print_summary(summary: dict[str, Any], *, as_json: bool) -> None:
    """Print a run's summary: summary.json for ``--json``, else the terminal table."""
    if as_json:
        print_json(summary)
    else:
        print(format_summary(summary))


def _published_model_arn(
    stack_prefix: str, session: boto3.session.Session, clients: ClientFactory
) -> str | None:
    try:
        tune = outputs.read_fine_tune(clients(session, "cloudformation"), stack_prefix)
    except SetupError:
        return None
    return finetune.published_model(clients(session, "ssm"), tune.model_parameter_name)


def _uploaded_examples(
    stack_prefix: str, session: boto3.session.Session, clients: ClientFactory, *, required: bool
) -> dict[str, Any] | None:
    """The uploaded examples' manifest (as ``run.json`` records it), which the ``fewshot`` arm is
    measured with. None when the deployment
    has no examples store or none was uploaded; with ``required`` (``--arms`` names ``fewshot``) that is
    SetupError saying how to upload them."""
    try:
        store = outputs.read_examples(clients(session, "cloudformation"), stack_prefix)
    except SetupError:
        if required:
            raise
        return None
    manifest = read_manifest(clients(session, "s3"), store.documents_bucket)
    if manifest is None:
        if required:
            raise SetupError(
                f"--arms names {FEWSHOT}, but no examples were uploaded (no s3://{store.documents_bucket}/"
                f"{MANIFEST_KEY}): upload them first with `{hints.command(*EXAMPLES_UPLOAD)}`"
            )
        return None
    return recorded_examples(manifest)


def _judge_setup(values: dict[str, str], stack_prefix: str, model_id: str) -> judge.JudgeSetup:
    missing = [key for key in judge.SETUP_OUTPUTS if not values.get(key)]
    if missing:
        raise SetupError(
            f"stack {stack_prefix}{outputs.RAG_API_STACK} lacks output {', '.join(missing)}: "
            "redeploy it with `make deploy` from this version of Ladder"
        )
    ensure_judge_allowed(model_id, values["EvaluationJudgeModelIds"])
    return judge.setup_from_outputs(values, model_id)


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
    repeat: int = 1,
    log: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
    examples: dict[str, Any] | None = None,
) -> RunResult:
    """Send what the folder does not have yet (each item ``repeat`` times per arm), then rewrite its
    scores, summary and report.

    KeyboardInterrupt is caught: what finished is kept and scored, and ``interrupted`` is set.
    """
    rundir.start(
        folder,
        evalset,
        url=url,
        arms=arms,
        now=now,
        judge=judge_model,
        style=style,
        repeat=repeat,
        examples=examples,
    )
    done = read_answers(folder / rundir.RESPONSES)
    pairs = pending_pairs(evalset, arms, done, repeat)
    skipped = len(evalset.items) * len(arms) * repeat - len(pairs)
    log(
        f"{folder}: {len(pairs)} answers to fetch ({len(evalset.items)} items x {len(arms)} arms"
        + (f" x {repeat} repeats" if repeat > 1 else "")
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


def refresh(folder: Path, prices: PriceTable, *, verdict_file: Path | None = None) -> dict[str, Any]:
    """Rewrite ``scores.jsonl``, ``summary.json``, ``report.md`` and ``report.html`` from the folder; the
    summary. ``verdict_file``: this run's ``ladder-verdict.json`` when it is not where the report looks."""
    rundir.load_info(folder)
    summary = write_scores(folder, prices)
    write_report(folder, summary, verdict_file=verdict_file)
    return summary


def progress_counts(folder: Path) -> dict[str, dict[str, int]]:
    """Per arm: ``ok``, ``error`` and ``pending`` answers of the run (items x repeats)."""
    info = rundir.load_info(folder)
    evalset = rundir.load_run_set(folder)
    records = read_answers(folder / rundir.RESPONSES)
    counts = {}
    for arm in info.arms:
        statuses = [
            records.get((item.id, arm, repeat), {}).get("status")
            for repeat in range(info.repeat)
            for item in evalset.items
        ]
        counts[arm] = {
            "ok": statuses.count("ok"),
            "error": statuses.count("error"),
            "pending": statuses.count(None),
        }
    return counts


def parse_arms(text: str | None, choices: tuple[str, ...]) -> list[str] | None:
    """``--arms prompt,rag,rag@MODEL_ID``: the arms' full names in the order given, each once; None when not
    given (use the defaults). An arm is a mode of ``choices`` or ``MODE@MODEL_ID``
    (:func:`ladder_core.api.parse_arm`); a bad one is a SetupError (exit 2) naming it and the forms."""
    if text is None:
        return None
    arms: list[str] = []
    for part in (part.strip() for part in text.split(",")):
        if not part:
            continue
        try:
            arm = parse_arm(part)
        except ValueError as err:
            raise SetupError(f"--arms {text}: {err}") from None
        if arm.mode not in choices:
            raise SetupError(f"--arms {text}: expected a comma-separated list of {', '.join(choices)}")
        arms.append(arm.name)
    if not arms:
        raise SetupError(f"--arms {text}: expected a comma-separated list of {', '.join(choices)}")
    return list(dict.fromkeys(arms))


def format_summary(summary: dict[str, Any]) -> str:
    """A short table of the headline numbers per arm, for a terminal, labelled as the report labels them;
    ``answers`` is answers so far of the set's items (times the run's repeats), so an unfinished run shows
    what is missing."""
    total = (summary.get("run", {}).get("evalSet") or {}).get("items")
    if total is not None:
        total *= summary["run"].get("repeat") or 1
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
    bedrock: Any,
    s3: Any,
    folder: Path,
    setup: judge.JudgeSetup,
    rubric: str | None,
    *,
    missing_only: bool = False,
) -> list[str]:
    """Start the judge jobs of a finished run (``missing_only``: for the arms without one); the ARNs of the
    jobs it started. Says which arms' passages are only the API's excerpts (answers recorded before the
    runner asked for the passages)."""
    before = {job["jobArn"] for job in judge.recorded_jobs(folder)} if missing_only else set()
    jobs = [
        job
        for job in judge.start_jobs(bedrock, s3, folder, setup, rubric, missing_only=missing_only)
        if job["jobArn"] not in before
    ]
    excerpts: dict[str, int] = {}
    for job in jobs:
        excerpts[job["arm"]] = excerpts.get(job["arm"], 0) + job["excerptOnly"]
    for arm, count in excerpts.items():
        if count:
            error(
                f"{arm}: {count} answers carry only the API's 500-character excerpt of each passage, not "
                "the passage the model saw (recorded by an older ladder eval run); the judge's faithfulness "
                "is understated for them. Rerun them into a new --out to judge the full passages"
            )
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
