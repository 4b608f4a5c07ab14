"""Model calls, each under the guardrail: Converse, or InvokeModel wrapped in ApplyGuardrail."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from . import constants
from .deadline import Deadline, within_deadline
from .errors import UpstreamUnavailable
from .finetuned import ChatFormat, parse_invoke_model_output, template_chat_format
from .observability import logger
from .prompts import Passage, PromptTemplate, question_qualifier, render_passages
from .settings import Settings
from .upstream import upstream_call

INTERVENED_STOP_REASONS = frozenset({"guardrail_intervened", "content_filtered"})
TRUNCATED_STOP_REASONS = frozenset({"max_tokens", "model_context_window_exceeded", "length"})
# No answer a caller can use: the model's output could not be parsed, or it asked for tools it was not given.
UNUSABLE_STOP_REASONS = frozenset({"malformed_model_output", "malformed_tool_use", "tool_use"})
_UNUSABLE = "The model returned an answer that could not be used; the failure has been logged"


@dataclass(frozen=True)
class Generation:
    """What the model (or the guardrail in its place) said, and what it cost."""

    text: str
    stop_reason: str
    intervened: bool = False
    """The guardrail blocked the question or the answer: ``text`` is its blocked message."""
    masked: bool = False
    """The guardrail only masked PII in the answer: ``text`` is the model's answer with {TYPE} masks."""
    input_tokens: int = 0
    output_tokens: int = 0
    guardrail_usage: Mapping[str, int] | None = None
    """The guardrail's text units per policy (GUARDRAIL_USAGE_FIELDS), summed over every check of the call;
    None when the call reported none."""

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
    prior_turns: Sequence[Mapping[str, Any]] = (),
) -> Generation:
    """One Converse call with the guardrail; question and passages travel in guardContent blocks.
    ``prior_turns`` (the few-shot examples) open the conversation as plain text: the guardrail evaluates
    only the guardContent blocks of a request that has them, so it judges the caller's question and the
    passages, not the operator's own examples."""
    prompt = template.converse_messages(question, passages)
    prompt["messages"] = [*prior_turns, *prompt["messages"]]
    with upstream_call("generate"):
        response = within_deadline(
            "generate",
            lambda: bedrock_runtime.converse(
                modelId=model_id,
                **prompt,
                inferenceConfig={"maxTokens": settings.max_tokens, "temperature": settings.temperature},
                guardrailConfig={
                    "guardrailIdentifier": settings.guardrail_id,
                    "guardrailVersion": settings.guardrail_version,
                    "trace": "enabled",
                },
            ),
        )
    content = response.get("output", {}).get("message", {}).get("content", [])
    text = "".join(block["text"] for block in content if "text" in block).strip()
    stop_reason = response["stopReason"]
    if stop_reason in UNUSABLE_STOP_REASONS:
        logger.warning("unusable model output", extra={"stop_reason": stop_reason})
        raise UpstreamUnavailable(_UNUSABLE)
    masked = stop_reason == "guardrail_intervened" and guardrail_outcome(response.get("trace")) == "MASKED"
    generation = Generation(
        text=text,
        stop_reason=stop_reason,
        intervened=stop_reason in INTERVENED_STOP_REASONS and not masked,
        masked=masked,
        input_tokens=response["usage"]["inputTokens"],
        output_tokens=response["usage"]["outputTokens"],
        guardrail_usage=trace_guardrail_usage(response.get("trace")),
    )
    _warn_if_truncated(generation, settings)
    return generation


def trace_guardrail_usage(trace: Any) -> dict[str, int] | None:
    """The guardrail's units from a Converse ``trace``: each assessment's ``invocationMetrics.usage``
    (``trace.guardrail.inputAssessment`` per guardrail, ``outputAssessments`` a list per guardrail), summed;
    None when no assessment carries usage. Only these counts leave the trace: its findings and the unmasked
    ``modelOutput`` are never returned."""
    guardrail = trace.get("guardrail") if isinstance(trace, dict) else None
    if not isinstance(guardrail, dict):
        return None
    assessments: list[Any] = list((guardrail.get("inputAssessment") or {}).values())
    for outputs in (guardrail.get("outputAssessments") or {}).values():
        assessments.extend(outputs or [])
    return sum_guardrail_usage(
        (assessment.get("invocationMetrics") or {}).get("usage")
        for assessment in assessments
        if isinstance(assessment, dict)
    )


