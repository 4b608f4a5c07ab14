"""The prices one evaluation run uses: the catalog's Bedrock prices (``ladder_core.catalog.bedrock``), with a
user JSON file's entries on top (``ladder eval run --prices FILE``), and the deployment the other per-query
prices depend on (embedding model, reranker, vector store, function memory: cdk.json with -c overrides).
``ladder eval`` turns a response's token usage into the generation cost with :meth:`PriceTable.query_cost`
and the whole cost of a query with :mod:`ladder.pricing.costs`. The file overrides or extends the table::

    {"models": {"amazon.nova-lite-v1:0": {"inputPer1k": 0.00006, "outputPer1k": 0.00024,
                                          "asOf": "2026-12-01", "source": "https://..."}},
     "customModelImport": {"usdPerCmuMinute": 0.0785, "cmusPerCopy": 2, "asOf": "...", "source": "..."}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ladder_core.catalog import bedrock
from ladder_core.catalog.bedrock import (
    CUSTOM_MODEL_IMPORT,
    IMPORTED_MODEL_PREFIX,
    CustomModelImportPrice,
    ModelPrice,
    foundation_model_id,
)

from ..errors import SetupError


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
        """The deployment a configuration describes; keys it lacks keep their defaults."""
        defaults = cls()
        try:
            memory_mb = int(context.get("ragMemoryMb", defaults.memory_mb))
        except (TypeError, ValueError):
            raise SetupError(
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


def load_prices(path: Path | None = None, context: Mapping[str, Any] | None = None) -> PriceTable:
    """The default table, overridden by the JSON file at ``path``, for the deployment ``context`` describes
    (cdk.json with -c overrides; None: the project's defaults); SetupError naming what is wrong in it."""
    table = PriceTable(
        models=catalog_prices(),
        custom_model_import=CUSTOM_MODEL_IMPORT,
        deployment=Deployment() if context is None else Deployment.from_context(context),
    )
    if path is None:
        return table
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise SetupError(f"cannot read price file {path}: {err.strerror or err}") from None
    except ValueError as err:
        raise SetupError(f"price file {path} is not valid JSON: {err}") from None
    if not isinstance(data, dict) or set(data) - {"models", "customModelImport"}:
        raise SetupError(f"price file {path}: expected an object with 'models' and/or 'customModelImport'")
    for model_id, entry in (data.get("models") or {}).items():
        table.models[foundation_model_id(model_id)] = ModelPrice(
            input_per_1k=_number(path, f"models.{model_id}.inputPer1k", entry, "inputPer1k"),
            output_per_1k=_number(path, f"models.{model_id}.outputPer1k", entry, "outputPer1k"),
            as_of=str(entry.get("asOf", "user file")),
            source=str(entry.get("source", str(path))),
        )
    cmi = data.get("customModelImport")
    if cmi is not None:
        table = replace(
            table,
            custom_model_import=CustomModelImportPrice(
                usd_per_cmu_minute=_number(path, "customModelImport.usdPerCmuMinute", cmi, "usdPerCmuMinute"),
                cmus_per_copy=int(_number(path, "customModelImport.cmusPerCopy", cmi, "cmusPerCopy")),
                as_of=str(cmi.get("asOf", "user file")),
                source=str(cmi.get("source", str(path))),
            ),
        )
    return table


def _number(path: Path, where: str, entry: Any, key: str) -> float:
    value = entry.get(key) if isinstance(entry, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise SetupError(f"price file {path}: {where} must be a number >= 0, got {value!r}")
    return float(value)
