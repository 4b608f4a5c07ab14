"""The Bedrock catalog: one inference-profile rule that every layer applies, and tables dated with sources."""

from __future__ import annotations

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from ladder_core.catalog import bedrock
from ladder_core.catalog.bedrock import foundation_model_id, inference_profile_geo
from ladder_core.evaluation.prices import default_prices
from stacks.config import ConfigError, from_context
from stacks.marketplace_products import marketplace_product_id
from stacks.rag.evaluation import judge_model_resources
from tests.support.synth import default_context

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def config_with(**overrides: object):
    context = default_context()
    context.update(overrides)
    return from_context(context)


@pytest.mark.parametrize("geo", ["us", "eu", "apac", "us-gov", "global", "jp", "au"])
def test_every_profile_geography_is_stripped_to_its_foundation_model(geo: str) -> None:
    """AWS CDK API reference, ``aws_bedrock_alpha.CrossRegionInferenceProfileRegion``: the geographies of
    system-defined cross-region inference profiles are US, EU, APAC, US_GOV, GLOBAL, JP and AU."""
    assert inference_profile_geo(f"{geo}.{HAIKU}") == geo
    assert foundation_model_id(f"{geo}.{HAIKU}") == HAIKU


@pytest.mark.parametrize(
    "model_id", [HAIKU, "amazon.nova-lite-v1:0", "meta.llama3-1-8b-instruct-v1:0", "us."]
)
def test_a_model_id_is_not_mistaken_for_a_profile(model_id: str) -> None:
    assert inference_profile_geo(model_id) is None
    assert foundation_model_id(model_id) == model_id


def test_a_global_profile_is_priced_limited_and_sold_as_its_foundation_model() -> None:
    """Before the catalog, pricing stripped ``global.`` while the config and doctor did not, so a
    ``global.`` model was priced but escaped the max-tokens check."""
    model = f"global.{HAIKU}"

    with pytest.raises(ConfigError) as raised:
        config_with(generationModelId=model, maxTokens=4097)

    assert f"maxTokens=4097 is invalid for {model}: the model writes at most 4096" in str(raised.value)
    prices = default_prices()
    assert prices.query_cost(model, 1000, 1000, 0) == prices.query_cost(HAIKU, 1000, 1000, 0) is not None
    assert marketplace_product_id(model) == marketplace_product_id(HAIKU) is not None


def test_a_profile_without_catalogued_regions_is_not_held_to_a_region() -> None:
    config = config_with(generationModelId=f"global.{HAIKU}", region="sa-east-1")

    assert config.inference_profile_geo == "global"
    assert config.foundation_generation_model_id == HAIKU


def test_a_judge_profile_is_granted_on_the_regions_of_its_geography() -> None:
    resources = judge_model_resources(f"eu.{HAIKU}")

    assert len(resources) == 1 + len(bedrock.INFERENCE_PROFILE_REGIONS["eu"])
    assert all(HAIKU in str(arn) and "eu." not in str(arn) for arn in resources[1:])


def test_a_judge_profile_whose_regions_are_not_catalogued_is_refused() -> None:
    with pytest.raises(ConfigError) as raised:
        config_with(evaluationJudgeModelIds=f"global.{HAIKU}")

    message = str(raised.value)
    assert f"evaluationJudgeModelIds: global.{HAIKU} is a 'global.' inference profile" in message
    assert "use a us., eu., apac. profile or a model id" in message


def test_every_table_names_a_source_and_one_date() -> None:
    assert set(bedrock.SOURCES) >= {"prices", "max output tokens", "Converse support", "rerank regions"}
    assert all(
        source.startswith("https://docs.aws.amazon.com/") or source.startswith("https://aws.amazon.com/")
        for source in bedrock.SOURCES.values()
    )
    priced = [m.price for m in bedrock.MODELS.values() if m.price is not None]
    assert priced and {p.as_of for p in priced} == {bedrock.AS_OF}


def test_catalogued_models_are_foundation_model_ids() -> None:
    for model_id in (*bedrock.MODELS, *bedrock.EMBEDDING_MODELS, *bedrock.RERANK_MODEL_REGIONS):
        assert inference_profile_geo(model_id) is None, model_id


def test_the_catalogued_generation_models_are_served_by_converse() -> None:
    """Bedrock user guide, "Supported models and model features": Converse is "Yes" for Amazon Nova Micro,
    Lite and Pro, Anthropic Claude 3 models, Claude 3.5 Sonnet (v1, v2), Claude 3.5 Haiku, Claude 3.7
    Sonnet, Meta Llama 3.1 and Mistral Large."""
    assert {model_id: m.converse for model_id, m in bedrock.MODELS.items()} == dict.fromkeys(
        bedrock.MODELS, True
    )


def test_the_guardrail_pii_types_are_the_ones_cloudformation_accepts() -> None:
    """CloudFormation resource schema of ``AWS::Bedrock::Guardrail`` (as cfn-lint ships it):
    ``PiiEntityType`` is an enum, "The currently supported PII entities"."""
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", "AWS::Bedrock::Guardrail").schema

    assert set(bedrock.GUARDRAIL_PII_ENTITY_TYPES) == set(schema["definitions"]["PiiEntityType"]["enum"])


@pytest.mark.parametrize(
    ("model_id", "input_per_1k", "output_per_1k"),
    [
        ("anthropic.claude-sonnet-4-20250514-v1:0", 0.003, 0.015),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", 0.003, 0.015),
        ("anthropic.claude-haiku-4-5-20251001-v1:0", 0.001, 0.005),
        ("global.anthropic.claude-haiku-4-5-20251001-v1:0", 0.001, 0.005),
        ("amazon.nova-pro-v1:0", 0.0008, 0.0032),
        ("us.amazon.nova-pro-v1:0", 0.0008, 0.0032),
    ],
)
def test_the_configurable_generation_and_judge_models_have_prices(
    model_id: str, input_per_1k: float, output_per_1k: float
) -> None:
    """Amazon Bedrock pricing (on-demand, us-east-1): Claude Sonnet 4 $3 / $15, Claude Haiku 4.5 $1 / $5 per
    million input / output tokens; Amazon Nova Pro $0.0008 / $0.0032 per 1,000."""
    price = default_prices().model(model_id)
    assert price is not None
    assert (price.input_per_1k, price.output_per_1k) == (input_per_1k, output_per_1k)


def test_the_default_configuration_is_priced_in_every_component() -> None:
    """cdk.json's generation and embedding models have prices; the rerank models it accepts too."""
    context = default_context()
    assert default_prices().model(context["generationModelId"]) is not None
    assert context["embeddingModelId"] in bedrock.EMBEDDING_PRICES
    assert set(bedrock.RERANK_PRICES) == set(bedrock.RERANK_MODEL_REGIONS)
