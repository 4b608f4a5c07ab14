"""RAG API stack template: API, function, guardrail, IAM scoping, alarms."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from lambdas.rag.constants import DEFAULT_MAX_BODY_BYTES
from lambdas.rag.settings import load_settings
from stacks.rag.api import MESSAGE_STRING
from tests.stacks.conftest import FINE_TUNE_ON
from tests.stacks.rag.templates import rag, rag_function, role_statements
from tests.support.lint import lint_template
from tests.support.synth import Synthesized, only, references, resources


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

    @pytest.mark.parametrize("profile", ["sandbox", "prod"])
    def test_no_concurrency_is_reserved_unless_configured(self, synth, profile) -> None:
        # A reservation fails the deploy on accounts whose concurrency quota is small (Lambda keeps 100
        # unreserved), so no profile reserves any by default.
        _, function = rag_function(rag(synth({"profile": profile})))
        assert "ReservedConcurrentExecutions" not in function["Properties"]
        _, configured = rag_function(rag(synth({"profile": profile, "reservedConcurrency": "5"})))
        assert configured["Properties"]["ReservedConcurrentExecutions"] == 5

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
            "EXAMPLES_INDEX_ARN": "arn:aws:s3vectors:us-east-1:123456789012:bucket/b/index/ladder-examples-1",
            "EXAMPLES_MANIFEST_BUCKET": "ladder-documents",
        }
        resolved = {k: v if isinstance(v, str) else placeholders[k] for k, v in env.items()}
        # When the function validates it at cold start, then it is accepted as configured
        settings = load_settings(resolved)
        assert settings.model_id == "us.amazon.nova-lite-v1:0"
        assert settings.allowed_model_ids == ("us.amazon.nova-lite-v1:0",)
        assert settings.max_question_chars == 2000
        assert settings.finetuned_model_parameter in (None, "")
        assert resolved["LOG_CONTENT"] == "false"

    @pytest.mark.parametrize(
        "replacing",
        [
            {"embeddingDimensions": "512"},
            {"embeddingModelId": "cohere.embed-english-v3"},
            {"chunkMaxTokens": "512"},
            {"chunkingStrategy": "SEMANTIC"},
        ],
    )
    def test_replacing_the_knowledge_base_changes_this_stack(self, synth, replacing) -> None:
        """CloudFormation Template Reference, Fn::GetStackOutput: "The referenced value is resolved at stack
        create or update time. If the referenced stack or output is later deleted or modified, the consuming
        stack is not automatically updated or notified." The knowledge base id arrives that way, so the
        function carries the knowledge base's name, which changes whenever the knowledge base is replaced."""
        # Given the default settings and a setting that replaces the knowledge base
        before, after = synth(), synth(replacing)
        kb_before = only(before.template("Knowledge"), "AWS::Bedrock::KnowledgeBase")[1]["Properties"]["Name"]
        kb_after = only(after.template("Knowledge"), "AWS::Bedrock::KnowledgeBase")[1]["Properties"]["Name"]
        assert kb_before != kb_after
        # Then the function names the knowledge base it reads, so the RAG API's template changes with it
        for synthesized, name in ((before, kb_before), (after, kb_after)):
            env = rag_function(rag(synthesized))[1]["Properties"]["Environment"]["Variables"]
            assert env["KNOWLEDGE_BASE_NAME"] == name
            assert "Fn::GetStackOutput" in json.dumps(env["KNOWLEDGE_BASE_ID"])
        assert rag(before) != rag(after)

    def test_a_setting_that_keeps_the_knowledge_base_leaves_this_stack_unchanged(self, synth) -> None:
        # A chunking setting the configured strategy (FIXED_SIZE) ignores replaces nothing
        assert rag(synth({"semanticMaxTokens": "500"})) == rag(synth())

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

    def test_inference_profile_and_its_model_in_any_region_only_through_it(
        self, sandbox: Synthesized
    ) -> None:
        template = rag(sandbox)
        _, function = rag_function(template)
        statements = role_statements(template, function)
        profile = statements["GenerateWithConfiguredModel"]
        assert profile["Action"] == "bedrock:InvokeModel"
        assert "inference-profile/us.amazon.nova-lite-v1:0" in json.dumps(profile["Resource"])
        assert "foundation-model" not in json.dumps(profile["Resource"])
        routed = statements["GenerateThroughInferenceProfile"]
        assert routed["Action"] == "bedrock:InvokeModel"
        # Any region: a destination region added to the profile later must not be an AccessDenied.
        assert routed["Resource"] == {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, ":bedrock:*::foundation-model/amazon.nova-lite-v1:0"],
            ]
        }
        assert routed["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": profile["Resource"]}}

    def test_a_plain_model_id_is_the_only_invoke_resource(self, synth) -> None:
        template = rag(synth({"generationModelId": "anthropic.claude-3-haiku-20240307-v1:0"}))
        _, function = rag_function(template)
        invoke = role_statements(template, function)["GenerateWithConfiguredModel"]
        assert "foundation-model/anthropic.claude-3-haiku-20240307-v1:0" in json.dumps(invoke["Resource"])
        assert "inference-profile" not in json.dumps(invoke["Resource"])
        assert "GenerateThroughInferenceProfile" not in role_statements(template, function)

    def test_allowed_models_and_their_profiles_are_the_only_generation_resources(self, synth) -> None:
        """Bedrock user guide, "Prerequisites for inference profiles": "If you specify an inference profile
        in the Resource field of the first statement, you must also specify the foundation model in each
        Region associated with it", and a condition on ``bedrock:InferenceProfileArn`` restricts the
        foundation model to calls through that profile."""
        # Given two models a request may name besides the configured profile
        allowed = "us.amazon.nova-pro-v1:0,anthropic.claude-3-haiku-20240307-v1:0"
        synthesized = synth({"allowedGenerationModelIds": allowed})
        template = rag(synthesized)
        _, function = rag_function(template)
        statements = role_statements(template, function)
        # Then the function is told exactly the models IAM allows, the configured one first
        env = function["Properties"]["Environment"]["Variables"]
        assert env["ALLOWED_MODEL_IDS"] == f"us.amazon.nova-lite-v1:0,{allowed}"
        # And each profile is allowed with its foundation model, in any region only through that profile
        pro = statements["GenerateWithAllowedModel1"]
        assert "inference-profile/us.amazon.nova-pro-v1:0" in json.dumps(pro["Resource"])
        routed = statements["GenerateThroughAllowedProfile1"]
        assert "bedrock:*::foundation-model/amazon.nova-pro-v1:0" in json.dumps(routed["Resource"])
        assert routed["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": pro["Resource"]}}
        haiku = statements["GenerateWithAllowedModel2"]
        assert "foundation-model/anthropic.claude-3-haiku-20240307-v1:0" in json.dumps(haiku["Resource"])
        assert "GenerateThroughAllowedProfile2" not in statements
        # And no other model can generate: every InvokeModel resource is one of these, the embedding
        # model of the few-shot examples, or nothing else
        invoked = {
            json.dumps(statement["Resource"])
            for statement in statements.values()
            if statement["Action"] == "bedrock:InvokeModel" or "bedrock:InvokeModel" in statement["Action"]
        }
        generation = {
            json.dumps(statements[sid]["Resource"])
            for sid in statements
            if sid.startswith(("GenerateWith", "GenerateThrough"))
        }
        assert len(generation) == 5
        assert invoked - generation == {json.dumps(statements["EmbedQuestionForExamples"]["Resource"])}
        # And the synth passed cdk-nag (it raises on an unacknowledged finding) and cfn-lint is clean
        assert lint_template(template, synthesized.config.region) == []

    def test_a_model_outside_the_allowed_list_is_not_in_the_policy(self, sandbox: Synthesized) -> None:
        template = rag(sandbox)
        _, function = rag_function(template)
        text = json.dumps(role_statements(template, function))
        assert "nova-pro" not in text and "claude" not in text
        env = function["Properties"]["Environment"]["Variables"]
        assert env["ALLOWED_MODEL_IDS"] == "us.amazon.nova-lite-v1:0"

    def test_reranker_is_granted_to_the_function_and_the_knowledge_base_role(self, synth) -> None:
        # Given a reranker the region offers
        synthesized = synth({"rerankModelId": "cohere.rerank-v3-5:0"})
        template = rag(synthesized)
        statements = role_statements(template, rag_function(template)[1])
        assert statements["Rerank"] == {
            "Action": "bedrock:Rerank",
            "Effect": "Allow",
            "Resource": "*",
            "Sid": "Rerank",
        }
        assert "foundation-model/cohere.rerank-v3-5:0" in json.dumps(statements["RerankModel"]["Resource"])
        assert statements["RerankModel"]["Action"] == "bedrock:InvokeModel"
        # Then the knowledge base's service role, which Retrieve's reranking runs under, gets the same
        knowledge = synthesized.template("Knowledge")
        _, kb = only(knowledge, "AWS::Bedrock::KnowledgeBase")
        kb_role = next(iter(references(kb["Properties"]["RoleArn"])))
        kb_statements = [
            s
            for p in resources(knowledge, "AWS::IAM::Policy").values()
            if {"Ref": kb_role} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        actions = {json.dumps(s["Action"]): s for s in kb_statements}
        assert actions['"bedrock:Rerank"']["Resource"] == "*"
        assert any(
            s["Action"] == "bedrock:InvokeModel" and "cohere.rerank-v3-5:0" in json.dumps(s["Resource"])
            for s in kb_statements
        )

    def test_no_rerank_permission_without_a_reranker(self, synth) -> None:
        synthesized = synth()
        assert "bedrock:Rerank" not in json.dumps(rag(synthesized))
        assert "bedrock:Rerank" not in json.dumps(synthesized.template("Knowledge"))

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
        assert set(schema["properties"]["mode"]["enum"]) == {"rag", "prompt", "finetuned", "fewshot"}
        # API Gateway checks "include" as the function does: a list of the accepted names only
        include = schema["properties"]["include"]
        assert (include["type"], include["items"]["type"], include["items"]["enum"]) == (
            "array",
            "string",
            ["passages"],
        )

    def test_stage_is_throttled_logged_and_traced(self, synth) -> None:
        template = rag(synth({"apiRateLimit": "7", "apiBurstLimit": "14"}))
        _, stage = only(template, "AWS::ApiGateway::Stage")
        props = stage["Properties"]
        assert props["TracingEnabled"] is True
        assert "AccessLogSetting" in props
        settings = props["MethodSettings"][0]
        assert settings["ThrottlingRateLimit"] == 7 and settings["ThrottlingBurstLimit"] == 14
        assert settings["DataTraceEnabled"] is False, "request bodies are never logged"

    @pytest.mark.parametrize(
        ("profile", "policy", "days"), [("sandbox", "Delete", 14), ("prod", "Retain", 365)]
    )
    def test_execution_logs_go_to_a_log_group_of_the_stack(self, synth, profile, policy, days) -> None:
        """API Gateway Developer Guide, "Execution logging for REST APIs": "When you enable execution logging
        on a stage, API Gateway automatically creates and manages a CloudWatch Logs log group. The log group
        is named API-Gateway-Execution-Logs_{rest-api-id}/{stage_name}." """
        template = rag(synth({"profile": profile}))
        _, stage = only(template, "AWS::ApiGateway::Stage")
        assert stage["Properties"]["MethodSettings"][0]["LoggingLevel"] == "ERROR"
        api_id, _ = only(template, "AWS::ApiGateway::RestApi")
        name = {"Fn::Join": ["", ["API-Gateway-Execution-Logs_", {"Ref": api_id}, "/v1"]]}
        (group_id, group), *others = [
            (k, g)
            for k, g in resources(template, "AWS::Logs::LogGroup").items()
            if g["Properties"].get("LogGroupName") == name
        ]
        assert others == []
        # Then the group follows the profile and exists before the stage could log anything
        assert group["Properties"]["RetentionInDays"] == days and group["DeletionPolicy"] == policy
        assert group_id in stage["DependsOn"]

    def test_no_usage_plan_that_would_enforce_nothing(self, sandbox: Synthesized) -> None:
        # Without API keys a usage plan's quota applies to no caller; the stage throttle is the limit.
        template = rag(sandbox)
        assert resources(template, "AWS::ApiGateway::UsagePlan") == {}
        assert resources(template, "AWS::ApiGateway::ApiKey") == {}
        types = {
            r["Properties"]["ResponseType"]
            for r in resources(template, "AWS::ApiGateway::GatewayResponse").values()
        }
        assert "QUOTA_EXCEEDED" not in types

    def test_gateway_errors_use_the_api_error_shape(self, sandbox: Synthesized) -> None:
        responses = resources(rag(sandbox), "AWS::ApiGateway::GatewayResponse").values()
        by_type = {r["Properties"]["ResponseType"]: r["Properties"] for r in responses}
        assert {"BAD_REQUEST_BODY", "THROTTLED", "INTEGRATION_TIMEOUT", "DEFAULT_5XX", "WAF_FILTERED"} <= set(
            by_type
        )
        assert by_type["THROTTLED"]["StatusCode"] == "429"
        assert by_type["THROTTLED"]["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
        assert by_type["INTEGRATION_TIMEOUT"]["StatusCode"] == "504"
        assert (
            by_type["INTEGRATION_TIMEOUT"]["ResponseParameters"]["gatewayresponse.header.Retry-After"]
            == "'5'"
        )

    @pytest.mark.parametrize(
        "message",
        [
            "User: arn:aws:sts::123456789012:assumed-role/dev/alice is not authorized to perform: "
            '"execute-api:Invoke"',
            'Invalid request body: expected "question" \\ got {"q": 1}',
            "Missing Authentication Token",
        ],
    )
    def test_every_gateway_error_body_is_json_after_substitution(self, synth, message) -> None:
        # API Gateway substitutes $context variables only (no VTL); $context.error.messageString arrives as
        # an already quoted JSON string. Any other variable, or a VTL call, would make the body invalid.
        for overrides in ({}, {"corsAllowOrigins": "https://app.example.com"}):
            responses = resources(rag(synth(overrides)), "AWS::ApiGateway::GatewayResponse").values()
            assert len(responses) >= 10
            for response in responses:
                props = response["Properties"]
                template = props["ResponseTemplates"]["application/json"]
                assert "$util" not in template and "#" not in template
                body = template.replace(MESSAGE_STRING, json.dumps(message))
                assert "$" not in body, f"{props['ResponseType']}: unsubstituted variable in {template}"
                parsed = json.loads(body)
                assert set(parsed) == {"error"} and set(parsed["error"]) == {"code", "message"}
                assert parsed["error"]["code"] and parsed["error"]["message"]
                if MESSAGE_STRING in template:
                    assert parsed["error"]["message"] == message

    def test_every_method_but_cors_preflight_reaches_the_function(self, synth) -> None:
        # The root's ANY used to be a MOCK (aws/aws-cdk#8453): a signed call to the root URL was a 500.
        for overrides in ({}, {"corsAllowOrigins": "https://app.example.com"}):
            template = rag(synth(overrides))
            function_id, _ = rag_function(template)
            methods = list(resources(template, "AWS::ApiGateway::Method").values())
            api_id, _api = only(template, "AWS::ApiGateway::RestApi")
            on_root = [
                m
                for m in methods
                if m["Properties"]["ResourceId"] == {"Fn::GetAtt": [api_id, "RootResourceId"]}
            ]
            assert any(m["Properties"]["HttpMethod"] == "ANY" for m in on_root)
            for method in methods:
                props = method["Properties"]
                if props["HttpMethod"] == "OPTIONS":
                    continue
                assert props["Integration"]["Type"] == "AWS_PROXY", props
                assert function_id in references(props["Integration"]["Uri"])

    def test_cloudwatch_role_is_retained_because_it_is_account_wide(self, sandbox: Synthesized) -> None:
        template = rag(sandbox)
        _account_id, account = only(template, "AWS::ApiGateway::Account")
        role_id = next(iter(references(account["Properties"]["CloudWatchRoleArn"])))
        assert template["Resources"][role_id]["DeletionPolicy"] == "Retain"
        assert account["DeletionPolicy"] == "Retain"

    def test_cors_is_off_by_default_and_on_when_configured(self, synth) -> None:
        def options(template):
            return [
                m
                for m in resources(template, "AWS::ApiGateway::Method").values()
                if m["Properties"]["HttpMethod"] == "OPTIONS"
            ]

        assert options(rag(synth())) == []
        assert options(rag(synth({"corsAllowOrigins": "https://app.example.com"})))

    @pytest.mark.parametrize(
        ("origins", "expected"),
        [
            ("https://app.example.com", "'https://app.example.com'"),
            ("https://a.example.com,https://b.example.com", "method.request.header.Origin"),
        ],
    )
    def test_cors_reaches_gateway_errors_and_the_function(self, synth, origins, expected) -> None:
        template = rag(synth({"corsAllowOrigins": origins}))
        for response in resources(template, "AWS::ApiGateway::GatewayResponse").values():
            parameters = response["Properties"]["ResponseParameters"]
            assert parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == expected
        _, function = rag_function(template)
        assert function["Properties"]["Environment"]["Variables"]["CORS_ALLOW_ORIGINS"] == origins
        without = rag(synth())
        for response in resources(without, "AWS::ApiGateway::GatewayResponse").values():
            assert (
                "gatewayresponse.header.Access-Control-Allow-Origin"
                not in response["Properties"]["ResponseParameters"]
            )

    @pytest.mark.parametrize(("profile", "count"), [("sandbox", 0), ("prod", 1)])
    def test_waf_with_a_rate_rule_in_prod(self, synth, profile, count) -> None:
        template = rag(synth({"profile": profile}))
        acls = resources(template, "AWS::WAFv2::WebACL")
        assert len(acls) == count
        if count:
            rules = next(iter(acls.values()))["Properties"]["Rules"]
            assert rules[0]["Statement"]["RateBasedStatement"] == {"Limit": 300, "AggregateKeyType": "IP"}
            assert len(resources(template, "AWS::WAFv2::WebACLAssociation")) == 1

    def test_waf_rules_each_have_their_own_priority_rate_limit_first(self, prod: Synthesized) -> None:
        """AWS WAF Developer Guide, "Setting rule priority": "You must give each rule in a protection pack
        (web ACL) a unique priority setting within that protection pack (web ACL)"."""
        rules = only(rag(prod), "AWS::WAFv2::WebACL")[1]["Properties"]["Rules"]
        priorities = {r["Name"]: r["Priority"] for r in rules}
        assert len(set(priorities.values())) == len(rules) == 4
        assert min(priorities, key=priorities.__getitem__) == "RateLimitPerIp"

    def test_waf_body_limit_is_the_apis_own(self, prod: Synthesized) -> None:
        # The managed SizeRestrictions_BODY rule blocks bodies over 8 KB while the API accepts 16 KB: it is
        # counted, and a rule of our own blocks exactly what the function would refuse as too large.
        rules = {r["Name"]: r for r in only(rag(prod), "AWS::WAFv2::WebACL")[1]["Properties"]["Rules"]}
        common = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
        assert common["RuleActionOverrides"] == [
            {"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}
        ]
        size = rules["BodyOverApiLimit"]["Statement"]["SizeConstraintStatement"]
        assert size["ComparisonOperator"] == "GT"
        assert size["Size"] == DEFAULT_MAX_BODY_BYTES == 16_384
        assert size["FieldToMatch"] == {"Body": {"OversizeHandling": "MATCH"}}
        assert rules["BodyOverApiLimit"]["Action"] == {"Block": {}}
        _, function = rag_function(rag(prod))
        assert function["Properties"]["Environment"]["Variables"]["MAX_BODY_BYTES"] == str(
            DEFAULT_MAX_BODY_BYTES
        )


def test_outputs(sandbox: Synthesized) -> None:
    outputs = rag(sandbox)["Outputs"]
    assert {"AskUrl", "ApiId", "GuardrailId", "GuardrailVersion", "DashboardName"} <= set(outputs)
    assert "/ask" in json.dumps(outputs["AskUrl"]["Value"])
