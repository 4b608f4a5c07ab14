"""Reading an evaluation set file; its format and checks are ``ladder_core.evaluation.evalset``'s."""

from __future__ import annotations

from pathlib import Path

from ladder_core.evaluation.evalset import EvalSet, InvalidSetError, parse_set

from ..errors import LadderError, SetupError


def load_set(path: Path) -> EvalSet:
    """Parse and check the whole file: an :class:`EvalSet`, or LadderError naming every bad line (or that
    the set is empty); a file that cannot be read is a :class:`SetupError`."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise SetupError(f"cannot read evaluation set {path}: {err.strerror or err}") from None
    try:
        return parse_set(raw, path)
    except InvalidSetError as err:
        raise LadderError(str(err)) from None
