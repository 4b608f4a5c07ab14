"""The HTTP edge: routes an API Gateway REST proxy event (v1), reads its JSON body, shapes responses."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, NoReturn

from . import constants
from .errors import (
    ApiError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)

JSON_MEDIA_TYPE = "application/json"
_ALLOW = ", ".join(constants.ALLOWED_METHODS)


def check_route(event: dict[str, Any]) -> None:
    """Raises NotFound unless the event targets ``/ask``, MethodNotAllowed unless it is a POST."""
    if _route_path(event) != constants.ROUTE_ASK:
        raise NotFound(f"No such route; the API serves {_ALLOW} {constants.ROUTE_ASK}")
    if event.get("httpMethod") not in constants.ALLOWED_METHODS:
        raise MethodNotAllowed(f"{constants.ROUTE_ASK} accepts only {_ALLOW}", allow=_ALLOW)


def _route_path(event: dict[str, Any]) -> str | None:
    # `resource` is the API's path template (free of stage and base-path prefixes); a greedy
    # proxy resource says nothing about the route, so the request path decides then.
    resource = event.get("resource")
    path = resource if isinstance(resource, str) and "{" not in resource else event.get("path")
    if not isinstance(path, str):
        return None
    return path.rstrip("/") or "/"


def header(event: dict[str, Any], name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive) from ``headers`` or ``multiValueHeaders``."""
    wanted = name.lower()
    headers = event.get("headers")
    if isinstance(headers, dict):
        for key, value in headers.items():
            if isinstance(key, str) and key.lower() == wanted and isinstance(value, str):
                return value
    multi = event.get("multiValueHeaders")
    if isinstance(multi, dict):
        for key, values in multi.items():
            if isinstance(key, str) and key.lower() == wanted and isinstance(values, list):
                for value in values:
                    if isinstance(value, str):
                        return value
    return None


def read_json_body(event: dict[str, Any], *, max_body_bytes: int) -> object:
    """Checks Content-Type and size, decodes base64 when flagged, and parses strict JSON."""
    content_type = header(event, "content-type")
    media_type = content_type.split(";", 1)[0].strip().lower() if content_type else ""
    if media_type != JSON_MEDIA_TYPE:
        raise UnsupportedMediaType(f"Content-Type must be {JSON_MEDIA_TYPE} (a charset parameter is allowed)")
    body = event.get("body")
    if body is None or body == "":
        _invalid_body()
    if not isinstance(body, str):
        raise InvalidRequest("body: must be a JSON object sent as text")
    too_large = PayloadTooLarge(f"body: must be at most {max_body_bytes} bytes")
    if event.get("isBase64Encoded") is True:
        if len(body) > (max_body_bytes + 2) // 3 * 4 + 4:
            raise too_large
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest("body: is flagged as base64-encoded but is not valid base64") from None
        if len(raw) > max_body_bytes:
            raise too_large
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest("body: must be UTF-8 encoded JSON") from None
    else:
        if len(body) > max_body_bytes or len(body.encode("utf-8", "surrogatepass")) > max_body_bytes:
            raise too_large
        text = body
    try:
        parsed = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        _invalid_body()
    try:
        # JSON escapes can smuggle in unpaired surrogates, which no AWS API accepts.
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest("body: must be valid Unicode text (it holds an unpaired surrogate)") from None
    return parsed


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _invalid_body() -> NoReturn:
    raise InvalidRequest('body: must be a JSON object such as {"question": "..."}')


def json_response(
    status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway proxy response carrying ``payload`` as JSON."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": JSON_MEDIA_TYPE, "Cache-Control": "no-store", **(headers or {})},
        "body": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def with_cors(response: dict[str, Any], event: Any, origins: tuple[str, ...]) -> dict[str, Any]:
    """Adds Access-Control-Allow-Origin when the request's Origin is one of ``origins`` (a browser can then
    read the answer, errors included); ``Vary: Origin`` whenever CORS is on, so caches keep them apart."""
    if not origins:
        return response
    headers = {**response.get("headers", {}), "Vary": "Origin"}
    origin = header(event, "origin") if isinstance(event, dict) else None
    if origin in origins:
        headers["Access-Control-Allow-Origin"] = origin
    return {**response, "headers": headers}


def error_response(error: ApiError) -> dict[str, Any]:
    """The JSON error body ``{"error": {"code", "message"}}`` with the error's headers."""
    return json_response(
        error.status, {"error": {"code": error.code, "message": error.message}}, error.headers()
    )


def internal_error_response(request_id: str) -> dict[str, Any]:
    """A 500 that tells the caller nothing but the request id to quote when reporting it."""
    message = f"The request failed unexpectedly. Quote request id {request_id} when reporting it."
    return json_response(500, {"error": {"code": "InternalError", "message": message}})
