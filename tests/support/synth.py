"""Synthesize the real app (real aws-cdk-lib, real cdk-nag) into a folder and read the templates back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import cx_api as cxapi

from stacks.application import build_app
from stacks.config import LadderConfig

REPO_ROOT = Path(__file__).resolve().parents[2]


def default_context() -> dict[str, Any]:
    return json.loads((REPO_ROOT / "cdk.json").read_text())["context"]


@dataclass(frozen=True)
class Synthesized:
    config: LadderConfig
    outdir: Path
    templates: dict[str, dict[str, Any]]
    warnings: dict[str, list[str]]
    """Synth warnings (``Annotations.add_warning_v2``) of each stack, by stack name."""

    def template(self, suffix: str) -> dict[str, Any]:
        """Template of the stack whose name ends with ``suffix`` (``Knowledge``, ``RagApi``, ``FineTune``)."""
        matches = [name for name in self.templates if name.endswith(suffix)]
        assert len(matches) == 1, f"expected one stack ending with {suffix}, got {sorted(self.templates)}"
        return self.templates[matches[0]]


def synthesize(outdir: Path, overrides: Mapping[str, Any] | None = None) -> Synthesized:
    """``overrides`` are given as strings, exactly as a user would pass ``-c key=value``."""
    context = default_context()
    context.update(overrides or {})
    app = cdk.App(context=context, outdir=str(outdir))
    built = build_app(app)
    assembly = app.synth()
    templates = {stack.stack_name: stack.template for stack in assembly.stacks}
    warnings = {
        stack.stack_name: [
            str(message.entry.data)
            for message in stack.messages
            if message.level == cxapi.SynthesisMessageLevel.WARNING
        ]
        for stack in assembly.stacks
    }
    return Synthesized(config=built.config, outdir=outdir, templates=templates, warnings=warnings)


def resources(template: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def only(template: Mapping[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
    return next(iter(found.items()))


def references(value: Any) -> set[str]:
    """Logical ids a property value points at through Ref / Fn::GetAtt (recursively)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                found.add(target)
            else:
                found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return found


def depends_on(template: Mapping[str, Any], logical_id: str) -> set[str]:
    """Direct deploy-order predecessors: DependsOn plus Ref/GetAtt targets."""
    resource = template["Resources"][logical_id]
    explicit = resource.get("DependsOn", [])
    explicit = [explicit] if isinstance(explicit, str) else explicit
    refs = references(resource.get("Properties", {})) & set(template["Resources"])
    return set(explicit) | refs


def comes_before(template: Mapping[str, Any], first: str, then: str) -> bool:
    """True when ``then`` transitively depends on ``first`` in the template's dependency graph."""
    seen: set[str] = set()
    stack = [then]
    while stack:
        current = stack.pop()
        for dep in depends_on(template, current):
            if dep == first:
                return True
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return False


def policy_statements(template: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every IAM statement in inline policies, managed policies and roles, with its owner's logical id."""
    out: list[tuple[str, dict[str, Any]]] = []
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        documents = []
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append(props["PolicyDocument"])
        if resource["Type"] == "AWS::IAM::Role":
            documents += [p["PolicyDocument"] for p in props.get("Policies", [])]
        for document in documents:
            out += [(logical_id, statement) for statement in document["Statement"]]
    return out


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
