"""Imported-models housekeeping: Bedrock and Service Quotas via Stubber, the parameter via moto SSM."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from lambdas.imported_models.constants import PIPELINE_TAG, PROMOTION_TAG
from lambdas.imported_models.handler import run
from lambdas.imported_models.housekeeping import NoImportCapacity, QuotaUnavailable
from lambdas.imported_models.settings import load_settings

REGION = "us-east-1"
ACCOUNT = "123456789012"
PIPELINE = "LadderFineTunePipeline"
PARAMETER = "/ladder/fine-tune/model-arn"
SETTINGS = load_settings({"MODEL_PARAMETER": PARAMETER, "KEEP_MODELS": "2"})
LIST = {"sortBy": "CreationTime", "sortOrder": "Descending"}
QUOTA_CODE = "L-45B04988"
"""Amazon Bedrock quotas (AWS General Reference): "Imported models per account", Each supported Region: 3,
console link services/bedrock/quotas/L-45B04988: service code ``bedrock``, quota code L-45B04988."""


def model(day: int) -> dict[str, Any]:
    return {
        "modelArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:imported-model/model{day:02d}",
        "modelName": f"ladder-202503{day:02d}T093000Z",
        "creationTime": datetime(2025, 3, day, 9, 30, tzinfo=UTC),
    }


class Services:
    def __init__(self) -> None:
        self.bedrock = boto3.client("bedrock", region_name=REGION)
        self.quotas = boto3.client("service-quotas", region_name=REGION)
        self.ssm = boto3.client("ssm", region_name=REGION)
        self.bedrock_stub = Stubber(self.bedrock)
        self.quota_stub = Stubber(self.quotas)
        self.bedrock_stub.activate()
        self.quota_stub.activate()

    def clients(self, service: str) -> Any:
        return {"bedrock": self.bedrock, "service-quotas": self.quotas, "ssm": self.ssm}[service]

    def models(self, *models: dict[str, Any]) -> None:
        """One ListImportedModels answer."""
        self.bedrock_stub.add_response("list_imported_models", {"modelSummaries": list(models)}, LIST)

    def tags(self, found: dict[str, Any], pipeline: str | None, promotion: str | None = None) -> None:
        tags = [{"key": PIPELINE_TAG, "value": pipeline}] if pipeline else []
        tags += [{"key": PROMOTION_TAG, "value": promotion}] if promotion else []
        self.bedrock_stub.add_response(
            "list_tags_for_resource", {"tags": tags}, {"resourceARN": found["modelArn"]}
        )

    def deletes(self, found: dict[str, Any]) -> None:
        self.bedrock_stub.add_response("delete_imported_model", {}, {"modelIdentifier": found["modelArn"]})

    def quota(self, applied: float | None, default: float | None = None) -> None:
        """GetServiceQuota answers ``applied``, or NoSuchResourceException (a quota with no applied value);
        then GetAWSDefaultServiceQuota answers ``default``, or AccessDeniedException when that is None too."""
        request = {"ServiceCode": "bedrock", "QuotaCode": QUOTA_CODE}
        if applied is not None:
            self.quota_stub.add_response("get_service_quota", {"Quota": quota(applied)}, request)
            return
        self.quota_stub.add_client_error(
            "get_service_quota",
            "NoSuchResourceException",
            "The request failed because the quota is not found",
            400,
            expected_params=request,
        )
        if default is not None:
            self.quota_stub.add_response("get_aws_default_service_quota", {"Quota": quota(default)}, request)
        else:
            self.quota_stub.add_client_error(
                "get_aws_default_service_quota",
                "AccessDeniedException",
                "not authorized",
                400,
                expected_params=request,
            )


def quota(value: float) -> dict[str, Any]:
    return {
        "ServiceCode": "bedrock",
        "QuotaCode": QUOTA_CODE,
        "QuotaName": "Imported models per account",
        "QuotaArn": f"arn:aws:servicequotas:{REGION}:{ACCOUNT}:bedrock/{QUOTA_CODE}",
        "Value": value,
        "Adjustable": True,
        "GlobalQuota": False,
    }


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        stubbed = Services()
        yield stubbed
        stubbed.bedrock_stub.assert_no_pending_responses()
        stubbed.quota_stub.assert_no_pending_responses()


def test_prune_keeps_the_newest_two_of_this_pipeline_and_never_the_published_one(services):
    # Given five models, newest first: two of another deployment, the published one is the oldest of ours
    newest, other, second, third, oldest = model(5), model(4), model(3), model(2), model(1)
    services.ssm.put_parameter(Name=PARAMETER, Value=oldest["modelArn"], Type="String")
    services.models(newest, other, second, third, oldest)
    services.tags(newest, PIPELINE)
    services.tags(other, "SomeoneElsesPipeline")
    services.tags(second, PIPELINE)
    services.tags(third, PIPELINE)
    services.tags(oldest, PIPELINE)
    services.deletes(third)

    # When pruning after a publish
    result = run({"action": "prune", "pipeline": PIPELINE}, SETTINGS, services.clients)

    # Then only our third-newest is deleted: the newest two stay, the other pipeline's and the published stay
    assert result == {"deleted": [third["modelName"]]}


def test_prune_ranks_a_rejected_candidate_after_every_model_that_passed(services):
    # Given, newest first: a candidate the gate rejected, the published model, a model that passed the gate
    # (the rollback target), and an older rejected candidate; keep = 2
    rejected, published, rollback, older_rejected = model(9), model(8), model(7), model(6)
    services.ssm.put_parameter(Name=PARAMETER, Value=published["modelArn"], Type="String")
    services.models(rejected, published, rollback, older_rejected)
    services.tags(rejected, PIPELINE, "rejected")
    services.tags(published, PIPELINE, "promoted")
    services.tags(rollback, PIPELINE, "promoted")
    services.tags(older_rejected, PIPELINE, "rejected")
    services.deletes(rejected)
    services.deletes(older_rejected)

    # When pruning
    result = run({"action": "prune", "pipeline": PIPELINE}, SETTINGS, services.clients)

    # Then the rejected candidates go, the newest first, and the published model and its rollback stay
    assert result == {"deleted": [rejected["modelName"], older_rejected["modelName"]]}


def test_a_rejected_candidate_published_by_hand_is_ranked_as_any_other(services):
    # Given the newest model, rejected by the gate then published by hand (ladder finetune promote: "manual")
    manual, previous, oldest = model(9), model(8), model(7)
    services.ssm.put_parameter(Name=PARAMETER, Value=manual["modelArn"], Type="String")
    services.models(manual, previous, oldest)
    services.tags(manual, PIPELINE, "manual")
    services.tags(previous, PIPELINE, "promoted")
    services.tags(oldest, PIPELINE)
    services.deletes(oldest)

    # Then the newest two stay, as without a gate
    result = run({"action": "prune", "pipeline": PIPELINE}, SETTINGS, services.clients)
    assert result == {"deleted": [oldest["modelName"]]}


def test_capacity_check_prunes_then_passes_when_one_more_model_fits(services):
    kept = [model(3), model(2)]
    services.models(*kept, model(1))
    for found in (*kept, model(1)):
        services.tags(found, PIPELINE)
    services.deletes(model(1))
    services.models(*kept)
    services.quota(3)

    result = run({"action": "ensure_capacity", "pipeline": PIPELINE}, SETTINGS, services.clients)

    assert result == {
        "importedModels": 2,
        "quota": 3,
        "quotaSource": "applied",
        "deleted": [model(1)["modelName"]],
    }


def test_capacity_check_refuses_to_train_when_the_quota_is_still_reached(services):
    # Given three models the pipeline may not delete (another pipeline's) and a quota of three
    models = [model(3), model(2), model(1)]
    services.models(*models)
    for found in models:
        services.tags(found, None)
    services.models(*models)
    services.quota(3)

    # When the capacity is checked before training, Then training is refused with what to do
    with pytest.raises(NoImportCapacity, match="holds 3 imported models and its quota is 3"):
        run({"action": "ensure_capacity", "pipeline": PIPELINE}, SETTINGS, services.clients)


def test_capacity_check_reads_the_aws_default_when_no_quota_value_was_applied(services):
    """GetServiceQuota (Service Quotas API Reference): "If the applied quota value is not available for a
    quota, the quota is not retrieved"; GetAWSDefaultServiceQuota "Retrieves the default value"."""
    # Given a full account: three models that are another pipeline's, and no applied quota value (default 3)
    models = [model(3), model(2), model(1)]
    services.models(*models)
    for found in models:
        services.tags(found, None)
    services.models(*models)
    services.quota(None, default=3)

    # When the capacity is checked, Then the default quota decides, and training is refused
    with pytest.raises(NoImportCapacity, match="holds 3 imported models and its quota is 3"):
        run({"action": "ensure_capacity", "pipeline": PIPELINE}, SETTINGS, services.clients)


