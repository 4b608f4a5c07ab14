"""checkov's verdict on every template, made complete in one place: an Aspect that records, on the resource
itself, why each remaining checkov finding is accepted (checkov's standard ``Metadata.checkov.skip``).

A skip is only added where the fact that justifies it is visible in the app (how a function is invoked, what
a bucket is for), so a new resource that does not fit gets no skip and the checkov test fails on it.
Findings worth fixing are fixed in the stacks instead (the WAF's known-bad-inputs rule group).
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import jsii
from constructs import IConstruct

NO_VPC = (
    "The function calls only AWS service APIs (Bedrock, S3, SQS, SSM, Step Functions) over IAM-authenticated "
    "TLS and reaches nothing private; a VPC would add NAT or interface endpoints that bill by the hour."
)
PLAIN_ENVIRONMENT = (
    "The environment holds resource names, ids and settings only, never a secret; Lambda encrypts it at rest "
    "with its service key, and a customer managed key would only add cost and a decrypt permission."
)
UNRESERVED_CONCURRENCY = (
    "Concurrency is bounded where the calls come from (API Gateway stage throttling, the SQS event source's "
    "maximum concurrency, one Step Functions execution at a time); reserving it would take capacity from the "
    "account's shared pool."
)
LOGS_SERVICE_KEY = (
    "CloudWatch Logs encrypts every log group at rest with its service key; the logs hold request metadata "
    "and errors, never documents or answers, so a customer managed key would add cost and key-policy upkeep "
    "without protecting more."
)
NO_STAGE_CACHE = (
    "Answers depend on the caller's question and the knowledge base's current content: a stage cache would "
    "serve stale answers, and a cache cluster bills every hour even when idle."
)
SQS_MANAGED_SSE = (
    "The queue is encrypted at rest with SQS-managed keys (SqsManagedSseEnabled: true); checkov's CKV_AWS_27 "
    "recognises only KmsMasterKeyId, and an AWS managed aws/sqs key would stop EventBridge from delivering."
)
ACCESS_LOG_DESTINATION_LOGGING = (
    "This bucket is the destination of the other buckets' server access logs; logging it into itself "
    "would loop."
)
ACCESS_LOG_DESTINATION_VERSIONING = (
    "This bucket holds only server access logs that S3 writes once and a lifecycle rule expires; versioning "
    "would keep deleted log objects longer without making any of them recoverable that matters."
)
DLQ_BY_TRIGGER = {
    "api": "API Gateway invokes this function synchronously and returns its errors to the caller; a function "
    "dead-letter queue applies only to asynchronous invocations.",
    "sqs": "An SQS event source invokes this function synchronously; messages that keep failing move to the "
    "source queue's own dead-letter queue.",
    "schedule": "A schedule invokes this function and every run re-checks the same recent state, so a lost "
    "invocation is covered by the next one.",
    "states": "Step Functions invokes this function synchronously, retries it and records each failure in "
    "the execution history.",
    "cloudformation": "CloudFormation invokes this custom-resource handler synchronously and fails the "
    "deployment on its errors.",
}


CHECKED_TYPES = {
    "AWS::Lambda::Function",
    "AWS::Logs::LogGroup",
    "AWS::ApiGateway::Stage",
    "AWS::SQS::Queue",
    "AWS::S3::Bucket",
}


def _logical_id(resource: cdk.CfnResource) -> str:
    return str(cdk.Stack.of(resource).resolve(resource.logical_id))


def _properties(resource: cdk.CfnResource) -> str:
    """The resource's properties as template JSON (local references resolved to logical ids)."""
    stack = cdk.Stack.of(resource)
    # jsii exposes the protected renderer that turns the L1's properties into CloudFormation's names.
    # Resolve first: the renderer validates values and rejects the lazy ones a construct still holds.
    properties = stack.resolve(resource._cfn_properties)
    return json.dumps(stack.resolve(resource._render_properties(properties)))


