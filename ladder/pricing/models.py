"""The prices one evaluation run uses: ``ladder_core.evaluation.prices``'s table (the catalog's Bedrock prices
for the deployment cdk.json describes, with -c overrides), with a user JSON file's entries on top
(``ladder eval run --prices FILE``). The file overrides or extends the table::

    {"models": {"amazon.nova-lite-v1:0": {"inputPer1k": 0.00006, "outputPer1k": 0.00024,
                                          "asOf": "2026-12-01", "source": "https://..."}},
     "customModelImport": {"usdPerCmuMinute": 0.0785, "cmusPerCopy": 2, "asOf": "...", "source": "..."}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ladder_core.catalog.bedrock import CustomModelImportPrice, ModelPrice, foundation_model_id
from ladder_core.evaluation.prices import Deployment, PriceTable, default_prices

from ..errors import SetupError


def load_prices(path: Path | None = None, context: Mapping[str, Any] | None = None) -> PriceTable:
    """The default table, overridden by the JSON file at ``path``, for the deployment ``context`` describes
    (cdk.json with -c overrides; None: the project's defaults); SetupError naming what is wrong in it."""
    try:
        table = default_prices(None if context is None else Deployment.from_context(context))
    except ValueError as err:
        raise SetupError(str(err)) from None
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
