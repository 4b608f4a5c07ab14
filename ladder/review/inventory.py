"""What gets created, what survives ``cdk destroy``, and why the optional stacks exist."""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from typing import Any

from ladder.review.model import Assembly, Stack

FINE_TUNE_REASON_KEY = "Ladder::FineTuneReason"
KEPT_POLICIES = ("Retain", "RetainExceptOnCreate", "Snapshot")


def _fingerprint(resource: dict[str, Any]) -> str:
    """A short hash of a resource's properties, so a later review can tell what changed."""
    properties = json.dumps(resource.get("Properties", {}), sort_keys=True)
    return hashlib.sha256(properties.encode()).hexdigest()[:16]


@functools.cache
def create_only_properties(resource_type: str, region: str = "us-east-1") -> tuple[str, ...]:
    """Property paths whose change makes CloudFormation replace the resource, from the resource type's
    registry schema (``createOnlyProperties``) as cfn-lint ships it; empty for custom resources."""
    try:
        from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
    except ImportError:  # pragma: no cover - make review installs cfn-lint
        return ()
    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type)
    except Exception:  # a custom resource or a type this cfn-lint does not know
        return ()
    return tuple(path.removeprefix("/properties/") for path in schema.schema.get("createOnlyProperties", []))


def _value_at(properties: dict[str, Any], path: str) -> Any:
    value: Any = properties
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _replace_key(resource: dict[str, Any]) -> str:
    """A hash of the create-only property values: when it differs between two reviews, the resource is
    replaced (a new physical resource, data not carried over)."""
    properties = resource.get("Properties", {})
    immutable = {path: _value_at(properties, path) for path in create_only_properties(resource["Type"])}
    return hashlib.sha256(json.dumps(immutable, sort_keys=True).encode()).hexdigest()[:16]


def resources(stack: Stack) -> list[dict[str, Any]]:
    return [
        {
            "logicalId": logical_id,
            "type": resource["Type"],
            "path": stack.paths.get(logical_id, ""),
            "deletionPolicy": resource.get("DeletionPolicy", "Delete"),
            "updateReplacePolicy": resource.get("UpdateReplacePolicy", "Delete"),
            "fingerprint": _fingerprint(resource),
            "replaceKey": _replace_key(resource),
        }
        for logical_id, resource in stack.resources.items()
    ]


def stacks(assembly: Assembly) -> list[dict[str, Any]]:
    """Per stack: its resources, counts by type, and those a ``cdk destroy`` leaves behind."""
    rows = []
    for stack in assembly.stacks:
        listed = resources(stack)
        rows.append(
            {
                "name": stack.name,
                "description": stack.template.get("Description", ""),
                "resources": listed,
                "countsByType": dict(sorted(Counter(r["type"] for r in listed).items())),
                "survivesDestroy": [r for r in listed if r["deletionPolicy"] in KEPT_POLICIES],
            }
        )
    return rows


def optional_stacks(assembly: Assembly) -> list[dict[str, Any]]:
    """The fine-tune stack: off, or on with the reason its template records (a verdict or an override)."""
    fine_tune = [stack for stack in assembly.stacks if stack.name.endswith("FineTune")]
    if not fine_tune:
        return [{"stack": "FineTune", "on": False, "reason": None}]
    rows = []
    for stack in fine_tune:
        reason = stack.template.get("Metadata", {}).get(FINE_TUNE_REASON_KEY)
        rows.append({"stack": stack.name, "on": True, "reason": reason if isinstance(reason, dict) else None})
    return rows
