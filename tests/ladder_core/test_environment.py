"""The shared environment readers: defaults for unset or blank, errors naming variable, value and what is
accepted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ladder_core import environment
from ladder_core.environment import SettingsError


@pytest.mark.parametrize("environ", [{}, {"X": ""}, {"X": "   "}])
def test_unset_or_blank_reads_as_the_default(environ: dict[str, str]) -> None:
    assert environment.optional(environ, "X") is None
    assert environment.integer(environ, "X", 7, 1, 10) == 7
    assert environment.number(environ, "X", 0.5, 0.0, 1.0) == 0.5
    assert environment.choice(environ, "X", ("A", "B"), default="B") == "B"
    assert environment.boolean(environ, "X", default=True) is True


def test_values_are_read_stripped_and_typed() -> None:
    environ = {"S": " kb ", "I": "10", "N": "0.25", "C": "A", "B": "TRUE", "M": "AB12"}
    assert environment.required(environ, "S") == "kb"
    assert environment.integer(environ, "I", 1, 1, 10) == 10
    assert environment.integer(environ, "I", 1, 1) == 10
    assert environment.number(environ, "N", 0.0, 0.0, 1.0) == 0.25
    assert environment.choice(environ, "C", ("A", "B"), default=None) == "A"
    assert environment.boolean(environ, "B", default=False) is True
    assert environment.matching(environ, "M", r"[A-Z0-9]{4}", "four capitals or digits") == "AB12"


@pytest.mark.parametrize(
    ("read", "raw", "accepted"),
    [
        (lambda e: environment.required(e, "V"), None, "a non-empty string"),
        (lambda e: environment.required(e, "V"), "  ", "a non-empty string"),
        (lambda e: environment.integer(e, "V", 1, 1, 10), "11", "an integer from 1 to 10"),
        (lambda e: environment.integer(e, "V", 1, 1, 10), "1.5", "an integer from 1 to 10"),
        (lambda e: environment.integer(e, "V", 1, 1), "0", "an integer of at least 1"),
        (lambda e: environment.integer(e, "V", None, 1), None, "an integer of at least 1"),
        (lambda e: environment.number(e, "V", 0.5, 0.0, 1.0), "nan", "a number from 0.0 to 1.0"),
        (lambda e: environment.number(e, "V", 0.5, 0.0, 1.0), "half", "a number from 0.0 to 1.0"),
        (lambda e: environment.choice(e, "V", ("A", "B"), None), "a", "unset, empty or one of A, B"),
        (lambda e: environment.boolean(e, "V", False), "yes", "true or false"),
        (lambda e: environment.matching(e, "V", "[0-9]{2}", "two digits"), "123", "two digits"),
        (lambda e: environment.matching(e, "V", "[0-9]{2}", "two digits"), None, "two digits"),
    ],
)
def test_a_bad_value_names_the_variable_the_value_and_what_is_accepted(
    read: Callable[[dict[str, str]], Any], raw: str | None, accepted: str
) -> None:
    environ = {} if raw is None else {"V": raw}
    with pytest.raises(SettingsError) as raised:
        read(environ)
    shown = "unset" if raw is None else repr(raw)
    assert str(raised.value) == f"environment variable V is {shown}; accepted: {accepted}"
    assert (raised.value.variable, raised.value.value, raised.value.accepted) == ("V", raw, accepted)
    assert isinstance(raised.value, ValueError)
