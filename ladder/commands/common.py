"""What several command groups share: the command builder, the AWS and configuration options."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lambdas.rag import constants as rag_constants
from training_jobs import dataprep

from .. import data, doctor, outputs
from ..aws import ClientFactory
from ..errors import LadderError

MIN_TOP_K = rag_constants.MIN_TOP_K
MAX_TOP_K = rag_constants.MAX_TOP_K
"""The API's topK range, which ``--top-k`` checks before any request."""
URL_HELP = "POST /ask URL of any Ladder API (default: the RagApi stack's AskUrl)"
PROFILE_HELP = "AWS profile to use (default: the default credential chain)"

Command = Callable[[argparse.Namespace, ClientFactory], int]


def command(
    commands: Any, name: str, handler: Command, parents: Sequence[argparse.ArgumentParser] = ()
) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` run by ``handler``; its docstring is the help line and the description."""
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


def aws_options() -> argparse.ArgumentParser:
    """The parent parser of the commands that reach the deployed stacks: region, profile, stack prefix and
    the configuration they default from (filled in by ``ladder.cli`` before the command runs)."""
    aws = argparse.ArgumentParser(add_help=False)
    aws.add_argument(
        "--region",
        help="AWS region of the stacks (default: the region `make deploy` uses, cdk.json's with -c "
        "overrides; without a cdk.json here, $AWS_REGION or your AWS configuration)",
    )
    aws.add_argument("--profile", help=PROFILE_HELP)
    aws.add_argument(
        "--stack-prefix",
        help=f"prefix of the stack names (default: -c stackPrefix, else ${outputs.STACK_PREFIX_ENV}, else "
        f"cdk.json's stackPrefix, else {outputs.DEFAULT_STACK_PREFIX})",
    )
    add_context_options(aws)
    return aws


def add_context_options(parser: argparse.ArgumentParser) -> None:
    """``-c KEY=VALUE`` and ``--cdk-json FILE``: the project's configuration as `cdk deploy` reads it."""
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


def add_prep_options(parser: argparse.ArgumentParser) -> None:
    """``--min-examples`` and ``--eval-fraction`` of the training job's data checks."""
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


def check_data(args: argparse.Namespace) -> dataprep.Report:
    """Check ``args.file`` with the prep options given, else the configured ``fineTuneMinExamples``."""
    return prepare_data(args).report


def prepare_data(args: argparse.Namespace) -> dataprep.Prepared:
    """:func:`check_data` with the clean records kept (for the contamination check)."""
    min_examples = args.min_examples if args.min_examples is not None else configured_min_examples(args)
    options = data.prep_options(min_examples=min_examples, eval_fraction=args.eval_fraction)
    return data.check_records(args.file, options)


def configured_min_examples(args: argparse.Namespace) -> int | None:
    """``fineTuneMinExamples`` as the pipeline is deployed with it (cdk.json and -c); None outside the
    project, so the training code's default applies."""
    value = configured_context(args).get("fineTuneMinExamples")
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise LadderError(f"fineTuneMinExamples {value!r}: expected a whole number") from None


def configured_context(args: argparse.Namespace) -> dict[str, Any]:
    """cdk.json's context with the -c overrides, as the app reads it; only the overrides outside the
    project."""
    cdk_json: Path = getattr(args, "cdk_json", Path("cdk.json"))
    overrides: list[str] = getattr(args, "context", [])
    return doctor.read_context(cdk_json if cdk_json.is_file() else None, overrides)


def int_range(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
        return value

    return parse


def now() -> datetime:
    """The current time in UTC, for timestamps the commands print and write."""
    return datetime.now(UTC)
