"""Reading the fine-tune state machine's Amazon States Language document out of a template."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tests.support.synth import only

TRAINING_RESOURCE = ":states:::aws-sdk:sagemaker:createTrainingJob"
STOP_RESOURCE = ":states:::aws-sdk:sagemaker:stopTrainingJob"
SNS_PUBLISH_RESOURCE = ":states:::sns:publish"


def text_of(piece: Any) -> str:
    """A Fn::Join piece as text: literal strings as they are, references as ``${Ref:Id}`` / ``${Id.Attr}``."""
    if isinstance(piece, str):
        return piece
    if "Ref" in piece:
        return f"${{Ref:{piece['Ref']}}}"
    if "Fn::GetAtt" in piece:
        return "${" + ".".join(piece["Fn::GetAtt"]) + "}"
    return "${Intrinsic}"


def definition(template: dict[str, Any]) -> dict[str, Any]:
    """The state machine's Amazon States Language document, references replaced by placeholders."""
    _, machine = only(template, "AWS::StepFunctions::StateMachine")
    body = machine["Properties"]["DefinitionString"]
    text = body if isinstance(body, str) else "".join(text_of(p) for p in body["Fn::Join"][1])
    return json.loads(text)


def training_states(asl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The training-job Task states; never empty, so a test looping over them cannot pass vacuously."""
    found = {
        name: state
        for name, state in asl["States"].items()
        if state["Type"] == "Task" and state["Resource"].endswith(TRAINING_RESOURCE)
    }
    assert found, "the definition runs no training job"
    return found


def targets(state: dict[str, Any]) -> Iterator[str]:
    """Every state this one can lead to."""
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    for choice in state.get("Choices", []):
        yield choice["Next"]
    for catch in state.get("Catch", []):
        yield catch["Next"]


def is_notification(state: dict[str, Any]) -> bool:
    return state["Type"] == "Task" and state["Resource"].endswith(SNS_PUBLISH_RESOURCE)


def is_stop(state: dict[str, Any]) -> bool:
    return state["Type"] == "Task" and state["Resource"].endswith(STOP_RESOURCE)


def fail_after(states: dict[str, Any], name: str) -> str:
    """The Error of the Fail state the notification ``name`` leads to."""
    assert is_notification(states[name]), name
    return str(states[states[name]["Next"]]["Error"])
