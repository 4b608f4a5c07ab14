"""The ``ladder`` command: a thin argparse layer over the modules that do the work.

Examples::

    ladder ask "How many days of annual leave do I get?"
    ladder ask "..." --mode prompt --json
    ladder docs upload sample_corpus
    ladder docs status
    ladder doctor -c profile=prod
    ladder data check chats.jsonl --min-examples 200
    ladder finetune start --data chats.jsonl --no-wait
    ladder finetune status
    ladder finetune models
    ladder finetune rollback
    ladder finetune stop
    ladder finetune plan
    ladder finetune plan --base-model Qwen/Qwen2.5-7B-Instruct --instance-type ml.g5.4xlarge --strategy qlora
    ladder eval run --set sample_corpus/eval.jsonl
    ladder eval report eval-runs/<run>
    ladder data render --qa pairs.jsonl --out chats.jsonl
    ladder justify eval-runs/RUN --data chats.jsonl

Stacks are found by name ``<prefix>Knowledge``, ``<prefix>RagApi`` and ``<prefix>FineTune`` in the region
`make deploy` uses: ``--stack-prefix`` / ``--region``, else cdk.json's ``stackPrefix`` / ``region`` with
``-c`` overrides (``$LADDER_STACK_PREFIX`` comes before cdk.json's prefix). Without a cdk.json in the
working folder the region is ``$AWS_REGION``, then ``$AWS_DEFAULT_REGION``, then your AWS profile's.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import inspect
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from ladder_core.api import DEFAULT_MODE, FINETUNED, MODES
from lambdas.rag import constants as rag_constants
from training_jobs import dataprep, job_contract

from . import api, data, docs, doctor, finetune, finetune_plan, hints, knowledge_ops, models, outputs
from . import justify as justify_pkg
from .aws_clients import create_client
from .errors import EXIT_FAILED, EXIT_SETUP, LadderError, SetupError, network_problem
from .evaluation import commands as eval_commands
from .evaluation import evalset, judge, rundir
from .evaluation import runner as evaluation_runner
from .evaluation.commands import DEFAULT_ARMS
from .pricing import models as model_prices

MIN_TOP_K = 1
MAX_TOP_K = 20
AWS_REGION_ENV = "AWS_REGION"
EXIT_INTERRUPTED = 130
MAX_EVAL_CONCURRENCY = 32
MAX_SEQ_LENGTH = 131_072
MAX_EPOCHS = 100
MAX_TOKENS = 10**13

ClientFactory = Callable[[boto3.session.Session, str], Any]
"""Makes the boto3 client of a service from a session; tests pass one that hands out stubbed clients."""
Command = Callable[[argparse.Namespace, ClientFactory], int]


def main(argv: Sequence[str] | None = None, *, client_factory: ClientFactory | None = None) -> int:
    """Run one ``ladder`` command; the exit code: 0 done, 1 failed (API error, unusable data), 2 setup."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        _deploy_defaults(args)
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
        _error(network_problem(err) or f"AWS error: {err}")
        return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ladder",
        description="Operate a deployed Ladder: ask questions, upload documents, check and run fine-tuning.",
        epilog="Exit codes: 0 done, 1 failed (API error, unusable data, failed run), 2 missing setup.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.set_defaults(command=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    aws = argparse.ArgumentParser(add_help=False)
    aws.add_argument(
        "--region",
        help="AWS region of the stacks (default: the region `make deploy` uses, cdk.json's with -c "
        "overrides; without a cdk.json here, $AWS_REGION or your AWS configuration)",
    )
    aws.add_argument("--profile", help="AWS profile to use (default: the default credential chain)")
    aws.add_argument(
        "--stack-prefix",
        help=f"prefix of the stack names (default: -c stackPrefix, else ${outputs.STACK_PREFIX_ENV}, else "
        f"cdk.json's stackPrefix, else {outputs.DEFAULT_STACK_PREFIX})",
    )
    _add_context_options(aws)

    ask = _command(commands, "ask", cmd_ask, parents=[aws])
    ask.add_argument("question", nargs="+", help="the question, in quotes")
    ask.add_argument("--url", help="POST /ask URL of any Ladder API (default: the RagApi stack's AskUrl)")
    ask.add_argument("--mode", choices=MODES, default=DEFAULT_MODE, help="default: %(default)s")
    ask.add_argument(
        "--top-k",
        type=_int_range(MIN_TOP_K, MAX_TOP_K),
        help=f"passages to retrieve, {MIN_TOP_K}-{MAX_TOP_K} (default: the API's)",
    )
    ask.add_argument("--json", action="store_true", help="print the raw response JSON")

    docs_parser = commands.add_parser(
        "docs",
        help="docs upload DIR | status | sync | redrive: put documents in, see and drive their ingestion",
    )
    docs_commands = docs_parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    upload = _command(docs_commands, "upload", cmd_docs_upload, parents=[aws])
    upload.add_argument("folder", type=Path, metavar="DIR", help="folder of documents to upload")
    upload.add_argument("--dry-run", action="store_true", help="list what would be uploaded, upload nothing")
    docs_status = _command(docs_commands, "status", cmd_docs_status, parents=[aws])
    docs_status.add_argument("--json", action="store_true", help="print the status as JSON")
    docs_sync = _command(docs_commands, "sync", cmd_docs_sync, parents=[aws])
    docs_sync.add_argument("--json", action="store_true", help="print the job as JSON")
    docs_redrive = _command(docs_commands, "redrive", cmd_docs_redrive, parents=[aws])
    docs_redrive.add_argument("--no-wait", action="store_true", help="start the move and return at once")
    docs_redrive.add_argument(
        "--json", action="store_true", help="print the outcome as JSON (implies --no-wait)"
    )

    doctor_parser = _command(commands, "doctor", cmd_doctor)
    _add_context_options(doctor_parser)
    doctor_parser.add_argument("--region", help="check this region (the same as -c region=REGION)")
    doctor_parser.add_argument("--profile", help="AWS profile to use (default: the default credential chain)")
    doctor_parser.add_argument("--json", action="store_true", help="print the checks as JSON (for CI)")

    data_parser = commands.add_parser("data", help="data check FILE: check fine-tuning data locally")
    data_commands = data_parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    check = _command(data_commands, "check", cmd_data_check)
    check.add_argument(
        "file", nargs="?", type=Path, metavar="FILE", help="JSON Lines file of chat conversations"
    )
    check.add_argument(
        "--data",
        dest="data_file",
        type=Path,
        metavar="FILE",
        help="the same as FILE, as finetune start and justify take it",
    )
    _add_prep_options(check)
    check.add_argument(
        "--base-model",
        metavar="ID|DIR",
        help="a Hugging Face id or a local folder of the model's files: also render every clean record with "
        "its chat template, as the training job does",
    )
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    render = _command(data_commands, "render", cmd_data_render, parents=[aws])
    render.add_argument(
        "--qa", type=Path, required=True, metavar="PAIRS", help='JSON Lines of {"question", "answer"}'
    )
    render.add_argument("--out", type=Path, required=True, metavar="FILE", help="chat records to write")
    render.add_argument(
        "--top-k",
        type=_int_range(MIN_TOP_K, MAX_TOP_K),
        default=rag_constants.DEFAULT_TOP_K,
        help="passages to retrieve, as the API's topK (default: the API's default, %(default)s)",
    )
    render.add_argument("--json", action="store_true", help="print the manifest as JSON")

    justify = _command(commands, "justify", cmd_justify)
    targets = justify_pkg.rules.Targets()
    justify.add_argument(
        "run_dir", nargs="?", type=Path, metavar="RUN_DIR", help="the `ladder eval run` folder to decide on"
    )
    justify.add_argument(
        "--eval", dest="eval_dir", type=Path, metavar="RUN_DIR", help="the same as RUN_DIR (kept for scripts)"
    )
    justify.add_argument("--data", type=Path, metavar="FILE", help="fine-tuning chat records to count")
    justify.add_argument(
        "--queries-per-day", type=_int_range(1, 10**9), metavar="N", help="enables the scale case"
    )
    justify.add_argument(
        "--target-correctness",
        type=_fraction,
        default=targets.correctness,
        metavar="F",
        help="default %(default)s",
    )
    justify.add_argument(
        "--target-format",
        type=_fraction,
        default=targets.format_compliance,
        metavar="F",
        help="default %(default)s",
    )
    justify.add_argument(
        "--min-items",
        type=_int_range(1, 10**6),
        default=targets.min_items,
        metavar="N",
        help="scored items needed (default %(default)s)",
    )
    justify.add_argument(
        "--min-examples",
        type=_int_range(1, 10**7),
        metavar="N",
        help="clean examples needed in --data (default: fineTuneMinExamples of cdk.json, as the pipeline "
        f"is deployed; outside the project {dataprep.PrepOptions().min_examples})",
    )
    justify.add_argument(
        "--valid-days",
        type=_int_range(1, 3650),
        default=justify_pkg.rules.DEFAULT_VALID_DAYS,
        metavar="DAYS",
        help="default %(default)s",
    )
    justify.add_argument(
        "--seed", type=int, default=justify_pkg.bootstrap.DEFAULT_SEED, help="bootstrap seed"
    )
    justify.add_argument(
        "--resamples",
        type=_int_range(justify_pkg.bootstrap.MIN_RESAMPLES, 1_000_000),
        default=justify_pkg.bootstrap.DEFAULT_RESAMPLES,
        metavar="N",
        help="bootstrap resamples",
    )
    justify.add_argument(
        "--out",
        type=Path,
        default=justify_pkg.command.DEFAULT_OUT,
        metavar="FILE",
        help="default %(default)s",
    )
    justify.add_argument("--json", action="store_true", help="print the verdict as JSON")

    tune_parser = commands.add_parser(
        "finetune",
        help="finetune start|status|stop|models|rollback|plan: run or stop the pipeline, manage its models, "
        "size a run",
    )
    tune_commands = tune_parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    start = _command(tune_commands, "start", cmd_finetune_start, parents=[aws])
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
    _add_prep_options(start)
    status = _command(tune_commands, "status", cmd_finetune_status, parents=[aws])
    status.add_argument("--execution", metavar="ARN", help="execution ARN (default: running, else latest)")
    stop = _command(tune_commands, "stop", cmd_finetune_stop, parents=[aws])
    stop.add_argument(
        "execution", nargs="?", metavar="EXECUTION", help="execution name or ARN (default: the running one)"
    )
    listed = _command(tune_commands, "models", cmd_finetune_models, parents=[aws])
    listed.add_argument("--json", action="store_true", help="print the models as a JSON list")
    back = _command(tune_commands, "rollback", cmd_finetune_rollback, parents=[aws])
    back.add_argument(
        "--to", metavar="NAME|ARN", help="publish this imported model instead of the previous one"
    )
    back.add_argument("--json", action="store_true", help="print what was published as JSON")
    _add_plan_command(tune_commands)
    _add_eval_commands(commands, aws)
    return parser


