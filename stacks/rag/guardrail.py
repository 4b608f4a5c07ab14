"""Bedrock Guardrail applied to every generation, and the published version the RAG function pins."""

from __future__ import annotations

import hashlib

from aws_cdk import aws_bedrock as bedrock
from constructs import Construct

from stacks.config import LadderConfig

HARMFUL_CONTENT = ("SEXUAL", "VIOLENCE", "HATE", "INSULTS", "MISCONDUCT")
PII_ENTITIES = (
    "EMAIL",
    "PHONE",
    "NAME",
    "ADDRESS",
    "US_SOCIAL_SECURITY_NUMBER",
    "CREDIT_DEBIT_CARD_NUMBER",
    "US_BANK_ACCOUNT_NUMBER",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "PASSWORD",
)
# Secrets are never echoed back, whatever the configured PII action.
ALWAYS_BLOCKED = ("AWS_ACCESS_KEY", "AWS_SECRET_KEY", "PASSWORD", "US_SOCIAL_SECURITY_NUMBER")
BLOCKED_INPUT_MESSAGE = "Sorry, I can't help with that request."
BLOCKED_OUTPUT_MESSAGE = "Sorry, I can't share an answer to that from the documents."


class Guardrail(Construct):
    """Content filters, prompt-attack filter on input, PII handling and contextual grounding."""

    def __init__(self, scope: Construct, construct_id: str, *, config: LadderConfig) -> None:
        super().__init__(scope, construct_id)
        strength = config.guardrail_filter_strength
        filters = [
            bedrock.CfnGuardrail.ContentFilterConfigProperty(
                type=t, input_strength=strength, output_strength=strength
            )
            for t in HARMFUL_CONTENT
        ]
        # Prompt attacks are an input-only filter: output strength must be NONE.
        filters.append(
            bedrock.CfnGuardrail.ContentFilterConfigProperty(
                type="PROMPT_ATTACK", input_strength="HIGH", output_strength="NONE"
            )
        )
        sensitive = None
        if config.guardrail_pii_action != "NONE":
            sensitive = bedrock.CfnGuardrail.SensitiveInformationPolicyConfigProperty(
                pii_entities_config=[
                    bedrock.CfnGuardrail.PiiEntityConfigProperty(
                        type=entity,
                        action="BLOCK" if entity in ALWAYS_BLOCKED else config.guardrail_pii_action,
                    )
                    for entity in PII_ENTITIES
                ]
            )
        self.guardrail = bedrock.CfnGuardrail(
            self,
            "Resource",
            name=f"{config.stack_prefix.lower()}-rag",
            description="Ladder RAG API: harmful content, prompt attacks, PII, contextual grounding",
            blocked_input_messaging=BLOCKED_INPUT_MESSAGE,
            blocked_outputs_messaging=BLOCKED_OUTPUT_MESSAGE,
            content_policy_config=bedrock.CfnGuardrail.ContentPolicyConfigProperty(filters_config=filters),
            sensitive_information_policy_config=sensitive,
            contextual_grounding_policy_config=bedrock.CfnGuardrail.ContextualGroundingPolicyConfigProperty(
                filters_config=[
                    bedrock.CfnGuardrail.ContextualGroundingFilterConfigProperty(
                        type="GROUNDING", threshold=config.grounding_threshold
                    ),
                    bedrock.CfnGuardrail.ContextualGroundingFilterConfigProperty(
                        type="RELEVANCE", threshold=config.relevance_threshold
                    ),
                ]
            ),
        )
        # A published, immutable version: the function pins it, so editing the draft changes nothing live.
        # The description carries a digest of the settings, so a changed guardrail publishes a new version.
        settings = (
            strength,
            config.guardrail_pii_action,
            config.grounding_threshold,
            config.relevance_threshold,
        )
        digest = hashlib.sha256(
            repr((settings, HARMFUL_CONTENT, PII_ENTITIES, ALWAYS_BLOCKED)).encode()
        ).hexdigest()
        self.version = bedrock.CfnGuardrailVersion(
            self,
            "Version",
            guardrail_identifier=self.guardrail.attr_guardrail_id,
            description=f"Pinned by the RAG function; settings {digest[:12]}",
        )

    @property
    def guardrail_id(self) -> str:
        return self.guardrail.attr_guardrail_id

    @property
    def guardrail_arn(self) -> str:
        return self.guardrail.attr_guardrail_arn

    @property
    def version_number(self) -> str:
        return self.version.attr_version
