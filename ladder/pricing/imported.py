"""The imported (Custom Model Import) model's own Custom Model Units, read once per evaluation run.

Bedrock decides at import how many CMUs one copy of a model needs (``GetImportedModel`` ->
``customModelUnits.customModelUnitsPerModelCopy``, with ``customModelUnitsVersion`` naming the billing
rate's version); a 1B model needs fewer than an 8B one. ``ladder eval run`` reads them when it measures the
``finetuned`` arm and keeps them in the run folder (``imported-model.json``), so that ``ladder eval report``
and ``ladder justify`` (both offline) price the model with its own units; without the file, the catalog's
default applies and the verdict says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ladder_core.api import public_model_id
from ladder_core.evaluation.prices import PriceTable

IMPORTED_MODEL_FILE = "imported-model.json"


@dataclass(frozen=True)
class ImportedModelUnits:
    """What ``GetImportedModel`` says one copy of an imported model needs: ``customModelUnits``."""

    model_id: str
    cmus_per_copy: int
    """``customModelUnitsPerModelCopy``."""
    version: str | None
    """``customModelUnitsVersion`` (``v1.0``): which CMU billing rate applies."""


def read_units(bedrock: Any, model_identifier: str) -> tuple[ImportedModelUnits | None, str]:
    """``GetImportedModel``'s ``customModelUnits`` for ``model_identifier`` (name or ARN), or None and a note
    saying why they could not be read."""
    try:
        response = bedrock.get_imported_model(modelIdentifier=model_identifier)
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "error")
        return None, f"GetImportedModel failed with {code}"
    except BotoCoreError as err:
        return None, f"GetImportedModel failed: {type(err).__name__}"
    units = response.get("customModelUnits") or {}
    per_copy = units.get("customModelUnitsPerModelCopy")
    if not isinstance(per_copy, int) or isinstance(per_copy, bool) or per_copy < 1:
        return None, "GetImportedModel returned no customModelUnitsPerModelCopy"
    version = units.get("customModelUnitsVersion")
    found = ImportedModelUnits(
        public_model_id(model_identifier), per_copy, version if isinstance(version, str) else None
    )
    return found, ""


def record_units(folder: Path, bedrock: Any, model_identifier: str) -> ImportedModelUnits | None:
    """Read the model's units and write them (or why they could not be read) to the run folder."""
    units, note = read_units(bedrock, model_identifier)
    folder.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {"modelId": public_model_id(model_identifier)}
    if units is None:
        document["note"] = note
    else:
        document["customModelUnitsPerModelCopy"] = units.cmus_per_copy
        document["customModelUnitsVersion"] = units.version
    (folder / IMPORTED_MODEL_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return units


def recorded_units(folder: Path) -> tuple[ImportedModelUnits | None, str]:
    """The units the run recorded, or None and why (no file: the run had no fine-tuned arm to read)."""
    path = folder / IMPORTED_MODEL_FILE
    if not path.is_file():
        return None, f"the run folder has no {IMPORTED_MODEL_FILE}"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return None, f"{path} is unreadable ({err})"
    per_copy = document.get("customModelUnitsPerModelCopy") if isinstance(document, dict) else None
    if not isinstance(per_copy, int) or isinstance(per_copy, bool) or per_copy < 1:
        note = document.get("note") if isinstance(document, dict) else None
        return None, str(note or f"{path} has no customModelUnitsPerModelCopy")
    version = document.get("customModelUnitsVersion")
    return ImportedModelUnits(
        str(document.get("modelId", "")), per_copy, version if isinstance(version, str) else None
    ), ""


def with_recorded_units(prices: PriceTable, folder: Path) -> PriceTable:
    """``prices`` with Custom Model Import priced at the run's imported model's own CMUs per copy."""
    units, _ = recorded_units(folder)
    if units is None:
        return prices
    own = replace(prices.custom_model_import, cmus_per_copy=units.cmus_per_copy)
    return replace(prices, custom_model_import=own)
