"""Builds the typed configuration, instantiates the stacks and attaches cdk-nag."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.checkov import CheckovSuppressions
from stacks.config import CONTEXT_KEYS, LadderConfig, from_context
from stacks.constructs.log_group import own_provider_function_logs
from stacks.fine_tune.reason import record_reason
from stacks.fine_tune.verdict import fine_tune_reason
from stacks.fine_tune_stack import FineTuneStack
from stacks.knowledge_stack import KnowledgeStack
from stacks.rag_api_stack import ExamplesAccess, RagApiStack


@dataclass(frozen=True)
class LadderStacks:
    config: LadderConfig
    knowledge: KnowledgeStack
    rag_api: RagApiStack
    fine_tune: FineTuneStack | None
    stacks: tuple[cdk.Stack, ...]


def read_context(app: cdk.App) -> dict[str, object]:
    """Every context value the app knows about plus any other non-CDK key (so typos are reported)."""
    context: dict[str, object] = dict(app.node.get_all_context())
    for key in CONTEXT_KEYS:
        value = app.node.try_get_context(key)
        if value is not None:
            context[key] = value
    return context


def build_app(app: cdk.App) -> LadderStacks:
    config = from_context(read_context(app))
    # Without a justified verdict or an override this raises FineTuneRefused (a ConfigError: exit 2, no
    # traceback) before any stack is built; with the flag off the verdict is never read.
    reason = fine_tune_reason(config, now=datetime.now(UTC)) if config.fine_tune else None
    env = cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=config.region)
    prefix = config.stack_prefix

    knowledge = KnowledgeStack(
        app,
        f"{prefix}Knowledge",
        config=config,
        env=env,
        description="Ladder knowledge: documents bucket -> Bedrock Knowledge Base on OpenSearch Serverless",
    )
    rag_api = RagApiStack(
        app,
        f"{prefix}RagApi",
        config=config,
        knowledge_base_id=knowledge.knowledge_base.knowledge_base_id,
        knowledge_base_arn=knowledge.knowledge_base.knowledge_base_arn,
        knowledge_base_name=knowledge.knowledge_base.name,
        examples=(
            None
            if knowledge.examples_store is None
            else ExamplesAccess(
                index_arn=knowledge.examples_store.index_arn,
                manifest_bucket=knowledge.documents_bucket.bucket_name,
                kms_key_arn=knowledge.examples_store.kms_key_arn,
            )
        ),
        env=env,
        description="Ladder RAG API: SigV4 API Gateway -> Lambda -> Bedrock Retrieve + Converse + guardrail",
    )
    stacks: list[cdk.Stack] = [knowledge, rag_api]
    fine_tune = None
    if reason is not None:
        fine_tune = FineTuneStack(
            app,
            f"{prefix}FineTune",
            config=config,
            env=env,
            description="Ladder fine-tune: chat data -> SageMaker LoRA training -> Bedrock model import",
        )
        record_reason(fine_tune, reason)
        stacks.append(fine_tune)

    for stack in stacks:
        own_provider_function_logs(stack, config=config)
        cdk.Tags.of(stack).add("project", "ladder")
        cdk.Tags.of(stack).add("ladder:profile", config.profile)
    cdk.Aspects.of(app).add(CheckovSuppressions())
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return LadderStacks(
        config=config, knowledge=knowledge, rag_api=rag_api, fine_tune=fine_tune, stacks=tuple(stacks)
    )