def _triggers(function: cdk.CfnResource) -> set[str]:
    """How the function is invoked, read from the resources in its stack that point at it."""
    stack = cdk.Stack.of(function)
    target = json.dumps(_logical_id(function))
    queues = [
        json.dumps(_logical_id(node))
        for node in stack.node.find_all()
        if isinstance(node, cdk.aws_sqs.CfnQueue)
    ]
    found = set()
    if function.cfn_resource_type == "AWS::Lambda::Function" and not isinstance(
        function, cdk.aws_lambda.CfnFunction
    ):
        found.add("cloudformation")
    for node in stack.node.find_all():
        if not isinstance(node, cdk.CfnResource) or node is function:
            continue
        kind = node.cfn_resource_type
        if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
            # A custom resource (e.g. an AwsCustomResource's Custom::AWS) whose ServiceToken is the function.
            if target in _properties(node):
                found.add("cloudformation")
            continue
        if kind not in {
            "AWS::Lambda::Permission",
            "AWS::Lambda::EventSourceMapping",
            "AWS::Events::Rule",
            "AWS::StepFunctions::StateMachine",
        }:
            continue
        properties = _properties(node)
        if target not in properties:
            continue
        if kind == "AWS::Lambda::Permission" and "apigateway.amazonaws.com" in properties:
            found.add("api")
        elif kind == "AWS::Lambda::EventSourceMapping" and any(queue in properties for queue in queues):
            found.add("sqs")
        elif kind == "AWS::Events::Rule" and "ScheduleExpression" in properties:
            found.add("schedule")
        elif kind == "AWS::StepFunctions::StateMachine":
            found.add("states")
    return found


def _is_access_log_destination(bucket: cdk.CfnResource) -> bool:
    """True when another bucket in the stack sends its server access logs here."""
    target = json.dumps(_logical_id(bucket))
    for node in cdk.Stack.of(bucket).node.find_all():
        if isinstance(node, cdk.aws_s3.CfnBucket) and node is not bucket:
            logging = json.loads(_properties(node)).get("LoggingConfiguration", {})
            if target in json.dumps(logging.get("DestinationBucketName")):
                return True
    return False


def skips_for(resource: cdk.CfnResource) -> dict[str, str]:
    """checkov check id -> reason, for the findings this resource is known to raise and that are accepted."""
    kind = resource.cfn_resource_type
    if kind not in CHECKED_TYPES:
        return {}
    properties: dict[str, Any] = json.loads(_properties(resource))
    skips: dict[str, str] = {}
    if kind == "AWS::Lambda::Function":
        triggers = _triggers(resource)
        if triggers and all(trigger in DLQ_BY_TRIGGER for trigger in triggers):
            skips["CKV_AWS_116"] = " ".join(DLQ_BY_TRIGGER[trigger] for trigger in sorted(triggers))
        if "VpcConfig" not in properties:
            skips["CKV_AWS_117"] = NO_VPC
        if "ReservedConcurrentExecutions" not in properties and triggers:
            skips["CKV_AWS_115"] = UNRESERVED_CONCURRENCY
        if "Environment" in properties and "KmsKeyArn" not in properties:
            skips["CKV_AWS_173"] = PLAIN_ENVIRONMENT
    elif kind == "AWS::Logs::LogGroup" and "KmsKeyId" not in properties:
        skips["CKV_AWS_158"] = LOGS_SERVICE_KEY
    elif kind == "AWS::ApiGateway::Stage" and not properties.get("CacheClusterEnabled"):
        skips["CKV_AWS_120"] = NO_STAGE_CACHE
    elif (
        kind == "AWS::SQS::Queue"
        and properties.get("SqsManagedSseEnabled")
        and "KmsMasterKeyId" not in properties
    ):
        skips["CKV_AWS_27"] = SQS_MANAGED_SSE
    elif kind == "AWS::S3::Bucket" and _is_access_log_destination(resource):
        skips["CKV_AWS_18"] = ACCESS_LOG_DESTINATION_LOGGING
        if properties.get("VersioningConfiguration", {}).get("Status") != "Enabled":
            skips["CKV_AWS_21"] = ACCESS_LOG_DESTINATION_VERSIONING
    return skips


def skip_checkov(resource: cdk.CfnResource, check: str, reason: str) -> None:
    """Accept one checkov finding on the resource where the decision that causes it is made."""
    existing = resource.get_metadata("checkov") or {}
    resource.add_metadata("checkov", {"skip": [*existing.get("skip", []), {"id": check, "comment": reason}]})


@jsii.implements(cdk.IAspect)
class CheckovSuppressions:
    """Adds ``Metadata.checkov.skip`` with a specific reason to each resource for its accepted findings."""

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, cdk.CfnResource):
            return
        skips = skips_for(node)
        if skips:
            existing = node.get_metadata("checkov") or {}
            node.add_metadata(
                "checkov",
                {
                    "skip": [
                        *existing.get("skip", []),
                        *({"id": check, "comment": reason} for check, reason in sorted(skips.items())),
                    ]
                },
            )