def sum_guardrail_usage(usages: Iterable[Any]) -> dict[str, int] | None:
    """Bedrock ``GuardrailUsage`` objects added field by field (GUARDRAIL_USAGE_FIELDS); None when there
    is none."""
    total: dict[str, int] | None = None
    for usage in usages:
        if not isinstance(usage, dict):
            continue
        total = total or dict.fromkeys(constants.GUARDRAIL_USAGE_FIELDS, 0)
        for name in constants.GUARDRAIL_USAGE_FIELDS:
            value = usage.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                total[name] += value
    return total


# Where each guardrail policy lists its findings in an assessment (Converse trace, ApplyGuardrail).
_FINDINGS = {
    "topicPolicy": ("topics",),
    "contentPolicy": ("filters",),
    "wordPolicy": ("customWords", "managedWordLists"),
    "sensitiveInformationPolicy": ("piiEntities", "regexes"),
    "contextualGroundingPolicy": ("filters",),
}


def guardrail_outcome(trace: Any) -> str:
    """``BLOCKED``, ``MASKED`` or ``NONE`` from a Converse ``trace`` (``trace.guardrail``'s assessments).

    Masking is the one action that leaves the answer usable: the guardrail reports it as ANONYMIZED on a
    PII entity or regex. Any BLOCKED finding, in the input or the output, is a block. An intervention whose
    trace shows neither (no trace at all) is treated as a block, the safe reading.
    """
    guardrail = trace.get("guardrail") if isinstance(trace, dict) else None
    if not isinstance(guardrail, dict):
        return "BLOCKED"
    assessments: list[Any] = list((guardrail.get("inputAssessment") or {}).values())
    for outputs in (guardrail.get("outputAssessments") or {}).values():
        assessments.extend(outputs or [])
    return assessments_outcome(assessments)


def assessments_outcome(assessments: Sequence[Any]) -> str:
    """``BLOCKED`` if any finding was blocked, else ``MASKED`` if any was anonymized, else ``BLOCKED``."""
    actions = {
        finding.get("action")
        for assessment in assessments
        if isinstance(assessment, dict)
        for policy, lists in _FINDINGS.items()
        for name in lists
        for finding in (assessment.get(policy) or {}).get(name) or []
        if isinstance(finding, dict)
    }
    if "BLOCKED" in actions:
        return "BLOCKED"
    return "MASKED" if "ANONYMIZED" in actions else "BLOCKED"


def invoke_with_guardrail(
    bedrock_runtime: Any,
    settings: Settings,
    *,
    model_id: str,
    template: PromptTemplate,
    question: str,
    passages: Sequence[Passage],
    deadline: Deadline,
    chat_format: ChatFormat | None = None,
) -> Generation:
    """InvokeModel for imported models Converse does not serve, checked by ApplyGuardrail before and after.
    ``chat_format`` is the published model's (finetuned.chat_format_for); None: the template's own section."""
    checked = _apply_guardrail(bedrock_runtime, settings, "INPUT", [{"text": {"text": question}}])
    input_usage = checked.usage
    if checked.outcome == "BLOCKED":
        return Generation(
            text=checked.text,
            stop_reason="guardrail_intervened",
            intervened=True,
            guardrail_usage=input_usage,
        )
    if checked.outcome == "MASKED":
        question = mask_findings(question, checked.assessments)  # the model sees what Converse would send
    deadline.require("generate", constants.GENERATE_MIN_REMAINING_MS)
    chat = chat_format or template_chat_format(template)
    body = chat.request_body(
        chat.prompt(template, question, passages),
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
    )

    def invoke() -> bytes:
        response = bedrock_runtime.invoke_model(
            modelId=model_id,
            body=json.dumps(body).encode("utf-8"),
            contentType="application/json",
            accept="application/json",
        )
        return bytes(response["body"].read())

    with upstream_call("generate"):
        raw = within_deadline("generate", invoke)
    generation = _parse_invoke_model_output(raw)
    _warn_if_truncated(generation, settings)
    deadline.require("output guardrail", constants.GUARDRAIL_MIN_REMAINING_MS)
    output_check = [
        {"text": {"text": render_passages(passages), "qualifiers": ["grounding_source"]}},
        {"text": {"text": question, "qualifiers": [question_qualifier(question, passages)]}},
        {"text": {"text": generation.text or " ", "qualifiers": ["guard_content"]}},
    ]
    checked = _apply_guardrail(bedrock_runtime, settings, "OUTPUT", output_check)
    generation = replace(generation, guardrail_usage=sum_guardrail_usage((input_usage, checked.usage)))
    if checked.outcome == "BLOCKED":
        return replace(generation, text=checked.text, stop_reason="guardrail_intervened", intervened=True)
    if checked.outcome == "MASKED":
        return replace(
            generation,
            text=mask_findings(generation.text, checked.assessments),
            stop_reason="guardrail_intervened",
            masked=True,
        )
    return generation


