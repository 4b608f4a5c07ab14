"""``ladder justify``: decide the rung from an evaluation run, offline."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ladder_core import stats
from training_jobs import dataprep

from .. import hints
from .. import justify as justify_pkg
from ..aws import ClientFactory
from ..console import error, print_json
from ..errors import SetupError
from ..pricing import imported
from .common import command, configured_context, configured_min_examples, int_range, now


def register(commands: Any) -> None:
    """Add ``justify`` to the root's subparsers; the defaults are the verdict rules' own."""
    justify = command(commands, "justify", cmd_justify)
    targets = justify_pkg.rules.Targets()
    justify.add_argument(
        "run_dir", nargs="?", type=Path, metavar="RUN_DIR", help="the `ladder eval run` folder to decide on"
    )
    justify.add_argument(
        "--eval", dest="eval_dir", type=Path, metavar="RUN_DIR", help="the same as RUN_DIR (kept for scripts)"
    )
    justify.add_argument(
        "--data",
        type=Path,
        metavar="FILE",
        help="fine-tuning chat records to count and to check for the run's evaluation questions",
    )
    justify.add_argument(
        "--queries-per-day", type=int_range(1, 10**9), metavar="N", help="enables the scale case"
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
        type=int_range(1, 10**6),
        default=targets.min_items,
        metavar="N",
        help="scored items needed, in rag and in each paired comparison (default %(default)s)",
    )
    justify.add_argument(
        "--min-disagreements",
        type=int_range(1, 10**6),
        default=targets.min_disagreements,
        metavar="N",
        help="paired items on which two arms must disagree before one can be called better "
        "(default %(default)s)",
    )
    justify.add_argument(
        "--min-examples",
        type=int_range(1, 10**7),
        metavar="N",
        help="clean examples needed in --data (default: fineTuneMinExamples of cdk.json, as the pipeline "
        f"is deployed; outside the project {dataprep.PrepOptions().min_examples})",
    )
    justify.add_argument(
        "--valid-days",
        type=int_range(1, 3650),
        default=justify_pkg.rules.DEFAULT_VALID_DAYS,
        metavar="DAYS",
        help="default %(default)s",
    )
    justify.add_argument("--seed", type=int, default=stats.DEFAULT_SEED, help="bootstrap seed")
    justify.add_argument(
        "--resamples",
        type=int_range(stats.MIN_RESAMPLES, 1_000_000),
        default=stats.DEFAULT_RESAMPLES,
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
            min_disagreements=args.min_disagreements,
        ),
        min_examples=args.min_examples if args.min_examples is not None else configured_min_examples(args),
        valid_days=args.valid_days,
        resamples=args.resamples,
        seed=args.seed,
        economics=justify_pkg.economics.FineTuneEconomics.configured(
            configured_context(args)
        ).with_imported_model(*imported.recorded_units(eval_dir)),
    )
    result = justify_pkg.run_justify(options, now=now())
    if args.json:
        print_json(result.document)
        error(f"Wrote {result.path}")
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
