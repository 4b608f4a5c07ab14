"""``ladder finetune start | status | stop | models | promote | rollback | plan``: run or stop the
pipeline, manage its models, size a run."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from ladder_core.catalog import training
from training_jobs import dataprep, job_contract

from .. import doctor, finetune, finetune_plan, hints, models, outputs
from ..aws import ClientFactory, session
from ..console import error, print_json
from ..errors import EXIT_FAILED, EXIT_INTERRUPTED, LadderError, SetupError
from .common import add_context_options, add_prep_options, aws_options, check_data, command, int_range, now

MAX_TOKENS = 10**13

PLAN_SETTINGS = (
    ("base_model", "fineTuneBaseModelId", "fine_tune_base_model_id", None),
    ("instance_type", "fineTuneInstanceType", "fine_tune_instance_type", None),
    ("instance_count", "fineTuneInstanceCount", "fine_tune_instance_count", 1),
    ("strategy", "fineTuneStrategy", "fine_tune_strategy", finetune_plan.DEFAULT_STRATEGY),
    (
        "max_seq_length",
        "fineTuneMaxSeqLength",
        "fine_tune_max_seq_length",
        finetune_plan.DEFAULT_MAX_SEQ_LENGTH,
    ),
    ("epochs", "fineTuneEpochs", "fine_tune_epochs", finetune_plan.DEFAULT_EPOCHS),
)
"""What ``finetune plan`` takes from the deployed configuration: (option dest, cdk.json key, config field,
the default outside the project)."""


def register(commands: Any) -> None:
    """Add ``finetune`` and its subcommands to the root's subparsers."""
    aws = aws_options()
    tune_parser = commands.add_parser(
        "finetune",
        help="finetune start|status|stop|models|promote|rollback|plan: run or stop the pipeline, manage its "
        "models, size a run",
    )
    tune_commands = tune_parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    start = command(tune_commands, "start", cmd_finetune_start, parents=[aws])
    start.add_argument(
        "--data", dest="file", type=Path, required=True, metavar="FILE", help="JSON Lines training data"
    )
    start.add_argument("--no-wait", action="store_true", help="start the run and return at once")
    start.add_argument(
        finetune.BASE_WEIGHTS_OPTION,
        dest="base_weights",
        metavar="S3URI",
        help="the configured base model's staged weights, s3://<ArtifactsBucket>/base-models/<dir>/",
    )
    start.add_argument(
        "--base-model",
        dest="base_model_uri",
        metavar="S3URI",
        help=f"the old name of {finetune.BASE_WEIGHTS_OPTION}, kept for scripts (elsewhere --base-model "
        "names a model: a Hugging Face id or a local folder)",
    )
    start.add_argument(
        "--verdict",
        type=Path,
        default=Path("ladder-verdict.json"),
        metavar="FILE",
        help="the verdict whose targets and best arm the candidate must meet before it is published "
        "(default: ./ladder-verdict.json)",
    )
    start.add_argument(
        "--eval-set",
        type=Path,
        metavar="FILE",
        help="the evaluation set the candidate is measured on (default: the verdict's run folder's copy)",
    )
    start.add_argument(
        finetune.NO_GATE_OPTION,
        dest="no_promotion_gate",
        action="store_true",
        help="publish the imported model without measuring it (needs --reason; recorded in the execution)",
    )
    start.add_argument("--reason", metavar="TEXT", help=f"why, with {finetune.NO_GATE_OPTION}")
    add_prep_options(start)
    status = command(tune_commands, "status", cmd_finetune_status, parents=[aws])
    status.add_argument("--execution", metavar="ARN", help="execution ARN (default: running, else latest)")
    stop = command(tune_commands, "stop", cmd_finetune_stop, parents=[aws])
    stop.add_argument(
        "execution", nargs="?", metavar="EXECUTION", help="execution name or ARN (default: the running one)"
    )
    listed = command(tune_commands, "models", cmd_finetune_models, parents=[aws])
    listed.add_argument("--json", action="store_true", help="print the models as a JSON list")
    promoted = command(tune_commands, "promote", cmd_finetune_promote, parents=[aws])
    promoted.add_argument("model", metavar="MODEL", help="imported model name (ladder-<timestamp>) or ARN")
    promoted.add_argument(
        "--reason",
        required=True,
        metavar="TEXT",
        help="why it goes live without passing the promotion gate (kept in the parameter's history and the "
        "model's tags)",
    )
    promoted.add_argument("--json", action="store_true", help="print what was published as JSON")
    back = command(tune_commands, "rollback", cmd_finetune_rollback, parents=[aws])
    back.add_argument(
        "--to", metavar="NAME|ARN", help="publish this imported model instead of the previous one"
    )
    back.add_argument("--json", action="store_true", help="print what was published as JSON")
    _register_plan(tune_commands)


