"""Amazon Bedrock facts: the models Ladder knows (output limit, price, Converse support), the embedding and
rerank models a knowledge base accepts, guardrail and Custom Model Import prices, and the one rule that
reads a cross-region inference profile id.

The tables were taken on :data:`AS_OF` from :data:`SOURCES`. Prices are on-demand list prices in USD for
us-east-1 (N. Virginia); a cross-region inference profile is billed at the source region's price of the
model it routes to, so a profile is priced (and limited) as its foundation model. Prices change: check the
pricing page before a decision rests on them, or pass a price file (``ladder eval run --prices FILE``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

AS_OF = "2026-12-01"
"""When every table in this module was checked against :data:`SOURCES`."""
BEDROCK_PRICING_URL = "https://aws.amazon.com/bedrock/pricing/"
CMI_COST_URL = "https://docs.aws.amazon.com/bedrock/latest/userguide/import-model-calculate-cost.html"
SOURCES = {
    "prices": BEDROCK_PRICING_URL,
    "Custom Model Import billing": CMI_COST_URL,
    "max output tokens": "https://docs.aws.amazon.com/bedrock/latest/userguide/model-cards.html",
    "Converse support": "https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-supported-models-features.html",
    "inference profiles": "https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html",
    "rerank regions": "https://docs.aws.amazon.com/bedrock/latest/userguide/rerank-supported.html",
    "embedding dimensions": "https://docs.aws.amazon.com/bedrock/latest/userguide/knowledge-base-supported.html",
    "guardrail PII types": (
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
        "aws-properties-bedrock-guardrail-piientityconfig.html"
    ),
}
MS_PER_MINUTE = 60_000


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1,000 input and output tokens of one model, on ``as_of`` from ``source``."""

    input_per_1k: float
    output_per_1k: float
    as_of: str = AS_OF
    source: str = BEDROCK_PRICING_URL

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return input_tokens / 1000 * self.input_per_1k + output_tokens / 1000 * self.output_per_1k


@dataclass(frozen=True)
class UnitPrice:
    """A price per unit that is not a generation token (embedding tokens, guardrail text units, storage)."""

    usd: float
    unit: str
    as_of: str = AS_OF
    source: str = BEDROCK_PRICING_URL


@dataclass(frozen=True)
class CustomModelImportPrice:
    """Custom Model Import bills running model copies per Custom Model Unit (CMU) per minute, in 5-minute
    windows. ``cmus_per_copy`` depends on the imported model (``GetImportedModel`` ->
    ``customModelUnitsPerModelCopy``); the default suits an 8B-parameter Llama."""

    usd_per_cmu_minute: float
    cmus_per_copy: int
    as_of: str = AS_OF
    source: str = BEDROCK_PRICING_URL

    def cost(self, latency_ms: float) -> float:
        """The copy's price for the time one request held it: a lower bound (billing uses 5-min windows)."""
        return self.usd_per_cmu_minute * self.cmus_per_copy * latency_ms / MS_PER_MINUTE


@dataclass(frozen=True)
class BedrockModel:
    """What Ladder knows of one generation model; ``None`` where it is not catalogued."""

    max_output_tokens: int | None = None
    """Largest ``maxTokens`` (output tokens per request) the model accepts."""
    price: ModelPrice | None = None
    converse: bool | None = None
    """Whether the Converse API serves the model."""


