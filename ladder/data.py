"""Checks a local fine-tuning dataset with the same code as the pipeline's validation step."""

from __future__ import annotations

from pathlib import Path

from training_jobs import dataprep

from .errors import SetupError


def prep_options(*, min_examples: int | None, eval_fraction: float | None) -> dataprep.PrepOptions:
    """dataprep's options, its defaults for what is not given; SetupError naming a bad value."""
    defaults = dataprep.PrepOptions()
    try:
        return dataprep.PrepOptions(
            min_examples=defaults.min_examples if min_examples is None else min_examples,
            eval_fraction=defaults.eval_fraction if eval_fraction is None else eval_fraction,
        )
    except ValueError as err:
        raise SetupError(str(err)) from None


def check_file(path: Path, options: dataprep.PrepOptions) -> dataprep.Report:
    """The report of every line of JSON Lines file ``path``; SetupError when it cannot be read.

    The file is read as bytes, so each line is decoded on its own: a line that is not valid text is
    reported as rejected, with its number, instead of stopping the whole check.
    """
    try:
        with path.open("rb") as fp:
            return dataprep.prepare(fp, options).report
    except OSError as err:
        raise SetupError(f"cannot read {path}: {err.strerror or err}") from None
