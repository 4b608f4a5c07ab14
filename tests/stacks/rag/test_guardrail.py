"""The guardrail the RAG function applies: its filters, PII handling, grounding check and version."""

from __future__ import annotations

import pytest

from stacks.rag.guardrail import configuration_digest
from tests.stacks.rag.templates import rag, rag_function
from tests.support.synth import Synthesized, only, references


class TestGuardrail:
    def test_filters_prompt_attack_pii_and_grounding(self, synth) -> None:
        template = rag(synth({"groundingThreshold": "0.8", "relevanceThreshold": "0.6"}))
        _, guardrail = only(template, "AWS::Bedrock::Guardrail")
        props = guardrail["Properties"]
        filters = {f["Type"]: f for f in props["ContentPolicyConfig"]["FiltersConfig"]}
        assert filters["PROMPT_ATTACK"] == {
            "Type": "PROMPT_ATTACK",
            "InputStrength": "HIGH",
            "OutputStrength": "NONE",
        }
        assert {"SEXUAL", "VIOLENCE", "HATE", "INSULTS", "MISCONDUCT"} <= set(filters)
        pii = {e["Type"]: e["Action"] for e in props["SensitiveInformationPolicyConfig"]["PiiEntitiesConfig"]}
        assert pii["CREDIT_DEBIT_CARD_NUMBER"] == "ANONYMIZE" and pii["US_BANK_ACCOUNT_NUMBER"] == "ANONYMIZE"
        assert pii["US_SOCIAL_SECURITY_NUMBER"] == "ANONYMIZE"
        assert pii["AWS_SECRET_KEY"] == "BLOCK" and pii["PASSWORD"] == "BLOCK"
        # What an internal assistant is asked about stays readable by default
        assert not {"NAME", "EMAIL", "PHONE", "ADDRESS"} & set(pii)
        grounding = {
            f["Type"]: f["Threshold"] for f in props["ContextualGroundingPolicyConfig"]["FiltersConfig"]
        }
        assert grounding == {"GROUNDING": 0.8, "RELEVANCE": 0.6}

    def test_pii_types_are_configurable_and_credentials_stay_blocked(self, synth) -> None:
        template = rag(synth({"guardrailPiiEntities": "NAME,EMAIL", "guardrailPiiAction": "BLOCK"}))
        _, guardrail = only(template, "AWS::Bedrock::Guardrail")
        pii = {
            e["Type"]: e["Action"]
            for e in guardrail["Properties"]["SensitiveInformationPolicyConfig"]["PiiEntitiesConfig"]
        }
        assert pii == {
            "NAME": "BLOCK",
            "EMAIL": "BLOCK",
            "AWS_ACCESS_KEY": "BLOCK",
            "AWS_SECRET_KEY": "BLOCK",
            "PASSWORD": "BLOCK",
        }

    def test_function_pins_the_published_version(self, sandbox: Synthesized) -> None:
        template = rag(sandbox)
        version_id, version = only(template, "AWS::Bedrock::GuardrailVersion")
        guardrail_id, _ = only(template, "AWS::Bedrock::Guardrail")
        assert references(version["Properties"]["GuardrailIdentifier"]) == {guardrail_id}
        _, function = rag_function(template)
        env = function["Properties"]["Environment"]["Variables"]
        assert env["GUARDRAIL_VERSION"] == {"Fn::GetAtt": [version_id, "Version"]}

    @pytest.mark.parametrize(
        "overrides",
        [
            {"groundingThreshold": "0.8", "relevanceThreshold": "0.6"},
            {"guardrailFilterStrength": "MEDIUM"},
            {"guardrailPiiEntities": "CREDIT_DEBIT_CARD_NUMBER"},
            {"guardrailPiiAction": "BLOCK"},
            {"stackPrefix": "Other"},
        ],
    )
    def test_changed_settings_publish_a_new_version(self, synth, overrides) -> None:
        def description(synthesized: Synthesized) -> str:
            return only(rag(synthesized), "AWS::Bedrock::GuardrailVersion")[1]["Properties"]["Description"]

        assert description(synth()) != description(synth(overrides))

    def test_the_version_digest_covers_every_guardrail_property(self) -> None:
        # Blocked messages, the prompt-attack filter and the description are not configurable, but a code
        # change to any of them must publish a new version too: the digest covers every property.
        base = {
            "name": "x",
            "description": "d",
            "blocked_input_messaging": "in",
            "content_policy_config": None,
        }
        digests = {
            configuration_digest(base),
            configuration_digest({**base, "description": "changed"}),
            configuration_digest({**base, "blocked_input_messaging": "changed"}),
            configuration_digest({**base, "blocked_outputs_messaging": "added"}),
        }
        assert len(digests) == 4
        assert configuration_digest(dict(reversed(list(base.items())))) == configuration_digest(base)