MODELS: dict[str, BedrockModel] = {
    "amazon.nova-micro-v1:0": BedrockModel(5_000, ModelPrice(0.000035, 0.00014), converse=True),
    "amazon.nova-lite-v1:0": BedrockModel(5_000, ModelPrice(0.00006, 0.00024), converse=True),
    "amazon.nova-pro-v1:0": BedrockModel(5_000, ModelPrice(0.0008, 0.0032), converse=True),
    "anthropic.claude-3-haiku-20240307-v1:0": BedrockModel(
        4_096, ModelPrice(0.00025, 0.00125), converse=True
    ),
    "anthropic.claude-3-5-haiku-20241022-v1:0": BedrockModel(8_192, ModelPrice(0.0008, 0.004), converse=True),
    "anthropic.claude-3-5-sonnet-20240620-v1:0": BedrockModel(8_192, converse=True),
    "anthropic.claude-3-5-sonnet-20241022-v2:0": BedrockModel(8_192, ModelPrice(0.003, 0.015), converse=True),
    "anthropic.claude-3-7-sonnet-20250219-v1:0": BedrockModel(price=ModelPrice(0.003, 0.015), converse=True),
    "anthropic.claude-sonnet-4-20250514-v1:0": BedrockModel(64_000, ModelPrice(0.003, 0.015), converse=True),
    "anthropic.claude-haiku-4-5-20251001-v1:0": BedrockModel(64_000, ModelPrice(0.001, 0.005), converse=True),
    "meta.llama3-1-8b-instruct-v1:0": BedrockModel(price=ModelPrice(0.00022, 0.00022), converse=True),
    "meta.llama3-1-70b-instruct-v1:0": BedrockModel(price=ModelPrice(0.00072, 0.00072), converse=True),
    "mistral.mistral-large-2402-v1:0": BedrockModel(price=ModelPrice(0.004, 0.012), converse=True),
}
"""Generation models by foundation-model id (see :func:`foundation_model_id`). A model not listed is
accepted as configured: ``maxTokens`` is then only held to the config's range and Bedrock itself rejects a
larger value on the first request; its answers are unpriced (reported as such, never as free)."""

EMBEDDING_MODELS: dict[str, tuple[int, ...]] = {
    "amazon.titan-embed-text-v2:0": (256, 512, 1024),
    "amazon.titan-embed-text-v1": (1536,),
    "cohere.embed-english-v3": (1024,),
    "cohere.embed-multilingual-v3": (1024,),
}
"""Embedding models a Bedrock Knowledge Base accepts, with the vector dimensions each can produce."""

EMBEDDING_PRICES: dict[str, UnitPrice] = {
    "amazon.titan-embed-text-v2:0": UnitPrice(0.00002, "1,000 input tokens"),
    "cohere.embed-english-v3": UnitPrice(0.0001, "1,000 input tokens"),
    "cohere.embed-multilingual-v3": UnitPrice(0.0001, "1,000 input tokens"),
}

RERANK_PRICES: dict[str, UnitPrice] = {
    "amazon.rerank-v1:0": UnitPrice(1.00 / 1000, "query (up to 100 document chunks)"),
    "cohere.rerank-v3-5:0": UnitPrice(2.00 / 1000, "query (up to 100 document chunks)"),
}
"""Rerank models bill per query ($1.00 and $2.00 per 1,000); a query carries at most 100 document chunks,
and the RAG function sends at most RERANK_CANDIDATES_MAX = 100, so one request is one query."""

RERANK_MODEL_REGIONS: dict[str, tuple[str, ...]] = {
    "amazon.rerank-v1:0": ("ap-northeast-1", "ca-central-1", "eu-central-1", "us-west-2"),
    "cohere.rerank-v3-5:0": ("ap-northeast-1", "ca-central-1", "eu-central-1", "us-east-1", "us-west-2"),
}
"""Rerank models Bedrock offers, and the regions that offer each (single-region support); amazon.rerank-v1:0
is not offered in us-east-1."""

GUARDRAIL_TEXT_UNITS: dict[str, UnitPrice] = {
    "contentFilters": UnitPrice(0.15, "1,000 text units"),
    "deniedTopics": UnitPrice(0.15, "1,000 text units"),
    "sensitiveInformationFilters": UnitPrice(0.10, "1,000 text units"),
    "contextualGroundingCheck": UnitPrice(0.10, "1,000 text units"),
}
"""A text unit is up to 1,000 characters; word filters and regex PII filters are free."""

