"""Validation of the ``POST /ask`` request body into an AskRequest (mirrors request_schema.json)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import constants
from .errors import InvalidRequest

ACCEPTED_FIELDS = ("question", "mode", "topK", "filter", "include", "modelId")

# Which JSON values each leaf operator compares with (bool is excluded from numbers explicitly).
_STRING = "a string"
_SCALAR = "a string, number or boolean"
_NUMBER = "a finite number"
_STRING_OR_NUMBER = "a string or number"
_LIST = "a non-empty list of strings or numbers"
_LEAF_VALUE_KIND = {
    "equals": _SCALAR,
    "notEquals": _SCALAR,
    "greaterThan": _NUMBER,
    "greaterThanOrEquals": _NUMBER,
    "lessThan": _NUMBER,
    "lessThanOrEquals": _NUMBER,
    "in": _LIST,
    "notIn": _LIST,
    "startsWith": _STRING,
    "stringContains": _STRING,
    "listContains": _STRING_OR_NUMBER,
}


@dataclass(frozen=True)
class AskRequest:
    """A validated question: the trimmed text, the mode, how many passages, the boto3 RetrievalFilter."""

    question: str
    mode: str = constants.DEFAULT_MODE
    top_k: int = constants.DEFAULT_TOP_K
    retrieval_filter: dict[str, Any] | None = None
    include_passages: bool = False
    """``"include": ["passages"]``: each citation carries the full passage text the model was given."""
    model_id: str | None = None
    """``modelId``: one of the deployment's allowed generation models; None: its configured model."""


def parse_ask_request(
    body: object,
    *,
    max_question_chars: int,
    vector_store: str = constants.DEFAULT_VECTOR_STORE,
    allowed_model_ids: tuple[str, ...] = (),
) -> AskRequest:
    """Validates a decoded JSON body; raises InvalidRequest whose message names the field. The filter may
    use only the operators ``vector_store`` supports; ``modelId`` may name only ``allowed_model_ids``."""
    if not isinstance(body, dict):
        raise InvalidRequest("body: must be a JSON object with a 'question' string")
    unknown = sorted(key for key in body if key not in ACCEPTED_FIELDS)
    if unknown:
        raise InvalidRequest(
            f"{unknown[0]}: is not an accepted field; accepted fields: {', '.join(ACCEPTED_FIELDS)}"
        )
    metadata_filter = body.get("filter")
    mode = _mode(body)
    return AskRequest(
        question=_question(body, max_question_chars),
        mode=mode,
        top_k=_top_k(body),
        retrieval_filter=None
        if "filter" not in body
        else parse_filter(metadata_filter, vector_store=vector_store),
        include_passages=constants.INCLUDE_PASSAGES in _include(body),
        model_id=_model_id(body, mode, allowed_model_ids),
    )


def _question(body: dict[str, Any], max_chars: int) -> str:
    accepted = f"question: required, a string of 1 to {max_chars} characters that is not only whitespace"
    value = body.get("question")
    # The length limit applies before trimming, as API Gateway's request model checks it.
    if not isinstance(value, str) or len(value) > max_chars:
        raise InvalidRequest(accepted)
    trimmed = value.strip()
    if not trimmed:
        raise InvalidRequest(accepted)
    return trimmed


def _mode(body: dict[str, Any]) -> str:
    value = body.get("mode", constants.DEFAULT_MODE)
    if not isinstance(value, str) or value not in constants.MODES:
        raise InvalidRequest("mode: must be one of " + ", ".join(f'"{m}"' for m in constants.MODES))
    return value


def _model_id(body: dict[str, Any], mode: str, allowed: tuple[str, ...]) -> str | None:
    if "modelId" not in body:
        return None
    value = body["modelId"]
    names = ", ".join(allowed) or "none"
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"modelId: must be one of this deployment's generation models: {names}")
    if mode not in constants.MODEL_MODES:
        modes = ", ".join(f'"{m}"' for m in constants.MODEL_MODES)
        raise InvalidRequest(f'modelId: only with mode {modes}; mode "{mode}" answers with its own model')
    if value not in allowed:
        raise InvalidRequest(
            f"modelId: {value[:100]!r} is not allowed in this deployment; allowed: {names} "
            "(allowedGenerationModelIds)"
        )
    return value


