"""Arm names: ``MODE`` or ``MODE@MODEL_ID``, as ``ladder eval run --arms`` and the run folders write them."""

from __future__ import annotations

import pytest

from ladder_core.api import Arm, parse_arm


@pytest.mark.parametrize(
    ("text", "arm"),
    [
        ("rag", Arm("rag")),
        ("fewshot", Arm("fewshot")),
        ("finetuned", Arm("finetuned")),
        ("rag@us.amazon.nova-pro-v1:0", Arm("rag", "us.amazon.nova-pro-v1:0")),
        (
            "prompt@anthropic.claude-3-haiku-20240307-v1:0",
            Arm("prompt", "anthropic.claude-3-haiku-20240307-v1:0"),
        ),
        (" fewshot@m ", Arm("fewshot", "m")),
    ],
)
def test_an_arm_is_a_mode_optionally_followed_by_a_model_id(text: str, arm: Arm) -> None:
    assert parse_arm(text) == arm
    assert parse_arm(arm.name) == arm


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("retrieval", "unknown mode 'retrieval'"),
        ("finetuned@us.amazon.nova-pro-v1:0", "answers with its own model"),
        ("rag@", "empty or has spaces"),
        ("rag@a b", "empty or has spaces"),
        ("@model", "unknown mode ''"),
    ],
)
def test_a_bad_arm_names_what_is_wrong_and_the_accepted_forms(text: str, named: str) -> None:
    with pytest.raises(ValueError, match="MODE or MODE@MODEL_ID") as caught:
        parse_arm(text)
    assert named in str(caught.value)
