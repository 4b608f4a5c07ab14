"""RAG API stack template: API, function, guardrail, IAM scoping, alarms."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from lambdas.rag.settings import load_settings
from tests.stacks.conftest import FINE_TUNE_ON
from tests.support.synth import Synthesized, as_list, only, references, resources


def rag(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.template("RagApi")


def rag_function(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    found = [
        (k, f)
        for k, f in resources(template, "AWS::Lambda::Function").items()
        if f["Properties"].get("Handler") == "rag.handler.handler"
    ]
    assert len(found) == 1
    return found[0]


def role_statements(template: dict[str, Any], function: dict[str, Any]) -> dict[str, dict[str, Any]]:
    role_id = next(iter(references(function["Properties"]["Role"])))
    return {
        s.get("Sid", json.dumps(s["Action"])): s
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    }


class TestFunction:
    def test_runtime_memory_timeout_and_handler(self, synth) -> None:
        template = rag(synth({"ragMemoryMb": "512", "ragTimeoutSeconds": "20"}))
        _, function = rag_function(template)
        props = function["Properties"]
        assert props["Runtime"] == "python3.14" and props["Architectures"] == ["arm64"]
        assert props["MemorySize"] == 512 and props["Timeout"] == 20
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Environment"]["Variables"]["DEADLINE_MS"] == "17000", (
            "deadline leaves 3 s for the reply"
        )

    @pytest.mark.parametrize(("profile", "expected"), [("sandbox", None), ("prod", 20)])
    def test_reserved_concurrency_comes_from_the_profile(self, synth, profile, expected) -> None:
        _, function = rag_function(rag(synth({"profile": profile})))
        assert function["Properties"].get("ReservedConcurrentExecutions") == expected

    def test_log_group_has_retention(self, sandbox: Synthesized) -> None:
        template = rag(sandbox)
        _, function = rag_function(template)
        log_group_id = next(iter(references(function["Properties"]["LoggingConfig"])))
        assert template["Resources"][log_group_id]["Properties"]["RetentionInDays"] == 14

    def test_environment_is_accepted_by_the_function_settings(self, sandbox: Synthesized) -> None:
        # Given the environment the stack sets, with deploy-time values filled in
        _, function = rag_function(rag(sandbox))
        env = function["Properties"]["Environment"]["Variables"]
        placeholders = {
            "KNOWLEDGE_BASE_ID": "KB12345678",
            "GUARDRAIL_ID": "gr12345678",
            "GUARDRAIL_VERSION": "1",
        }
        resolved = {k: v if isinstance(v, str) else placeholders[k] for k, v in env.items()}
        # When the function validates it at cold start, then it is accepted as configured
        settings = load_settings(resolved)
        assert settings.model_id == "us.amazon.nova-lite-v1:0"
        assert settings.max_question_chars == 2000
        assert settings.finetuned_model_parameter in (None, "")
        assert resolved["LOG_CONTENT"] == "false"

    def test_fine_tune_flag_passes_the_model_parameter(self, synth) -> None:
        _, function = rag_function(rag(synth(FINE_TUNE_ON)))
        env = function["Properties"]["Environment"]["Variables"]
        assert env["FINETUNED_MODEL_PARAMETER"] == "/ladder/fine-tune/model-arn"


class TestIam:
    def test_retrieve_only_on_the_knowledge_base(self, sandbox: Synthesized) -> None:
        template = rag(sandbox)
        _, function = rag_function(template)
        statements = role_statements(template, function)
        retrieve = statements["RetrieveFromKnowledgeBase"]
        assert retrieve["Action"] == "bedrock:Retrieve"
        text = json.dumps(retrieve["Resource"])
        assert "LadderKnowledge" in text and "KnowledgeBaseArn" in text, "the KB ARN from the knowledge stack"

    def test_inference_profile_and_the_models_it_routes_to(self, sandbox: Synthesized) -> None:
        template = rag(sandbox)
        _, function = rag_function(template)
        invoke = role_statements(template, function)["GenerateWithConfiguredModel"]
        assert invoke["Action"] == "bedrock:InvokeModel"
        text = json.dumps(invoke["Resource"])
        assert "inference-profile/us.amazon.nova-lite-v1:0" in text
        for region in ("us-east-1", "us-east-2", "us-west-2"):
            assert f":bedrock:{region}::foundation-model/amazon.nova-lite-v1:0" in text
        assert len(as_list(invoke["Resource"])) == 4

    def test_a_plain_model_id_is_the_only_invoke_resource(self, synth) -> None:
        template = rag(synth({"generationModelId": "anthropic.claude-3-haiku-20240307-v1:0"}))
        _, function = rag_function(template)
        invoke = role_statements(template, function)["GenerateWithConfiguredModel"]
        assert "foundation-model/anthropic.claude-3-haiku-20240307-v1:0" in json.dumps(invoke["Resource"])
        assert "inference-profile" not in json.dumps(invoke["Resource"])

    def test_guardrail_permission_is_scoped_to_the_guardrail(self, sandbox: Synthesized) -> None:
        template = rag(sandbox)
        _, function = rag_function(template)
        guardrail_id, _ = only(template, "AWS::Bedrock::Guardrail")
        statement = role_statements(template, function)["ApplyGuardrail"]
        assert statement["Resource"] == {"Fn::GetAtt": [guardrail_id, "GuardrailArn"]}

    def test_fine_tuned_model_access_only_with_the_flag(self, synth) -> None:
        template_off = rag(synth())
        assert "ReadFineTunedModelArn" not in role_statements(template_off, rag_function(template_off)[1])
        template_on = rag(synth(FINE_TUNE_ON))
        statements = role_statements(template_on, rag_function(template_on)[1])
        assert statements["ReadFineTunedModelArn"]["Action"] == "ssm:GetParameter"
        assert "parameter/ladder/fine-tune/model-arn" in json.dumps(
            statements["ReadFineTunedModelArn"]["Resource"]
        )
        assert ":imported-model/*" in json.dumps(statements["InvokeFineTunedModel"]["Resource"])


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
        assert pii["EMAIL"] == "ANONYMIZE" and pii["AWS_SECRET_KEY"] == "BLOCK"
        grounding = {
            f["Type"]: f["Threshold"] for f in props["ContextualGroundingPolicyConfig"]["FiltersConfig"]
        }
        assert grounding == {"GROUNDING": 0.8, "RELEVANCE": 0.6}

    def test_function_pins_the_published_version(self, sandbox: Synthesized) -> None:
        template = rag(sandbox)
        version_id, version = only(template, "AWS::Bedrock::GuardrailVersion")
        guardrail_id, _ = only(template, "AWS::Bedrock::Guardrail")
        assert references(version["Properties"]["GuardrailIdentifier"]) == {guardrail_id}
        _, function = rag_function(template)
        env = function["Properties"]["Environment"]["Variables"]
        assert env["GUARDRAIL_VERSION"] == {"Fn::GetAtt": [version_id, "Version"]}

    def test_changed_settings_publish_a_new_version(self, synth) -> None:
        first = only(rag(synth()), "AWS::Bedrock::GuardrailVersion")[1]["Properties"]["Description"]
        second = only(
            rag(synth({"groundingThreshold": "0.8", "relevanceThreshold": "0.6"})),
            "AWS::Bedrock::GuardrailVersion",
        )[1]["Properties"]["Description"]
        assert first != second


class TestApi:
    def test_every_method_needs_sigv4(self, sandbox: Synthesized) -> None:
        methods = resources(rag(sandbox), "AWS::ApiGateway::Method").values()
        assert methods
        for method in methods:
            assert method["Properties"]["AuthorizationType"] == "AWS_IAM"

    def test_ask_validates_the_body_against_the_contract_schema(self, synth) -> None:
        template = rag(synth({"maxQuestionChars": "500"}))
        post = [
            m
            for m in resources(template, "AWS::ApiGateway::Method").values()
            if m["Properties"]["HttpMethod"] == "POST"
        ]
        assert len(post) == 1
        validator_id = next(iter(references(post[0]["Properties"]["RequestValidatorId"])))
        validator = template["Resources"][validator_id]["Properties"]
        assert validator["ValidateRequestBody"] is True
        _, model = only(template, "AWS::ApiGateway::Model")
        schema = model["Properties"]["Schema"]
        assert schema["additionalProperties"] is False
        assert schema["required"] == ["question"]
        assert schema["properties"]["question"]["maxLength"] == 500
        assert (
            schema["properties"]["topK"]
            == {"type": "integer", "minimum": 1, "maximum": 20, "description": Match.any_value()}
            or schema["properties"]["topK"]["maximum"] == 20
        )
        assert set(schema["properties"]["mode"]["enum"]) == {"rag", "prompt", "finetuned"}

    def test_stage_is_throttled_logged_and_traced(self, synth) -> None:
        template = rag(synth({"apiRateLimit": "7", "apiBurstLimit": "14"}))
        _, stage = only(template, "AWS::ApiGateway::Stage")
        props = stage["Properties"]
        assert props["TracingEnabled"] is True
        assert "AccessLogSetting" in props
        settings = props["MethodSettings"][0]
        assert settings["ThrottlingRateLimit"] == 7 and settings["ThrottlingBurstLimit"] == 14
        assert settings["DataTraceEnabled"] is False, "request bodies are never logged"
        Template.from_json(template).has_resource_properties(
            "AWS::ApiGateway::UsagePlan",
            {"Throttle": {"RateLimit": 7, "BurstLimit": 14}, "Quota": {"Limit": 5000, "Period": "DAY"}},
        )

    def test_gateway_errors_use_the_api_error_shape(self, sandbox: Synthesized) -> None:
        responses = resources(rag(sandbox), "AWS::ApiGateway::GatewayResponse").values()
        by_type = {r["Properties"]["ResponseType"]: r["Properties"] for r in responses}
        assert {"BAD_REQUEST_BODY", "THROTTLED", "INTEGRATION_TIMEOUT", "DEFAULT_5XX"} <= set(by_type)
        assert by_type["THROTTLED"]["StatusCode"] == "429"
        assert by_type["THROTTLED"]["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
        assert by_type["INTEGRATION_TIMEOUT"]["StatusCode"] == "504"
        for props in by_type.values():
            body = props["ResponseTemplates"]["application/json"]
            assert body.startswith('{"error": {"code": ')

    def test_cors_is_off_by_default_and_on_when_configured(self, synth) -> None:
        def options(template):
            return [
                m
                for m in resources(template, "AWS::ApiGateway::Method").values()
                if m["Properties"]["HttpMethod"] == "OPTIONS"
            ]

        assert options(rag(synth())) == []
        assert options(rag(synth({"corsAllowOrigins": "https://app.example.com"})))

    @pytest.mark.parametrize(("profile", "count"), [("sandbox", 0), ("prod", 1)])
    def test_waf_with_a_rate_rule_in_prod(self, synth, profile, count) -> None:
        template = rag(synth({"profile": profile}))
        acls = resources(template, "AWS::WAFv2::WebACL")
        assert len(acls) == count
        if count:
            rules = next(iter(acls.values()))["Properties"]["Rules"]
            assert rules[0]["Statement"]["RateBasedStatement"] == {"Limit": 300, "AggregateKeyType": "IP"}
            assert len(resources(template, "AWS::WAFv2::WebACLAssociation")) == 1


class TestObservability:
    def test_alarms_cover_errors_throttles_and_latency(self, sandbox: Synthesized) -> None:
        template = rag(sandbox)
        alarms = list(resources(template, "AWS::CloudWatch::Alarm").values())
        metric_names = {a["Properties"].get("MetricName") for a in alarms}
        assert {"5XXError", "Throttles", "Latency", "Errors"} <= metric_names
        spike = [a for a in alarms if "Metrics" in a["Properties"]]
        assert any("4XXError" in json.dumps(a["Properties"]["Metrics"]) for a in spike)
        latency = next(a for a in alarms if a["Properties"].get("MetricName") == "Latency")
        assert latency["Properties"]["ExtendedStatistic"] == "p99"
        topic_id, _ = only(template, "AWS::SNS::Topic")
        for alarm in alarms:
            assert references(alarm["Properties"]["AlarmActions"]) == {topic_id}

    def test_dashboard_shows_the_function_metrics(self, sandbox: Synthesized) -> None:
        _, dashboard = only(rag(sandbox), "AWS::CloudWatch::Dashboard")
        body = json.dumps(dashboard["Properties"]["DashboardBody"])
        for metric in (
            "RetrievedPassages",
            "NoContextAnswers",
            "GuardrailInterventions",
            "InputTokens",
            "OutputTokens",
            "RetrieveLatency",
            "GenerateLatency",
            "TotalLatency",
        ):
            assert metric in body


def test_outputs(sandbox: Synthesized) -> None:
    outputs = rag(sandbox)["Outputs"]
    assert {"AskUrl", "ApiId", "GuardrailId", "GuardrailVersion", "DashboardName"} <= set(outputs)
    assert "/ask" in json.dumps(outputs["AskUrl"]["Value"])
