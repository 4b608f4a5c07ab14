"""Model calls, each under the guardrail: Converse, or InvokeModel wrapped in ApplyGuardrail."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import constants
from .deadline import Deadline
from .observability import logger
from .prompts import Passage, PromptTemplate, question_qualifier, render_passages
from .settings import Settings
from .upstream import upstream_call

INTERVENED_STOP_REASONS = frozenset({"guardrail_intervened", "content_filtered"})
TRUNCATED_STOP_REASONS = frozenset({"max_tokens", "model_context_window_exceeded", "length"})


@dataclass(frozen=True)
class Generation:
    """What the model (or the guardrail in its place) said, and what it cost."""

    text: str
    stop_reason: str
    intervened: bool = False
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def truncated(self) -> bool:
        return self.stop_reason in TRUNCATED_STOP_REASONS


def converse(
    bedrock_runtime: Any,
    settings: Settings,
    *,
    model_id: str,
    template: PromptTemplate,
    question: str,
    passages: Sequence[Passage],
) -> Generation:
    """One Converse call with the guardrail; question and passages travel in guardContent blocks."""
    with upstream_call("generate"):
        response = bedrock_runtime.converse(
            modelId=model_id,
            **template.converse_messages(question, passages),
            inferenceConfig={"maxTokens": settings.max_tokens, "temperature": settings.temperature},
            guardrailConfig={
                "guardrailIdentifier": settings.guardrail_id,
                "guardrailVersion": settings.guardrail_version,
                "trace": "enabled",
            },
        )
    content = response.get("output", {}).get("message", {}).get("content", [])
    text = "".join(block["text"] for block in content if "text" in block).strip()
    stop_reason = response["stopReason"]
    generation = Generation(
        text=text,
        stop_reason=stop_reason,
        intervened=stop_reason in INTERVENED_STOP_REASONS,
        input_tokens=response["usage"]["inputTokens"],
        output_tokens=response["usage"]["outputTokens"],
    )
    _warn_if_truncated(generation, settings)
    return generation


def invoke_with_guardrail(
    bedrock_runtime: Any,
    settings: Settings,
    *,
    model_id: str,
    template: PromptTemplate,
    question: str,
    passages: Sequence[Passage],
    deadline: Deadline,
) -> Generation:
    """InvokeModel for imported models Converse does not serve, checked by ApplyGuardrail before and after."""
    blocked = _apply_guardrail(bedrock_runtime, settings, "INPUT", [{"text": {"text": question}}])
    if blocked is not None:
        return Generation(text=blocked, stop_reason="guardrail_intervened", intervened=True)
    deadline.require("generate", constants.GENERATE_MIN_REMAINING_MS)
    body = {
        "prompt": template.invoke_model_prompt(question, passages),
        "max_gen_len": settings.max_tokens,
        "temperature": settings.temperature,
    }
    with upstream_call("generate"):
        response = bedrock_runtime.invoke_model(
            modelId=model_id,
            body=json.dumps(body).encode("utf-8"),
            contentType="application/json",
            accept="application/json",
        )
        payload = json.loads(response["body"].read())
    generation = Generation(
        text=str(payload.get("generation", "")).strip(),
        stop_reason=str(payload.get("stop_reason") or "end_turn"),
        input_tokens=int(payload.get("prompt_token_count") or 0),
        output_tokens=int(payload.get("generation_token_count") or 0),
    )
    _warn_if_truncated(generation, settings)
    deadline.require("output guardrail", constants.GUARDRAIL_MIN_REMAINING_MS)
    output_check = [
        {"text": {"text": render_passages(passages), "qualifiers": ["grounding_source"]}},
        {"text": {"text": question, "qualifiers": [question_qualifier(question, passages)]}},
        {"text": {"text": generation.text or " ", "qualifiers": ["guard_content"]}},
    ]
    blocked = _apply_guardrail(bedrock_runtime, settings, "OUTPUT", output_check)
    if blocked is not None:
        return Generation(
            text=blocked,
            stop_reason="guardrail_intervened",
            intervened=True,
            input_tokens=generation.input_tokens,
            output_tokens=generation.output_tokens,
        )
    return generation


def _apply_guardrail(
    bedrock_runtime: Any, settings: Settings, source: str, content: list[dict[str, Any]]
) -> str | None:
    """The guardrail's replacement text when it intervenes, else None."""
    with upstream_call("guardrail"):
        response = bedrock_runtime.apply_guardrail(
            guardrailIdentifier=settings.guardrail_id,
            guardrailVersion=settings.guardrail_version,
            source=source,
            content=content,
        )
    if response["action"] != "GUARDRAIL_INTERVENED":
        return None
    return "".join(output.get("text", "") for output in response.get("outputs", [])).strip()


def _warn_if_truncated(generation: Generation, settings: Settings) -> None:
    if generation.truncated:
        logger.warning(
            "answer truncated",
            extra={"stop_reason": generation.stop_reason, "max_tokens": settings.max_tokens},
        )
