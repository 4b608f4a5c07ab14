"""Lambda entry point behind API Gateway REST (proxy integration): ``POST /ask``.

Handler string in AWS: ``rag.handler.handler``. The contract is in this folder's README.md.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from ladder_core.api import public_model_id

from . import constants
from .api import (
    check_route,
    error_response,
    internal_error_response,
    json_response,
    read_json_body,
    with_cors,
)
from .deadline import Deadline
from .errors import ApiError, InvalidRequest
from .observability import logger, metrics, tracer
from .request import AskRequest, parse_ask_request
from .service import Answer, Runtime, answer_question, create_runtime
from .settings import SettingsError, cors_origins

_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    """The container's runtime, created (and its settings validated) on the first invocation only."""
    global _runtime
    if _runtime is None:
        _runtime = create_runtime(os.environ)
    return _runtime


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = _handle(event, context)
    origins = _runtime.settings.cors_allow_origins if _runtime is not None else cors_origins(os.environ)
    return with_cors(response, event, origins)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        runtime = get_runtime()
    except SettingsError as error:
        logger.error("invalid configuration", extra={"variable": error.variable, "reason": str(error)})
        return internal_error_response(_request_id(event, context))
    except Exception:
        # A broken template or a client that cannot be created: answer with the error shape, not a crash.
        logger.exception("cold start failed")
        return internal_error_response(_request_id(event, context))
    try:
        if not isinstance(event, dict):
            raise InvalidRequest("event: not an API Gateway REST proxy event")
        check_route(event)
        body = read_json_body(event, max_body_bytes=runtime.settings.max_body_bytes)
        request = parse_ask_request(
            body,
            max_question_chars=runtime.settings.max_question_chars,
            vector_store=runtime.settings.vector_store,
        )
        deadline = Deadline.start(runtime.clock, runtime.settings.deadline_ms, _lambda_remaining_ms(context))
        answer = answer_question(request, runtime, deadline)
        _record(request, answer, log_content=runtime.settings.log_content)
        return json_response(200, answer.to_json(include_passages=request.include_passages))
    except ApiError as error:
        logger.info("request refused", extra={"status": error.status, "error_code": error.code})
        return error_response(error)
    except Exception:
        logger.exception("request failed unexpectedly")
        return internal_error_response(_request_id(event, context))


def _record(request: AskRequest, answer: Answer, *, log_content: bool) -> None:
    if answer.retrieved:
        metrics.add_metric(constants.METRIC_RETRIEVED_PASSAGES, MetricUnit.Count, answer.passages_kept)
        metrics.add_metric(constants.METRIC_RETRIEVE_LATENCY, MetricUnit.Milliseconds, answer.retrieve_ms)
    if answer.generated:
        metrics.add_metric(constants.METRIC_GENERATE_LATENCY, MetricUnit.Milliseconds, answer.generate_ms)
    metrics.add_metric(constants.METRIC_NO_CONTEXT_ANSWERS, MetricUnit.Count, int(answer.no_context))
    metrics.add_metric(
        constants.METRIC_GUARDRAIL_INTERVENTIONS, MetricUnit.Count, int(answer.intervened or answer.masked)
    )
    metrics.add_metric(constants.METRIC_INPUT_TOKENS, MetricUnit.Count, answer.input_tokens)
    metrics.add_metric(constants.METRIC_OUTPUT_TOKENS, MetricUnit.Count, answer.output_tokens)
    metrics.add_metric(constants.METRIC_TOTAL_LATENCY, MetricUnit.Milliseconds, answer.total_ms)
    summary: dict[str, Any] = {
        "mode": answer.mode,
        "model_id": public_model_id(answer.model_id),
        "prompt_version": answer.prompt_version,
        "top_k": request.top_k,
        "filtered": request.retrieval_filter is not None,
        "passages": answer.passages_kept,
        "citations": len(answer.citations),
        "grounded": answer.grounded,
        "guardrail_action": answer.guardrail_action,
        "truncated": answer.truncated,
        "passages_trimmed": answer.passages_trimmed,
        "examples": None if answer.examples is None else len(answer.examples),
        "input_tokens": answer.input_tokens,
        "output_tokens": answer.output_tokens,
        "latency_ms": {
            "retrieve": answer.retrieve_ms,
            "generate": answer.generate_ms,
            "total": answer.total_ms,
        },
    }
    if log_content:
        summary["question"] = request.question
        summary["answer"] = answer.text
    logger.info("answered", extra=summary)


def _lambda_remaining_ms(context: Any) -> int | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return int(remaining()) if callable(remaining) else None


def _request_id(event: Any, context: Any) -> str:
    request_context = event.get("requestContext") if isinstance(event, dict) else None
    request_id = request_context.get("requestId") if isinstance(request_context, dict) else None
    if isinstance(request_id, str) and request_id:
        return request_id[:128]
    return str(getattr(context, "aws_request_id", "unknown"))
