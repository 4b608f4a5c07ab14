"""API Gateway REST API in front of the RAG function: IAM auth, validation, throttling, logs, X-Ray."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from lambdas.rag import constants as rag_constants
from stacks.config import LadderConfig
from stacks.constructs.log_group import log_group
from stacks.lambda_code import LAMBDAS_DIR
from stacks.nag import acknowledge

STAGE = "v1"
REQUEST_SCHEMA = LAMBDAS_DIR / "rag" / "request_schema.json"
# API Gateway answers these itself, in the function's error shape {"error": {"code", "message"}}. Gateway
# response templates get plain $context substitution, no VTL: a message is either a literal or
# $context.error.messageString, which API Gateway substitutes as an already quoted JSON string (so it is
# never wrapped in quotes here). $context.error.validationErrorString is not quoted and holds quotes (e.g.
# ["question"]), so it never appears in a body: a schema rejection says "Invalid request body", and the
# request contract (lambdas/rag/README.md) says what is accepted.
MESSAGE_STRING = "$context.error.messageString"
GATEWAY_ERRORS: dict[apigw.ResponseType, tuple[str, str, str]] = {
    apigw.ResponseType.BAD_REQUEST_BODY: ("400", "InvalidRequest", MESSAGE_STRING),
    apigw.ResponseType.BAD_REQUEST_PARAMETERS: ("400", "InvalidRequest", MESSAGE_STRING),
    apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE: (
        "415",
        "UnsupportedMediaType",
        "Send Content-Type: application/json",
    ),
    apigw.ResponseType.REQUEST_TOO_LARGE: ("413", "PayloadTooLarge", "The request body is too large"),
    apigw.ResponseType.THROTTLED: ("429", "TooManyRequests", "Request rate exceeded; retry later"),
    apigw.ResponseType.INTEGRATION_TIMEOUT: ("504", "DeadlineExceeded", "The answer took too long; retry"),
    apigw.ResponseType.WAF_FILTERED: ("403", "Forbidden", "The request was blocked by the web ACL"),
    apigw.ResponseType.ACCESS_DENIED: ("403", "AccessDenied", MESSAGE_STRING),
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: (
        "403",
        "MissingAuthentication",
        "Sign the request with SigV4",
    ),
    apigw.ResponseType.DEFAULT_4_XX: ("", "ClientError", MESSAGE_STRING),
    apigw.ResponseType.DEFAULT_5_XX: ("", "UpstreamUnavailable", "The service is temporarily unavailable"),
}


# Retry-After (seconds) on the gateway's own throttling and timeout answers.
RETRY_AFTER_SECONDS = {"429": 1, "504": 5}


def gateway_error_template(code: str, message: str) -> str:
    """The body template of a gateway response: JSON once API Gateway has substituted its variables."""
    value = message if message == MESSAGE_STRING else json.dumps(message)
    return '{"error": {"code": ' + json.dumps(code) + ', "message": ' + value + "}}"


def cors_headers(origins: tuple[str, ...]) -> dict[str, str]:
    """Gateway response headers that let a browser on an allowed origin read the gateway's own answers.

    Gateway responses cannot compare the Origin header with a list (no VTL): one origin is returned as is;
    with several, the request's own Origin is echoed, which exposes only these error bodies (the API still
    requires SigV4, and the function itself answers only the configured origins).
    """
    if not origins:
        return {}
    origin = f"'{origins[0]}'" if len(origins) == 1 else "method.request.header.Origin"
    return {"Access-Control-Allow-Origin": origin, "Vary": "'Origin'"}


def request_schema(max_question_chars: int) -> dict[str, Any]:
    """The function's own request schema, with the configured question length."""
    schema: dict[str, Any] = json.loads(Path(REQUEST_SCHEMA).read_text())
    schema["properties"]["question"]["maxLength"] = max_question_chars
    return schema


