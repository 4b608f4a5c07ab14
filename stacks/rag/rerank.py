"""What reranking needs in IAM, on the caller's role and on the knowledge base's service role.

Bedrock's "Permissions for reranking" page: a ``Retrieve`` with a reranking configuration needs
``bedrock:Rerank`` and ``bedrock:InvokeModel`` on the reranker, on the role that calls Retrieve and on the
knowledge base's service role (Bedrock cannot update a custom service role by itself).
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam

from stacks.config import LadderConfig
from stacks.knowledge.knowledge_base import foundation_model_arn
from stacks.nag import acknowledge

RERANK_WILDCARD_REASON = (
    "bedrock:Rerank has no resource type in IAM (it is authorized on '*' only); the reranker model itself "
    "is scoped by the InvokeModel statement next to it."
)


def rerank_statement() -> iam.PolicyStatement:
    return iam.PolicyStatement(sid="Rerank", actions=["bedrock:Rerank"], resources=["*"])


def rerank_model_statement(config: LadderConfig) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid="RerankModel",
        actions=["bedrock:InvokeModel"],
        resources=[foundation_model_arn(config.rerank_model_id)],
    )


def grant_rerank(role: iam.IRole, config: LadderConfig) -> None:
    """With ``rerankModelId`` set, lets ``role`` rerank with exactly that model; otherwise grants nothing."""
    if not config.rerank_model_id:
        return
    role.add_to_principal_policy(rerank_model_statement(config))
    role.add_to_principal_policy(rerank_statement())
    acknowledge(role, "AwsSolutions-IAM5[Resource::*]", RERANK_WILDCARD_REASON)