def cmd_ask(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Ask the deployed RAG API a question (SigV4-signed POST /ask) and print the answer with its sources."""
    if len(args.question) > 1:
        quoted = hints.command("ask", " ".join(args.question))
        raise SetupError(f"the question must be one argument; quote it: {quoted}")
    session = _session(args)
    ask_url = args.url or outputs.read_rag_api(clients(session, "cloudformation"), args.stack_prefix).ask_url
    response = api.post_signed_json(
        ask_url,
        api.ask_body(args.question[0], args.mode, args.top_k),
        credentials=session.get_credentials(),
        region=_region(session),
    )
    print(json.dumps(response, indent=2, ensure_ascii=False) if args.json else api.format_answer(response))
    return 0


def cmd_docs_upload(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Upload every regular, non-hidden file under DIR to the documents bucket; ingestion then starts.

    Files matching a glob pattern in DIR/.ladderignore (one per line) are skipped.
    """
    docs.find_documents(args.folder, "")  # the folder is checked offline, before any AWS call
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


def cmd_docs_status(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Show whether uploaded documents are searchable: the latest ingestion jobs with their counts,
    every document that failed with Bedrock's reason, and the messages waiting in the ingestion queue
    and its dead-letter queue."""
    session = _session(args)
    ingestion = outputs.read_ingestion(clients(session, "cloudformation"), args.stack_prefix)
    status = knowledge_ops.docs_status(clients(session, "bedrock-agent"), clients(session, "sqs"), ingestion)
    print(json.dumps(status.to_dict(), indent=2) if args.json else status.format())
    return 0


def cmd_docs_sync(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Start one ingestion job now (for changes made outside the bucket's events), or say which is running."""
    session = _session(args)
    ingestion = outputs.read_ingestion(clients(session, "cloudformation"), args.stack_prefix)
    result = knowledge_ops.sync(
        clients(session, "bedrock-agent"), ingestion.knowledge_base_id, ingestion.data_source_id
    )
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.format())
    return 0


def cmd_docs_redrive(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Move the dead-letter queue's messages back to the ingestion queue (an SQS message-move task) and
    follow its progress. Safe to repeat: a move already running is reported, not started twice."""
    session = _session(args)
    ingestion = outputs.read_ingestion(clients(session, "cloudformation"), args.stack_prefix)
    sqs = clients(session, "sqs")
    result = knowledge_ops.redrive(sqs, ingestion)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(result.format())
    if result.task is None or not result.task.running or args.no_wait:
        return 0
    try:
        final = knowledge_ops.follow_move_task(
            sqs,
            ingestion.dead_letter_queue_url,
            sleep=time.sleep,
            on_change=lambda task: print(f"{_now():%H:%M:%S} {task.format()}", flush=True),
        )
    except KeyboardInterrupt:
        again = hints.command("docs", "redrive")
        print(f"\nStopped following; the move continues. Check it with `{again}` again.")
        return EXIT_INTERRUPTED
    return EXIT_FAILED if final is not None and final.status == "FAILED" else 0


def cmd_doctor(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Check the target account and region before `make deploy`, read-only, with your credentials.

    The configuration is cdk.json's context plus -c overrides, as the app reads it; the region is the
    configuration's `region`. Each check prints a line with ✓ or ✗ and, when it fails, the fix.
    Exit 0 when every check passes, 1 when one fails or a configuration value is invalid, 2 when
    cdk.json or AWS credentials are missing.
    """
    overrides = [*args.context, *([f"region={args.region}"] if args.region else [])]
    config = doctor.load_config(args.cdk_json, overrides)
    session = boto3.session.Session(profile_name=args.profile, region_name=config.region)
    report = doctor.run(lambda service: clients(session, service), config)
    print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) if args.json else report.format())
    return 0 if report.ok else EXIT_FAILED


