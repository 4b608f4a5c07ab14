"""Per-request Bedrock prices: model id -> USD per 1,000 input / output tokens, plus the embedding,
guardrail and Custom Model Import prices that a query also pays. ``ladder eval`` turns a response's
token usage into ``costUsd`` with :func:`query_cost`.

List prices in USD for on-demand use in us-east-1 (N. Virginia); cross-region inference profiles
(``us.``/``eu.``/``apac.``) are billed at the source region's price of the model they route to, so the
profile prefix is stripped before lookup. Every entry carries the date it was taken and its source page.
A user JSON file overrides or extends the table (``ladder eval run --prices FILE``)::

    {"models": {"amazon.nova-lite-v1:0": {"inputPer1k": 0.00006, "outputPer1k": 0.00024,
                                          "asOf": "2026-12-01", "source": "https://..."}},
     "customModelImport": {"usdPerCmuMinute": 0.0785, "cmusPerCopy": 2, "asOf": "...", "source": "..."}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import SetupError

BEDROCK_PRICING_URL = "https://aws.amazon.com/bedrock/pricing/"
CMI_COST_URL = "https://docs.aws.amazon.com/bedrock/latest/userguide/import-model-calculate-cost.html"
AS_OF = "2026-12-01"
_GEO_PREFIXES = ("us.", "eu.", "apac.", "us-gov.", "global.")
IMPORTED_MODEL_PREFIX = "imported-model/"
MS_PER_MINUTE = 60_000


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1,000 input and output tokens of one model, on ``as_of`` from ``source``."""

    input_per_1k: float
    output_per_1k: float
    as_of: str = AS_OF
    source: str = BEDROCK_PRICING_URL

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return input_tokens / 1000 * self.input_per_1k + output_tokens / 1000 * self.output_per_1k


@dataclass(frozen=True)
class UnitPrice:
    """A price per unit that is not a generation token (embedding tokens, guardrail text units)."""

    usd: float
    unit: str
    as_of: str = AS_OF
    source: str = BEDROCK_PRICING_URL


@dataclass(frozen=True)
class CustomModelImportPrice:
    """Custom Model Import bills running model copies per Custom Model Unit (CMU) per minute, in 5-minute
    windows. ``cmus_per_copy`` depends on the imported model (``GetImportedModel`` ->
    ``customModelUnitsPerModelCopy``); the default suits an 8B-parameter Llama."""

    usd_per_cmu_minute: float
    cmus_per_copy: int
    as_of: str = AS_OF
    source: str = BEDROCK_PRICING_URL

    def cost(self, latency_ms: float) -> float:
        """The copy's price for the time one request held it: a lower bound (billing uses 5-min windows)."""
        return self.usd_per_cmu_minute * self.cmus_per_copy * latency_ms / MS_PER_MINUTE


MODELS: dict[str, ModelPrice] = {
    "amazon.nova-micro-v1:0": ModelPrice(0.000035, 0.00014),
    "amazon.nova-lite-v1:0": ModelPrice(0.00006, 0.00024),
    "amazon.nova-pro-v1:0": ModelPrice(0.0008, 0.0032),
    "anthropic.claude-3-haiku-20240307-v1:0": ModelPrice(0.00025, 0.00125),
    "anthropic.claude-3-5-haiku-20241022-v1:0": ModelPrice(0.0008, 0.004),
    "anthropic.claude-3-5-sonnet-20241022-v2:0": ModelPrice(0.003, 0.015),
    "anthropic.claude-3-7-sonnet-20250219-v1:0": ModelPrice(0.003, 0.015),
    "meta.llama3-1-8b-instruct-v1:0": ModelPrice(0.00022, 0.00022),
    "meta.llama3-1-70b-instruct-v1:0": ModelPrice(0.00072, 0.00072),
    "mistral.mistral-large-2402-v1:0": ModelPrice(0.004, 0.012),
}
"""Generation models by foundation-model id (profile prefix stripped)."""

EMBEDDINGS: dict[str, UnitPrice] = {
    "amazon.titan-embed-text-v2:0": UnitPrice(0.00002, "1,000 input tokens"),
    "cohere.embed-english-v3": UnitPrice(0.0001, "1,000 input tokens"),
    "cohere.embed-multilingual-v3": UnitPrice(0.0001, "1,000 input tokens"),
}

GUARDRAIL_TEXT_UNITS: dict[str, UnitPrice] = {
    "contentFilters": UnitPrice(0.15, "1,000 text units"),
    "deniedTopics": UnitPrice(0.15, "1,000 text units"),
    "sensitiveInformationFilters": UnitPrice(0.10, "1,000 text units"),
    "contextualGroundingCheck": UnitPrice(0.10, "1,000 text units"),
}
"""A text unit is up to 1,000 characters; word filters and regex PII filters are free."""

CUSTOM_MODEL_IMPORT = CustomModelImportPrice(usd_per_cmu_minute=0.0785, cmus_per_copy=2)


@dataclass(frozen=True)
class PriceTable:
    """The prices in effect for one run: the defaults above, with a user file's entries on top."""

    models: dict[str, ModelPrice]
    custom_model_import: CustomModelImportPrice

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


def foundation_model_id(model_id: str) -> str:
    """``us.amazon.nova-lite-v1:0`` -> ``amazon.nova-lite-v1:0``; other ids unchanged."""
    for prefix in _GEO_PREFIXES:
        if model_id.startswith(prefix):
            return model_id[len(prefix) :]
    return model_id


def load_prices(path: Path | None = None) -> PriceTable:
    """The default table, overridden by the JSON file at ``path``; SetupError naming what is wrong in it."""
    table = PriceTable(models=dict(MODELS), custom_model_import=CUSTOM_MODEL_IMPORT)
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