def _parse_invoke_model_output(raw: bytes) -> Generation:
    """Reads the body shapes imported models answer with (finetuned.parse_invoke_model_output); any other
    shape is the model's failure (503), not the caller's or the function's."""
    try:
        output = parse_invoke_model_output(raw)
        return Generation(
            text=output.text,
            stop_reason=output.stop_reason,
            input_tokens=output.input_tokens,
            output_tokens=output.output_tokens,
        )
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        logger.warning("unusable model output", extra={"error_type": type(exc).__name__})
        raise UpstreamUnavailable(_UNUSABLE) from None


@dataclass(frozen=True)
class GuardrailCheck:
    """What ApplyGuardrail decided: ``NONE``, ``MASKED`` (PII anonymized only) or ``BLOCKED``."""

    outcome: str
    text: str = ""
    """The guardrail's own output when it intervened (its blocked message)."""
    assessments: Sequence[Any] = ()
    usage: Mapping[str, int] | None = None
    """ApplyGuardrail's ``usage``: the text units each policy processed, whatever the outcome."""


def _apply_guardrail(
    bedrock_runtime: Any, settings: Settings, source: str, content: list[dict[str, Any]]
) -> GuardrailCheck:
    with upstream_call("guardrail"):
        response = within_deadline(
            "guardrail",
            lambda: bedrock_runtime.apply_guardrail(
                guardrailIdentifier=settings.guardrail_id,
                guardrailVersion=settings.guardrail_version,
                source=source,
                content=content,
            ),
        )
    usage = sum_guardrail_usage([response.get("usage")])
    if response["action"] != "GUARDRAIL_INTERVENED":
        return GuardrailCheck("NONE", usage=usage)
    assessments = response.get("assessments") or []
    text = "".join(output.get("text", "") for output in response.get("outputs", [])).strip()
    return GuardrailCheck(assessments_outcome(assessments), text, assessments, usage)


def mask_findings(text: str, assessments: Sequence[Any]) -> str:
    """``text`` with every PII entity the guardrail anonymized replaced by ``{TYPE}``, as Converse masks it.

    ApplyGuardrail reports each finding's ``match``; replacing those in the text we sent keeps the answer
    independent of how the guardrail lays out its outputs for several content blocks."""
    for assessment in assessments:
        if not isinstance(assessment, dict):
            continue
        policy = assessment.get("sensitiveInformationPolicy") or {}
        for finding in (policy.get("piiEntities") or []) + (policy.get("regexes") or []):
            match = finding.get("match") if isinstance(finding, dict) else None
            if finding.get("action") == "ANONYMIZED" and match:
                label = finding.get("type") or finding.get("name") or "REDACTED"
                text = text.replace(match, "{" + label + "}")
    return text


def _warn_if_truncated(generation: Generation, settings: Settings) -> None:
    if generation.truncated:
        logger.warning(
            "answer truncated",
            extra={"stop_reason": generation.stop_reason, "max_tokens": settings.max_tokens},
        )
