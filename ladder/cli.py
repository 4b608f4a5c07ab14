"""The ``ladder`` command: a thin argparse layer over the modules that do the work.

Examples::

    ladder ask "How many days of annual leave do I get?"
    ladder ask "..." --mode prompt --json
    ladder docs upload sample_corpus
    ladder data check chats.jsonl --min-examples 200
    ladder finetune start --data chats.jsonl --no-wait
    ladder finetune status
    ladder finetune models
    ladder finetune rollback

Stacks are found by name ``<prefix>Knowledge``, ``<prefix>RagApi`` and ``<prefix>FineTune``; the prefix is
``--stack-prefix``, else ``$LADDER_STACK_PREFIX``, else ``Ladder``. The region is ``--region``, else the
one in your AWS configuration (profile, ``AWS_REGION``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from training_jobs import dataprep

from . import api, data, docs, finetune, models, outputs
from .errors import EXIT_FAILED, EXIT_SETUP, LadderError, SetupError

MODES = ("rag", "prompt", "finetuned")
DEFAULT_MODE = "rag"
MIN_TOP_K = 1
MAX_TOP_K = 20
AWS_MAX_ATTEMPTS = 5
EXIT_INTERRUPTED = 130

ClientFactory = Callable[[boto3.session.Session, str], Any]
"""Makes the boto3 client of a service from a session; tests pass one that hands out stubbed clients."""
Command = Callable[[argparse.Namespace, ClientFactory], int]


def main(argv: Sequence[str] | None = None, *, client_factory: ClientFactory | None = None) -> int:
    """Run one ``ladder`` command; the exit code: 0 done, 1 failed (API error, unusable data), 2 setup."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.command(args, client_factory or create_client))
    except LadderError as err:
        _error(str(err))
        return err.exit_code
    except (NoCredentialsError, ProfileNotFound) as err:
        _error(f"{err} (configure AWS credentials, e.g. `aws configure` or `aws sso login`)")
        return EXIT_SETUP
    except ClientError as err:
        detail = err.response.get("Error", {})
        _error(f"AWS error {detail.get('Code', '?')} in {err.operation_name}: {detail.get('Message', '')}")
        return EXIT_FAILED
    except BotoCoreError as err:
        _error(f"AWS error: {err}")
        return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ladder",
        description="Operate a deployed Ladder: ask questions, upload documents, check and run fine-tuning.",
        epilog="Exit codes: 0 done, 1 failed (API error, unusable data, failed run), 2 missing setup.",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    aws = argparse.ArgumentParser(add_help=False)
    aws.add_argument("--region", help="AWS region of the stacks (default: your AWS configuration)")
    aws.add_argument("--profile", help="AWS profile to use (default: the default credential chain)")
    aws.add_argument(
        "--stack-prefix",
        default=os.environ.get(outputs.STACK_PREFIX_ENV, outputs.DEFAULT_STACK_PREFIX),
        help=f"prefix of the stack names (default: ${outputs.STACK_PREFIX_ENV} or "
        f"{outputs.DEFAULT_STACK_PREFIX})",
    )

    ask = _command(commands, "ask", cmd_ask, parents=[aws])
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--mode", choices=MODES, default=DEFAULT_MODE, help="default: %(default)s")
    ask.add_argument(
        "--top-k",
        type=_int_range(MIN_TOP_K, MAX_TOP_K),
        help=f"passages to retrieve, {MIN_TOP_K}-{MAX_TOP_K} (default: the API's)",
    )
    ask.add_argument("--json", action="store_true", help="print the raw response JSON")

    docs_parser = commands.add_parser(
        "docs", help="docs upload DIR: put documents into the knowledge base's bucket"
    )
    docs_commands = docs_parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    upload = _command(docs_commands, "upload", cmd_docs_upload, parents=[aws])
    upload.add_argument("folder", type=Path, metavar="DIR", help="folder of documents to upload")
    upload.add_argument("--dry-run", action="store_true", help="list what would be uploaded, upload nothing")

    data_parser = commands.add_parser("data", help="data check FILE: check fine-tuning data locally")
    data_commands = data_parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    check = _command(data_commands, "check", cmd_data_check)
    check.add_argument("file", type=Path, metavar="FILE", help="JSON Lines file of chat conversations")
    _add_prep_options(check)
    check.add_argument("--json", action="store_true", help="print the report as JSON")

    tune_parser = commands.add_parser(
        "finetune", help="finetune start|status|models|rollback: run the pipeline, manage its models"
    )
    tune_commands = tune_parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    start = _command(tune_commands, "start", cmd_finetune_start, parents=[aws])
    start.add_argument(
        "--data", dest="file", type=Path, required=True, metavar="FILE", help="JSON Lines training data"
    )
    start.add_argument("--no-wait", action="store_true", help="start the run and return at once")
    start.add_argument(
        "--base-model",
        metavar="S3URI",
        help="staged base-model weights, s3://<ArtifactsBucket>/base-models/<dir>/",
    )
    _add_prep_options(start)
    status = _command(tune_commands, "status", cmd_finetune_status, parents=[aws])
    status.add_argument("--execution", metavar="ARN", help="execution ARN (default: running, else latest)")
    listed = _command(tune_commands, "models", cmd_finetune_models, parents=[aws])
    listed.add_argument("--json", action="store_true", help="print the models as a JSON list")
    back = _command(tune_commands, "rollback", cmd_finetune_rollback, parents=[aws])
    back.add_argument(
        "--to", metavar="NAME|ARN", help="publish this imported model instead of the previous one"
    )
    back.add_argument("--json", action="store_true", help="print what was published as JSON")
    return parser


