"""Parsing (stacks/config/parsing.py): each -c value parsed strictly; every problem named with what is
accepted."""

from __future__ import annotations

import pytest

from stacks.config import ConfigError
from tests.stacks.config.context import config_with


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
        ("fewShot", "yes", ["fewShot=yes", "true or false"]),
        ("fewShotK", "0", ["fewShotK=0", "integer from 1 to 16"]),
        ("fewShotK", "17", ["fewShotK=17", "integer from 1 to 16"]),
        ("fewShotK", "four", ["fewShotK=four", "integer from 1 to 16"]),
        ("documentsPrefix", "examples/", ["documentsPrefix=examples/", "examples/manifest.json", "docs/"]),
    ],
)
def test_invalid_values_fail_with_key_value_and_accepted(key, value, fragments) -> None:
    with pytest.raises(ConfigError) as raised:
        config_with(**{key: value})
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_pii_types_are_validated_and_default_to_the_sensitive_ones() -> None:
    defaults = config_with().guardrail_pii_entities
    sensitive = {"CREDIT_DEBIT_CARD_NUMBER", "US_BANK_ACCOUNT_NUMBER", "US_SOCIAL_SECURITY_NUMBER"}
    assert sensitive <= set(defaults)
    assert not {"NAME", "EMAIL", "PHONE", "ADDRESS"} & set(defaults)
    assert config_with(guardrailPiiEntities="NAME, EMAIL").guardrail_pii_entities == ("NAME", "EMAIL")
    assert config_with(guardrailPiiEntities="").guardrail_pii_entities == ()
    with pytest.raises(ConfigError) as raised:
        config_with(guardrailPiiEntities="NAME,SSN")
    assert "guardrailPiiEntities=NAME,SSN" in str(raised.value)
    assert "unknown PII type(s) SSN" in str(raised.value)


def test_the_usage_plan_quota_key_is_gone() -> None:
    with pytest.raises(ConfigError, match="apiQuotaPerDay: unknown configuration key"):
        config_with(apiQuotaPerDay="5000")


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        config_with(fineTune="yes", profile="staging")
    assert "fineTune=yes" in str(raised.value) and "profile=staging" in str(raised.value)


def test_unknown_keys_get_a_suggestion() -> None:
    with pytest.raises(ConfigError, match="finetune: unknown configuration key; did you mean fineTune"):
        config_with(finetune="true")


def test_cdk_feature_flags_are_not_mistaken_for_typos() -> None:
    assert config_with(**{"@aws-cdk/core:newStyleStackSynthesis": True}).profile == "sandbox"


def test_allowed_generation_models_default_to_the_generation_model_alone() -> None:
    # Given the project defaults (allowedGenerationModelIds empty)
    config = config_with()
    assert config.allowed_generation_model_ids == ()
    # Then the function may generate with the configured model only
    assert config.generation_model_ids == (config.generation_model_id,)


@pytest.mark.parametrize(
    "value",
    [
        "us.amazon.nova-pro-v1:0, anthropic.claude-3-haiku-20240307-v1:0",
        ["us.amazon.nova-pro-v1:0", "anthropic.claude-3-haiku-20240307-v1:0", "us.amazon.nova-pro-v1:0"],
    ],
)
def test_allowed_generation_models_parse_from_a_list_or_commas_and_keep_the_configured_one_first(
    value,
) -> None:
    config = config_with(allowedGenerationModelIds=value)
    assert config.allowed_generation_model_ids == (
        "us.amazon.nova-pro-v1:0",
        "anthropic.claude-3-haiku-20240307-v1:0",
    )
    assert config.generation_model_ids == (
        "us.amazon.nova-lite-v1:0",
        "us.amazon.nova-pro-v1:0",
        "anthropic.claude-3-haiku-20240307-v1:0",
    )
    # The configured model named again is still allowed once
    again = config_with(allowedGenerationModelIds="us.amazon.nova-lite-v1:0,us.amazon.nova-pro-v1:0")
    assert again.generation_model_ids == ("us.amazon.nova-lite-v1:0", "us.amazon.nova-pro-v1:0")


def test_an_allowed_generation_model_id_is_validated_like_the_generation_model() -> None:
    with pytest.raises(ConfigError) as raised:
        config_with(allowedGenerationModelIds="us.amazon.nova-pro-v1:0,Nova Pro")
    message = str(raised.value)
    assert "allowedGenerationModelIds=us.amazon.nova-pro-v1:0,Nova Pro is invalid" in message
    assert "'Nova Pro' is not a Bedrock model or inference profile id" in message
    assert "us.amazon.nova-pro-v1:0 (lowercase letters" in message
