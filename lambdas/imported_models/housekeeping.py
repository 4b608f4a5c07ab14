"""Keeps the pipeline's Bedrock imported models within the account's quota.

Each run imports one model; none is deleted by Bedrock. ``prune`` deletes this pipeline's models beyond the
newest ``keep`` (never the published one, so at least one rollback target remains with ``keep`` = 2);
``ensure_capacity`` runs it before training and then refuses to train when the account still has no room
for one more import: a quota error after training would waste the GPU time already paid for.

A model belongs to this pipeline when it carries the tag ``PIPELINE_TAG`` with the state machine's name
(the import step sets it), so two deployments in one account never prune each other's models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import constants


class NoImportCapacity(Exception):
    """The account's imported-model quota is reached even after pruning (Step Functions error name)."""


@dataclass(frozen=True)
class Model:
    arn: str
    name: str
    created: datetime


def all_models(bedrock: Any) -> list[Model]:
    """Every imported model of the account in this region, newest first."""
    found: list[Model] = []
    request: dict[str, Any] = {"sortBy": "CreationTime", "sortOrder": "Descending"}
    while True:
        page = bedrock.list_imported_models(**request)
        found += [
            Model(arn=s["modelArn"], name=s["modelName"], created=s["creationTime"])
            for s in page.get("modelSummaries", [])
        ]
        if not page.get("nextToken"):
            return sorted(found, key=lambda model: model.created, reverse=True)
        request["nextToken"] = page["nextToken"]


def _owned(bedrock: Any, model: Model, pipeline: str) -> bool:
    tags = bedrock.list_tags_for_resource(resourceARN=model.arn).get("tags", [])
    return any(t["key"] == constants.PIPELINE_TAG and t["value"] == pipeline for t in tags)


def prune(bedrock: Any, *, pipeline: str, keep: int, published_arn: str | None) -> list[str]:
    """Delete this pipeline's models beyond the newest ``keep``, never ``published_arn``; their names."""
    owned = [model for model in all_models(bedrock) if _owned(bedrock, model, pipeline)]
    deleted = []
    for model in owned[keep:]:
        if model.arn == published_arn:
            continue
        bedrock.delete_imported_model(modelIdentifier=model.arn)
        deleted.append(model.name)
    return deleted


def imported_model_quota(service_quotas: Any) -> int | None:
    """The account's applied quota on imported models, found by name (Bedrock's quota codes are not
    documented); None when Service Quotas lists no such quota."""
    request: dict[str, Any] = {"ServiceCode": constants.QUOTA_SERVICE_CODE}
    while True:
        page = service_quotas.list_service_quotas(**request)
        for quota in page.get("Quotas", []):
            if re.search(constants.QUOTA_NAME_PATTERN, quota.get("QuotaName", ""), re.IGNORECASE):
                return int(quota["Value"])
        if not page.get("NextToken"):
            return None
        request["NextToken"] = page["NextToken"]


def ensure_capacity(
    bedrock: Any, service_quotas: Any, *, pipeline: str, keep: int, published_arn: str | None
) -> dict[str, Any]:
    """Prune, then make sure one more model can be imported; NoImportCapacity otherwise."""
    deleted = prune(bedrock, pipeline=pipeline, keep=keep, published_arn=published_arn)
    count = len(all_models(bedrock))
    quota = imported_model_quota(service_quotas)
    if quota is not None and count >= quota:
        raise NoImportCapacity(
            f"the account holds {count} imported models and its quota is {quota}: delete models that are "
            "not needed (ladder finetune models lists the pipeline's) or raise the quota, then start again"
        )
    return {"importedModels": count, "quota": quota, "deleted": deleted}
