"""Retrieval from the Bedrock Knowledge Base, keeping the passages relevant enough to answer from."""

from __future__ import annotations

from typing import Any

from . import constants
from .deadline import within_deadline
from .prompts import Passage
from .settings import Settings

_SOURCE_URI_METADATA_KEY = "x-amz-bedrock-kb-source-uri"


def retrieve_passages(
    agent_runtime: Any,
    settings: Settings,
    *,
    question: str,
    top_k: int,
    retrieval_filter: dict[str, Any] | None,
) -> list[Passage]:
    """Calls ``Retrieve``; returns the text passages scoring at least MIN_RELEVANCE_SCORE, in rank order."""
    vector_search: dict[str, Any] = {"numberOfResults": top_k}
    if retrieval_filter is not None:
        vector_search["filter"] = retrieval_filter
    if settings.search_type is not None:
        vector_search["overrideSearchType"] = settings.search_type
    if settings.rerank_model_arn is not None:
        # The reranker can only reorder what retrieval returns: fetch more candidates, keep top_k of them.
        vector_search["numberOfResults"] = min(
            constants.RERANK_CANDIDATES_MAX, top_k * constants.RERANK_CANDIDATE_FACTOR
        )
        vector_search["rerankingConfiguration"] = {
            "type": "BEDROCK_RERANKING_MODEL",
            "bedrockRerankingConfiguration": {
                "modelConfiguration": {"modelArn": settings.rerank_model_arn},
                "numberOfRerankedResults": top_k,
            },
        }
    response = within_deadline(
        "retrieve",
        lambda: agent_runtime.retrieve(
            knowledgeBaseId=settings.knowledge_base_id,
            retrievalQuery={"text": question},
            retrievalConfiguration={"vectorSearchConfiguration": vector_search},
        ),
    )
    passages = []
    for result in response.get("retrievalResults", []):
        text = result.get("content", {}).get("text")
        # A result without a score cannot show it is relevant, so it counts as 0.
        score = float(result.get("score") or 0.0)
        if text and text.strip() and score >= settings.min_relevance_score:
            passages.append(Passage(text=text, source_uri=source_uri(result), score=score))
    return passages


def source_uri(result: dict[str, Any]) -> str:
    """Where a result came from: the location's URI or URL, else the KB's source-uri metadata, else ""."""
    location = result.get("location", {})
    for value in location.values():
        if isinstance(value, dict):
            for field in ("uri", "url", "id"):
                if isinstance(value.get(field), str):
                    return str(value[field])
    metadata_uri = result.get("metadata", {}).get(_SOURCE_URI_METADATA_KEY)
    return metadata_uri if isinstance(metadata_uri, str) else ""
