"""The imported (Custom Model Import) model's own Custom Model Units, as a run folder records them.

Bedrock decides at import how many CMUs one copy of a model needs (``GetImportedModel`` ->
``customModelUnits.customModelUnitsPerModelCopy``, with ``customModelUnitsVersion`` naming the billing
rate's version); a 1B model needs fewer than an 8B one. A run that measures the ``finetuned`` arm keeps them
in its folder (``imported-model.json``: ``ladder eval run`` locally, the evaluation function in AWS), so
that every later reading of the run prices the model with its own units; without the file, the catalog's
default applies and the reports say so. Pure: the caller makes the ``GetImportedModel`` call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, TypeGuard

from ..api import public_model_id
from .prices import PriceTable

IMPORTED_MODEL_FILE = "imported-model.json"


@dataclass(frozen=True)
class ImportedModelUnits:
    """What ``GetImportedModel`` says one copy of an imported model needs: ``customModelUnits``."""

    model_id: str
    cmus_per_copy: int
    """``customModelUnitsPerModelCopy``."""
    version: str | None
    """``customModelUnitsVersion`` (``v1.0``): which CMU billing rate applies."""


def units_from_response(
    model_identifier: str, response: dict[str, Any]
) -> tuple[ImportedModelUnits | None, str]:
    """The units in a ``GetImportedModel`` response, or None and a note saying why there are none."""
    units = response.get("customModelUnits") or {}
    per_copy = units.get("customModelUnitsPerModelCopy")
    if not _positive_int(per_copy):
        return None, "GetImportedModel returned no customModelUnitsPerModelCopy"
    version = units.get("customModelUnitsVersion")
    return ImportedModelUnits(
        public_model_id(model_identifier), per_copy, version if isinstance(version, str) else None
    ), ""


def units_document(model_identifier: str, units: ImportedModelUnits | None, note: str) -> dict[str, Any]:
    """``imported-model.json``: the model (its public id) and its units, or the note saying why none."""
    document: dict[str, Any] = {"modelId": public_model_id(model_identifier)}
    if units is None:
        document["note"] = note
    else:
        document["customModelUnitsPerModelCopy"] = units.cmus_per_copy
        document["customModelUnitsVersion"] = units.version
    return document


def units_from_document(document: Any, where: str) -> tuple[ImportedModelUnits | None, str]:
    """The units an ``imported-model.json`` records, or None and why (its note, or what it lacks)."""
    per_copy = document.get("customModelUnitsPerModelCopy") if isinstance(document, dict) else None
    if not _positive_int(per_copy):
        note = document.get("note") if isinstance(document, dict) else None
        return None, str(note or f"{where} has no customModelUnitsPerModelCopy")
    version = document.get("customModelUnitsVersion")
    return ImportedModelUnits(
        str(document.get("modelId", "")), per_copy, version if isinstance(version, str) else None
    ), ""


def with_units(prices: PriceTable, units: ImportedModelUnits | None) -> PriceTable:
    """``prices`` with Custom Model Import priced at ``units``' CMUs per copy (unchanged for None)."""
    if units is None:
        return prices
    own = replace(prices.custom_model_import, cmus_per_copy=units.cmus_per_copy)
    return replace(prices, custom_model_import=own)


def _positive_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
