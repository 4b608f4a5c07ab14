"""Given crafted run folders, the summary's cost per query is the whole cost, component by component."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ladder.evaluation import rundir
from ladder.evaluation.evalset import load_set
from ladder.evaluation.summary import write_scores
from ladder.pricing.models import load_prices
from ladder_core.catalog import bedrock, requests
from ladder_core.evaluation import costs
from ladder_core.evaluation.prices import Deployment, PriceTable

from .conftest import write_set

ITEMS = [
    {"id": "leave", "question": "How much leave?", "mustInclude": ["27 days"]},
    {"id": "carry", "question": "How many days carry over?", "mustInclude": ["5 days"]},
]
GUARDRAIL = {
    "topicPolicyUnits": 2,
    "contentPolicyUnits": 4,
    "wordPolicyUnits": 4,
    "sensitiveInformationPolicyUnits": 4,
    "sensitiveInformationPolicyFreeUnits": 4,
    "contextualGroundingPolicyUnits": 3,
}
# 2 x 0.15 + 4 x 0.15 + 4 x 0.10 + 3 x 0.10 per 1,000 units; word and regex units are free
GUARDRAIL_USD = (2 * 0.15 + 4 * 0.15 + 4 * 0.10 + 3 * 0.10) / 1000


def response(mode: str, **usage: Any) -> dict[str, Any]:
    return {
        "answer": "You get 27 days [1].",
        "citations": [] if mode == "prompt" else [{"sourceUri": "s3://d/leave.md", "excerpt": "27 days"}],
        "mode": mode,
        "modelId": "us.amazon.nova-lite-v1:0",
        "usage": {
            "inputTokens": 1000,
            "outputTokens": 100,
            "guardrail": GUARDRAIL,
            "embeddingTokens": None if mode == "prompt" else 10,
            "embeddingTokensSource": None if mode == "prompt" else "estimated",
            **usage,
        },
        "latencyMs": {"retrieve": 100, "generate": 700, "total": 1000},
    }


def make_run(tmp_path: Path, responses: dict[tuple[str, str], dict[str, Any] | None]) -> Path:
    evalset = load_set(write_set(tmp_path / "set.jsonl", ITEMS))
    folder = tmp_path / "20260101T000000Z-abcdef12"
    rundir.start(
        folder, evalset, url="https://x/ask", arms=["prompt", "rag"], now=datetime(2026, 1, 1, tzinfo=UTC)
    )
    lines = [
        {"id": item, "arm": arm, "status": "ok", "latencyMs": 1500, "response": body}
        if body is not None
        else {"id": item, "arm": arm, "status": "error", "latencyMs": 5, "error": {"httpStatus": 503}}
        for (item, arm), body in responses.items()
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    (folder / rundir.RESPONSES).write_text(text, encoding="utf-8")
    return folder


def every(mode_usage: dict[str, dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any] | None]:
    return {
        (item["id"], arm): response(arm, **mode_usage.get(arm, {}))
        for item in ITEMS
        for arm in ("prompt", "rag")
    }


def test_the_breakdown_sums_to_the_cost_per_query_and_includes_the_guardrail(tmp_path: Path) -> None:
    # Given a run on S3 Vectors with a Cohere reranker and 2 GB of function memory
    folder = make_run(tmp_path, every({}))
    context = {"vectorStore": "s3vectors", "rerankModelId": "cohere.rerank-v3-5:0", "ragMemoryMb": 2048}

    # When it is scored
    summary = write_scores(folder, load_prices(None, context))

    # Then each component is priced from the answer's usage and the deployment
    rag = summary["arms"]["rag"]
    breakdown = rag["costBreakdownUsd"]
    assert list(breakdown) == list(costs.COMPONENTS)
    assert breakdown["generation"] == pytest.approx(1000 / 1000 * 0.00006 + 100 / 1000 * 0.00024)
    assert breakdown["guardrail"] == pytest.approx(GUARDRAIL_USD)
    assert breakdown["embedding"] == pytest.approx(10 / 1000 * 0.00002)
    assert breakdown["rerank"] == pytest.approx(0.002)
    assert breakdown["vectorQuery"] == pytest.approx(2.5e-6)
    # API Gateway + Lambda per request + 2 GB x 1.0 s (the function's own latencyMs.total, not the round trip)
    assert breakdown["requests"] == pytest.approx(3.5e-6 + 0.2e-6 + 2 * 1.0 * 0.0000133334)
    assert rag["costUnknown"] == []
    # And the whole cost is their sum, and the guardrail is a real part of it (Nova Lite: about 20x here)
    assert rag["costPerQueryUsd"] == pytest.approx(sum(breakdown.values()))
    assert breakdown["guardrail"] > 10 * breakdown["generation"]
    # And prompt mode pays no retrieval
    prompt = summary["arms"]["prompt"]["costBreakdownUsd"]
    assert prompt["embedding"] == prompt["rerank"] == prompt["vectorQuery"] == 0.0
    assert prompt["guardrail"] == pytest.approx(GUARDRAIL_USD)
    # And a score line's costUsd is the same whole cost
    rows = [json.loads(line) for line in (folder / rundir.SCORES).read_text().splitlines()]
    whole = pytest.approx(rag["costPerQueryUsd"])
    assert [row["costUsd"] for row in rows if row["arm"] == "rag"] == [whole, whole]


def test_an_unknown_price_is_null_listed_and_left_out_of_the_sum_never_zero(tmp_path: Path) -> None:
    # Given the default store (OpenSearch Serverless: billed by the hour) and an uncatalogued reranker
    folder = make_run(tmp_path, every({}))
    prices = load_prices(None, {"vectorStore": "opensearch", "rerankModelId": "acme.rerank-v9:0"})

    summary = write_scores(folder, prices)

    rag = summary["arms"]["rag"]
    assert rag["costUnknown"] == ["rerank", "vectorQuery"]
    assert rag["costBreakdownUsd"]["rerank"] is None and rag["costBreakdownUsd"]["vectorQuery"] is None
    known = [value for value in rag["costBreakdownUsd"].values() if value is not None]
    assert rag["costPerQueryUsd"] == pytest.approx(sum(known))
    assert summary["arms"]["prompt"]["costUnknown"] == []


def test_an_unknown_generation_price_makes_the_total_unknown(tmp_path: Path) -> None:
    responses = every({})
    for key, body in responses.items():
        if key[1] == "rag" and body is not None:
            body["modelId"] = "acme.unknown-v1:0"
    folder = make_run(tmp_path, responses)

    summary = write_scores(folder, load_prices())

    rag = summary["arms"]["rag"]
    assert rag["costPerQueryUsd"] is None and "generation" in rag["costUnknown"]
    assert rag["costBreakdownUsd"]["guardrail"] == pytest.approx(GUARDRAIL_USD)


def test_answers_from_before_the_usage_fields_leave_guardrail_and_embedding_unknown(tmp_path: Path) -> None:
    # Given an older run: usage has only the token counts
    responses = every({})
    for body in responses.values():
        assert body is not None
        body["usage"] = {"inputTokens": 1000, "outputTokens": 100}
    folder = make_run(tmp_path, responses)

    summary = write_scores(folder, load_prices(None, {"vectorStore": "s3vectors"}))

    assert summary["arms"]["rag"]["costUnknown"] == ["guardrail", "embedding"]
    assert summary["arms"]["prompt"]["costUnknown"] == ["guardrail"]


def test_one_query_of_unknown_cost_makes_the_component_unknown_and_errors_are_not_counted(
    tmp_path: Path,
) -> None:
    # Given one rag answer whose trace reported no guardrail usage although the model ran, and one error
    responses = every({})
    responses[("carry", "rag")] = response("rag", guardrail=None)
    responses[("leave", "prompt")] = None
    folder = make_run(tmp_path, responses)

    summary = write_scores(folder, load_prices(None, {"vectorStore": "s3vectors"}))

    assert summary["arms"]["rag"]["costUnknown"] == ["guardrail"]
    prompt = summary["arms"]["prompt"]
    assert prompt["errors"] == 1 and prompt["costUnknown"] == []
    assert prompt["costBreakdownUsd"]["guardrail"] == pytest.approx(GUARDRAIL_USD)


def test_the_no_context_answer_pays_retrieval_but_no_model_or_guardrail() -> None:
    record = {
        "status": "ok",
        "latencyMs": 300,
        "response": response("rag", inputTokens=0, outputTokens=0, guardrail=None, embeddingTokens=4),
    }
    prices = load_prices(None, {"vectorStore": "s3vectors"})

    breakdown = costs.query_breakdown(prices, record)

    assert breakdown["generation"] == 0.0 and breakdown["guardrail"] == 0.0
    assert breakdown["embedding"] == pytest.approx(4 / 1000 * 0.00002)
    assert costs.query_total(breakdown) == pytest.approx(sum(v for v in breakdown.values() if v is not None))


def test_an_error_record_has_no_cost() -> None:
    record = {"status": "error", "latencyMs": 5, "error": {"httpStatus": 503}}
    assert costs.query_breakdown(load_prices(), record) == dict.fromkeys(costs.COMPONENTS)
    assert costs.query_total(dict.fromkeys(costs.COMPONENTS)) is None


def test_the_deployment_comes_from_the_configuration() -> None:
    deployment = Deployment.from_context(
        {"embeddingModelId": "cohere.embed-english-v3", "rerankModelId": "", "ragMemoryMb": "512"}
    )
    assert deployment == Deployment("cohere.embed-english-v3", "", "opensearch", 512)
    assert load_prices().deployment == Deployment()
    assert isinstance(load_prices(), PriceTable)


def test_every_guardrail_usage_field_has_a_price_and_the_paid_ones_match_the_pricing_page() -> None:
    """Amazon Bedrock pricing, Guardrails: content filters and denied topics $0.15 per 1,000 text units,
    sensitive information filters (PII) and contextual grounding checks $0.10; word filters and
    sensitive information filters by regular expression are free."""
    from lambdas.rag.constants import GUARDRAIL_USAGE_FIELDS

    prices = {name: price.usd for name, price in bedrock.GUARDRAIL_USAGE_PRICES.items()}
    assert set(prices) == set(GUARDRAIL_USAGE_FIELDS)
    assert prices == {
        "topicPolicyUnits": 0.15,
        "contentPolicyUnits": 0.15,
        "wordPolicyUnits": 0.0,
        "sensitiveInformationPolicyUnits": 0.10,
        "sensitiveInformationPolicyFreeUnits": 0.0,
        "contextualGroundingPolicyUnits": 0.10,
    }


def test_request_prices_follow_the_pricing_pages() -> None:
    """API Gateway pricing, REST APIs: $3.50 per million requests (first 333 million); Lambda pricing, Arm:
    $0.20 per 1M requests and $0.0000133334 per GB-second (first 7.5 billion GB-seconds)."""
    one_gb_second = requests.REQUESTS.cost(1024, 1000)
    assert one_gb_second == pytest.approx(3.5e-6 + 0.2e-6 + 0.0000133334)
    assert requests.REQUESTS.cost(512, 0) == pytest.approx(3.7e-6)
    assert requests.VECTOR_QUERY_PRICES["opensearch"] is None


def test_a_memory_that_is_not_a_number_is_a_setup_error_naming_the_key() -> None:
    from ladder.errors import SetupError

    with pytest.raises(ValueError, match="ragMemoryMb 'lots': expected a whole number of MB"):
        Deployment.from_context({"ragMemoryMb": "lots"})
    with pytest.raises(SetupError, match="ragMemoryMb 'lots': expected a whole number of MB"):
        load_prices(None, {"ragMemoryMb": "lots"})


def test_a_price_file_keeps_the_deployment(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {"acme.model-v1:0": {"inputPer1k": 1, "outputPer1k": 1}}}))

    table = load_prices(path, {"vectorStore": "s3vectors", "ragMemoryMb": 512})

    assert table.deployment == Deployment(vector_store="s3vectors", memory_mb=512)
    assert table.model("acme.model-v1:0") is not None
