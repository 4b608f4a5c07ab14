"""Starts and follows the fine-tune pipeline (Step Functions) and reads the published model (SSM)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ladder_core.api import FINETUNED
from ladder_core.evaluation.run import PROMOTION_PREFIX, SET_COPY
from ladder_core.promotion import VerdictUnusable, best_other_arm
from ladder_core.published import read_published
from stacks.fine_tune import verdict as verdict_file

from . import hints
from .errors import EXIT_SETUP, LadderError, SetupError
from .evaluation.evalset import load_set
from .outputs import FineTuneOutputs

UPLOAD_KEY_PREFIX = "uploads/"
EXECUTION_NAME_PREFIX = "ladder-"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
DATASET_CONTENT_TYPE = "application/jsonl"
FOLLOW_POLL_S = 30
HISTORY_PAGE_EVENTS = 100
_LABEL_WIDTH = 12
FINISHED_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
BASE_MODELS_PREFIX = "base-models/"
BASE_WEIGHTS_OPTION = "--base-weights"
"""The ``finetune start`` option naming staged weights (``--base-model``, its old name, is kept as an
alias)."""


def staging_help() -> str:
    """How to stage the base model's weights and start a run on them, as commands to paste."""
    folder = f"s3://<ArtifactsBucketName>/{BASE_MODELS_PREFIX}<folder>/"
    # The placeholders are left unquoted, as in the aws line: they are replaced before pasting.
    start = f"{hints.program()} finetune start --data FILE {BASE_WEIGHTS_OPTION} {folder}"
    return (
        "stage the weights once where you have Hub access, then pass the folder:\n"
        "  hf download <org>/<model> --local-dir base-model\n"
        "      --include '*.json' '*.safetensors' '*.txt' '*.jinja' 'tokenizer.model'\n"
        f"  aws s3 sync base-model {folder}\n"
        f"  {start}"
    )


"""Where ``finetune start`` stages each run's evaluation set and verdict in the evaluations bucket:
``staged/promotion/<execution name>/{set.jsonl,verdict.json}``."""
STAGED_SET = "set.jsonl"
STAGED_VERDICT = "verdict.json"
EVALUATIONS_BUCKET_OUTPUT = "EvaluationsBucket"
"""The RAG API stack's output naming the bucket the evaluation state machine reads and writes."""
NO_GATE_OPTION = "--no-promotion-gate"


@dataclass(frozen=True)
class PromotionGate:
    """How the run's candidate is measured before it is published: the evaluation set and verdict to stage,
    and the arms to evaluate; or, with the gate off, the reason recorded instead."""

    eval_set: Path | None = None
    verdict_path: Path | None = None
    arms: tuple[str, ...] = ()
    reason: str | None = None

    @property
    def on(self) -> bool:
        return self.eval_set is not None

    def execution_input(self, bucket: str | None, prefix: str) -> dict[str, Any]:
        """The keys the pipeline reads: ``promotionGate`` with the staged set, the verdict and the arms, or
        ``promotionGate`` false with ``promotionGateReason``."""
        if not self.on:
            return {"promotionGate": False, "promotionGateReason": self.reason}
        return {
            "promotionGate": True,
            "evalSet": {"bucket": bucket, "key": f"{prefix}{STAGED_SET}"},
            "verdict": {"bucket": bucket, "key": f"{prefix}{STAGED_VERDICT}"},
            "promotionArms": list(self.arms),
        }


