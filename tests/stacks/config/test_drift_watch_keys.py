"""The drift watch's keys (driftWatchSchedule, driftWatchModelIds, driftWatchMaxItems): parsed strictly,
every problem named with the key, the value and what is accepted."""

from __future__ import annotations

import dataclasses

import pytest

from stacks.config import ConfigError
from stacks.config.checks import cross_check
from tests.stacks.config.context import config_with


def test_defaults_run_monthly_on_200_items_with_no_extra_models() -> None:
    config = config_with()
    assert config.drift_watch_schedule == "rate(30 days)"
    assert config.drift_watch_model_ids == ()
    assert config.drift_watch_max_items == 200


@pytest.mark.parametrize(
    "expression",
    ["", "rate(30 days)", "rate(1 day)", "rate(24 hours)", "rate(1440 minutes)", "cron(0 6 1 * ? *)"],
)
def test_schedule_accepts_recurring_expressions_at_most_daily(expression: str) -> None:
    """EventBridge Scheduler, "Schedule types" (https://docs.aws.amazon.com/scheduler/latest/UserGuide/
    schedule-types.html): "rate(value unit)" with units minute(s) | hour(s) | day(s); "A cron expression
    consists of six fields separated by white spaces: (minutes hours day_of_month month day_of_week year)"."""
    assert config_with(driftWatchSchedule=expression).drift_watch_schedule == expression


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("rate(5 minutes)", "more than once a day"),
        ("rate(23 hours)", "more than once a day"),
        ("cron(0/15 * * * ? *)", "more than once a day"),
        ("cron(0 * 1 * ? *)", "more than once a day"),
        # A one-time schedule runs once: it watches nothing.
        ("at(2026-12-01T06:00:00)", "rate(N days)"),
        ("cron(0 6 1 * ?)", "rate(N days)"),
        ("monthly", "rate(N days)"),
        ("rate(0 days)", "more than once a day"),
    ],
)
def test_schedule_refuses_one_time_malformed_and_frequent_expressions(expression: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_with(driftWatchSchedule=expression)
    assert f"driftWatchSchedule={expression}" in str(raised.value)
    assert fragment in str(raised.value)


def test_model_ids_are_a_list_of_bedrock_ids_or_empty() -> None:
    config = config_with(
        driftWatchModelIds="us.amazon.nova-pro-v1:0, us.amazon.nova-pro-v1:0,amazon.nova-micro-v1:0",
        allowedGenerationModelIds="us.amazon.nova-pro-v1:0,amazon.nova-micro-v1:0",
    )
    assert config.drift_watch_model_ids == ("us.amazon.nova-pro-v1:0", "amazon.nova-micro-v1:0")
    assert config_with(
        driftWatchModelIds=["amazon.nova-micro-v1:0"], allowedGenerationModelIds="amazon.nova-micro-v1:0"
    ).drift_watch_model_ids == ("amazon.nova-micro-v1:0",)
    with pytest.raises(ConfigError) as raised:
        config_with(driftWatchModelIds="Nova Pro")
    assert "driftWatchModelIds=Nova Pro" in str(raised.value)
    assert "model or inference profile ids" in str(raised.value)


@pytest.mark.parametrize("value", ["0", "1001", "many"])
def test_max_items_is_bounded(value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_with(driftWatchMaxItems=value)
    assert f"driftWatchMaxItems={value}" in str(raised.value)
    assert "integer from 1 to 1000" in str(raised.value)
    assert config_with(driftWatchMaxItems="1000").drift_watch_max_items == 1000


def test_extra_models_without_a_schedule_are_refused() -> None:
    with pytest.raises(ConfigError) as raised:
        config_with(driftWatchSchedule="", driftWatchModelIds="us.amazon.nova-pro-v1:0")
    assert "has no effect with an empty driftWatchSchedule" in str(raised.value)


def test_extra_models_must_be_models_the_api_allows() -> None:
    """The watch's arms answer through the RAG function, which answers only with the generation model and
    allowedGenerationModelIds: a model outside them would be a 400 on every item of every run."""
    values = dataclasses.asdict(
        config_with(
            driftWatchModelIds="us.amazon.nova-pro-v1:0,us.amazon.nova-lite-v1:0",
            allowedGenerationModelIds="us.amazon.nova-pro-v1:0,us.amazon.nova-lite-v1:0",
        )
    )
    problems: list[str] = []
    cross_check({**values, "allowed_generation_model_ids": ("us.amazon.nova-micro-v1:0",)}, problems)
    assert problems == [
        "-c driftWatchModelIds: us.amazon.nova-pro-v1:0 not allowed for the API, so the watch could not "
        "measure it; add it to allowedGenerationModelIds (allowed now: us.amazon.nova-lite-v1:0, "
        "us.amazon.nova-micro-v1:0)"
    ]
    problems.clear()
    cross_check({**values, "allowed_generation_model_ids": ("us.amazon.nova-pro-v1:0",)}, problems)
    assert problems == []


def test_the_context_refuses_a_watched_model_the_api_does_not_allow() -> None:
    """Through the real parser: allowedGenerationModelIds is the list the watch's models are checked
    against, so a synth with a watched model outside it fails with the message."""
    with pytest.raises(ConfigError) as raised:
        config_with(driftWatchModelIds="us.amazon.nova-pro-v1:0")
    assert "us.amazon.nova-pro-v1:0 not allowed for the API" in str(raised.value)
    allowed = config_with(
        driftWatchModelIds="us.amazon.nova-pro-v1:0", allowedGenerationModelIds="us.amazon.nova-pro-v1:0"
    )
    assert (
        allowed.drift_watch_model_ids == allowed.allowed_generation_model_ids == ("us.amazon.nova-pro-v1:0",)
    )
