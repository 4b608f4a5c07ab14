"""Configuration: strict parsing with messages that name the key, the value and what is accepted."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from stacks.application import build_app
from stacks.config import ConfigError, from_context
from tests.support.synth import default_context


def config_with(**overrides):
    context = default_context()
    context.update(overrides)
    return from_context(context)


def test_defaults_are_a_sandbox_without_fine_tuning() -> None:
    config = config_with()
    assert config.profile == "sandbox"
    assert config.fine_tune is False
    assert config.standby_replicas is False
    assert config.waf is False
    assert config.reserved_concurrency == 0
    assert config.log_retention_days == 14
    assert config.embedding_model_id == "amazon.titan-embed-text-v2:0"
    assert config.chunking_strategy == "FIXED_SIZE"


def test_prod_derives_replicas_waf_concurrency_and_retention() -> None:
    config = config_with(profile="prod")
    assert (config.standby_replicas, config.waf, config.reserved_concurrency, config.log_retention_days) == (
        True,
        True,
        20,
        365,
    )


def test_explicit_values_override_what_the_profile_derives() -> None:
    config = config_with(
        profile="prod", standbyReplicas="false", waf="false", reservedConcurrency="3", logRetentionDays="30"
    )
    assert (config.standby_replicas, config.waf, config.reserved_concurrency, config.log_retention_days) == (
        False,
        False,
        3,
        30,
    )


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False), (True, True)])
def test_fine_tune_accepts_only_booleans(value, expected) -> None:
    assert config_with(fineTune=value).fine_tune is expected


@pytest.mark.parametrize(
    ("key", "value", "fragments"),
    [
        ("fineTune", "yes", ["fineTune=yes", "true or false"]),
        ("fineTune", "True", ["fineTune=True", "true or false"]),
        ("fineTune", "1", ["fineTune=1", "true or false"]),
        ("profile", "staging", ["profile=staging", "sandbox, prod"]),
        ("chunkingStrategy", "fixed", ["chunkingStrategy=fixed", "FIXED_SIZE, SEMANTIC, HIERARCHICAL, NONE"]),
        ("embeddingModelId", "titan", ["embeddingModelId=titan", "amazon.titan-embed-text-v2:0"]),
        ("embeddingDimensions", "768", ["embeddingDimensions=768", "256, 512, 1024"]),
        ("chunkMaxTokens", "ten", ["chunkMaxTokens=ten", "integer from 20 to 8192"]),
        ("chunkOverlapPercentage", "0", ["chunkOverlapPercentage=0", "integer from 1 to 99"]),
        ("standbyReplicas", "on", ["standbyReplicas=on", "true or false"]),
        ("region", "mars-1", ["region=mars-1", "AWS region"]),
        ("documentsPrefix", "/docs", ["documentsPrefix=/docs", "no leading '/'"]),
        ("temperature", "2", ["temperature=2", "number from 0.0 to 1.0"]),
        ("logRetentionDays", "10", ["logRetentionDays=10", "14"]),
        ("fineTuneInstanceType", "ml.m5.xlarge", ["fineTuneInstanceType=ml.m5.xlarge", "GPU"]),
        ("fineTuneMaxWaitHours", "2", ["fineTuneMaxWaitHours=2", "at least fineTuneMaxRuntimeHours"]),
        ("hierarchicalChildMaxTokens", "2000", ["hierarchicalChildMaxTokens", "smaller than"]),
    ],
)
def test_invalid_values_fail_with_key_value_and_accepted(key, value, fragments) -> None:
    with pytest.raises(ConfigError) as raised:
        config_with(**{key: value})
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_an_inference_profile_must_be_called_from_its_geography() -> None:
    with pytest.raises(
        ConfigError, match=r"generationModelId=us.amazon.nova-lite-v1:0 is invalid in region eu-west-1"
    ):
        config_with(region="eu-west-1")
    assert config_with(region="eu-west-1", generationModelId="eu.amazon.nova-lite-v1:0").region == "eu-west-1"


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        config_with(fineTune="yes", profile="staging")
    assert "fineTune=yes" in str(raised.value) and "profile=staging" in str(raised.value)


def test_unknown_keys_get_a_suggestion() -> None:
    with pytest.raises(ConfigError, match="finetune: unknown configuration key; did you mean fineTune"):
        config_with(finetune="true")


def test_cdk_feature_flags_are_not_mistaken_for_typos() -> None:
    assert config_with(**{"@aws-cdk/core:newStyleStackSynthesis": True}).profile == "sandbox"


def test_a_bad_context_value_fails_synth_with_the_message(tmp_path) -> None:
    # Given `-c fineTune=yes` on the command line
    context = default_context()
    context["fineTune"] = "yes"
    app = cdk.App(context=context, outdir=str(tmp_path))
    # When the app is built, then synth stops with the message
    with pytest.raises(ConfigError, match=r"-c fineTune=yes is invalid: expected a boolean: true or false"):
        build_app(app)


def test_the_default_base_model_is_the_training_scripts_default() -> None:
    from training_jobs import job_contract

    assert config_with().fine_tune_base_model_id == job_contract.DEFAULT_BASE_MODEL_ID


def test_app_reports_a_bad_value_without_a_traceback() -> None:
    # Given the CDK CLI's way of passing context (-c fineTune=yes on top of cdk.json)
    import json
    import os
    import subprocess
    import sys

    from tests.support.synth import REPO_ROOT

    context = default_context()
    context["fineTune"] = "yes"
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": "/nonexistent-never-written"}
    # When the app runs, then it exits 2 with the message and no stack trace
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "-c fineTune=yes is invalid: expected a boolean: true or false" in result.stderr
    assert "Traceback" not in result.stderr