def promotion_gate(
    verdict_path: Path, eval_set: Path | None, *, gate_off: bool, reason: str | None
) -> PromotionGate:
    """The gate ``finetune start`` asks for, checked before anything is uploaded.

    On (the default): the verdict must hold an arm to beat, and the set is ``--eval-set`` or the copy in the
    verdict's run folder (``evalRun.dir``). Off: only with a reason. SetupError names what is missing."""
    if gate_off:
        if not reason or not reason.strip():
            raise SetupError(
                f"{NO_GATE_OPTION} needs --reason TEXT: why this run's model may go live unmeasured"
            )
        if eval_set is not None:
            raise SetupError(f"--eval-set and {NO_GATE_OPTION} contradict each other: pass one")
        return PromotionGate(reason=" ".join(reason.split()))
    if reason is not None:
        raise SetupError(f"--reason is recorded only with {NO_GATE_OPTION}")
    try:
        document = verdict_file.load(verdict_path).document
    except FileNotFoundError:
        raise SetupError(
            f"{verdict_path} not found: the promotion gate compares the candidate with the arms of the "
            f"verdict `ladder justify` wrote; pass --verdict FILE, or {NO_GATE_OPTION} --reason TEXT. "
            "Nothing was uploaded."
        ) from None
    except verdict_file.VerdictError as err:
        raise SetupError(f"{verdict_path}: {err}. Nothing was uploaded.") from None
    try:
        best = best_other_arm(document)
    except VerdictUnusable as err:
        raise SetupError(f"{verdict_path}: {err}. Nothing was uploaded.") from None
    chosen = eval_set or Path(document["evalRun"]["dir"]) / SET_COPY
    if not chosen.is_file():
        raise SetupError(
            f"no evaluation set to measure the candidate on: {chosen} not found (the copy in the verdict's "
            f"run folder); pass --eval-set FILE, or {NO_GATE_OPTION} --reason TEXT to publish unmeasured. "
            "Nothing was uploaded."
        )
    # A set the evaluation could not parse would fail the run only after hours of training.
    load_set(chosen)
    return PromotionGate(eval_set=chosen, verdict_path=verdict_path, arms=(best, FINETUNED))


class BaseModelRequired(LadderError):
    """The stack trains only from staged weights and none were given: refused (exit 2, a usage error)
    before anything is uploaded."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=EXIT_SETUP)


@dataclass(frozen=True)
class StartedRun:
    """Where the dataset went and which execution was started."""

    bucket: str
    key: str
    execution_arn: str
    console_url: str
    staged: tuple[str, ...] = ()
    """The S3 URIs of the staged evaluation set and verdict (none with the gate off)."""


@dataclass(frozen=True)
class RunStatus:
    """One execution as ``describe_execution`` and its history describe it."""

    execution_arn: str
    status: str
    started: datetime
    stopped: datetime | None
    state: str | None
    output: str | None
    error: str | None
    cause: str | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    def elapsed(self, now: datetime) -> timedelta:
        return (self.stopped or now) - self.started


def start_run(
    s3: Any,
    sfn: Any,
    outputs: FineTuneOutputs,
    data: Path,
    now: datetime,
    base_model_s3_uri: str | None = None,
    *,
    gate: PromotionGate,
    evaluations_bucket: str | None = None,
) -> StartedRun:
    """Upload ``data`` to ``uploads/<UTC timestamp>-<name>`` and start the pipeline on it.

    The execution is named ``ladder-<UTC timestamp>`` and its input is ``{"bucket": ..., "key": ...}``, plus
    ``baseModelS3Uri`` when the base model's weights were staged in S3. When the stack requires staged
    weights (a gated base model such as the default Llama, or network isolation) and none are given,
    BaseModelRequired is raised before anything is uploaded: the job would otherwise fail on the GPU.

    With the promotion gate on, the evaluation set and the verdict are staged in ``evaluations_bucket``
    under ``staged/promotion/<execution name>/`` first, and the input carries them (``gate``).
    """
    if outputs.base_model_required and not base_model_s3_uri:
        raise BaseModelRequired(
            f"{BASE_WEIGHTS_OPTION} is required: this fine-tune stack trains only from staged weights (its "
            "base model is gated on the Hugging Face Hub, or network isolation is on); "
            + staging_help()
            + "\nNothing was uploaded."
        )
    stamp = now.astimezone(UTC).strftime(TIMESTAMP_FORMAT)
    name = f"{EXECUTION_NAME_PREFIX}{stamp}"
    bucket = outputs.training_data_bucket
    key = f"{UPLOAD_KEY_PREFIX}{stamp}-{data.name}"
    prefix = f"{PROMOTION_PREFIX}{name}/"
    staged: tuple[str, ...] = ()
    if gate.on:
        if gate.eval_set is None or gate.verdict_path is None or not evaluations_bucket:
            raise ValueError("the promotion gate needs its set, its verdict and the evaluations bucket")
        for path, staged_name in ((gate.eval_set, STAGED_SET), (gate.verdict_path, STAGED_VERDICT)):
            content_type = DATASET_CONTENT_TYPE if staged_name == STAGED_SET else "application/json"
            s3.upload_file(
                str(path), evaluations_bucket, prefix + staged_name, ExtraArgs={"ContentType": content_type}
            )
            staged += (f"s3://{evaluations_bucket}/{prefix}{staged_name}",)
    s3.upload_file(str(data), bucket, key, ExtraArgs={"ContentType": DATASET_CONTENT_TYPE})
    started = sfn.start_execution(
        stateMachineArn=outputs.state_machine_arn,
        name=name,
        input=json.dumps(
            {
                "bucket": bucket,
                "key": key,
                **({"baseModelS3Uri": base_model_s3_uri} if base_model_s3_uri else {}),
                **gate.execution_input(evaluations_bucket, prefix),
            }
        ),
    )
    arn = started["executionArn"]
    return StartedRun(bucket=bucket, key=key, execution_arn=arn, console_url=console_url(arn), staged=staged)


def console_url(execution_arn: str) -> str:
    """The Step Functions console page of an execution (its region is read from the ARN)."""
    region = execution_arn.split(":")[3]
    return (
        f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{execution_arn}"
    )


def latest_execution(sfn: Any, state_machine_arn: str) -> str | None:
    """The running execution (the newest if several), else the most recent one; None when there is none."""
    for status_filter in ({"statusFilter": "RUNNING"}, {}):
        page = sfn.list_executions(stateMachineArn=state_machine_arn, maxResults=1, **status_filter)
        if page["executions"]:
            return str(page["executions"][0]["executionArn"])
    return None


def describe_run(sfn: Any, execution_arn: str) -> RunStatus:
    described = sfn.describe_execution(executionArn=execution_arn)
    return RunStatus(
        execution_arn=execution_arn,
        status=described["status"],
        started=described["startDate"],
        stopped=described.get("stopDate"),
        state=current_state(sfn, execution_arn),
        output=described.get("output"),
        error=described.get("error"),
        cause=described.get("cause"),
    )


def current_state(sfn: Any, execution_arn: str) -> str | None:
    """The name of the state entered last (the current one while running), from the newest events back."""
    request: dict[str, Any] = {
        "executionArn": execution_arn,
        "reverseOrder": True,
        "maxResults": HISTORY_PAGE_EVENTS,
    }
    while True:
        page = sfn.get_execution_history(**request)
        for event in page["events"]:
            if event["type"].endswith("StateEntered"):
                return str(event["stateEnteredEventDetails"]["name"])
        if not page.get("nextToken"):
            return None
        request["nextToken"] = page["nextToken"]


def published_model(ssm: Any, parameter_name: str) -> str | None:
    """The imported model's ARN from SSM; None before the first publish (no parameter, or ``none``)."""
    return read_published(ssm, parameter_name)


