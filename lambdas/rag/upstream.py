"""Turns AWS failures into the API's 429/503/504 errors, logging the details that are not returned."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from . import constants
from .errors import ApiError, Throttled, UpstreamTimeout, UpstreamUnavailable
from .observability import logger

THROTTLING_CODES = frozenset(
    {"ThrottlingException", "ServiceQuotaExceededException", "TooManyRequestsException", "Throttling"}
)
TRANSIENT_CODES = frozenset(
    {
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "InternalServerException",
        "InternalServerError",
        "InternalFailure",
        "DependencyFailedException",
        "BadGatewayException",
        "ModelErrorException",
    }
)
_SERVICES = {
    "retrieve": "The knowledge base",
    "generate": "The model",
    "guardrail": "The guardrail",
    "parameter": "The fine-tuned model registry",
    "examples": "The few-shot examples store",
}


ACCESS_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied"})
MARKETPLACE_HINT = (
    "Bedrock could not subscribe this account to a third-party (AWS Marketplace) model on its first use, "
    "or the subscription is still being set up. The stack lets this function's role subscribe to exactly "
    "the configured third-party models (aws-marketplace:Subscribe on their product ids, "
    "aws-marketplace:ViewSubscriptions); the account also needs a valid payment method, and Anthropic "
    "models need the one-time use-case form. Run `ladder doctor`, which checks each model's subscription "
    "and prints how to subscribe once; after a fix, Bedrock may refuse calls for a few more minutes."
)
ACCESS_HINT = (
    "The function's role was refused: check that its policy covers the model, guardrail or knowledge base "
    "named in error_message (a changed generationModelId or rerankModelId needs a redeploy), and run "
    "`ladder doctor` for model access and subscriptions."
)


def access_denied_hint(code: str, message: str) -> str | None:
    """What an operator should do about an AccessDenied answer (logged; the caller sees a generic 503)."""
    if code not in ACCESS_DENIED_CODES:
        return None
    return MARKETPLACE_HINT if "marketplace" in message.lower() else ACCESS_HINT


@contextmanager
def upstream_call(stage: str) -> Iterator[None]:
    """Maps botocore exceptions raised inside the block to ApiErrors with generic messages."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        details = {
            "stage": stage,
            "error_code": error.get("Code"),
            "error_message": error.get("Message"),
            "http_status": status,
            "operation": exc.operation_name,
        }
        hint = access_denied_hint(str(error.get("Code", "")), str(error.get("Message", "")))
        if hint is not None:
            details["hint"] = hint
        logger.warning("upstream call failed", extra=details)
        raise classify_client_error(stage, str(error.get("Code", "")), status) from None
    except BotoCoreError as exc:
        logger.warning("upstream call failed", extra={"stage": stage, "error_type": type(exc).__name__})
        raise classify_botocore_error(stage, exc) from None


def classify_client_error(stage: str, code: str, http_status: int | None) -> ApiError:
    service = _SERVICES.get(stage, "An upstream service")
    if code == "ModelTimeoutException":
        return UpstreamTimeout(
            f"{service} took too long to respond", retry_after_s=constants.RETRY_AFTER_DEADLINE_S
        )
    # Checked before throttling: Bedrock answers ModelNotReadyException with HTTP 429 too.
    if code == "ModelNotReadyException":
        return UpstreamUnavailable(
            f"{service} is starting up; retry after the delay in Retry-After",
            retry_after_s=constants.RETRY_AFTER_MODEL_NOT_READY_S,
        )
    if code in THROTTLING_CODES or http_status == 429:
        return Throttled(
            f"{service} is receiving too many requests; retry after the delay in Retry-After",
            retry_after_s=constants.RETRY_AFTER_THROTTLED_S,
        )
    if code in TRANSIENT_CODES or (http_status is not None and http_status >= 500):
        return UpstreamUnavailable(
            f"{service} is unavailable right now; retry later",
            retry_after_s=constants.RETRY_AFTER_UNAVAILABLE_S,
        )
    # Access, missing-resource and validation failures are deployment problems: retrying will not help.
    return UpstreamUnavailable(f"{service} could not serve the request; the failure has been logged")


def classify_botocore_error(stage: str, exc: BotoCoreError) -> ApiError:
    service = _SERVICES.get(stage, "An upstream service")
    if isinstance(exc, ReadTimeoutError):
        return UpstreamTimeout(
            f"{service} took too long to respond", retry_after_s=constants.RETRY_AFTER_DEADLINE_S
        )
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ConnectionClosedError):
        return UpstreamUnavailable(
            f"{service} could not be reached; retry later", retry_after_s=constants.RETRY_AFTER_UNAVAILABLE_S
        )
    return UpstreamUnavailable(f"{service} could not serve the request; the failure has been logged")