FREE = UnitPrice(0.0, "1,000 text units (free)")
GUARDRAIL_USAGE_PRICES: dict[str, UnitPrice] = {
    "topicPolicyUnits": GUARDRAIL_TEXT_UNITS["deniedTopics"],
    "contentPolicyUnits": GUARDRAIL_TEXT_UNITS["contentFilters"],
    "wordPolicyUnits": FREE,
    "sensitiveInformationPolicyUnits": GUARDRAIL_TEXT_UNITS["sensitiveInformationFilters"],
    "sensitiveInformationPolicyFreeUnits": FREE,
    "contextualGroundingPolicyUnits": GUARDRAIL_TEXT_UNITS["contextualGroundingCheck"],
}
"""The price per 1,000 text units of each field of Bedrock's guardrail usage (``GuardrailUsage``, the
RAG API's ``usage.guardrail``): content filters (the prompt-attack filter included) and denied topics
$0.15, PII entities and contextual grounding $0.10; word filters and the regex-based "free" sensitive
information units cost nothing."""

GUARDRAIL_PII_ENTITY_TYPES = (
    "ADDRESS",
    "AGE",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "CA_HEALTH_NUMBER",
    "CA_SOCIAL_INSURANCE_NUMBER",
    "CREDIT_DEBIT_CARD_CVV",
    "CREDIT_DEBIT_CARD_EXPIRY",
    "CREDIT_DEBIT_CARD_NUMBER",
    "DRIVER_ID",
    "EMAIL",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "IP_ADDRESS",
    "LICENSE_PLATE",
    "MAC_ADDRESS",
    "NAME",
    "PASSWORD",
    "PHONE",
    "PIN",
    "SWIFT_CODE",
    "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
    "UK_NATIONAL_INSURANCE_NUMBER",
    "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER",
    "URL",
    "USERNAME",
    "US_BANK_ACCOUNT_NUMBER",
    "US_BANK_ROUTING_NUMBER",
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "US_PASSPORT_NUMBER",
    "US_SOCIAL_SECURITY_NUMBER",
    "VEHICLE_IDENTIFICATION_NUMBER",
)
"""PII types a Bedrock guardrail detects (``AWS::Bedrock::Guardrail`` ``PiiEntityConfig.Type``)."""

CUSTOM_MODEL_IMPORT = CustomModelImportPrice(usd_per_cmu_minute=0.0785, cmus_per_copy=2)
CUSTOM_MODEL_IMPORT_STORAGE = UnitPrice(1.95, "CMU-month", source=BEDROCK_PRICING_URL)
"""Imported-model storage, billed per CMU per month while the model is imported."""
IMPORTED_MODEL_PREFIX = "imported-model/"
"""How an answer of an imported model names its model (priced by copy time, not by tokens)."""

CMI_NO_CONVERSE_BASE_MODELS = re.compile(r"qwen2\.5|qwen2-vl|gpt-oss", re.IGNORECASE)
"""Base models whose Custom Model Import has no Converse API (Bedrock user guide, "Invoke your imported
model": "Converse API is not supported for Qwen2.5, Qwen2-VL, Qwen2.5-VL, and GPT-OSS models"), matched in
the Hugging Face id."""

INFERENCE_PROFILE_GEOS = ("us", "eu", "apac", "us-gov", "global", "jp", "au")
"""Prefixes of system-defined cross-region inference profile ids (``us.amazon.nova-lite-v1:0``): the
geographies of CDK's ``CrossRegionInferenceProfileRegion`` (US, EU, APAC, US_GOV, GLOBAL, JP, AU)."""

INFERENCE_PROFILE_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-east-1", "us-east-2", "us-west-2"),
    "eu": ("eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1"),
    "apac": ("ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2"),
}
"""Regions a profile of each geography is called from and routes to, where Ladder knows them; a geography
missing here (``global.`` routes to every commercial region) has no catalogued region list."""


def inference_profile_geo(model_id: str) -> str | None:
    """The geography of a cross-region inference profile id (``us``, ``global``, ...); None for a model id."""
    geo, dot, rest = model_id.partition(".")
    return geo if dot and rest and geo in INFERENCE_PROFILE_GEOS else None


def foundation_model_id(model_id: str) -> str:
    """``us.amazon.nova-lite-v1:0`` -> ``amazon.nova-lite-v1:0``; a model id is returned unchanged."""
    return model_id.split(".", 1)[1] if inference_profile_geo(model_id) else model_id


def model(model_id: str) -> BedrockModel | None:
    """The catalogued facts of a model or of the foundation model behind a profile; None when unknown."""
    return MODELS.get(foundation_model_id(model_id))
