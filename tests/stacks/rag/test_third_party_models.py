"""Third-party (AWS Marketplace) Bedrock models: the roles that call them may subscribe the account to exactly
those models on first use, and nothing more; and the RAG function learns its vector store.

Sources: Bedrock user guide, "Permissions for reranking in Amazon Bedrock": "For third-party models (such as
Cohere Rerank), your IAM role also needs aws-marketplace:ViewSubscriptions and aws-marketplace:Subscribe
permissions." "Request access to models": "For the aws-marketplace:Subscribe action only, you can use the
aws-marketplace:ProductId condition key to restrict subscription to specific models." "Use product ID
condition keys to control access": the product ids (Cohere Rerank 3.5 prod-2o5bej62oxkbi, Anthropic Claude
3.5 Sonnet prod-m5ilt4siql27k, Claude 3.5 Haiku prod-5oba7y7jpji56) and "Models from the following providers
aren't sold through AWS Marketplace ... Amazon, DeepSeek, Mistral AI, Meta, Qwen, OpenAI". IAM user guide,
"Multivalued context key examples": ForAllValues "also returns true if there are no context keys in the
request", prevented by a Null condition with the value false.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Annotations, Match, Template

from ladder_core.catalog.bedrock import foundation_model_id
from lambdas.rag.settings import load_settings
from stacks.marketplace_products import is_marketplace_model, marketplace_product_id
from stacks.rag.marketplace import grant_marketplace_subscription
from tests.support.synth import Synthesized, references, resources

RERANKER = "cohere.rerank-v3-5:0"
HAIKU_PROFILE = "us.anthropic.claude-3-5-haiku-20241022-v1:0"


def statements_of(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def role_ids(synthesized: Synthesized) -> dict[str, str]:
    """Logical ids of the RAG function's role and of the evaluation (judge) role."""
    template = synthesized.template("RagApi")
    (function,) = [
        f
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "rag.handler.handler"
    ]
    (evaluation,) = [
        role_id
        for role_id, role in resources(template, "AWS::IAM::Role").items()
        if "evaluation-job" in json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
        or "Bedrock evaluation jobs" in role["Properties"].get("Description", "")
    ]
    return {"function": next(iter(references(function["Properties"]["Role"]))), "evaluation": evaluation}


def marketplace(template: dict[str, Any], role_id: str) -> dict[str, dict[str, Any]]:
    """The role's aws-marketplace statements by action."""
    found: dict[str, dict[str, Any]] = {}
    for statement in statements_of(template, role_id):
        for action in statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]:
            if action.startswith("aws-marketplace:"):
                found[action] = statement
    return found


def subscribable_products(statement: dict[str, Any]) -> list[str]:
    condition = statement["Condition"]
    assert condition["Null"] == {"aws-marketplace:ProductId": "false"}, (
        "a request without a product is denied"
    )
    products = condition["ForAllValues:StringEquals"]["aws-marketplace:ProductId"]
    return products if isinstance(products, list) else [products]


def test_the_first_party_defaults_get_no_marketplace_permission(sandbox) -> None:
    # Given the defaults: Amazon Nova generation, no reranker, Amazon Nova Pro as judge
    template = sandbox.template("RagApi")
    roles = role_ids(sandbox)

    # Then neither the function's role nor the judge role may subscribe to anything
    assert marketplace(template, roles["function"]) == {}
    assert marketplace(template, roles["evaluation"]) == {}


def test_a_third_party_judge_may_subscribe_to_exactly_its_product(synth) -> None:
    # Given Anthropic Claude 3.5 Sonnet as judge
    synthesized = synth({"evaluationJudgeModelIds": "anthropic.claude-3-5-sonnet-20240620-v1:0"})
    template = synthesized.template("RagApi")
    roles = role_ids(synthesized)

    # Then the judge role may subscribe to exactly the judge's product, and view subscriptions
    judge = marketplace(template, roles["evaluation"])
    assert set(judge) == {"aws-marketplace:Subscribe", "aws-marketplace:ViewSubscriptions"}
    assert subscribable_products(judge["aws-marketplace:Subscribe"]) == ["prod-m5ilt4siql27k"]
    # And the function's role, calling first-party models only, gets nothing
    assert marketplace(template, roles["function"]) == {}


def test_a_third_party_reranker_and_generation_model_are_the_functions_only_subscriptions(synth) -> None:
    # Given Cohere Rerank 3.5 and Claude 3.5 Haiku through its US inference profile, and a first-party judge
    synthesized = synth(
        {
            "rerankModelId": RERANKER,
            "generationModelId": HAIKU_PROFILE,
            "evaluationJudgeModelIds": "amazon.nova-pro-v1:0",
        }
    )
    template = synthesized.template("RagApi")
    roles = role_ids(synthesized)

    # Then the function's role may subscribe to those two products only, never unsubscribe
    function = marketplace(template, roles["function"])
    assert set(function) == {"aws-marketplace:Subscribe", "aws-marketplace:ViewSubscriptions"}
    assert sorted(subscribable_products(function["aws-marketplace:Subscribe"])) == [
        "prod-2o5bej62oxkbi",
        "prod-5oba7y7jpji56",
    ]
    # And a first-party judge needs no subscription
    assert marketplace(template, roles["evaluation"]) == {}
    assert "aws-marketplace:Unsubscribe" not in json.dumps(synthesized.templates)


def test_the_product_catalogue_knows_the_configurable_third_party_models() -> None:
    assert marketplace_product_id(RERANKER) == "prod-2o5bej62oxkbi"
    assert marketplace_product_id("eu.anthropic.claude-3-5-sonnet-20240620-v1:0") == "prod-m5ilt4siql27k"
    assert foundation_model_id(HAIKU_PROFILE) == "anthropic.claude-3-5-haiku-20241022-v1:0"
    assert is_marketplace_model("cohere.embed-english-v3") and not is_marketplace_model("amazon.rerank-v1:0")
    assert not is_marketplace_model("us.meta.llama3-2-1b-instruct-v1:0")
    assert marketplace_product_id("amazon.nova-lite-v1:0") is None


@pytest.mark.parametrize("store", ["opensearch", "s3vectors"])
def test_the_function_knows_its_vector_store_for_filter_operators(synth, store: str) -> None:
    synthesized = synth({"vectorStore": store})
    template = synthesized.template("RagApi")
    (function,) = [
        f
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "rag.handler.handler"
    ]
    environment = function["Properties"]["Environment"]["Variables"]
    assert environment["VECTOR_STORE"] == store
    resolved = {k: v if isinstance(v, str) else "resolved-at-deploy" for k, v in environment.items()}
    resolved["GUARDRAIL_VERSION"] = "1"
    assert load_settings(resolved).vector_store == store


def test_a_third_party_model_without_a_known_product_gets_no_grant_and_a_synth_warning() -> None:
    # Given a role that calls a model from a Marketplace provider whose product id Ladder does not catalogue
    stack = cdk.Stack(cdk.App(), "Probe")
    role = iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))

    grant_marketplace_subscription(role, ["anthropic.claude-instant-v1", "amazon.nova-lite-v1:0"])

    # Then the role gets no statement at all (no unconditioned Subscribe as a fallback)
    assert Template.from_stack(stack).find_resources("AWS::IAM::Policy") == {}
    # And synth warns, naming the model and what to do
    Annotations.from_stack(stack).has_warning(
        "/Probe/Caller", Match.string_like_regexp("anthropic.claude-instant-v1 .*ladder doctor")
    )