def _include(body: dict[str, Any]) -> tuple[str, ...]:
    value = body.get("include", [])
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item in constants.INCLUDE_OPTIONS for item in value
    ):
        names = ", ".join(f'"{name}"' for name in constants.INCLUDE_OPTIONS)
        raise InvalidRequest(f"include: must be a list of these names: {names}")
    return tuple(value)


def _top_k(body: dict[str, Any]) -> int:
    value = body.get("topK", constants.DEFAULT_TOP_K)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not constants.MIN_TOP_K <= value <= constants.MAX_TOP_K
    ):
        raise InvalidRequest(
            f"topK: must be an integer from {constants.MIN_TOP_K} to {constants.MAX_TOP_K}"
            " (not a boolean or a decimal)"
        )
    return value


def parse_filter(
    value: object,
    path: str = "filter",
    depth: int = 1,
    *,
    vector_store: str = constants.DEFAULT_VECTOR_STORE,
) -> dict[str, Any]:
    """Validates a metadata filter and returns it in the boto3 ``RetrievalFilter`` shape; an operator the
    knowledge base's ``vector_store`` does not support is refused, naming the ones it does."""
    supported = constants.FILTER_LEAF_OPERATORS_BY_STORE[vector_store]
    operators = ", ".join(supported + constants.FILTER_GROUP_OPERATORS)
    if not isinstance(value, dict) or len(value) != 1:
        raise InvalidRequest(f"{path}: must be an object with exactly one operator: {operators}")
    ((operator, operand),) = value.items()
    if operator in constants.FILTER_GROUP_OPERATORS:
        return {operator: _group(operand, f"{path}.{operator}", depth, vector_store)}
    if operator in supported:
        return {operator: _condition(operator, operand, f"{path}.{operator}")}
    if operator in constants.FILTER_LEAF_OPERATORS:
        raise InvalidRequest(
            f"{path}: operator {operator!r} is not supported by this deployment's vector store "
            f"({constants.VECTOR_STORE_NAMES[vector_store]}); accepted: {operators}"
        )
    raise InvalidRequest(f"{path}: unknown operator {str(operator)[:40]!r}; accepted: {operators}")


def _group(operand: object, path: str, depth: int, vector_store: str) -> list[dict[str, Any]]:
    low, high = constants.FILTER_GROUP_MIN_ITEMS, constants.FILTER_GROUP_MAX_ITEMS
    if not isinstance(operand, list) or not low <= len(operand) <= high:
        raise InvalidRequest(f"{path}: must be a list of {low} to {high} filters")
    if depth >= constants.FILTER_MAX_DEPTH:
        raise InvalidRequest(f"{path}: filters nest at most {constants.FILTER_MAX_DEPTH} levels deep")
    return [
        parse_filter(item, f"{path}[{index}]", depth + 1, vector_store=vector_store)
        for index, item in enumerate(operand)
    ]


def _condition(operator: str, operand: object, path: str) -> dict[str, Any]:
    if not isinstance(operand, dict) or set(operand) != {"key", "value"}:
        raise InvalidRequest(f'{path}: must be an object {{"key": <metadata key>, "value": <value>}}')
    key = operand["key"]
    if not isinstance(key, str) or not 1 <= len(key) <= constants.FILTER_KEY_MAX_CHARS:
        raise InvalidRequest(
            f"{path}.key: must be a string of 1 to {constants.FILTER_KEY_MAX_CHARS} characters"
        )
    kind = _LEAF_VALUE_KIND[operator]
    value = operand["value"]
    if not _value_fits(kind, value):
        raise InvalidRequest(f"{path}.value: must be {kind}")
    return {"key": key, "value": list(value) if isinstance(value, list) else value}


def _value_fits(kind: str, value: object) -> bool:
    if kind == _LIST:
        return (
            isinstance(value, list)
            and 1 <= len(value) <= constants.FILTER_LIST_MAX_VALUES
            and all(_value_fits(_STRING_OR_NUMBER, item) for item in value)
        )
    is_number = isinstance(value, int | float) and not isinstance(value, bool) and _finite(value)
    is_string = isinstance(value, str) and len(value) <= constants.FILTER_STRING_MAX_CHARS
    if kind == _NUMBER:
        return is_number
    if kind == _STRING:
        return is_string
    if kind == _STRING_OR_NUMBER:
        return is_string or is_number
    return is_string or is_number or isinstance(value, bool)


def _finite(value: float) -> bool:
    # json.loads reads 1e999 as infinity and keeps 400-digit integers; botocore would send the first as
    # the non-JSON token Infinity and Bedrock rejects both, which would surface as a 503.
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False