class RagApi(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: LadderConfig, function: lambda_.IFunction
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = log_group(self, "AccessLogs", config=config)
        cors = None
        if config.cors_allow_origins:
            cors = apigw.CorsOptions(
                allow_origins=list(config.cors_allow_origins),
                allow_methods=["POST", "OPTIONS"],
                allow_headers=apigw.Cors.DEFAULT_HEADERS,
            )
        self.api = apigw.RestApi(
            self,
            "Api",
            description="Ladder: ask a question, get a grounded answer with its sources",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # API Gateway needs an account-level role to write execution logs. The setting is account-wide
            # (every REST API in the region logs through it), so destroying this stack must not take it away.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.RETAIN,
            default_cors_preflight_options=cors,
            default_method_options=apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM),
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                throttling_rate_limit=config.api_rate_limit,
                throttling_burst_limit=config.api_burst_limit,
                tracing_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # never log request/response bodies
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
        )
        # Execution logging (ERROR) makes API Gateway create this group itself, named by the service and
        # never expiring; created here first, it follows the profile and goes with the stack.
        self.execution_logs = log_group(
            self,
            "ExecutionLogs",
            config=config,
            name=f"API-Gateway-Execution-Logs_{self.api.rest_api_id}/{STAGE}",
        )
        self.api.deployment_stage.node.add_dependency(self.execution_logs)
        integration = apigw.LambdaIntegration(function, proxy=True)
        model = self.api.add_model(
            "AskRequest",
            content_type="application/json",
            model_name="AskRequest",
            schema=apigw.JsonSchema(**_jsii_schema(request_schema(config.max_question_chars))),
        )
        validator = self.api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        ask = self.api.root.add_resource("ask")
        ask.add_method(
            "POST", integration, request_models={"application/json": model}, request_validator=validator
        )
        # Other methods and routes reach the function too (still SigV4-signed), which answers 405/404 with
        # the API's error shape.
        ask.add_method("ANY", integration)
        # The root gets its own ANY first: add_proxy would otherwise add one to the root without the
        # integration, a MOCK that answers 500 (aws/aws-cdk#8453).
        self.api.root.add_method("ANY", integration)
        self.api.root.add_proxy(default_integration=integration, any_method=True)

        for response_type, (status, code, message) in GATEWAY_ERRORS.items():
            self.api.add_gateway_response(
                f"Gateway{code}{response_type.response_type}",
                type=response_type,
                status_code=status or None,
                response_headers={
                    "Content-Type": "'application/json'",
                    **(
                        {"Retry-After": f"'{RETRY_AFTER_SECONDS[status]}'"}
                        if status in RETRY_AFTER_SECONDS
                        else {}
                    ),
                    **cors_headers(config.cors_allow_origins),
                },
                templates={"application/json": gateway_error_template(code, message)},
            )
        # No usage plan: without API keys a plan enforces no quota (callers are SigV4 principals), and the
        # stage's own throttling above already limits the rate.

        self.web_acl: wafv2.CfnWebACL | None = None
        if config.waf:
            self.web_acl = self._web_acl(config)
        else:
            acknowledge(
                self.api.deployment_stage,
                "AwsSolutions-APIG3",
                "Sandbox profile: WAF (about $6/month) is attached in the prod profile; here the stage is "
                "SigV4-only and throttled.",
            )
        acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "The API uses IAM (SigV4) authorization: callers are AWS principals, not Cognito users.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level logging role needs exactly this AWS-managed push-to-logs policy.",
        )

    @property
    def ask_url(self) -> str:
        return self.api.url_for_path("/ask")

    def _web_acl(self, config: LadderConfig) -> wafv2.CfnWebACL:
        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            )

        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility("ladder-api"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="RateLimitPerIp",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=config.waf_rate_limit, aggregate_key_type="IP"
                        )
                    ),
                    visibility_config=visibility("ladder-api-rate"),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name="BodyOverApiLimit",
                    priority=1,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
                            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                                body=wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")
                            ),
                            comparison_operator="GT",
                            size=rag_constants.DEFAULT_MAX_BODY_BYTES,
                            text_transformations=[
                                wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
                            ],
                        )
                    ),
                    visibility_config=visibility("ladder-api-body-size"),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name="AWSManagedRulesCommonRuleSet",
                    priority=2,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS",
                            name="AWSManagedRulesCommonRuleSet",
                            # Its SizeRestrictions_BODY blocks bodies over 8 KB, a limit that cannot be
                            # raised, while the API accepts MAX_BODY_BYTES (16 KB): count it, and let
                            # BodyOverApiLimit block at the API's own limit instead.
                            rule_action_overrides=[
                                wafv2.CfnWebACL.RuleActionOverrideProperty(
                                    name="SizeRestrictions_BODY",
                                    action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}),
                                )
                            ],
                        )
                    ),
                    visibility_config=visibility("ladder-api-common"),
                ),
                # Request patterns known to exploit backends (Log4j JNDI lookups): checkov CKV_AWS_192
                wafv2.CfnWebACL.RuleProperty(
                    name="AWSManagedRulesKnownBadInputsRuleSet",
                    priority=3,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name="AWSManagedRulesKnownBadInputsRuleSet"
                        )
                    ),
                    visibility_config=visibility("ladder-api-bad-inputs"),
                ),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.api.deployment_stage.stage_arn,
            web_acl_arn=acl.attr_arn,
        )
        return acl


_SCHEMA_KEYS = {
    "$schema": "schema",
    "title": "title",
    "description": "description",
    "type": "type",
    "additionalProperties": "additional_properties",
    "required": "required",
    "properties": "properties",
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "enum": "enum",
    "minimum": "minimum",
    "maximum": "maximum",
    "minProperties": "min_properties",
    "maxProperties": "max_properties",
    "items": "items",
}
_TYPES = {t.name.lower(): t for t in apigw.JsonSchemaType}
_VERSIONS = {"http://json-schema.org/draft-04/schema#": apigw.JsonSchemaVersion.DRAFT4}


def _jsii_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Convert a JSON Schema document into apigateway.JsonSchema keyword arguments."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _SCHEMA_KEYS:
            raise ValueError(f"request_schema.json: unsupported JSON Schema keyword {key!r}")
        name = _SCHEMA_KEYS[key]
        if key == "$schema":
            value = _VERSIONS[value]
        elif key == "type":
            value = _TYPES[value]
        elif key == "properties":
            value = {k: apigw.JsonSchema(**_jsii_schema(v)) for k, v in value.items()}
        elif key in ("items",) or (key == "additionalProperties" and isinstance(value, dict)):
            value = apigw.JsonSchema(**_jsii_schema(value))
        out[name] = value
    return out
