"""Calls ``POST /ask`` with a SigV4 signature (the API uses IAM auth) and formats the answer."""

from __future__ import annotations

import json
import textwrap
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from .errors import LadderError, SetupError

SIGNING_SERVICE = "execute-api"
# API Gateway REST gives up after 29 s; wait a little longer so its own 504 reaches the user.
REQUEST_TIMEOUT_S = 35
EXCERPT_PREVIEW_CHARS = 200
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class ApiError(LadderError):
    """The API answered with an error status; ``status``, ``code`` and ``message`` come from its body,
    ``retry_after`` from its ``Retry-After`` header (None when absent)."""

    def __init__(self, status: int, code: str, message: str, retry_after: str | None = None) -> None:
        super().__init__(f"error {status} {code}: {message}")
        self.status = status
        self.code = code
        self.api_message = message
        self.retry_after = retry_after


def ask_body(question: str, mode: str, top_k: int | None) -> dict[str, Any]:
    """The body of ``POST /ask``; ``topK`` is left out when not given, so the API's default applies."""
    body: dict[str, Any] = {"question": question, "mode": mode}
    if top_k is not None:
        body["topK"] = top_k
    return body


def post_signed_json(url: str, body: dict[str, Any], *, credentials: Any, region: str) -> dict[str, Any]:
    """POST ``body`` as JSON to ``url``, signed with SigV4 for execute-api; the parsed JSON response.

    ``credentials`` are botocore credentials (``session.get_credentials()``). An error status raises
    :class:`ApiError`; a network failure or a response that is not JSON raises :class:`LadderError`.
    """
    # UTF-8, not ASCII escapes: "é" is 2 bytes, "\u00e9" 6, and the API and its WAF limit the body in bytes.
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = _signed_request(url, payload, credentials=credentials, region=region)
    try:
        # The scheme is checked in _signed_request: https, or http only to a loopback address.
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:  # noqa: S310
            return _parse_json(response.read(), response.status)
    except urllib.error.HTTPError as err:
        error = _api_error(err.code, err.read())
        error.retry_after = err.headers.get("Retry-After") if err.headers else None
        raise error from None
    except urllib.error.URLError as err:
        raise LadderError(f"could not reach {url}: {err.reason}") from None
    except TimeoutError:
        raise LadderError(f"no answer from {url} within {REQUEST_TIMEOUT_S} s") from None


def _signed_request(url: str, payload: bytes, *, credentials: Any, region: str) -> urllib.request.Request:
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS):
        raise LadderError(f"refusing to send signed requests to {url}: the API URL must use https")
    if credentials is None:
        raise SetupError(
            "no AWS credentials found: configure a profile (aws configure / aws sso login) or pass --profile"
        )
    aws_request = AWSRequest(
        method="POST",
        url=url,
        data=payload,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    SigV4Auth(credentials.get_frozen_credentials(), SIGNING_SERVICE, region).add_auth(aws_request)
    headers = dict(aws_request.headers.items())
    return urllib.request.Request(url, data=payload, headers=headers, method="POST")  # noqa: S310 (checked)


def _parse_json(raw: bytes, status: int) -> dict[str, Any]:
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise LadderError(f"the API answered {status} with a body that is not JSON") from None
    if not isinstance(parsed, dict):
        raise LadderError(f"the API answered {status} with JSON that is not an object")
    return parsed


def _api_error(status: int, raw: bytes) -> ApiError:
    """The API's ``{"error": {"code", "message"}}``, or API Gateway's own ``{"message": ...}`` (403, 429)."""
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict):
            return ApiError(status, str(error.get("code", "Error")), str(error.get("message", "")))
        if isinstance(parsed.get("message"), str):
            return ApiError(status, "ApiGateway", parsed["message"])
    text = raw.decode("utf-8", "replace").strip()[:EXCERPT_PREVIEW_CHARS]
    return ApiError(status, "Error", text or "(empty response body)")


def format_answer(response: dict[str, Any]) -> str:
    """The answer, its numbered citations with excerpts, then mode, model and latency, for a terminal."""
    lines = [str(response.get("answer", "")).strip(), ""]
    citations = response.get("citations") or []
    if citations:
        lines.append("Sources:")
        for number, citation in enumerate(citations, start=1):
            lines.extend(_format_citation(number, citation))
        lines.append("")
    # Prompt mode retrieves nothing by design, so there are no passages to be grounded in.
    if response.get("grounded") is False and response.get("mode") != "prompt":
        lines.append("Not grounded: the answer is not supported by the retrieved passages.")
    guardrail = (response.get("guardrail") or {}).get("action")
    if guardrail and guardrail != "NONE":
        lines.append(f"Guardrail: {guardrail}")
    lines.append(_format_footer(response))
    return "\n".join(lines)


def _format_citation(number: int, citation: dict[str, Any]) -> list[str]:
    score = citation.get("score")
    scored = f"  (score {score:.2f})" if isinstance(score, int | float) else ""
    lines = [f"[{number}] {citation.get('sourceUri', '?')}{scored}"]
    excerpt = " ".join(str(citation.get("excerpt", "")).split())
    if excerpt:
        short = textwrap.shorten(excerpt, EXCERPT_PREVIEW_CHARS, placeholder=" ...")
        lines.extend(textwrap.wrap(short, width=100, initial_indent="    ", subsequent_indent="    "))
    return lines


def _format_footer(response: dict[str, Any]) -> str:
    parts = [f"mode {response.get('mode', '?')}", f"model {response.get('modelId', '?')}"]
    if response.get("promptVersion"):
        parts.append(f"prompt {response['promptVersion']}")
    latency = response.get("latencyMs") or {}
    if latency.get("total") is not None:
        stages = [f"{name} {latency[name]} ms" for name in ("retrieve", "generate") if latency.get(name)]
        parts.append(f"{latency['total']} ms" + (f" ({', '.join(stages)})" if stages else ""))
    usage = response.get("usage") or {}
    if usage.get("inputTokens") is not None:
        parts.append(f"tokens {usage['inputTokens']} in / {usage.get('outputTokens', 0)} out")
    return " | ".join(parts)
