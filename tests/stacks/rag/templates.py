"""Reading the RAG API stack's template: the resources several test modules look for."""

from __future__ import annotations

import json
from typing import Any

from tests.support.synth import Synthesized, references, resources


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
