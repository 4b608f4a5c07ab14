"""Third-party Bedrock models sold through AWS Marketplace, and their product ids (pure Python: the stacks
grant the subscription with them and ``ladder doctor`` checks it).

Bedrock user guide, "Request access to models": the first call to a third-party model in an account makes
Bedrock subscribe the account through AWS Marketplace with the caller's permissions; "If any prerequisites
are missing, the subscription attempt fails and subsequent API calls will return AccessDeniedException".
"Use product ID condition keys to control access" lists the product ids below and says that models from
Amazon, DeepSeek, Mistral AI, Meta, Qwen and OpenAI are not sold through AWS Marketplace.
"""

from __future__ import annotations

from ladder_core.catalog.bedrock import foundation_model_id

MARKETPLACE_PROVIDERS = ("anthropic", "cohere", "ai21", "stability", "writer", "twelvelabs")
"""Model-id prefixes of the providers whose Bedrock models are AWS Marketplace products."""

MARKETPLACE_PRODUCT_IDS: dict[str, str] = {
    "anthropic.claude-3-haiku-20240307-v1:0": "prod-ozonys2hmmpeu",
    "anthropic.claude-3-sonnet-20240229-v1:0": "prod-6dw3qvchef7zy",
    "anthropic.claude-3-opus-20240229-v1:0": "prod-fm3feywmwerog",
    "anthropic.claude-3-5-haiku-20241022-v1:0": "prod-5oba7y7jpji56",
    "anthropic.claude-3-5-sonnet-20240620-v1:0": "prod-m5ilt4siql27k",
    "anthropic.claude-3-5-sonnet-20241022-v2:0": "prod-cx7ovbu5wex7g",
    "anthropic.claude-3-7-sonnet-20250219-v1:0": "prod-4dlfvry4v5hbi",
    "anthropic.claude-sonnet-4-20250514-v1:0": "prod-4pmewlybdftbs",
    "anthropic.claude-opus-4-20250514-v1:0": "prod-azycxvnd5mhqi",
    "cohere.command-r-v1:0": "prod-tukx4z3hrewle",
    "cohere.command-r-plus-v1:0": "prod-nb4wqmplze2pm",
    "cohere.embed-english-v3": "b7568428-a1ab-46d8-bab3-37def50f6f6a",
    "cohere.embed-multilingual-v3": "38e55671-c3fe-4a44-9783-3584906e7cad",
    "cohere.rerank-v3-5:0": "prod-2o5bej62oxkbi",
}
"""Foundation-model id -> AWS Marketplace product id, from Bedrock's "Use product ID condition keys to
control access" (checked 2026-12-03; the page names models, the ids here are the Bedrock model ids of those
names)."""


def is_marketplace_model(model_id: str) -> bool:
    """Whether the model is a third-party AWS Marketplace product (subscribed to on first use)."""
    return foundation_model_id(model_id).split(".", 1)[0] in MARKETPLACE_PROVIDERS


def marketplace_product_id(model_id: str) -> str | None:
    """The model's AWS Marketplace product id; None for a first-party model or one not catalogued here."""
    return MARKETPLACE_PRODUCT_IDS.get(foundation_model_id(model_id))
