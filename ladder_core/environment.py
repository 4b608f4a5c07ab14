"""Reading a Lambda function's settings from its environment: one reader per kind of value, one error.

Every function's ``settings.py`` builds its frozen settings with these readers, so a misconfigured function
fails the same way everywhere: a ``SettingsError`` naming the variable, the value it held and what is
accepted. An unset variable and one holding only spaces read alike: CloudFormation writes an optional
setting left blank as an empty string.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping


class SettingsError(ValueError):
    """An environment variable is missing or holds a value the function cannot use."""

    def __init__(self, variable: str, value: str | None, accepted: str) -> None:
        shown = "unset" if value is None else repr(value)
        super().__init__(f"environment variable {variable} is {shown}; accepted: {accepted}")
        self.variable = variable
        self.value = value
        self.accepted = accepted


def optional(environ: Mapping[str, str], variable: str) -> str | None:
    """The stripped value, or None when the variable is unset or blank."""
    value = environ.get(variable, "").strip()
    return value or None


def required(environ: Mapping[str, str], variable: str) -> str:
    """The stripped value; unset or blank is an error."""
    value = optional(environ, variable)
    if value is None:
        raise SettingsError(variable, environ.get(variable), "a non-empty string")
    return value


def matching(environ: Mapping[str, str], variable: str, pattern: str, accepted: str) -> str:
    """A required value that matches ``pattern`` in full; ``accepted`` describes the pattern to a reader."""
    value = optional(environ, variable)
    if value is None or not re.fullmatch(pattern, value):
        raise SettingsError(variable, environ.get(variable), accepted)
    return value


def integer(
    environ: Mapping[str, str], variable: str, default: int | None, low: int, high: int | None = None
) -> int:
    """A whole number from ``low`` to ``high`` (no upper bound when None); unset or blank is ``default``, an
    error when ``default`` is None."""
    raw = optional(environ, variable)
    accepted = f"an integer from {low} to {high}" if high is not None else f"an integer of at least {low}"
    if raw is None:
        if default is None:
            raise SettingsError(variable, environ.get(variable), accepted)
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(variable, raw, accepted) from None
    if value < low or (high is not None and value > high):
        raise SettingsError(variable, raw, accepted)
    return value


def number(environ: Mapping[str, str], variable: str, default: float, low: float, high: float) -> float:
    """A number from ``low`` to ``high`` (NaN refused); unset or blank is ``default``."""
    raw = optional(environ, variable)
    if raw is None:
        return default
    accepted = f"a number from {low} to {high}"
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(variable, raw, accepted) from None
    if math.isnan(value) or not low <= value <= high:
        raise SettingsError(variable, raw, accepted)
    return value


def choice(
    environ: Mapping[str, str], variable: str, choices: tuple[str, ...], default: str | None
) -> str | None:
    """One of ``choices``, exactly as written; unset or blank is ``default``."""
    raw = optional(environ, variable)
    if raw is None:
        return default
    if raw not in choices:
        raise SettingsError(variable, raw, "unset, empty or one of " + ", ".join(choices))
    return raw


def boolean(environ: Mapping[str, str], variable: str, default: bool) -> bool:
    """``true`` or ``false`` in any case; unset or blank is ``default``."""
    raw = optional(environ, variable)
    if raw is None:
        return default
    if raw.lower() not in ("true", "false"):
        raise SettingsError(variable, raw, "true or false")
    return raw.lower() == "true"
