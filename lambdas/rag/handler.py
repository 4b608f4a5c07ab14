"""Lambda entry point behind API Gateway REST (proxy integration): ``POST /ask``; also invoked directly
(``lambda:InvokeFunction``) by the evaluation with ``{"ladderDirect": {"body": {...}}}``.

Handler string in AWS: ``rag.handler.handler``. The contract is in this folder's README.md.
"""

from __future__ import annotations

import json
import os
import re
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
from .errors import ApiError, InvalidRequest, PayloadTooLarge
from .observability import logger, metrics, tracer
from .request import AskRequest, parse_ask_request
from .service import Answer, Runtime, answer_question, create_runtime
from .settings import SettingsError, cors_origins

_runtime: Runtime | None = None
DIRECT_KEY = "ladderDirect"
"""The top-level key of a direct invocation's event (the evaluation's; never in an API Gateway event)."""
DIRECT_FIELDS = ("body", "candidateModelArn")
# botocore's bedrock model, shape ImportedModelArn: the groups are the partition, region and account.
_IMPORTED_MODEL_ARN = re.compile(
    r"arn:(aws(?:-[^:]+)?):bedrock:([a-z0-9-]{1,20}):([0-9]{12}):imported-model/[a-z0-9]{12}"
)


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
    direct = _is_direct(event)
    response = _handle(event, context, direct)
    if direct:
        # The caller is a Lambda client, not a browser: the answer's JSON as an object, no CORS.
        return {
            "statusCode": response["statusCode"],
            "headers": response["headers"],
            "body": json.loads(response["body"]),
        }
    origins = _runtime.settings.cors_allow_origins if _runtime is not None else cors_origins(os.environ)
    return with_cors(response, event, origins)


def _is_direct(event: Any) -> bool:
    """Whether ``event`` is a direct invocation (``ladderDirect``). API Gateway builds its proxy event
    itself (a caller cannot add a top-level key), and one that carries a ``requestContext`` is never read
    as direct."""
    return isinstance(event, dict) and DIRECT_KEY in event and "requestContext" not in event


def _handle(event: dict[str, Any], context: Any, direct: bool) -> dict[str, Any]:
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
        candidate: str | None = None
        if direct:
            body, candidate = _read_direct(
                event[DIRECT_KEY], context, max_body_bytes=runtime.settings.max_body_bytes
            )
        else:
            if not isinstance(event, dict):
                raise InvalidRequest("event: not an API Gateway REST proxy event")
            check_route(event)
            body = read_json_body(event, max_body_bytes=runtime.settings.max_body_bytes)
        request = parse_ask_request(
            body,
            max_question_chars=runtime.settings.max_question_chars,
            vector_store=runtime.settings.vector_store,
            allowed_model_ids=runtime.settings.allowed_model_ids,
        )
        if candidate is not None and request.mode != constants.FINETUNED:
            raise InvalidRequest(
                f'{DIRECT_KEY}.candidateModelArn: only with mode "{constants.FINETUNED}" '
                f'(the mode was "{request.mode}")'
            )
        deadline = Deadline.start(runtime.clock, runtime.settings.deadline_ms, _lambda_remaining_ms(context))
        answer = answer_question(request, runtime, deadline, candidate_model_arn=candidate)
        _record(
            request,
            answer,
            log_content=runtime.settings.log_content,
            direct=direct,
            candidate=candidate is not None,
        )
        return json_response(200, answer.to_json(include_passages=request.include_passages))
    except ApiError as error:
        logger.info("request refused", extra={"status": error.status, "error_code": error.code})
        return error_response(error)
    except Exception:
        logger.exception("request failed unexpectedly")
        return internal_error_response(_request_id(event, context))


def _read_direct(direct: object, context: Any, *, max_body_bytes: int) -> tuple[object, str | None]:
    """The ``POST /ask`` body of a direct invocation (held to the API's body size) and its candidate model:
    an imported-model ARN of this function's own partition, account and region, or None."""
    if not isinstance(direct, dict) or "body" not in direct or not set(direct) <= set(DIRECT_FIELDS):
        raise InvalidRequest(
            f'{DIRECT_KEY}: must be an object {{"body": {{...a POST /ask body...}}, "candidateModelArn": '
            '"arn:...:imported-model/..." (optional)}'
        )
    body = direct["body"]
    if len(json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")) > max_body_bytes:
        raise PayloadTooLarge(f"{DIRECT_KEY}.body: must be at most {max_body_bytes} bytes as JSON")
    candidate = direct.get("candidateModelArn")
    if candidate is None:
        return body, None
    accepted = (
        f"{DIRECT_KEY}.candidateModelArn: must be the ARN of a model imported into this function's own "
        "account and region (arn:<partition>:bedrock:<region>:<account>:imported-model/<12 characters>)"
    )
    match = _IMPORTED_MODEL_ARN.fullmatch(candidate) if isinstance(candidate, str) else None
    if match is None or match.groups() != _own_partition_region_account(context):
        raise InvalidRequest(accepted)
    return body, candidate


def _own_partition_region_account(context: Any) -> tuple[str, str, str] | None:
    """Partition, region and account of the invoked function (``arn:aws:lambda:<region>:<account>:function:
    <name>``); None when the context has no such ARN."""
    arn = getattr(context, "invoked_function_arn", None)
    parts = arn.split(":") if isinstance(arn, str) else []
    return (parts[1], parts[3], parts[4]) if len(parts) >= 7 and parts[2] == "lambda" else None


def _record(
    request: AskRequest, answer: Answer, *, log_content: bool, direct: bool = False, candidate: bool = False
) -> None:
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
        # A direct invocation (the evaluation) bypasses API Gateway; a candidate is a model not yet published.
        "direct": direct,
        "candidate": candidate,
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