def cmd_ask(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Ask the deployed RAG API a question (SigV4-signed POST /ask) and print the answer with its sources."""
    session = _session(args)
    ask_url = outputs.read_rag_api(clients(session, "cloudformation"), args.stack_prefix).ask_url
    response = api.post_signed_json(
        ask_url,
        api.ask_body(args.question, args.mode, args.top_k),
        credentials=session.get_credentials(),
        region=_region(session),
    )
    print(json.dumps(response, indent=2, ensure_ascii=False) if args.json else api.format_answer(response))
    return 0


def cmd_docs_upload(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Upload every regular, non-hidden file under DIR to the documents bucket; ingestion then starts.

    Files matching a glob pattern in DIR/.ladderignore (one per line) are skipped.
    """
    session = _session(args)
    knowledge = outputs.read_knowledge(clients(session, "cloudformation"), args.stack_prefix)
    documents = docs.find_documents(args.folder, knowledge.documents_prefix)
    destination = f"s3://{knowledge.documents_bucket}/{knowledge.documents_prefix}"
    if args.dry_run:
        for document in documents:
            print(f"would upload {document.path} -> s3://{knowledge.documents_bucket}/{document.key}")
        print(f"{len(documents)} documents would be uploaded to {destination}")
        return 0
    count = docs.upload_documents(clients(session, "s3"), documents, knowledge.documents_bucket)
    print(f"Uploaded {count} documents to {destination}; the knowledge base ingests them shortly.")
    return 0


def cmd_data_check(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Check a JSON Lines fine-tuning dataset: counts, every rejected line and reason, usable or not.

    Exit 0 when usable, 1 when there are too few clean examples, 2 when the file cannot be read.
    """
    report = _check(args)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.format(max_rejections=report.rejected))
    if not report.usable:
        _error(str(dataprep.NotEnoughExamplesError(report.clean, report.min_examples)))
        return EXIT_FAILED
    return 0


def cmd_finetune_start(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Check the data locally, upload it and start the fine-tune pipeline; then follow it unless --no-wait.

    Unusable data is refused (exit 1) before anything is uploaded.
    """
    report = _check(args)
    print(report.format())
    if not report.usable:
        error = dataprep.NotEnoughExamplesError(report.clean, report.min_examples)
        raise LadderError(f"{error} Nothing was uploaded.")
    session = _session(args)
    tune = outputs.read_fine_tune(clients(session, "cloudformation"), args.stack_prefix)
    sfn = clients(session, "stepfunctions")
    if args.base_model and not args.base_model.startswith("s3://"):
        raise LadderError(f"--base-model {args.base_model}: expected an s3:// URI of the staged weights")
    run = finetune.start_run(clients(session, "s3"), sfn, tune, args.file, _now(), args.base_model)
    print(f"Uploaded s3://{run.bucket}/{run.key}")
    print(f"Started execution {run.execution_arn}")
    print(f"Console: {run.console_url}")
    if args.no_wait:
        return 0
    print("Following the execution (Ctrl-C stops following; the run continues).")
    try:
        final = finetune.follow(sfn, run.execution_arn, sleep=time.sleep, on_change=_print_change)
    except KeyboardInterrupt:
        print(f"\nStopped following. Check later: ladder finetune status --execution {run.execution_arn}")
        return EXIT_INTERRUPTED
    print(finetune.format_status(final, _now()))
    return 0 if final.status == "SUCCEEDED" else EXIT_FAILED


def cmd_finetune_status(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Show the running (else the latest) fine-tune execution and the published fine-tuned model."""
    session = _session(args)
    tune = outputs.read_fine_tune(clients(session, "cloudformation"), args.stack_prefix)
    sfn = clients(session, "stepfunctions")
    model = finetune.published_model(clients(session, "ssm"), tune.model_parameter_name)
    arn = args.execution or finetune.latest_execution(sfn, tune.state_machine_arn)
    if arn is None:
        print("No fine-tune execution yet: start one with `ladder finetune start --data FILE`.")
    else:
        print(finetune.format_status(finetune.describe_run(sfn, arn), _now()))
    print(finetune.format_model(model))
    return 0


def cmd_finetune_models(args: argparse.Namespace, clients: ClientFactory) -> int:
    """List the models the pipeline imported into Bedrock, newest first, marking the published one."""
    session = _session(args)
    tune = outputs.read_fine_tune(clients(session, "cloudformation"), args.stack_prefix)
    published = finetune.published_model(clients(session, "ssm"), tune.model_parameter_name)
    imported = models.pipeline_models(clients(session, "bedrock"), published)
    if args.json:
        print(json.dumps([model.to_dict() for model in imported], indent=2))
    else:
        print(models.format_models(imported))
    return 0


def cmd_finetune_rollback(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Publish the model imported before the published one (or --to NAME|ARN) for the finetuned mode.

    The RAG function reads the parameter at most five minutes later. Exit 1 when there is none to go back to.
    """
    session = _session(args)
    tune = outputs.read_fine_tune(clients(session, "cloudformation"), args.stack_prefix)
    target, replaced = models.rollback(
        clients(session, "bedrock"), clients(session, "ssm"), tune.model_parameter_name, args.to
    )
    if args.json:
        print(json.dumps({"published": target.to_dict(), "replaced": replaced}, indent=2))
    elif target.arn == replaced:
        print(f"{target.name} is already the published model; nothing changed.")
    else:
        print(f"Published {target.name} ({target.arn}), replacing {replaced or 'none'}.")
    return 0


def _command(
    commands: Any, name: str, handler: Command, parents: Sequence[argparse.ArgumentParser] = ()
) -> argparse.ArgumentParser:
    doc = inspect.cleandoc(handler.__doc__ or "")
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=doc.splitlines()[0],
        description=doc,
        parents=list(parents),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(command=handler)
    return parser


def _add_prep_options(parser: argparse.ArgumentParser) -> None:
    defaults = dataprep.PrepOptions()
    parser.add_argument(
        "--min-examples",
        type=int,
        metavar="N",
        help=f"clean examples needed (default {defaults.min_examples}; use the stack's fineTuneMinExamples)",
    )
    parser.add_argument(
        "--eval-fraction",
        type=float,
        metavar="F",
        help=f"share held out for evaluation, 0-{dataprep.MAX_EVAL_FRACTION} "
        f"(default {defaults.eval_fraction})",
    )


def _check(args: argparse.Namespace) -> dataprep.Report:
    options = data.prep_options(min_examples=args.min_examples, eval_fraction=args.eval_fraction)
    return data.check_file(args.file, options)


def _session(args: argparse.Namespace) -> boto3.session.Session:
    session = boto3.session.Session(profile_name=args.profile, region_name=args.region)
    _region(session)
    return session


def _region(session: boto3.session.Session) -> str:
    if not session.region_name:
        raise SetupError("no AWS region: pass --region or set one in your AWS configuration (AWS_REGION)")
    return session.region_name


def create_client(session: boto3.session.Session, service: str) -> Any:
    """The standard boto3 client of ``service`` with standard-mode retries."""
    config = Config(retries={"mode": "standard", "max_attempts": AWS_MAX_ATTEMPTS})
    return session.client(service, config=config)


def _int_range(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
        return value

    return parse


def _print_change(run: finetune.RunStatus) -> None:
    print(f"{_now():%H:%M:%S} {run.status:<9} {run.state or '(starting)'}", flush=True)


def _now() -> datetime:
    return datetime.now(UTC)


def _error(message: str) -> None:
    print(message, file=sys.stderr)