def _register_plan(tune_commands: Any) -> None:
    sizing = command(tune_commands, "plan", cmd_finetune_plan)
    configured = "default: {key} of cdk.json with -c overrides"
    sizing.add_argument(
        "--base-model",
        metavar="ID|DIR",
        help="catalogued Hugging Face id, or a folder with its config.json ("
        + configured.format(key="fineTuneBaseModelId")
        + ")",
    )
    sizing.add_argument(
        "--instance-type",
        type=_instance_type,
        metavar="TYPE",
        help="SageMaker training instance, e.g. ml.g5.2xlarge ("
        + configured.format(key="fineTuneInstanceType")
        + ")",
    )
    sizing.add_argument(
        "--instance-count",
        type=int_range(1, finetune_plan.MAX_INSTANCE_COUNT),
        metavar="N",
        help=configured.format(key="fineTuneInstanceCount") + "; outside the project 1",
    )
    sizing.add_argument(
        "--strategy",
        choices=job_contract.STRATEGIES,
        help=configured.format(key="fineTuneStrategy")
        + f"; outside the project {finetune_plan.DEFAULT_STRATEGY}",
    )
    sizing.add_argument(
        "--max-seq-length",
        type=int_range(*training.MAX_SEQ_LENGTH_RANGE),
        metavar="N",
        help=configured.format(key="fineTuneMaxSeqLength")
        + f"; outside the project {finetune_plan.DEFAULT_MAX_SEQ_LENGTH}",
    )
    sizing.add_argument(
        "--epochs",
        type=int_range(*training.EPOCHS_RANGE),
        metavar="N",
        help=configured.format(key="fineTuneEpochs")
        + f"; outside the project {finetune_plan.DEFAULT_EPOCHS}",
    )
    tokens = sizing.add_mutually_exclusive_group()
    tokens.add_argument(
        "--data", type=Path, metavar="FILE", help="JSON Lines chat records to count tokens of"
    )
    tokens.add_argument(
        "--tokens", type=int_range(1, MAX_TOKENS), metavar="N", help="training tokens per epoch"
    )
    sizing.add_argument(
        "--usd-per-hour", type=_price, metavar="X", help="price of one instance (default: the catalogue's)"
    )
    sizing.add_argument("--json", action="store_true", help="print the plan as one JSON object")
    sizing.add_argument("--table", action="store_true", help="print the README's sizing table (Markdown)")
    add_context_options(sizing)


