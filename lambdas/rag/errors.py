"""Errors that end a request with a JSON error body: ``{"error": {"code", "message"}}``."""

from __future__ import annotations


class ApiError(Exception):
    """A failure a caller can act on: its message is safe to return (no ARNs, no traces)."""

    status: int = 400
    code: str = "InvalidRequest"

    def __init__(self, message: str, *, retry_after_s: int | None = None, allow: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s
        self.allow = allow

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.retry_after_s is not None:
            headers["Retry-After"] = str(self.retry_after_s)
        if self.allow is not None:
            headers["Allow"] = self.allow
        return headers


class InvalidRequest(ApiError):
    status = 400
    code = "InvalidRequest"


class FineTunedModelUnavailable(ApiError):
    status = 400
    code = "FineTunedModelUnavailable"


class NotFound(ApiError):
    status = 404
    code = "NotFound"


class MethodNotAllowed(ApiError):
    status = 405
    code = "MethodNotAllowed"


class PayloadTooLarge(ApiError):
    status = 413
    code = "PayloadTooLarge"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "UnsupportedMediaType"


class ExamplesNotUploaded(ApiError):
    """``fewshot`` asked of a deployment whose examples store holds no uploaded set (yet)."""

    status = 409
    code = "ExamplesNotUploaded"


class Throttled(ApiError):
    status = 429
    code = "Throttled"


class UpstreamUnavailable(ApiError):
    status = 503
    code = "UpstreamUnavailable"


class DeadlineExceeded(ApiError):
    status = 504
    code = "DeadlineExceeded"


class UpstreamTimeout(ApiError):
    status = 504
    code = "UpstreamTimeout"
