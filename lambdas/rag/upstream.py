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
}


@contextmanager
def upstream_call(stage: str) -> Iterator[None]:
    """Maps botocore exceptions raised inside the block to ApiErrors with generic messages."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        logger.warning(
            "upstream call failed",
            extra={
                "stage": stage,
                "error_code": error.get("Code"),
                "error_message": error.get("Message"),
                "http_status": status,
                "operation": exc.operation_name,
            },
        )
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
