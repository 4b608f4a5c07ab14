"""Settings of the imported-models function: both variables required, KEEP_MODELS a whole number >= 1."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.imported_models import handler
from lambdas.imported_models.settings import SettingsError, load_settings
from tests.support.lambda_context import LambdaContext


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
    environ: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_clients(service: str) -> None:
        raise AssertionError(f"{service} client created before the settings were checked")

    # Given a container whose environment is bad
    for name in ("MODEL_PARAMETER", "KEEP_MODELS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(handler, "client", no_clients)
    handler.container_settings.cache_clear()
    context: Any = LambdaContext("ladder-imported-models", 256, 60_000)
    try:
        # When the task runs, Then it fails naming the variable, before calling AWS
        with pytest.raises(SettingsError) as raised:
            handler.handler({"action": "prune", "pipeline": "ladder-pipeline"}, context)
        assert message in str(raised.value)
    finally:
        handler.container_settings.cache_clear()


def test_the_environment_is_read_once_per_container(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_PARAMETER", "/p")
    monkeypatch.setenv("KEEP_MODELS", "2")
    handler.container_settings.cache_clear()
    try:
        first = handler.container_settings()
        monkeypatch.setenv("KEEP_MODELS", "5")
        # A later invocation of the same container keeps what its first one read
        assert handler.container_settings() is first
        assert first.keep_models == 2
    finally:
        handler.container_settings.cache_clear()
