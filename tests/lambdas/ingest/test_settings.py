"""Cold-start validation: a misconfigured function fails at once, naming the variable."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

from lambdas.ingest.settings import SettingsError, load_ingest_settings, load_monitor_settings

VALID = {"KNOWLEDGE_BASE_ID": "KB12345678", "DATA_SOURCE_ID": "DS12345678"}


@pytest.mark.parametrize("module", ["lambdas.ingest.handler", "lambdas.ingest.monitor"])
def test_missing_knowledge_base_id_fails_the_cold_start_naming_it(
    aws_env: None,
    monkeypatch: pytest.MonkeyPatch,
    reload_module: Callable[[str], ModuleType],
    module: str,
) -> None:
    # Given the stack forgot KNOWLEDGE_BASE_ID
    monkeypatch.delenv("KNOWLEDGE_BASE_ID")

    # When the function's module is loaded, Then it fails with a message naming the variable
    with pytest.raises(SettingsError, match="KNOWLEDGE_BASE_ID is unset"):
        reload_module(module)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DATA_SOURCE_ID": ""}, "DATA_SOURCE_ID is ''; accepted: 10 letters or digits"),
        ({"DATA_SOURCE_ID": "   "}, "DATA_SOURCE_ID is '   '; accepted: 10 letters or digits"),
        (
            {"KNOWLEDGE_BASE_ID": "arn:aws:bedrock:kb/x"},
            "KNOWLEDGE_BASE_ID is 'arn:aws:bedrock:kb/x'; accepted: 10 letters or digits",
        ),
    ],
)
def test_empty_or_malformed_ids_are_rejected(env: dict[str, str], named: str) -> None:
    # Given an environment with a bad id, When settings load, Then the error names variable and value
    with pytest.raises(SettingsError) as raised:
        load_ingest_settings({**VALID, **env})
    assert named in str(raised.value)


def test_ingest_settings_defaults() -> None:
    # Given only the required variables, When settings load, Then every key is a document, namespace Ladder
    settings = load_ingest_settings(VALID)
    assert (settings.documents_prefix, settings.metrics_namespace) == ("", "Ladder")


@pytest.mark.parametrize("raw", ["0", "-15", "fifteen", "1.5"])
def test_lookback_must_be_a_positive_integer(raw: str) -> None:
    # Given a bad LOOKBACK_MINUTES, When monitor settings load, Then the error names it
    with pytest.raises(SettingsError, match=r"LOOKBACK_MINUTES is .*; accepted: an integer of at least 1"):
        load_monitor_settings({**VALID, "LOOKBACK_MINUTES": raw})


def test_lookback_defaults_to_fifteen_minutes_and_accepts_an_override() -> None:
    assert load_monitor_settings(VALID).lookback_minutes == 15
    assert load_monitor_settings({**VALID, "LOOKBACK_MINUTES": "60"}).lookback_minutes == 60
