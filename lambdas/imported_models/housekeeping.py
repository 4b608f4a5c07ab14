"""Keeps the pipeline's Bedrock imported models within the account's quota.

Each run imports one model; none is deleted by Bedrock. ``prune`` deletes this pipeline's models beyond the
newest ``keep`` (never the published one, so at least one rollback target remains with ``keep`` = 2), a
candidate the promotion gate rejected counting after every other model: a rejection never pushes out a
model that passed, and the rejected candidate stays for ``ladder finetune promote`` until room is needed;
``ensure_capacity`` runs it before training and then refuses to train when the account still has no room
for one more import: a quota error after training would waste the GPU time already paid for.

A model belongs to this pipeline when it carries the tag ``PIPELINE_TAG`` with the state machine's name
(the import step sets it), so two deployments in one account never prune each other's models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from . import constants


class NoImportCapacity(Exception):
    """The account's imported-model quota is reached even after pruning (Step Functions error name)."""


class QuotaUnavailable(Exception):
    """Neither the applied nor the default imported-model quota could be read (Step Functions error name)."""


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


def _tags(bedrock: Any, model: Model) -> dict[str, str]:
    tags = bedrock.list_tags_for_resource(resourceARN=model.arn).get("tags", [])
    return {t["key"]: t["value"] for t in tags}


def prune(bedrock: Any, *, pipeline: str, keep: int, published_arn: str | None) -> list[str]:
    """Delete this pipeline's models beyond the newest ``keep``, never ``published_arn``, the candidates the
    gate rejected (``PROMOTION_TAG`` = ``rejected``) ranked after all others; the deleted models' names."""
    owned = []
    for model in all_models(bedrock):
        tags = _tags(bedrock, model)
        if tags.get(constants.PIPELINE_TAG) == pipeline:
            owned.append((model, tags.get(constants.PROMOTION_TAG) == constants.REJECTED))
    # sorted() is stable: newest first within the models that passed, then within the rejected ones.
    ranked = [model for model, rejected in sorted(owned, key=lambda pair: pair[1])]
    deleted = []
    for model in ranked[keep:]:
        if model.arn == published_arn:
            continue
        bedrock.delete_imported_model(modelIdentifier=model.arn)
        deleted.append(model.name)
    return deleted


def read_imported_model_quota(service_quotas: Any) -> tuple[float | None, str | None, list[str]]:
    """The account's imported-model quota, where it came from (``applied`` or ``default``) and, per call that
    gave no value, what it answered; the value and its source are None when neither call gave one.

    GetServiceQuota returns the applied value; for a quota that has none it answers NoSuchResourceException
    ("If the applied quota value is not available for a quota, the quota is not retrieved"), so the AWS
    default (GetAWSDefaultServiceQuota) is read next. ``ladder doctor`` reads the quota with this function
    too.
    """
    request = {"ServiceCode": constants.QUOTA_SERVICE_CODE, "QuotaCode": constants.QUOTA_CODE}
    reasons: list[str] = []
    for source, operation, read in (
        ("applied", "GetServiceQuota", service_quotas.get_service_quota),
        ("default", "GetAWSDefaultServiceQuota", service_quotas.get_aws_default_service_quota),
    ):
        try:
            value = read(**request).get("Quota", {}).get("Value")
        except ClientError as err:
            reasons.append(f"{operation} answered {err.response.get('Error', {}).get('Code') or 'an error'}")
            continue
        if value is not None:
            return float(value), source, reasons
        reasons.append(f"{operation} returned no value")
    return None, None, reasons


def imported_model_quota(service_quotas: Any) -> tuple[int, str]:
    """The account's imported-model quota and where it came from (``applied`` or ``default``). Neither call
    answering raises QuotaUnavailable: a run that cannot know whether its import fits must not pay for a GPU
    first."""
    value, source, reasons = read_imported_model_quota(service_quotas)
    if value is None or source is None:
        raise QuotaUnavailable(
            f"the imported-model quota ({constants.QUOTA_SERVICE_CODE} {constants.QUOTA_CODE}) could not be "
            f"read ({'; '.join(reasons)}): nothing was trained; check the function's servicequotas "
            "permissions and start again"
        )
    return int(value), source


def ensure_capacity(
    bedrock: Any, service_quotas: Any, *, pipeline: str, keep: int, published_arn: str | None
) -> dict[str, Any]:
    """Prune, then make sure one more model can be imported; NoImportCapacity otherwise."""
    deleted = prune(bedrock, pipeline=pipeline, keep=keep, published_arn=published_arn)
    count = len(all_models(bedrock))
    quota, source = imported_model_quota(service_quotas)
    if count >= quota:
        raise NoImportCapacity(
            f"the account holds {count} imported models and its quota is {quota}: delete models that are "
            "not needed (ladder finetune models lists the pipeline's) or raise the quota, then start again"
        )
    return {"importedModels": count, "quota": quota, "quotaSource": source, "deleted": deleted}
