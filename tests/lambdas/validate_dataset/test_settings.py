"""Settings of the dataset-validation function: defaults, and bad values refused at cold start."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from lambdas.validate_dataset.settings import SettingsError, load_settings
from training_jobs.dataprep import PrepOptions


def test_unset_variables_take_the_dataprep_defaults() -> None:
    assert load_settings({}).options == PrepOptions()


def test_variables_set_the_preparation_options() -> None:
    options = load_settings({"MIN_EXAMPLES": "50", "EVAL_FRACTION": "0.05", "MAX_CHARS": "8000"}).options
    assert (options.min_examples, options.eval_fraction, options.max_chars) == (50, 0.05, 8000)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MIN_EXAMPLES", "0"),
        ("MIN_EXAMPLES", "many"),
        ("EVAL_FRACTION", "0.7"),
        ("EVAL_FRACTION", "nan"),
        ("EVAL_FRACTION", "ten percent"),
        ("MAX_CHARS", "-5"),
    ],
)
def test_bad_value_is_refused_naming_the_variable_and_what_is_accepted(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({variable: value})
    assert raised.value.variable == variable
    assert variable in str(raised.value)
    assert repr(value) in str(raised.value)
    assert "accepted:" in str(raised.value)


def test_a_bad_value_fails_the_cold_start(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    module: ModuleType = importlib.import_module("lambdas.validate_dataset.handler")
    monkeypatch.setenv("EVAL_FRACTION", "2")
    with pytest.raises(SettingsError, match="EVAL_FRACTION"):
        importlib.reload(module)
    monkeypatch.setenv("EVAL_FRACTION", "0.1")
    importlib.reload(module)
