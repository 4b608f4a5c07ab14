"""The prices one evaluation uses: the catalog's Bedrock prices (``ladder_core.catalog.bedrock``), possibly
with a user's entries on top, and the deployment the other per-query prices depend on (embedding model,
reranker, vector store, function memory: cdk.json's keys). :meth:`PriceTable.query_cost` turns a response's
token usage into the generation cost; :mod:`.costs` prices the whole query. Reading a price file is the
CLI's (``ladder.pricing.models``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..catalog import bedrock
from ..catalog.bedrock import (
    CUSTOM_MODEL_IMPORT,
    IMPORTED_MODEL_PREFIX,
    CustomModelImportPrice,
    ModelPrice,
    foundation_model_id,
)


def catalog_prices() -> dict[str, ModelPrice]:
    """The catalog's token prices by foundation-model id (models without a catalogued price left out)."""
    return {model_id: m.price for model_id, m in bedrock.MODELS.items() if m.price is not None}


@dataclass(frozen=True)
class Deployment:
    """What a query's cost depends on besides its answer, as deployed (cdk.json's keys in brackets); the
    defaults are the project's own cdk.json defaults, used outside the project."""

    embedding_model_id: str = "amazon.titan-embed-text-v2:0"
    """The knowledge base's embedding model (``embeddingModelId``)."""
    rerank_model_id: str = ""
    """The reranker, empty when none (``rerankModelId``)."""
    vector_store: str = "opensearch"
    """``opensearch`` or ``s3vectors`` (``vectorStore``)."""
    memory_mb: int = 1024
    """The RAG function's memory (``ragMemoryMb``)."""

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> Deployment:
        """The deployment a configuration describes; keys it lacks keep their defaults; ValueError naming a
        bad value."""
        defaults = cls()
        try:
            memory_mb = int(context.get("ragMemoryMb", defaults.memory_mb))
        except (TypeError, ValueError):
            raise ValueError(
                f"ragMemoryMb {context.get('ragMemoryMb')!r}: expected a whole number of MB"
            ) from None
        return cls(
            embedding_model_id=str(context.get("embeddingModelId") or defaults.embedding_model_id),
            rerank_model_id=str(context.get("rerankModelId") or ""),
            vector_store=str(context.get("vectorStore") or defaults.vector_store),
            memory_mb=memory_mb,
        )


@dataclass(frozen=True)
class PriceTable:
    """The prices in effect for one run: the catalog's, with a user file's entries on top."""

    models: dict[str, ModelPrice]
    custom_model_import: CustomModelImportPrice
    deployment: Deployment = field(default_factory=Deployment)

    def model(self, model_id: str | None) -> ModelPrice | None:
        if not model_id:
            return None
        return self.models.get(foundation_model_id(model_id))

    def query_cost(
        self,
        model_id: str | None,
        input_tokens: int | None,
        output_tokens: int | None,
        latency_ms: float | None,
    ) -> float | None:
        """USD for one answer; None when the model's price is unknown (the report says so, never guesses).

        An imported model (``imported-model/...``) is priced by its copy's time, else by tokens.
        """
        if model_id and model_id.startswith(IMPORTED_MODEL_PREFIX):
            return None if latency_ms is None else self.custom_model_import.cost(latency_ms)
        price = self.model(model_id)
        if price is None or input_tokens is None or output_tokens is None:
            return None
        return price.cost(input_tokens, output_tokens)


def default_prices(deployment: Deployment | None = None) -> PriceTable:
    """The catalog's prices for ``deployment`` (None: the project's defaults)."""
    return PriceTable(
        models=catalog_prices(),
        custom_model_import=CUSTOM_MODEL_IMPORT,
        deployment=deployment or Deployment(),
    )
