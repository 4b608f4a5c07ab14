"""Settings of the imported-models function: both variables required, KEEP_MODELS a whole number >= 1."""

from __future__ import annotations

import pytest

from lambdas.imported_models.handler import run
from lambdas.imported_models.settings import SettingsError, load_settings


def test_variables_are_read_into_settings() -> None:
    settings = load_settings({"MODEL_PARAMETER": " /ladder/model ", "KEEP_MODELS": "3"})
    assert (settings.model_parameter, settings.keep_models) == ("/ladder/model", 3)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"KEEP_MODELS": "2"}, "MODEL_PARAMETER is unset; accepted: a non-empty string"),
        ({"MODEL_PARAMETER": "/p"}, "KEEP_MODELS is unset; accepted: an integer of at least 1"),
        (
            {"MODEL_PARAMETER": "/p", "KEEP_MODELS": "0"},
            "KEEP_MODELS is '0'; accepted: an integer of at least 1",
        ),
        ({"MODEL_PARAMETER": "/p", "KEEP_MODELS": "two"}, "KEEP_MODELS is 'two'; accepted: an integer"),
    ],
)
def test_a_missing_or_bad_variable_is_named_before_any_aws_call(
    environ: dict[str, str], message: str
) -> None:
    def no_clients(service: str) -> None:
        raise AssertionError(f"{service} client created before the settings were checked")

    # Given a bad environment, When the task runs, Then it fails naming the variable, before calling AWS
    with pytest.raises(SettingsError) as raised:
        run({"action": "prune", "pipeline": "ladder-pipeline"}, environ, no_clients)
    assert message in str(raised.value)
