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
    # No reserved concurrency even in prod: a reservation fails the deploy on small concurrency quotas.
    config = config_with(profile="prod")
    assert (config.standby_replicas, config.waf, config.reserved_concurrency, config.log_retention_days) == (
        True,
        True,
        0,
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


def test_an_inference_profile_must_be_called_from_its_geography() -> None:
    with pytest.raises(
        ConfigError, match=r"generationModelId=us.amazon.nova-lite-v1:0 is invalid in region eu-west-1"
    ):
        config_with(region="eu-west-1")
    assert config_with(region="eu-west-1", generationModelId="eu.amazon.nova-lite-v1:0").region == "eu-west-1"


def test_few_shot_is_on_by_default_with_four_examples_and_parses_strictly() -> None:
    config = config_with()
    assert (config.few_shot, config.few_shot_k) == (True, 4)
    assert (config_with(fewShot="false").few_shot, config_with(fewShotK="16").few_shot_k) == (False, 16)


def test_s3_vectors_must_be_offered_in_the_region() -> None:
    """CloudFormation's resource schemas for il-central-1 (as cfn-lint ships them) have no
    ``AWS::S3Vectors::VectorBucket``: the examples store, and the s3vectors document store, cannot exist."""
    plain_model = {"region": "il-central-1", "generationModelId": "amazon.nova-lite-v1:0"}
    with pytest.raises(ConfigError) as raised:
        config_with(**plain_model)
    message = str(raised.value)
    assert "-c fewShot=true is invalid in region il-central-1" in message
    assert "pass -c fewShot=false" in message
    with pytest.raises(ConfigError, match=r"vectorStore=s3vectors is invalid in region il-central-1"):
        config_with(**plain_model, fewShot="false", vectorStore="s3vectors")
    # Without the examples store, the OpenSearch document store deploys there
    assert config_with(**plain_model, fewShot="false").region == "il-central-1"


def test_a_reranker_must_be_offered_in_the_region() -> None:
    # amazon.rerank-v1:0 is not offered in us-east-1 (Bedrock's rerank supported-regions page)
    with pytest.raises(ConfigError) as raised:
        config_with(rerankModelId="amazon.rerank-v1:0")
    message = str(raised.value)
    assert "rerankModelId=amazon.rerank-v1:0 is invalid in region us-east-1" in message
    assert "us-west-2" in message and "use cohere.rerank-v3-5:0" in message
    assert config_with(rerankModelId="cohere.rerank-v3-5:0").rerank_model_id == "cohere.rerank-v3-5:0"
    assert config_with(region="us-west-2", rerankModelId="amazon.rerank-v1:0").region == "us-west-2"
    with pytest.raises(ConfigError, match=r"rerankModelId=cohere.rerank-v2:0 is invalid: expected one of"):
        config_with(rerankModelId="cohere.rerank-v2:0")


@pytest.mark.parametrize(
    ("model", "limit"),
    [("us.amazon.nova-lite-v1:0", 5000), ("anthropic.claude-3-haiku-20240307-v1:0", 4096)],
)
def test_max_tokens_is_held_to_the_models_output_limit(model, limit) -> None:
    with pytest.raises(ConfigError) as raised:
        config_with(generationModelId=model, maxTokens=limit + 1)
    assert f"maxTokens={limit + 1} is invalid for {model}" in str(raised.value)
    assert f"at most {limit} output tokens" in str(raised.value)


def test_max_tokens_is_held_to_what_the_contextual_grounding_check_can_assess() -> None:
    """Bedrock user guide, "Use contextual grounding check to filter hallucinations in responses": the
    policy supports at most 5,000 characters of response; at about 4 characters a token, 1,250 tokens."""
    model = "meta.llama3-70b-instruct-v1:0"  # no known output limit of its own
    assert config_with(generationModelId=model, maxTokens=1250).max_tokens == 1250
    with pytest.raises(ConfigError) as raised:
        config_with(generationModelId=model, maxTokens=8192)
    message = str(raised.value)
    assert "-c maxTokens=8192 is invalid: the guardrail's contextual grounding check" in message
    assert "5000 characters" in message and "at most 1250" in message


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


@pytest.mark.parametrize(
    "base_model", ["Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2-VL-7B-Instruct", "openai/gpt-oss-20b"]
)
def test_converse_with_a_base_model_bedrock_serves_no_converse_for_is_refused(base_model) -> None:
    """Bedrock user guide, "Invoke your imported model": "Converse API is not supported for Qwen2.5,
    Qwen2-VL, Qwen2.5-VL, and GPT-OSS models"."""
    # When fine-tuning is on with the default API (converse) and such a base model
    with pytest.raises(ConfigError) as raised:
        config_with(fineTune="true", fineTuneBaseModelId=base_model, fineTunedModelApi="converse")
    # Then synth stops with a message naming both keys and the way out
    message = str(raised.value)
    assert f"-c fineTunedModelApi=converse is invalid with -c fineTuneBaseModelId={base_model}" in message
    assert "fineTunedModelApi=invoke_model" in message


@pytest.mark.parametrize(
    ("base_model", "api", "fine_tune"),
    [
        ("Qwen/Qwen2.5-7B-Instruct", "invoke_model", "true"),
        ("Qwen/Qwen3-8B", "converse", "true"),
        ("meta-llama/Llama-3.1-8B-Instruct", "converse", "true"),
        ("Qwen/Qwen2.5-7B-Instruct", "converse", "false"),
    ],
)
def test_converse_is_accepted_where_bedrock_serves_it_or_nothing_is_trained(
    base_model, api, fine_tune
) -> None:
    config = config_with(fineTune=fine_tune, fineTuneBaseModelId=base_model, fineTunedModelApi=api)
    assert (config.fine_tune_base_model_id, config.fine_tuned_model_api) == (base_model, api)
