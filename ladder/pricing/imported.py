"""Reading and recording the imported model's Custom Model Units for ``ladder eval run`` (the format and
its pricing are ``ladder_core.evaluation.imported``, shared with the evaluation function in AWS)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ladder_core.evaluation.imported import (
    IMPORTED_MODEL_FILE,
    ImportedModelUnits,
    units_document,
    units_from_document,
    units_from_response,
    with_units,
)
from ladder_core.evaluation.prices import PriceTable

__all__ = ["IMPORTED_MODEL_FILE", "ImportedModelUnits", "read_units", "record_units", "recorded_units"]


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
    return units_from_response(model_identifier, response)


def record_units(folder: Path, bedrock: Any, model_identifier: str) -> ImportedModelUnits | None:
    """Read the model's units and write them (or why they could not be read) to the run folder."""
    units, note = read_units(bedrock, model_identifier)
    folder.mkdir(parents=True, exist_ok=True)
    document = units_document(model_identifier, units, note)
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
    return units_from_document(document, str(path))


def with_recorded_units(prices: PriceTable, folder: Path) -> PriceTable:
    """``prices`` with Custom Model Import priced at the run's imported model's own CMUs per copy."""
    return with_units(prices, recorded_units(folder)[0])
