"""Bedrock Guardrail applied to every generation, and the published version the RAG function pins."""

from __future__ import annotations

import hashlib
from typing import Any

from aws_cdk import aws_bedrock as bedrock
from constructs import Construct

from stacks.config import LadderConfig

HARMFUL_CONTENT = ("SEXUAL", "VIOLENCE", "HATE", "INSULTS", "MISCONDUCT")
# Credentials are never echoed back, whatever the configured PII types and action. Names, e-mail addresses,
# phone numbers and addresses are left alone by default: in an internal assistant they are what people ask
# about ("who owns the VPN?"); `-c guardrailPiiEntities=...` adds them when a deployment needs it.
ALWAYS_BLOCKED = ("AWS_ACCESS_KEY", "AWS_SECRET_KEY", "PASSWORD")
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
        sensitive = bedrock.CfnGuardrail.SensitiveInformationPolicyConfigProperty(
            pii_entities_config=[
                bedrock.CfnGuardrail.PiiEntityConfigProperty(type=entity, action=action)
                for entity, action in pii_actions(config).items()
            ]
        )
        grounding = bedrock.CfnGuardrail.ContextualGroundingPolicyConfigProperty(
            filters_config=[
                bedrock.CfnGuardrail.ContextualGroundingFilterConfigProperty(
                    type="GROUNDING", threshold=config.grounding_threshold
                ),
                bedrock.CfnGuardrail.ContextualGroundingFilterConfigProperty(
                    type="RELEVANCE", threshold=config.relevance_threshold
                ),
            ]
        )
        properties: dict[str, Any] = {
            "name": f"{config.stack_prefix.lower()}-rag",
            "description": "Ladder RAG API: harmful content, prompt attacks, PII, contextual grounding",
            "blocked_input_messaging": BLOCKED_INPUT_MESSAGE,
            "blocked_outputs_messaging": BLOCKED_OUTPUT_MESSAGE,
            "content_policy_config": bedrock.CfnGuardrail.ContentPolicyConfigProperty(filters_config=filters),
            "sensitive_information_policy_config": sensitive,
            "contextual_grounding_policy_config": grounding,
        }
        self.guardrail = bedrock.CfnGuardrail(self, "Resource", **properties)
        # A published, immutable version: the function pins it, so editing the draft changes nothing live.
        # The description carries a digest of the guardrail's whole resolved configuration (every property
        # of the resource, as synthesized), so any change publishes a new version.
        self.version = bedrock.CfnGuardrailVersion(
            self,
            "Version",
            guardrail_identifier=self.guardrail.attr_guardrail_id,
            description=f"Pinned by the RAG function; settings {configuration_digest(properties)}",
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


def pii_actions(config: LadderConfig) -> dict[str, str]:
    """PII type -> guardrail action: credentials BLOCK; the configured types get the configured action."""
    actions = {entity: "BLOCK" for entity in ALWAYS_BLOCKED}
    if config.guardrail_pii_action != "NONE":
        for entity in config.guardrail_pii_entities:
            actions.setdefault(entity, config.guardrail_pii_action)
    return actions


def configuration_digest(properties: dict[str, Any]) -> str:
    """A short digest of every property the guardrail is created with (jsii structs repr every field)."""
    return hashlib.sha256(repr(sorted(properties.items())).encode()).hexdigest()[:12]