def cmd_finetune_start(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Check the data locally, upload it and start the fine-tune pipeline; then follow it unless --no-wait.

    Unusable data is refused (exit 1) before anything is uploaded.

    The imported model is published only when it meets the verdict's targets and keeps the correctness of
    the verdict's best other arm, measured on the verdict's evaluation set (staged with the run; --eval-set
    to use another). Without a set the run is refused unless --no-promotion-gate --reason TEXT.
    """
    weights = _base_weights(args)
    gate = finetune.promotion_gate(
        args.verdict, args.eval_set, gate_off=args.no_promotion_gate, reason=args.reason
    )
    report = check_data(args)
    print(report.format())
    if not report.usable:
        problem = dataprep.NotEnoughExamplesError(report.clean, report.min_examples)
        raise LadderError(f"{problem} Nothing was uploaded.")
    aws = session(args)
    cloudformation = clients(aws, "cloudformation")
    tune = outputs.read_fine_tune(cloudformation, args.stack_prefix)
    evaluations = (
        outputs.stack_outputs(
            cloudformation, args.stack_prefix, outputs.RAG_API_STACK, (finetune.EVALUATIONS_BUCKET_OUTPUT,)
        )[finetune.EVALUATIONS_BUCKET_OUTPUT]
        if gate.on
        else None
    )
    sfn = clients(aws, "stepfunctions")
    run = finetune.start_run(
        clients(aws, "s3"), sfn, tune, args.file, now(), weights, gate=gate, evaluations_bucket=evaluations
    )
    if gate.on:
        print(f"Promotion gate: {' vs '.join(gate.arms)} on {gate.eval_set}; staged {', '.join(run.staged)}")
    else:
        print(f"Promotion gate off: {gate.reason}")
    print(f"Uploaded s3://{run.bucket}/{run.key}")
    print(f"Started execution {run.execution_arn}")
    print(f"Console: {run.console_url}")
    if args.no_wait:
        return 0
    print("Following the execution (Ctrl-C stops following; the run continues).")
    try:
        final = finetune.follow(sfn, run.execution_arn, sleep=time.sleep, on_change=_print_change)
    except KeyboardInterrupt:
        later = hints.command("finetune", "status", "--execution", run.execution_arn)
        print(f"\nStopped following. Check later: {later}")
        return EXIT_INTERRUPTED
    print(finetune.format_status(final, now()))
    return 0 if final.status == "SUCCEEDED" else EXIT_FAILED


def _base_weights(args: argparse.Namespace) -> str | None:
    """The staged weights' S3 URI from --base-weights or its old name --base-model, checked before any AWS
    call: both name the weights of the configured base model, never another model."""
    option = finetune.BASE_WEIGHTS_OPTION
    weights, old = args.base_weights, args.base_model_uri
    if weights and old and weights != old:
        raise SetupError(
            f"two staged-weights locations given: {option} {weights} and --base-model {old}; pass one"
        )
    given, spelled = (weights, option) if weights else (old, "--base-model")
    if given and not given.startswith("s3://"):
        raise SetupError(
            f"{spelled} {given}: expected the s3:// URI of the staged weights, such as "
            f"s3://<ArtifactsBucketName>/{finetune.BASE_MODELS_PREFIX}<folder>/ (the run trains the "
            "configured fineTuneBaseModelId; to train another model, change it in cdk.json and redeploy)"
        )
    return given


def _print_change(run: finetune.RunStatus) -> None:
    print(f"{now():%H:%M:%S} {run.status:<9} {run.state or '(starting)'}", flush=True)


def cmd_finetune_status(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Show the running (else the latest) fine-tune execution and the published fine-tuned model."""
    aws = session(args)
    tune = outputs.read_fine_tune(clients(aws, "cloudformation"), args.stack_prefix)
    sfn = clients(aws, "stepfunctions")
    model = finetune.published_model(clients(aws, "ssm"), tune.model_parameter_name)
    arn = args.execution or finetune.latest_execution(sfn, tune.state_machine_arn)
    if arn is None:
        first = hints.command("finetune", "start", "--data", "FILE")
        print(f"No fine-tune execution yet: start one with `{first}`.")
    else:
        print(finetune.format_status(finetune.describe_run(sfn, arn), now()))
    print(finetune.format_model(model))
    return 0


def cmd_finetune_stop(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Stop a fine-tune execution and its SageMaker training job, and say what was stopped.

    Without EXECUTION, the one running execution of this deployment. Stopping an execution in the Step
    Functions console runs none of its failure handling and leaves the job running until its runtime cap;
    pass that execution here to stop its job. Exit 1 when several run and none was named.
    """
    aws = session(args)
    tune = outputs.read_fine_tune(clients(aws, "cloudformation"), args.stack_prefix)
    sfn = clients(aws, "stepfunctions")
    if args.execution:
        arn = finetune.execution_arn_of(tune.state_machine_arn, args.execution)
    else:
        running = finetune.running_executions(sfn, tune.state_machine_arn)
        if not running:
            print("No fine-tune execution is running: nothing stopped (name one to stop its training job).")
            return 0
        if len(running) > 1:
            names = ", ".join(running)
            raise LadderError(f"{len(running)} fine-tune executions run; name the one to stop: {names}")
        (arn,) = running
    stopped = finetune.stop_run(sfn, clients(aws, "sagemaker"), arn)
    print("\n".join(stopped.lines()))
    return 0


def cmd_finetune_models(args: argparse.Namespace, clients: ClientFactory) -> int:
    """List the models the pipeline imported into Bedrock, newest first, marking the published one, with
    the numbers the promotion gate measured (correctness, format compliance, cost per query) and its
    outcome (promoted, rejected, or manual for `finetune promote`)."""
    aws = session(args)
    tune = outputs.read_fine_tune(clients(aws, "cloudformation"), args.stack_prefix)
    published = finetune.published_model(clients(aws, "ssm"), tune.model_parameter_name)
    imported = models.pipeline_models(clients(aws, "bedrock"), published, with_tags=True)
    if args.json:
        print_json([model.to_dict() for model in imported])
    else:
        print(models.format_models(imported))
    return 0


def cmd_finetune_promote(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Publish an imported model of this pipeline by hand (a candidate the promotion gate rejected, say).

    The reason is kept in the model parameter's history (the version's Description) and in the model's
    tags (ladder:promotion manual, ladder:promotionReason). The RAG function reads the parameter at most
    five minutes later. Exit 1 for a model this deployment's pipeline did not import.
    """
    aws = session(args)
    tune = outputs.read_fine_tune(clients(aws, "cloudformation"), args.stack_prefix)
    pipeline = tune.state_machine_arn.rsplit(":", 1)[-1]
    target, replaced = models.promote(
        clients(aws, "bedrock"),
        clients(aws, "ssm"),
        tune.model_parameter_name,
        pipeline,
        args.model,
        args.reason,
    )
    if args.json:
        print_json(
            {"published": target.to_dict(), "replaced": replaced, "reason": " ".join(args.reason.split())}
        )
    else:
        print(f"Published {target.name} ({target.arn}) by hand, replacing {replaced or 'none'}.")
    return 0


def cmd_finetune_rollback(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Publish the model imported before the published one (or --to NAME|ARN) for the finetuned mode.

    The RAG function reads the parameter at most five minutes later. Exit 1 when there is none to go back to.
    """
    aws = session(args)
    tune = outputs.read_fine_tune(clients(aws, "cloudformation"), args.stack_prefix)
    target, replaced = models.rollback(
        clients(aws, "bedrock"), clients(aws, "ssm"), tune.model_parameter_name, args.to
    )
    if args.json:
        print_json({"published": target.to_dict(), "replaced": replaced})
    elif target.arn == replaced:
        print(f"{target.name} is already the published model; nothing changed.")
    else:
        print(f"Published {target.name} ({target.arn}), replacing {replaced or 'none'}.")
    return 0


def cmd_finetune_plan(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Size a fine-tune offline, before any GPU starts: memory per GPU, whether it fits, hours and cost.

    Without options it plans the fine-tune the project deploys: base model, instance type and count,
    strategy, max_seq_length and epochs come from cdk.json with -c overrides (as `make deploy` reads them),
    each option given replacing its value; stderr names the configuration read. --base-model is a
    catalogued Hugging Face id or a folder holding the model's config.json. Tokens come from --data FILE
    (content characters / 4), --tokens N, else a typical run (2,000 conversations of 1,000 tokens). Every
    figure is an estimate from the assumptions the README lists. --table prints the README's table of the
    cheapest instance per model size and strategy.
    Exit 0 when the run fits, 1 when it does not (why, on stderr) or the configuration is invalid, 2 for
    unusable input.
    """
    if args.table:
        print(finetune_plan.markdown_table(), end="")
        return 0
    settings, source = _plan_settings(args)
    if source:
        error(source)
    result = finetune_plan.plan(
        settings["base_model"],
        settings["instance_type"],
        instance_count=settings["instance_count"],
        strategy=settings["strategy"],
        max_seq_length=settings["max_seq_length"],
        epochs=settings["epochs"],
        data=args.data,
        tokens=args.tokens,
        usd_per_hour=args.usd_per_hour,
    )
    if args.json:
        print_json(result.to_dict())
    else:
        print(result.format())
    if not result.fits:
        error(f"Does not fit: {result.reason}")
        return EXIT_FAILED
    return 0


def _plan_settings(args: argparse.Namespace) -> tuple[dict[str, Any], str | None]:
    """Each plan setting: the option given, else the project's configured value, else the default outside
    the project; and the line that names the configuration and the values taken from it (None if none)."""
    cdk_json: Path = args.cdk_json
    in_project = cdk_json.is_file()
    if not in_project and (args.context or cdk_json != Path("cdk.json")):
        raise SetupError(
            f"{cdk_json} not found: -c and --cdk-json apply to the project's configuration; run from the "
            "project folder or pass --cdk-json FILE"
        )
    config = doctor.load_config(cdk_json, args.context) if in_project else None
    settings: dict[str, Any] = {}
    taken: list[str] = []
    for dest, key, field, default in PLAN_SETTINGS:
        value = getattr(args, dest)
        if value is None and config is not None:
            value = getattr(config, field)
            taken.append(f"{key}={value}")
        settings[dest] = default if value is None else value
    if not settings["base_model"] or not settings["instance_type"]:
        raise finetune_plan.PlanInputError(
            "finetune plan needs --base-model ID|DIR and --instance-type TYPE outside the project (no "
            f"{cdk_json} here to read fineTuneBaseModelId and fineTuneInstanceType from), or --table"
        )
    if not taken:
        return settings, None
    overrides = f" with -c {' -c '.join(args.context)}" if args.context else ""
    return settings, f"Planning with {cdk_json}{overrides}: {', '.join(taken)}"


def _instance_type(text: str) -> str:
    """SageMaker names training instances with the ``ml.`` prefix; EC2's name alone is a common slip."""
    if not text.startswith("ml.") and "." in text:
        raise argparse.ArgumentTypeError(f"SageMaker instance types start with ml.: did you mean ml.{text}?")
    return text


def _price(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a price in US dollars, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value