def follow(
    sfn: Any,
    execution_arn: str,
    *,
    sleep: Callable[[float], None],
    on_change: Callable[[RunStatus], None],
    poll_s: float = FOLLOW_POLL_S,
) -> RunStatus:
    """Poll the execution until it finishes, calling ``on_change`` whenever its status or state changes."""
    seen: tuple[str, str | None] | None = None
    while True:
        run = describe_run(sfn, execution_arn)
        if (run.status, run.state) != seen:
            seen = (run.status, run.state)
            on_change(run)
        if run.finished:
            return run
        sleep(poll_s)


def format_status(run: RunStatus, now: datetime) -> str:
    """Status, start time, elapsed time and state; the output, or the error and cause, once finished."""
    lines = [
        _field("execution", run.execution_arn),
        _field("status", run.status),
        _field("started", f"{run.started.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"),
        _field("elapsed", format_duration(run.elapsed(now))),
        _field("last state" if run.finished else "state", run.state or "(none entered yet)"),
    ]
    if run.status == "SUCCEEDED" and run.output is not None:
        lines.append("output:")
        lines.append(_indent(_pretty_json(run.output)))
    elif run.finished and run.status != "SUCCEEDED":
        lines.append(_field("error", run.error or "(none given)"))
        if run.cause:
            lines.append("cause:")
            lines.append(_indent(_pretty_json(run.cause)))
    lines.append(_field("console", console_url(run.execution_arn)))
    return "\n".join(lines)