def cmd_data_check(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Check a JSON Lines fine-tuning dataset: counts, every rejected line and reason, usable or not.

    With --base-model, every clean record is also rendered with that model's chat template as the training
    job encodes it, and each record the job would stop on is listed by line. Exit 0 when usable, 1 when
    there are too few clean examples or a record the template cannot encode, 2 when the file (or the base
    model's tokenizer) cannot be read.
    """
    if args.file and args.data_file and args.file != args.data_file:
        raise SetupError(f"two data files given: {args.file} and --data {args.data_file}; pass one")
    args.file = args.file or args.data_file
    if args.file is None:
        raise SetupError("data check needs FILE (or --data FILE), a JSON Lines file of chat conversations")
    report = _check(args)
    template = None
    if args.base_model:
        tokenizer = data.load_tokenizer(args.base_model)
        template = data.check_chat_template(args.file, tokenizer, report, base_model=args.base_model)
    if args.json:
        document = report.to_dict()
        if template is not None:
            document["chat_template"] = template.to_dict()
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print(report.format(max_rejections=report.rejected))
        if template is not None:
            print(template.format())
    failed = False
    if not report.usable:
        _error(str(dataprep.NotEnoughExamplesError(report.clean, report.min_examples)))
        failed = True
    if template is not None and not template.ok:
        _error(
            f"{len(template.problems)} records would stop the training job after it started: the chat "
            f"template of {args.base_model} cannot encode them (lines "
            f"{', '.join(str(p.line) for p in template.problems)}); split multi-turn records into "
            "single-turn ones or use another base model"
        )
        failed = True
    return EXIT_FAILED if failed else 0


def cmd_data_render(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Render fine-tuning records that match serving: retrieve each question's passages through the deployed
    knowledge base with the RAG function's own settings, write the chat with the `finetuned` template.

    A manifest beside FILE (FILE.render.json) records the prompt version and lists the questions that
    retrieved nothing (left out). Exit 1 for an unusable PAIRS file, 2 for a missing stack.
    """
    # The file is checked offline first (the question limit comes from the deployed function, later).
    data.read_pairs(args.qa, max_question_chars=sys.maxsize)
    session = _session(args)
    function_name = outputs.stack_outputs(
        clients(session, "cloudformation"), args.stack_prefix, outputs.RAG_API_STACK, ("RagFunctionName",)
    )["RagFunctionName"]
    settings = data.function_settings(clients(session, "lambda"), function_name)
    pairs = data.read_pairs(args.qa, max_question_chars=settings.max_question_chars)
    result = data.render(clients(session, "bedrock-agent-runtime"), settings, pairs, top_k=args.top_k)
    manifest_path = data.write_render(result, args.out)
    manifest = result.manifest
    if args.json:
        print(json.dumps(manifest, indent=2, ensure_ascii=False))
    else:
        print(
            f"Wrote {manifest['written']} of {manifest['pairs']} records to {args.out} "
            f"(prompt {manifest['mode']} version {manifest['promptVersion']}, topK {manifest['topK']}); "
            f"manifest {manifest_path}"
        )
    for item in manifest["noPassages"]:
        _error(f"line {item['line']}: retrieved no passages, left out: {item['question'][:80]}")
    return 0


def cmd_justify(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Decide the rung from an evaluation run (offline): the seven rules, each with its numbers, and the
    verdict file that `-c fineTune=true` requires.

    Exit 0 whenever a verdict was written (whatever it says), 1 for unusable input, 2 for missing setup.
    """
    if args.run_dir and args.eval_dir and args.run_dir != args.eval_dir:
        raise SetupError(f"two run folders given: {args.run_dir} and --eval {args.eval_dir}; pass one")
    eval_dir = args.run_dir or args.eval_dir
    if eval_dir is None:
        raise SetupError(f"justify needs RUN_DIR, the folder of a `{hints.command('eval', 'run')}`")
    options = justify_pkg.JustifyOptions(
        eval_dir=eval_dir,
        out=args.out,
        data=args.data,
        queries_per_day=args.queries_per_day,
        targets=justify_pkg.rules.Targets(
            correctness=args.target_correctness,
            format_compliance=args.target_format,
            min_items=args.min_items,
        ),
        min_examples=args.min_examples if args.min_examples is not None else _configured_min_examples(args),
        valid_days=args.valid_days,
        resamples=args.resamples,
        seed=args.seed,
        economics=justify_pkg.economics.FineTuneEconomics.configured(_configured_context(args)),
    )
    result = justify_pkg.run_justify(options, now=_now())
    if args.json:
        print(json.dumps(result.document, indent=2, ensure_ascii=False))
        _error(f"Wrote {result.path}")
    else:
        print(justify_pkg.format_result(result))
    return 0


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, got {value}")
    return value


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


def cmd_finetune_start(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Check the data locally, upload it and start the fine-tune pipeline; then follow it unless --no-wait.

    Unusable data is refused (exit 1) before anything is uploaded.
    """
    weights = _base_weights(args)
    report = _check(args)
    print(report.format())
    if not report.usable:
        error = dataprep.NotEnoughExamplesError(report.clean, report.min_examples)
        raise LadderError(f"{error} Nothing was uploaded.")
    session = _session(args)
    tune = outputs.read_fine_tune(clients(session, "cloudformation"), args.stack_prefix)
    sfn = clients(session, "stepfunctions")
    run = finetune.start_run(clients(session, "s3"), sfn, tune, args.file, _now(), weights)
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
    print(finetune.format_status(final, _now()))
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


def cmd_finetune_status(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Show the running (else the latest) fine-tune execution and the published fine-tuned model."""
    session = _session(args)
    tune = outputs.read_fine_tune(clients(session, "cloudformation"), args.stack_prefix)
    sfn = clients(session, "stepfunctions")
    model = finetune.published_model(clients(session, "ssm"), tune.model_parameter_name)
    arn = args.execution or finetune.latest_execution(sfn, tune.state_machine_arn)
    if arn is None:
        first = hints.command("finetune", "start", "--data", "FILE")
        print(f"No fine-tune execution yet: start one with `{first}`.")
    else:
        print(finetune.format_status(finetune.describe_run(sfn, arn), _now()))
    print(finetune.format_model(model))
    return 0


def cmd_finetune_stop(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Stop a fine-tune execution and its SageMaker training job, and say what was stopped.

    Without EXECUTION, the one running execution of this deployment. Stopping an execution in the Step
    Functions console runs none of its failure handling and leaves the job running until its runtime cap;
    pass that execution here to stop its job. Exit 1 when several run and none was named.
    """
    session = _session(args)
    tune = outputs.read_fine_tune(clients(session, "cloudformation"), args.stack_prefix)
    sfn = clients(session, "stepfunctions")
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
    stopped = finetune.stop_run(sfn, clients(session, "sagemaker"), arn)
    print("\n".join(stopped.lines()))
    return 0


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


def _add_plan_command(tune_commands: Any) -> None:
    sizing = _command(tune_commands, "plan", cmd_finetune_plan)
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
        type=_int_range(1, finetune_plan.MAX_INSTANCE_COUNT),
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
        type=_int_range(1, MAX_SEQ_LENGTH),
        metavar="N",
        help=configured.format(key="fineTuneMaxSeqLength")
        + f"; outside the project {finetune_plan.DEFAULT_MAX_SEQ_LENGTH}",
    )
    sizing.add_argument(
        "--epochs",
        type=_int_range(1, MAX_EPOCHS),
        metavar="N",
        help=configured.format(key="fineTuneEpochs")
        + f"; outside the project {finetune_plan.DEFAULT_EPOCHS}",
    )
    tokens = sizing.add_mutually_exclusive_group()
    tokens.add_argument(
        "--data", type=Path, metavar="FILE", help="JSON Lines chat records to count tokens of"
    )
    tokens.add_argument(
        "--tokens", type=_int_range(1, MAX_TOKENS), metavar="N", help="training tokens per epoch"
    )
    sizing.add_argument(
        "--usd-per-hour", type=_price, metavar="X", help="price of one instance (default: the catalogue's)"
    )
    sizing.add_argument("--json", action="store_true", help="print the plan as one JSON object")
    sizing.add_argument("--table", action="store_true", help="print the README's sizing table (Markdown)")
    _add_context_options(sizing)


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
        _error(source)
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
    print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) if args.json else result.format())
    if not result.fits:
        _error(f"Does not fit: {result.reason}")
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


def _add_eval_commands(commands: Any, aws: argparse.ArgumentParser) -> None:
    eval_parser = commands.add_parser(
        "eval", help="eval run|status|report: one evaluation set through every rung, side by side"
    )
    eval_commands = eval_parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    prices = argparse.ArgumentParser(add_help=False)
    prices.add_argument(
        "--prices", type=Path, metavar="FILE", help="JSON file overriding the model price table"
    )
    prices.add_argument("--json", action="store_true", help="print summary.json instead of the table")
    run = _command(eval_commands, "run", cmd_eval_run, parents=[aws, prices])
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
        help=f"comma-separated, from {','.join(MODES)} "
        f"(default: {','.join(DEFAULT_ARMS)}, plus {FINETUNED} when published)",
    )
    run.add_argument("--url", help="POST /ask URL of any Ladder API (default: the RagApi stack's AskUrl)")
    run.add_argument(
        "--concurrency",
        type=_int_range(1, MAX_EVAL_CONCURRENCY),
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
        "--judge", metavar="MODEL_ID", help="also score with a Bedrock evaluation job (LLM judge)"
    )
    run.add_argument("--style", type=Path, metavar="RUBRIC.md", help="house-style rubric for the judge")
    status = _command(eval_commands, "status", cmd_eval_status, parents=[aws, prices])
    status.add_argument("folder", type=Path, metavar="RUN_DIR", help="the run folder")
    report = _command(eval_commands, "report", cmd_eval_report, parents=[prices])
    report.add_argument("folder", type=Path, metavar="RUN_DIR", help="the run folder")


