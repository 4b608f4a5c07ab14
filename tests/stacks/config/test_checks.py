"""Cross-checks (stacks/config/checks.py): values each valid alone that AWS refuses together (regions,
profiles, model limits)."""

from __future__ import annotations

import pytest

from stacks.config import ConfigError
from tests.stacks.config.context import config_with


def test_an_inference_profile_must_be_called_from_its_geography() -> None:
    with pytest.raises(
        ConfigError, match=r"generationModelId=us.amazon.nova-lite-v1:0 is invalid in region eu-west-1"
    ):
        config_with(region="eu-west-1")
    assert config_with(region="eu-west-1", generationModelId="eu.amazon.nova-lite-v1:0").region == "eu-west-1"


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


def test_an_allowed_inference_profile_must_be_called_from_its_geography() -> None:
    # Given a deployment in eu-west-1 with a model of its own geography
    base = {"region": "eu-west-1", "generationModelId": "eu.amazon.nova-lite-v1:0"}
    # When a request may also name a us. profile, then synth fails naming that id
    with pytest.raises(ConfigError) as raised:
        config_with(**base, allowedGenerationModelIds="eu.amazon.nova-pro-v1:0,us.amazon.nova-pro-v1:0")
    message = str(raised.value)
    assert "-c allowedGenerationModelIds=us.amazon.nova-pro-v1:0 is invalid in region eu-west-1" in message
    assert "eu.amazon.nova-pro-v1:0 is invalid" not in message
    assert config_with(**base, allowedGenerationModelIds="eu.amazon.nova-pro-v1:0").region == "eu-west-1"
