"""What one answered request costs outside Bedrock: API Gateway REST, the RAG Lambda function, and the
vector store's query, as dated us-east-1 list prices (free tiers ignored, as in :mod:`idle`).

The vector query: an OpenSearch Serverless collection bills OCU-hours whatever the traffic (its floor is in
:mod:`ladder_core.catalog.idle`), so a query has no price of its own; a per-query share exists only at a
stated volume (``ladder justify --queries-per-day`` adds the floor that way). S3 Vectors bills each
``QueryVectors`` call, plus a charge per TB of index data the query processes, which depends on the index's
size and is not counted here (a lower bound: about a millionth of a cent per query at sandbox sizes).
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_AS_OF = "2026-12-01"
SOURCES = {
    "API Gateway": "https://aws.amazon.com/api-gateway/pricing/ (REST APIs, first 333 million requests)",
    "Lambda": "https://aws.amazon.com/lambda/pricing/ (Arm, first 7.5 billion GB-seconds)",
    "S3 Vectors": "https://aws.amazon.com/s3/pricing/ (S3 Vectors, query requests)",
}
MB_PER_GB = 1024
MS_PER_S = 1000


@dataclass(frozen=True)
class RequestPrices:
    """USD per request of API Gateway REST and Lambda, and per GB-second of an arm64 function."""

    api_gateway_per_request: float = 3.50 / 1_000_000
    lambda_per_request: float = 0.20 / 1_000_000
    lambda_per_gb_second: float = 0.0000133334
    """arm64, as every Ladder function is built (x86_64 costs $0.0000166667)."""
    as_of: str = PRICES_AS_OF

    def cost(self, memory_mb: int, duration_ms: float) -> float:
        """One request through API Gateway to a function of ``memory_mb`` that ran ``duration_ms``."""
        gb_seconds = memory_mb / MB_PER_GB * duration_ms / MS_PER_S
        return self.api_gateway_per_request + self.lambda_per_request + gb_seconds * self.lambda_per_gb_second


REQUESTS = RequestPrices()

VECTOR_QUERY_PRICES: dict[str, float | None] = {
    "opensearch": None,
    "s3vectors": 2.50 / 1_000_000,
}
"""USD per vector query by store (the knowledge base's ``vectorStore``); None: billed by the hour, no
price per query (see the module's docstring)."""
