"""What a role needs so that its first call to a third-party Bedrock model can subscribe the account.

Bedrock's "Permissions for reranking": "For third-party models (such as Cohere Rerank), your IAM role also
needs aws-marketplace:ViewSubscriptions and aws-marketplace:Subscribe permissions." "Request access to
models": "For the aws-marketplace:Subscribe action only, you can use the aws-marketplace:ProductId condition
key to restrict subscription to specific models." aws-marketplace:Unsubscribe, which the same page also
lists, is not granted: a runtime role never needs to cancel the account's subscription, and the denial
Bedrock answers names only ViewSubscriptions and Subscribe.
"""

from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

from stacks.marketplace_products import is_marketplace_model, marketplace_product_id
from stacks.nag import acknowledge

MARKETPLACE_WILDCARD_REASON = (
    "AWS Marketplace actions have no resource type in IAM (authorized on '*' only): Subscribe is limited "
    "by aws-marketplace:ProductId to the configured third-party models, ViewSubscriptions only reads."
)
PRODUCT_ID_KEY = "aws-marketplace:ProductId"
MARKETPLACE_SIDS = ("SubscribeToThirdPartyModels", "ViewMarketplaceSubscriptions")
"""Sids of the two statements a role gets for third-party models."""


def grant_marketplace_subscription(
    role: iam.IRole, model_ids: Iterable[str], *, other_wildcards: str = ""
) -> None:
    """Lets ``role`` subscribe the account to exactly the third-party models among ``model_ids`` on first
    use; grants nothing when none is third-party. A third-party model whose product id is not catalogued
    gets no grant but a synth warning (``ladder doctor`` then says how to subscribe once).

    ``other_wildcards``: the reason for the role's other '*' statements, kept in the one acknowledgement
    cdk-nag records for ``AwsSolutions-IAM5[Resource::*]`` on the role."""
    third_party = sorted({model for model in model_ids if model and is_marketplace_model(model)})
    products = sorted({product for m in third_party if (product := marketplace_product_id(m))})
    unknown = [model for model in third_party if marketplace_product_id(model) is None]
    for model in unknown:
        cdk.Annotations.of(role).add_warning_v2(
            "ladder:marketplace-product-unknown",
            f"{model} is an AWS Marketplace model whose product id Ladder does not know: its role gets no "
            "aws-marketplace:Subscribe, so subscribe the account once before the first call (ladder doctor "
            "says how).",
        )
    if not products:
        return
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid=MARKETPLACE_SIDS[0],
            actions=["aws-marketplace:Subscribe"],
            resources=["*"],
            # ProductId is multivalued: every product in the request must be one of ours, and a request
            # without the key does not match (IAM user guide, "Multivalued context key examples").
            conditions={
                "ForAllValues:StringEquals": {PRODUCT_ID_KEY: products},
                "Null": {PRODUCT_ID_KEY: "false"},
            },
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid=MARKETPLACE_SIDS[1], actions=["aws-marketplace:ViewSubscriptions"], resources=["*"]
        )
    )
    reason = MARKETPLACE_WILDCARD_REASON + (f" {other_wildcards}" if other_wildcards else "")
    acknowledge(role, "AwsSolutions-IAM5[Resource::*]", reason)
