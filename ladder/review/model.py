"""Read a synthesized cloud assembly (``cdk.out``) into what every review section needs: each stack's
template, the construct path of each logical id, cdk-nag's acknowledgements, and a readable rendering of
CloudFormation intrinsic functions (cross-stack imports resolved to the resource they export)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ladder.errors import SetupError

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"
LOGICAL_ID = "aws:cdk:logicalId"


@dataclass(frozen=True)
class Acknowledgement:
    """One cdk-nag finding acknowledged on a construct (and everything below it), with its reason."""

    path: str
    finding: str
    reason: str


@dataclass(frozen=True)
class Stack:
    name: str
    template: dict[str, Any]
    paths: dict[str, str]
    """Logical id -> construct path (``LadderRagApi/Rag/Role/Resource``)."""
    acknowledgements: tuple[Acknowledgement, ...]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template.get("Resources", {})
        return resources

    def of_type(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if resource["Type"] in types:
                yield logical_id, resource


@dataclass(frozen=True)
class Ref:
    """A resource in the app that a value points at (``attribute`` is '' for a plain Ref)."""

    stack: str
    logical_id: str
    attribute: str = ""


@dataclass
class Assembly:
    outdir: Path
    stacks: list[Stack]
    exports: dict[str, tuple[str, Any]] = field(default_factory=dict)
    """Export name -> (exporting stack, exported value)."""

    def __post_init__(self) -> None:
        for stack in self.stacks:
            for output in stack.template.get("Outputs", {}).values():
                export = output.get("Export", {}).get("Name")
                if isinstance(export, str):
                    self.exports[export] = (stack.name, output["Value"])

    def stack(self, name: str) -> Stack:
        return next(stack for stack in self.stacks if stack.name == name)

    def refs(self, stack: str, value: Any) -> set[Ref]:
        """Every resource ``value`` points at through Ref, Fn::GetAtt, Fn::Sub or Fn::ImportValue."""
        found: set[Ref] = set()
        resources = self.stack(stack).resources
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "Ref" and inner in resources:
                    found.add(Ref(stack, inner))
                elif key == "Fn::GetAtt":
                    target, attribute = _get_att(inner)
                    if target in resources:
                        found.add(Ref(stack, target, attribute))
                elif key == "Fn::ImportValue" and isinstance(inner, str) and inner in self.exports:
                    source, exported = self.exports[inner]
                    found |= self.refs(source, exported)
                elif key == "Fn::GetStackOutput" and (output := self._stack_output(inner)) is not None:
                    found |= self.refs(*output)
                elif key == "Fn::Sub":
                    text = inner[0] if isinstance(inner, list) else inner
                    for name in _sub_names(text):
                        target, _, attribute = name.partition(".")
                        if target in resources:
                            found.add(Ref(stack, target, attribute))
                    if isinstance(inner, list):
                        found |= self.refs(stack, inner[1])
                else:
                    found |= self.refs(stack, inner)
        elif isinstance(value, list):
            for inner in value:
                found |= self.refs(stack, inner)
        return found

    def text(self, stack: str, value: Any) -> str:
        """A person-readable rendering: ``DocumentsBucket9EC9DEB9.Arn/docs/*``, ``${AWS::Region}``; an
        imported value is shown as the other stack's resource (``LadderKnowledge:KnowledgeBase.Arn``)."""
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return ", ".join(self.text(stack, inner) for inner in value)
        if not isinstance(value, dict) or len(value) != 1:
            return json.dumps(value, sort_keys=True)
        key, inner = next(iter(value.items()))
        if key == "Ref":
            return f"${{{inner}}}" if inner.startswith("AWS::") else str(inner)
        if key == "Fn::GetAtt":
            target, attribute = _get_att(inner)
            return f"{target}.{attribute}"
        if key == "Fn::Join":
            separator, parts = inner
            return str(separator).join(self.text(stack, part) for part in parts)
        if key == "Fn::Sub":
            return str(inner[0] if isinstance(inner, list) else inner)
        if key == "Fn::ImportValue" and isinstance(inner, str) and inner in self.exports:
            source, exported = self.exports[inner]
            return f"{source}:{self.text(source, exported)}"
        if key == "Fn::GetStackOutput" and (output := self._stack_output(inner)) is not None:
            return f"{output[0]}:{self.text(*output)}"
        if key == "Fn::Select":
            index, items = inner
            return f"select({index}, {self.text(stack, items)})"
        if key == "Fn::Split":
            separator, source = inner
            return f"split({separator!r}, {self.text(stack, source)})"
        if key == "Fn::If":
            condition, yes, no = inner
            return f"if {condition}: {self.text(stack, yes)} else {self.text(stack, no)}"
        return f"{key}({self.text(stack, inner)})"

    def _stack_output(self, reference: Any) -> tuple[str, Any] | None:
        """(stack, value) of the output that ``Fn::GetStackOutput`` (CDK's cross-stack reference) reads."""
        if not isinstance(reference, dict):
            return None
        name, output = reference.get("StackName"), reference.get("OutputName")
        for stack in self.stacks:
            if stack.name == name and output in stack.template.get("Outputs", {}):
                return stack.name, stack.template["Outputs"][output]["Value"]
        return None

    def nag_text(self, stack: str, value: Any) -> str:
        """The form cdk-nag uses in finding ids: ``<Bucket9EC9DEB9.Arn>/docs/*``, ``<AWS::Region>``."""
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and len(value) == 1:
            key, inner = next(iter(value.items()))
            if key == "Ref":
                return f"<{inner}>"
            if key == "Fn::GetAtt":
                target, attribute = _get_att(inner)
                return f"<{target}.{attribute}>"
            if key == "Fn::Join":
                separator, parts = inner
                return str(separator).join(self.nag_text(stack, part) for part in parts)
        return self.text(stack, value)


def _get_att(value: Any) -> tuple[str, str]:
    if isinstance(value, list):
        return str(value[0]), str(value[1])
    target, _, attribute = str(value).partition(".")
    return target, attribute


def _sub_names(text: str) -> list[str]:
    names = []
    rest = text
    while "${" in rest:
        _, _, rest = rest.partition("${")
        name, _, rest = rest.partition("}")
        if not name.startswith("!"):
            names.append(name)
    return names


def stack_names(outdir: Path) -> list[str]:
    manifest_file = outdir / "manifest.json"
    if not manifest_file.is_file():
        raise SetupError(f"no cloud assembly in {outdir} (missing manifest.json): run `make synth` first")
    manifest = json.loads(manifest_file.read_text())
    return sorted(
        name
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    )


def load(outdir: Path) -> Assembly:
    """Every stack in the assembly; raises :class:`SetupError` when ``outdir`` holds no synthesized app."""
    stacks = []
    for name in stack_names(outdir):
        template = json.loads((outdir / f"{name}.template.json").read_text())
        paths: dict[str, str] = {}
        acknowledgements = []
        metadata_file = outdir / f"{name}.metadata.json"
        metadata = json.loads(metadata_file.read_text()) if metadata_file.is_file() else {}
        for path, entries in metadata.items():
            for entry in entries:
                if entry["type"] == LOGICAL_ID and isinstance(entry.get("data"), str):
                    paths[entry["data"]] = path.lstrip("/")
                elif entry["type"] == ACKNOWLEDGED:
                    for finding, reason in entry["data"].items():
                        acknowledgements.append(
                            Acknowledgement(path.lstrip("/"), finding.removeprefix("Annotation::"), reason)
                        )
        stacks.append(Stack(name, template, paths, tuple(acknowledgements)))
    return Assembly(outdir, stacks)


def short_type(resource_type: str) -> str:
    """``AWS::Lambda::Function`` -> ``Lambda::Function``."""
    return resource_type.removeprefix("AWS::")
