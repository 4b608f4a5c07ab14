"""The ``ladder`` command: the root parser and the dispatch; each command group registers itself from
``ladder/commands/`` beside its handlers, over the modules that do the work.

Examples::

    ladder ask "How many days of annual leave do I get?"
    ladder ask "..." --mode prompt --json
    ladder docs upload sample_corpus
    ladder docs status
    ladder doctor -c profile=prod
    ladder data check chats.jsonl --min-examples 200
    ladder examples upload chats.jsonl --eval-set sample_corpus/eval.jsonl
    ladder examples status
    ladder finetune start --data chats.jsonl --no-wait
    ladder finetune status
    ladder finetune models
    ladder finetune rollback
    ladder finetune stop
    ladder finetune plan
    ladder finetune plan --base-model Qwen/Qwen2.5-7B-Instruct --instance-type ml.g5.4xlarge --strategy qlora
    ladder eval run --set sample_corpus/eval.jsonl
    ladder eval report eval-runs/<run>
    ladder eval stage --verdict ladder-verdict.json
    ladder eval runs
    ladder eval report s3://<bucket>/runs/<runId>/
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
import os
from collections.abc import Sequence
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from . import doctor, outputs
from .aws import ClientFactory
from .aws_clients import create_client
from .commands import GROUPS
from .console import error
from .errors import EXIT_FAILED, EXIT_SETUP, LadderError, network_problem


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
        error(str(err))
        return err.exit_code
    except (NoCredentialsError, ProfileNotFound) as err:
        error(f"{err} (configure AWS credentials, e.g. `aws configure` or `aws sso login`)")
        return EXIT_SETUP
    except ClientError as err:
        detail = err.response.get("Error", {})
        error(f"AWS error {detail.get('Code', '?')} in {err.operation_name}: {detail.get('Message', '')}")
        return EXIT_FAILED
    except BotoCoreError as err:
        error(network_problem(err) or f"AWS error: {err}")
        return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    """The root parser with every command group's subcommands, registered in ``GROUPS`` order."""
    parser = argparse.ArgumentParser(
        prog="ladder",
        description="Operate a deployed Ladder: ask questions, upload documents, check and run fine-tuning.",
        epilog="Exit codes: 0 done, 1 failed (API error, unusable data, failed run), 2 missing setup.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.set_defaults(command=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for group in GROUPS:
        group.register(commands)
    return parser


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


def _version() -> str:
    try:
        return importlib.metadata.version("ladder")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed: run `make cli`)"