def cmd_eval_run(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Send every item of the set once per arm to POST /ask, score the answers and write the run folder.

    The folder (default eval-runs/<UTC time>-<set sha256[:8]>) gets run.json, responses.jsonl,
    scores.jsonl, summary.json, report.md and charts/. Rerunning with the same --out continues where it
    stopped, with the run's own set, URL, arms and judge (from run.json); an option that contradicts them
    is refused. Exit 0 when every answer came back, 1 when some ended in an error, 130 after Ctrl-C.
    """
    saved = rundir.existing(args.out)
    if args.set_file is None and saved is None:
        raise SetupError("eval run needs --set FILE for a new run (or --out RUN_DIR of a run to continue)")
    evaluation_set = (
        evalset.load_set(args.set_file) if args.set_file is not None else rundir.load_run_set(args.out)
    )
    arms = eval_commands.parse_arms(args.arms, MODES)
    if arms is None and saved is not None:
        arms = list(saved.arms)
    judge_model = args.judge or (saved.judge if saved else None)
    style = args.style or (Path(saved.style) if saved and saved.style else None)
    if style and not judge_model:
        raise SetupError("--style needs --judge MODEL_ID")
    rubric = eval_commands.read_rubric(style)
    prices = model_prices.load_prices(args.prices)
    session = _session(args)
    credentials = session.get_credentials()
    if credentials is None:
        raise SetupError("no AWS credentials found: configure a profile (aws configure / aws sso login)")
    chosen_url = args.url or (saved.url if saved else None)
    rag_outputs: dict[str, str] = {}
    if chosen_url is None or judge_model:
        rag_outputs = outputs.stack_outputs(
            clients(session, "cloudformation"), args.stack_prefix, outputs.RAG_API_STACK, ("AskUrl",)
        )
    url = chosen_url or rag_outputs["AskUrl"]
    setup = _judge_setup(rag_outputs, args.stack_prefix, judge_model) if judge_model else None
    if arms is None:
        arms = list(DEFAULT_ARMS)
        if args.url is None and _fine_tuned_model_published(args, session, clients):
            arms.append(FINETUNED)
    region = _region(session)

    def send(body: dict[str, Any]) -> dict[str, Any]:
        return api.post_signed_json(url, body, credentials=credentials, region=region)

    folder = args.out or rundir.default_folder(evaluation_set, _now())
    result = eval_commands.run(
        evaluation_set,
        url=url,
        arms=arms,
        folder=folder,
        send=send,
        concurrency=args.concurrency,
        prices=prices,
        now=_now(),
        judge_model=judge_model,
        style=None if style is None else str(style),
    )
    _print_summary(args, result.summary)
    print(f"Report: {result.folder / rundir.REPORT}", file=sys.stderr)
    resume = _continue_command(args, folder)
    if result.interrupted:
        print(f"Interrupted; continue with: {resume}", file=sys.stderr)
        return EXIT_INTERRUPTED
    judged = (folder / rundir.JUDGE_JOBS).exists()
    if setup is not None and not result.not_sent and (result.sent or not judged):
        jobs = eval_commands.start_judge(
            clients(session, "bedrock"), clients(session, "s3"), folder, setup, rubric
        )
        for arn in jobs:
            print(f"Started judge job {arn}", file=sys.stderr)
        print(f"Follow them with: {hints.command('eval', 'status', str(folder))}", file=sys.stderr)
    if result.errors or result.not_sent:
        for line in eval_commands.describe_errors(result):
            _error(line)
        _error(f"Retry them with: {resume}")
        return EXIT_FAILED
    return 0


def _continue_command(args: argparse.Namespace, folder: Path) -> str:
    """The command that continues the run in ``folder`` (its settings come from run.json), ready to paste."""
    words = ["eval", "run", "--out", str(folder)]
    for option, value, default in (
        ("--region", args.given_region, None),
        ("--profile", args.profile, None),
        ("--stack-prefix", args.given_stack_prefix, None),
    ):
        if value is not None and value != default:
            words += [option, value]
    return hints.command(*words)


def cmd_eval_status(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Show how far a run is (answers per arm) and follow its judge jobs; finished judge scores are merged."""
    counts = eval_commands.progress_counts(args.folder)
    jobs: list[dict[str, Any]] = []
    if (args.folder / rundir.JUDGE_JOBS).exists():
        session = _session(args)
        jobs = judge.follow_jobs(clients(session, "bedrock"), clients(session, "s3"), args.folder)
        eval_commands.refresh(args.folder, model_prices.load_prices(args.prices))
    if args.json:
        print(json.dumps({"answers": counts, "judgeJobs": jobs}, indent=2))
        return 0
    for arm, count in counts.items():
        print(f"{arm:<10} {count['ok']} ok, {count['error']} errors, {count['pending']} pending")
    for job in jobs:
        print(f"judge {job['arm']:<10} {job['status']:<11} {job['jobArn']}")
    return 0


def cmd_eval_report(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Rewrite scores.jsonl, summary.json, report.md and charts/ of a run folder from its responses."""
    summary = eval_commands.refresh(args.folder, model_prices.load_prices(args.prices))
    _print_summary(args, summary)
    print(f"Report: {args.folder / rundir.REPORT}", file=sys.stderr)
    return 0


def _print_summary(args: argparse.Namespace, summary: dict[str, Any]) -> None:
    print(json.dumps(summary, indent=2) if args.json else eval_commands.format_summary(summary))


def _fine_tuned_model_published(
    args: argparse.Namespace, session: boto3.session.Session, clients: ClientFactory
) -> bool:
    try:
        tune = outputs.read_fine_tune(clients(session, "cloudformation"), args.stack_prefix)
    except SetupError:
        return False
    return finetune.published_model(clients(session, "ssm"), tune.model_parameter_name) is not None


def _judge_setup(values: dict[str, str], stack_prefix: str, model_id: str) -> judge.JudgeSetup:
    missing = [key for key in judge.SETUP_OUTPUTS if not values.get(key)]
    if missing:
        raise SetupError(
            f"stack {stack_prefix}{outputs.RAG_API_STACK} lacks output {', '.join(missing)}: "
            "redeploy it with `make deploy` from this version of Ladder"
        )
    eval_commands.ensure_judge_allowed(model_id, values["EvaluationJudgeModelIds"])
    return judge.setup_from_outputs(values, model_id)


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


def _add_context_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--context",
        dest="context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="configuration override, as for `cdk deploy -c` (repeatable)",
    )
    parser.add_argument(
        "--cdk-json",
        type=Path,
        default=Path("cdk.json"),
        metavar="FILE",
        help="the project's configuration (default: %(default)s)",
    )


def _deploy_defaults(args: argparse.Namespace) -> None:
    """Fill ``--region`` and ``--stack-prefix`` as `make deploy` resolves them when they were not given:
    cdk.json's context with the -c overrides (the stack prefix: -c, then $LADDER_STACK_PREFIX, then
    cdk.json). Without a cdk.json the region is left to ``$AWS_REGION`` and boto3's chain. The values the
    user typed stay in ``given_region`` / ``given_stack_prefix`` for the commands printed as hints."""
    if not hasattr(args, "stack_prefix"):
        return
    args.given_region, args.given_stack_prefix = args.region, args.stack_prefix
    cdk_json: Path = args.cdk_json
    overrides = doctor.read_context(None, args.context)
    configured = doctor.read_context(cdk_json, args.context) if cdk_json.is_file() else overrides
    if args.stack_prefix is None:
        args.stack_prefix = (
            overrides.get("stackPrefix")
            or os.environ.get(outputs.STACK_PREFIX_ENV)
            or configured.get("stackPrefix")
            or outputs.DEFAULT_STACK_PREFIX
        )
    if args.region is None:
        args.region = configured.get("region") or None


def _add_prep_options(parser: argparse.ArgumentParser) -> None:
    defaults = dataprep.PrepOptions()
    parser.add_argument(
        "--min-examples",
        type=int,
        metavar="N",
        help="clean examples needed (default: fineTuneMinExamples of cdk.json, as the pipeline is "
        f"deployed; outside the project {defaults.min_examples})",
    )
    parser.add_argument(
        "--eval-fraction",
        type=float,
        metavar="F",
        help=f"share held out for evaluation, 0-{dataprep.MAX_EVAL_FRACTION} "
        f"(default {defaults.eval_fraction})",
    )


def _check(args: argparse.Namespace) -> dataprep.Report:
    min_examples = args.min_examples if args.min_examples is not None else _configured_min_examples(args)
    options = data.prep_options(min_examples=min_examples, eval_fraction=args.eval_fraction)
    return data.check_file(args.file, options)


def _configured_min_examples(args: argparse.Namespace) -> int | None:
    """``fineTuneMinExamples`` as the pipeline is deployed with it (cdk.json and -c); None outside the
    project, so the training code's default applies."""
    value = _configured_context(args).get("fineTuneMinExamples")
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise LadderError(f"fineTuneMinExamples {value!r}: expected a whole number") from None


def _configured_context(args: argparse.Namespace) -> dict[str, Any]:
    """cdk.json's context with the -c overrides, as the app reads it; only the overrides outside the
    project."""
    cdk_json: Path = getattr(args, "cdk_json", Path("cdk.json"))
    overrides: list[str] = getattr(args, "context", [])
    return doctor.read_context(cdk_json if cdk_json.is_file() else None, overrides)


def _session(args: argparse.Namespace) -> boto3.session.Session:
    session = boto3.session.Session(profile_name=args.profile, region_name=_region_name(args))
    _region(session)
    return session


def _region_name(args: argparse.Namespace) -> str | None:
    """``--region``, else ``$AWS_REGION``, else None (boto3's own chain: ``$AWS_DEFAULT_REGION``, then the
    profile). boto3 reads only ``AWS_DEFAULT_REGION``; the AWS CLI v2 and CI systems set ``AWS_REGION``,
    which the AWS CLI lets override ``AWS_DEFAULT_REGION``, so Ladder does the same."""
    return args.region or os.environ.get(AWS_REGION_ENV) or None


def _region(session: boto3.session.Session) -> str:
    if not session.region_name:
        raise SetupError(
            f"no AWS region: pass --region, set {AWS_REGION_ENV}, or set a region in your AWS profile "
            "(aws configure set region us-east-1)"
        )
    return session.region_name


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


def _version() -> str:
    try:
        return importlib.metadata.version("ladder")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed: run `make cli`)"


def _now() -> datetime:
    return datetime.now(UTC)


def _error(message: str) -> None:
    print(message, file=sys.stderr)
