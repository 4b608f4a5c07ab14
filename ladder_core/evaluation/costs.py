"""The whole cost of one answered query, per component, and an arm's mean of it.

Every call of the RAG API pays more than the model's tokens: the guardrail's text units (content filters,
PII and contextual grounding over the question, the passages and the answer), the query's embedding, the
reranker when one is configured, the vector query, and the request itself (API Gateway and the Lambda
function). Each component is priced from the answer's ``usage`` (the API reports the guardrail's units and
the query's embedding tokens) and the deployment (:class:`.prices.Deployment`):

- ``generation``: the model's tokens (an imported model: its copy's time), :meth:`PriceTable.query_cost`;
- ``guardrail``: ``usage.guardrail``'s units per policy x the price per 1,000 text units of that policy;
- ``embedding``: ``usage.embeddingTokens`` x the embedding model's price (estimated tokens: see the API);
- ``rerank``: one rerank query when a reranker is configured;
- ``vectorQuery``: the store's price per query (OpenSearch Serverless has none: it bills OCU-hours);
- ``requests``: API Gateway REST and Lambda per request, plus GB-seconds at the configured memory for the
  function's measured duration (the answer's ``latencyMs.total``, else the client's round trip).

A component whose price or usage is unknown is None, never 0; one that did not happen (no retrieval in
``prompt`` mode, no guardrail on the no-context answer) is 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..api import PROMPT
from ..catalog import requests
from ..catalog.bedrock import EMBEDDING_PRICES, GUARDRAIL_USAGE_PRICES, RERANK_PRICES
from .prices import PriceTable

GENERATION = "generation"
COMPONENTS = (GENERATION, "guardrail", "embedding", "rerank", "vectorQuery", "requests")
"""The components of ``costBreakdownUsd``, in the order the summary and the report list them."""
TEXT_UNITS_PER_PRICE = 1000


def query_breakdown(prices: PriceTable, record: Mapping[str, Any]) -> dict[str, float | None]:
    """USD per component of one answered record (``responses.jsonl``); every component None for an error."""
    response = record.get("response") if record.get("status") == "ok" else None
    if not isinstance(response, dict):
        return dict.fromkeys(COMPONENTS)
    usage = response.get("usage") or {}
    deployment = prices.deployment
    retrieved = response.get("mode") != PROMPT
    return {
        GENERATION: prices.query_cost(
            response.get("modelId"),
            usage.get("inputTokens"),
            usage.get("outputTokens"),
            record.get("latencyMs"),
        ),
        "guardrail": _guardrail(usage),
        "embedding": _embedding(usage, deployment.embedding_model_id) if retrieved else 0.0,
        "rerank": _rerank(deployment.rerank_model_id) if retrieved else 0.0,
        "vectorQuery": requests.VECTOR_QUERY_PRICES.get(deployment.vector_store) if retrieved else 0.0,
        "requests": _requests(deployment.memory_mb, response, record),
    }


def query_total(breakdown: Mapping[str, float | None]) -> float | None:
    """The sum of the known components; None when the generation's cost is unknown (the bulk of the bill
    for most models: a total without it would mislead)."""
    if breakdown.get(GENERATION) is None:
        return None
    return sum(value for value in breakdown.values() if value is not None)


def arm_breakdown(
    breakdowns: Iterable[Mapping[str, float | None]],
) -> tuple[dict[str, float | None], list[str]]:
    """``costBreakdownUsd`` (the mean of each component over the arm's answered queries) and
    ``costUnknown`` (the components that are None: unknown for at least one query, or no query answered)."""
    rows = list(breakdowns)
    means: dict[str, float | None] = {}
    for component in COMPONENTS:
        values = [row.get(component) for row in rows]
        known = [value for value in values if value is not None]
        means[component] = sum(known) / len(known) if rows and len(known) == len(values) else None
    return means, [component for component in COMPONENTS if means[component] is None]


def _guardrail(usage: Mapping[str, Any]) -> float | None:
    if "guardrail" not in usage:
        return None  # answered before the API reported the guardrail's usage
    units = usage["guardrail"]
    if units is None:
        # No guardrail ran when no model ran (the no-context answer); otherwise the trace had no usage.
        return 0.0 if not usage.get("inputTokens") and not usage.get("outputTokens") else None
    if not isinstance(units, dict):
        return None
    total = 0.0
    for name, price in GUARDRAIL_USAGE_PRICES.items():
        count = units.get(name)
        if not isinstance(count, int | float) or isinstance(count, bool):
            return None
        total += count / TEXT_UNITS_PER_PRICE * price.usd
    return total


def _embedding(usage: Mapping[str, Any], model_id: str) -> float | None:
    tokens = usage.get("embeddingTokens")
    price = EMBEDDING_PRICES.get(model_id)
    if price is None or not isinstance(tokens, int | float) or isinstance(tokens, bool):
        return None
    return tokens / 1000 * price.usd


def _rerank(model_id: str) -> float | None:
    if not model_id:
        return 0.0
    price = RERANK_PRICES.get(model_id)
    return None if price is None else price.usd


def _requests(memory_mb: int, response: Mapping[str, Any], record: Mapping[str, Any]) -> float | None:
    latency = response.get("latencyMs")
    duration = latency.get("total") if isinstance(latency, dict) else None
    if not isinstance(duration, int | float) or isinstance(duration, bool):
        duration = record.get("latencyMs")
    if not isinstance(duration, int | float) or isinstance(duration, bool):
        return None
    return requests.REQUESTS.cost(memory_mb, duration)
