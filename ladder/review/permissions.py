"""What a security reviewer signs: one row per IAM role (who may assume it, then each statement as
actions -> resources -> conditions) and every resource policy, with wildcard resources flagged next to the
cdk-nag acknowledgement that allows them."""

from __future__ import annotations

import json
from typing import Any

from ladder.review.model import Assembly, Stack

RESOURCE_POLICY_TYPES = {
    "AWS::S3::BucketPolicy": ("Bucket", "PolicyDocument"),
    "AWS::SQS::QueuePolicy": ("Queues", "PolicyDocument"),
    "AWS::SNS::TopicPolicy": ("Topics", "PolicyDocument"),
    "AWS::KMS::Key": ("", "KeyPolicy"),
    "AWS::ApiGateway::RestApi": ("", "Policy"),
    "AWS::OpenSearchServerless::AccessPolicy": ("Name", "Policy"),
    "AWS::S3Vectors::VectorBucketPolicy": ("VectorBucketName", "Policy"),
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principals(assembly: Assembly, stack: str, principal: Any) -> list[str]:
    if principal == "*":
        return ["*"]
    if not isinstance(principal, dict):
        return [assembly.text(stack, principal)]
    return [
        f"{kind}: {assembly.text(stack, value)}"
        for kind, values in sorted(principal.items())
        for value in _as_list(values)
    ]


def _conditions(assembly: Assembly, stack: str, condition: Any) -> list[str]:
    if not condition:
        return []
    return [
        f"{operator} {key} = {assembly.text(stack, value)}"
        for operator, tests in sorted(condition.items())
        for key, value in sorted(tests.items())
    ]


def _statement(
    assembly: Assembly, stack: Stack, statement: dict[str, Any], acknowledgements: list[tuple[str, str]]
) -> dict[str, Any]:
    resources = []
    for resource in _as_list(statement.get("Resource", statement.get("NotResource", []))):
        text = assembly.text(stack.name, resource)
        entry: dict[str, Any] = {"text": text, "wildcard": "*" in text}
        if entry["wildcard"]:
            entry["acknowledgement"] = _acknowledgement_for(
                assembly.nag_text(stack.name, resource), acknowledgements
            )
        resources.append(entry)
    return {
        "effect": statement.get("Effect", "Allow"),
        "actions": sorted(str(a) for a in _as_list(statement.get("Action", statement.get("NotAction", [])))),
        "notAction": "NotAction" in statement,
        "resources": resources,
        "principals": _principals(assembly, stack.name, statement["Principal"])
        if "Principal" in statement
        else [],
        "conditions": _conditions(assembly, stack.name, statement.get("Condition")),
    }


def _acknowledgement_for(nag_resource: str, acknowledgements: list[tuple[str, str]]) -> str | None:
    """The reason of the IAM5 acknowledgement whose finding names exactly this resource."""
    for finding, reason in acknowledgements:
        if finding == f"AwsSolutions-IAM5[Resource::{nag_resource}]":
            return reason
    return None


def _acknowledgements_over(stack: Stack, path: str) -> list[tuple[str, str]]:
    """Acknowledgements recorded on ``path`` or any construct above it (they apply to everything below)."""
    return [
        (ack.finding, ack.reason)
        for ack in stack.acknowledgements
        if path == ack.path or path.startswith(ack.path + "/")
    ]


def _policy_document(assembly: Assembly, stack: str, value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict) and "Statement" in value:
        return value
    # OpenSearch Serverless and some others take the policy as a JSON string, often joined around ARNs.
    text = assembly.text(stack, value)
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else {"Statement": parsed}


def roles(assembly: Assembly) -> list[dict[str, Any]]:
    """One row per AWS::IAM::Role in the app."""
    rows = []
    for stack in assembly.stacks:
        attached: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for policy_id, policy in stack.of_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for role in _as_list(policy["Properties"].get("Roles", [])):
                for ref in assembly.refs(stack.name, role):
                    attached.setdefault(ref.logical_id, []).append((policy_id, policy["Properties"]))
        for role_id, role in stack.of_type("AWS::IAM::Role"):
            props = role["Properties"]
            trust = [
                {
                    "principals": _principals(assembly, stack.name, statement.get("Principal", {})),
                    "actions": sorted(_as_list(statement.get("Action", []))),
                    "conditions": _conditions(assembly, stack.name, statement.get("Condition")),
                }
                for statement in props.get("AssumeRolePolicyDocument", {}).get("Statement", [])
            ]
            statements = []
            role_path = stack.paths.get(role_id, role_id)
            for inline in props.get("Policies", []):
                acks = _acknowledgements_over(stack, role_path)
                for statement in inline["PolicyDocument"]["Statement"]:
                    statements.append(
                        {"policy": inline.get("PolicyName", role_id)}
                        | _statement(assembly, stack, statement, acks)
                    )
            for policy_id, policy in attached.get(role_id, []):
                acks = _acknowledgements_over(stack, stack.paths.get(policy_id, policy_id))
                acks += _acknowledgements_over(stack, role_path)
                for statement in policy["PolicyDocument"]["Statement"]:
                    statements.append({"policy": policy_id} | _statement(assembly, stack, statement, acks))
            rows.append(
                {
                    "stack": stack.name,
                    "logicalId": role_id,
                    "path": role_path,
                    "usedBy": used_by(stack, role_id),
                    "trust": trust,
                    "managedPolicies": [
                        assembly.text(stack.name, arn) for arn in props.get("ManagedPolicyArns", [])
                    ],
                    "statements": statements,
                }
            )
    return rows


def used_by(stack: Stack, role_id: str) -> list[str]:
    """Logical ids of the resources that run as this role (functions, knowledge bases, state machines)."""
    users = []
    for logical_id, resource in stack.resources.items():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role"):
            continue
        props = resource.get("Properties", {})
        for key in ("Role", "RoleArn", "ExecutionRoleArn", "ServiceRoleArn"):
            if role_id in json.dumps(props.get(key, "")):
                users.append(logical_id)
    return users


def resource_policies(assembly: Assembly) -> list[dict[str, Any]]:
    """Bucket, queue, topic, key, API and vector-collection data-access policies, plus Lambda permissions."""
    rows = []
    for stack in assembly.stacks:
        for logical_id, resource in stack.of_type(*RESOURCE_POLICY_TYPES):
            target_key, document_key = RESOURCE_POLICY_TYPES[resource["Type"]]
            props = resource.get("Properties", {})
            if document_key not in props:
                continue
            document = _policy_document(assembly, stack.name, props[document_key])
            target = assembly.text(stack.name, props[target_key]) if target_key in props else logical_id
            row: dict[str, Any] = {
                "stack": stack.name,
                "logicalId": logical_id,
                "type": resource["Type"],
                "on": target,
                "path": stack.paths.get(logical_id, logical_id),
            }
            if resource["Type"] == "AWS::OpenSearchServerless::AccessPolicy" and document is not None:
                row["rules"] = _data_access_rules(document)
            elif document is not None:
                acks = _acknowledgements_over(stack, row["path"])
                row["statements"] = [
                    _statement(assembly, stack, statement, acks)
                    for statement in _as_list(document["Statement"])
                ]
            else:
                row["raw"] = assembly.text(stack.name, props[document_key])
            rows.append(row)
        for logical_id, resource in stack.of_type("AWS::Lambda::Permission"):
            props = resource["Properties"]
            rows.append(
                {
                    "stack": stack.name,
                    "logicalId": logical_id,
                    "type": resource["Type"],
                    "on": assembly.text(stack.name, props["FunctionName"]),
                    "path": stack.paths.get(logical_id, logical_id),
                    "statements": [
                        {
                            "effect": "Allow",
                            "actions": [props["Action"]],
                            "notAction": False,
                            "resources": [
                                {"text": assembly.text(stack.name, props["FunctionName"]), "wildcard": False}
                            ],
                            "principals": [assembly.text(stack.name, props["Principal"])],
                            "conditions": [
                                f"{key} = {assembly.text(stack.name, props[key])}"
                                for key in ("SourceArn", "SourceAccount")
                                if key in props
                            ],
                        }
                    ],
                }
            )
    return rows


def _data_access_rules(document: dict[str, Any]) -> list[dict[str, Any]]:
    """An OpenSearch Serverless data access policy: principals -> rules (type, resources, permissions)."""
    return [
        {
            "principals": [str(p) for p in _as_list(statement.get("Principal", []))],
            "rules": [
                {
                    "resourceType": rule.get("ResourceType", ""),
                    "resources": _as_list(rule.get("Resource", [])),
                    "permissions": _as_list(rule.get("Permission", [])),
                }
                for rule in statement.get("Rules", [])
            ],
        }
        for statement in _as_list(document["Statement"])
    ]