def format_model(model_arn: str | None) -> str:
    return f"published model: {model_arn or 'none yet (no fine-tuned model has been imported)'}"


def _field(label: str, value: str) -> str:
    return f"{label + ':':<{_LABEL_WIDTH}}{value}"


def format_duration(elapsed: timedelta) -> str:
    seconds = max(0, int(elapsed.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {seconds:02d}s" if hours else f"{minutes}m {seconds:02d}s"


def _pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


RUNNING = "RUNNING"
JOB_RUNNING_STATUSES = frozenset({"InProgress"})
JOB_NOT_FOUND_MESSAGE = "Requested resource not found"
"""What SageMaker answers DescribeTrainingJob for a job that does not exist: a ValidationException with this
message, not the ResourceNotFound its API model lists (aws/aws-sdk#165)."""


@dataclass(frozen=True)
class StoppedRun:
    """What ``stop_run`` found and did: the execution's status before, and its training job's."""

    execution_arn: str
    execution_status: str
    execution_stopped: bool
    training_job: str
    job_status: str | None
    job_stopped: bool

    def lines(self) -> list[str]:
        """One line for the execution, one for its training job."""
        if self.execution_stopped:
            execution = f"Stopped execution {self.execution_arn}."
        else:
            execution = f"Execution {self.execution_arn} had already ended ({self.execution_status})."
        if self.job_status is None:
            job = f"No training job {self.training_job}: the execution ended before it started one."
        elif self.job_stopped:
            job = (
                f"Stopping training job {self.training_job} (it was {self.job_status}; SageMaker stops it "
                "within about two minutes, and billing ends then)."
            )
        elif self.job_status == "Stopping":
            job = f"Training job {self.training_job} is already stopping."
        else:
            job = f"Training job {self.training_job} is not running ({self.job_status}): nothing to stop."
        return [execution, job]


def running_executions(sfn: Any, state_machine_arn: str) -> list[str]:
    """ARNs of the state machine's running executions, newest first."""
    arns: list[str] = []
    request: dict[str, Any] = {"stateMachineArn": state_machine_arn, "statusFilter": RUNNING}
    while True:
        page = sfn.list_executions(**request)
        arns += [str(execution["executionArn"]) for execution in page["executions"]]
        if not page.get("nextToken"):
            return arns
        request["nextToken"] = page["nextToken"]


def execution_arn_of(state_machine_arn: str, execution: str) -> str:
    """The ARN of ``execution`` (an ARN or a name) of this state machine; LadderError for another one's."""
    prefix = state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":"
    arn = execution if execution.startswith("arn:") else prefix + execution
    if not arn.startswith(prefix) or len(arn) == len(prefix):
        raise LadderError(
            f"{execution} is not an execution of this deployment's pipeline: expected an execution name or "
            f"an ARN starting with {prefix}"
        )
    return arn


def stop_run(sfn: Any, sagemaker: Any, execution_arn: str) -> StoppedRun:
    """Stop the execution if it still runs, then its training job (named after the execution) if that runs.

    Stopping an execution runs none of its Catch states, so the job would otherwise bill until its runtime
    cap. The job is looked at even when the execution had already ended: one stopped from the console leaves
    its job running, and this is how to stop it.
    """
    status = str(sfn.describe_execution(executionArn=execution_arn)["status"])
    if status == RUNNING:
        sfn.stop_execution(executionArn=execution_arn)
    job = execution_arn.rsplit(":", 1)[-1]
    try:
        described = sagemaker.describe_training_job(TrainingJobName=job)
        job_status: str | None = str(described["TrainingJobStatus"])
    except ClientError as err:
        error = err.response.get("Error", {})
        if error.get("Code") == "ResourceNotFound" or JOB_NOT_FOUND_MESSAGE in str(error.get("Message", "")):
            job_status = None
        else:
            raise
    job_stopped = job_status in JOB_RUNNING_STATUSES
    if job_stopped:
        sagemaker.stop_training_job(TrainingJobName=job)
    return StoppedRun(
        execution_arn=execution_arn,
        execution_status=status,
        execution_stopped=status == RUNNING,
        training_job=job,
        job_status=job_status,
        job_stopped=job_stopped,
    )
