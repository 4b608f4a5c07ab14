"""The architecture as a Mermaid flowchart, derived from the templates: the resources that matter, one
subgraph per stack, and edges for data flow (event sources, rule targets, API integrations, references
between resources, and IAM grants from a role to what it may touch)."""

from __future__ import annotations

import re
from typing import Any

from ladder.review.model import Assembly, Ref, short_type

NODE_TYPES = {
    "AWS::S3::Bucket": "bucket",
    "AWS::OpenSearchServerless::Collection": "vector collection",
    "AWS::OpenSearchServerless::Index": "vector index",
    "AWS::S3Vectors::VectorBucket": "vector bucket",
    "AWS::S3Vectors::Index": "vector index",
    "AWS::Bedrock::KnowledgeBase": "knowledge base",
    "AWS::Bedrock::DataSource": "data source",
    "AWS::Bedrock::Guardrail": "guardrail",
    "AWS::Lambda::Function": "function",
    "AWS::ApiGateway::RestApi": "REST API",
    "AWS::SQS::Queue": "queue",
    "AWS::SNS::Topic": "topic",
    "AWS::StepFunctions::StateMachine": "state machine",
    "AWS::Events::Rule": "event rule",
    "AWS::IAM::Role": "role",
    "AWS::WAFv2::WebACL": "WAF ACL",
    "AWS::SSM::Parameter": "parameter",
}
# Properties that only name a resource for bookkeeping (not data flow) and would clutter the picture.
IGNORED_PROPERTIES = {"Tags", "LoggingConfig", "LoggingConfiguration", "Layers", "Code", "Description"}
# Resources that aws-cdk-lib adds for itself (auto-delete handlers, log retention).
CDK_INTERNAL = re.compile(r"^(Custom|LogRetention|AWS679f53fac002430cb0da5b7982bd2287)")
SAFE_ID = re.compile(r"[^A-Za-z0-9_]")


def node_id(stack: str, logical_id: str) -> str:
    return SAFE_ID.sub("_", f"{stack}_{logical_id}")


def _label(logical_id: str, resource_type: str) -> str:
    readable = re.sub(r"[0-9A-F]{8}$", "", logical_id) or logical_id
    return f"{readable}<br/><i>{NODE_TYPES.get(resource_type, short_type(resource_type))}</i>"


def nodes(assembly: Assembly) -> dict[tuple[str, str], str]:
    """(stack, logical id) -> resource type of every resource drawn."""
    return {
        (stack.name, logical_id): resource["Type"]
        for stack in assembly.stacks
        for logical_id, resource in stack.resources.items()
        if resource["Type"] in NODE_TYPES and not CDK_INTERNAL.match(logical_id)
    }


def edges(assembly: Assembly) -> set[tuple[tuple[str, str], tuple[str, str], str]]:
    """(from, to, label) between drawn nodes."""
    drawn = nodes(assembly)
    found: set[tuple[tuple[str, str], tuple[str, str], str]] = set()

    def add(source: Ref | tuple[str, str], target: Ref | tuple[str, str], label: str) -> None:
        a = (source.stack, source.logical_id) if isinstance(source, Ref) else source
        b = (target.stack, target.logical_id) if isinstance(target, Ref) else target
        if a in drawn and b in drawn and a != b:
            found.add((a, b, label))

    for stack in assembly.stacks:
        for logical_id, resource in stack.resources.items():
            kind = resource["Type"]
            props: dict[str, Any] = resource.get("Properties", {})
            here = (stack.name, logical_id)
            if kind == "AWS::Lambda::EventSourceMapping":
                for source in assembly.refs(stack.name, props.get("EventSourceArn")):
                    for function in assembly.refs(stack.name, props.get("FunctionName")):
                        add(source, function, "event source")
            elif kind == "AWS::Events::Rule":
                for target in props.get("Targets", []):
                    for ref in assembly.refs(stack.name, target.get("Arn")):
                        add(here, ref, "target")
                for ref in assembly.refs(stack.name, props.get("EventPattern")):
                    add(ref, here, "events")
            elif kind == "AWS::ApiGateway::Method":
                for function in assembly.refs(stack.name, props.get("Integration", {}).get("Uri")):
                    for api in assembly.refs(stack.name, props.get("RestApiId")):
                        add(api, function, "integration")
            elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                targets = assembly.refs(stack.name, props.get("PolicyDocument"))
                for role in assembly.refs(stack.name, props.get("Roles", [])):
                    for target in targets:
                        add(role, target, "IAM")
            elif kind == "AWS::WAFv2::WebACLAssociation":
                for acl in assembly.refs(stack.name, props.get("WebACLArn")):
                    for target in assembly.refs(stack.name, props.get("ResourceArn")):
                        stage = assembly.stack(target.stack).resources[target.logical_id]
                        for api in assembly.refs(target.stack, stage.get("Properties", {}).get("RestApiId")):
                            add(acl, api, "protects")
            elif here in drawn:
                for key, value in props.items():
                    if key in IGNORED_PROPERTIES:
                        continue
                    for ref in assembly.refs(stack.name, value):
                        label = "runs as" if kind != "AWS::IAM::Role" and "Role" in key else key
                        add(here, ref, label)
    return found


def mermaid(assembly: Assembly) -> str:
    """Mermaid flowchart source of the whole app."""
    drawn = nodes(assembly)
    lines = ["flowchart LR"]
    for stack in assembly.stacks:
        lines.append(f'  subgraph {SAFE_ID.sub("_", stack.name)}["{stack.name}"]')
        for (stack_name, logical_id), kind in drawn.items():
            if stack_name == stack.name:
                lines.append(f'    {node_id(stack_name, logical_id)}["{_label(logical_id, kind)}"]')
        lines.append("  end")
    for a, b, label in sorted(edges(assembly)):
        lines.append(f'  {node_id(*a)} -->|"{label}"| {node_id(*b)}')
    return "\n".join(lines) + "\n"