def test_capacity_check_passes_on_the_default_quota_when_one_more_model_fits(services):
    services.models(model(1))
    services.tags(model(1), PIPELINE)
    services.models(model(1))
    services.quota(None, default=3)

    result = run({"action": "ensure_capacity", "pipeline": PIPELINE}, SETTINGS, services.clients)

    assert result == {"importedModels": 1, "quota": 3, "quotaSource": "default", "deleted": []}


def test_capacity_check_fails_closed_when_no_quota_can_be_read(services):
    # Given neither the applied nor the default quota answers
    services.models(model(1))
    services.tags(model(1), PIPELINE)
    services.models(model(1))
    services.quota(None, default=None)

    # When the capacity is checked, Then training is refused, naming the quota and both failed reads
    with pytest.raises(QuotaUnavailable) as raised:
        run({"action": "ensure_capacity", "pipeline": PIPELINE}, SETTINGS, services.clients)
    message = str(raised.value)
    assert "bedrock L-45B04988" in message
    assert "GetServiceQuota answered NoSuchResourceException" in message
    assert "GetAWSDefaultServiceQuota answered AccessDeniedException" in message
    assert "nothing was trained" in message


@pytest.mark.parametrize("event", [{}, {"action": "delete_all", "pipeline": PIPELINE}, {"action": "prune"}])
def test_a_malformed_request_is_refused(services, event):
    with pytest.raises(ValueError, match="expected"):
        run(event, SETTINGS, services.clients)
