"""`ladder doctor`'s Custom Model Import check reads the imported-model quota by its code.

Sources:
- AWS General Reference, "Amazon Bedrock endpoints and quotas": "Imported models per account", "Each
  supported Region: 3", console link servicequotas/home/services/bedrock/quotas/L-45B04988 (service code
  ``bedrock``, quota code ``L-45B04988``).
- Service Quotas API Reference, GetServiceQuota: "Retrieves the applied quota value ... For some quotas, only
  the default values are available. If the applied quota value is not available for a quota, the quota is
  not retrieved." GetAWSDefaultServiceQuota: "Retrieves the default value for the specified quota."
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ladder import doctor

from .conftest import ACCOUNT, REGION
from .test_doctor import Account, stubbed

BY_CODE = {"ServiceCode": "bedrock", "QuotaCode": "L-45B04988"}
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def account(aws, stacks) -> Iterator[Account]:
    ready = Account(stacks)
    yield ready
    ready.assert_all_answered()


def quota_answer(value: float) -> dict[str, Any]:
    return {"Quota": {**BY_CODE, "QuotaName": "Imported models per account", "Value": value}}


def denied(stubber: Any, operation: str) -> None:
    stubber.add_client_error(
        operation,
        service_error_code="AccessDeniedException",
        service_message=f"not authorized to perform servicequotas:{operation}",
        http_status_code=400,
        expected_params=BY_CODE,
    )


def no_applied_value(stubber: Any) -> None:
    stubber.add_client_error(
        "get_service_quota",
        service_error_code="NoSuchResourceException",
        service_message="The request failed because the specified service quota does not exist.",
        http_status_code=400,
        expected_params=BY_CODE,
    )


def imported(count: int) -> Any:
    bedrock, stubber = stubbed("bedrock")
    models = [
        {
            "modelArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:imported-model/m{n}",
            "modelName": f"m{n}",
            "creationTime": CREATED,
        }
        for n in range(count)
    ]
    stubber.add_response("list_imported_models", {"modelSummaries": models}, {})
    return bedrock


@pytest.mark.parametrize(("count", "status"), [(2, doctor.PASS), (3, doctor.FAIL)])
def test_the_applied_value_read_by_code_needs_room_for_one_more_model(count, status):
    # Given an applied quota of 3 and some models already imported
    quotas, stubber = stubbed("service-quotas")
    stubber.add_response("get_service_quota", quota_answer(3), BY_CODE)

    # When the import quota is checked
    check = doctor.check_import_quota(quotas, imported(count))

    # Then it passes only while one more import fits, and the default was not needed
    assert check.status == status
    assert f"{count} of 3 imported models used" in check.detail
    stubber.assert_no_pending_responses()


def test_a_quota_with_no_applied_value_is_read_from_the_aws_default():
    # Given an account that never changed the quota: GetServiceQuota does not return it
    quotas, stubber = stubbed("service-quotas")
    no_applied_value(stubber)
    stubber.add_response("get_aws_default_service_quota", quota_answer(3), BY_CODE)

    # When the import quota is checked with 2 models imported
    check = doctor.check_import_quota(quotas, imported(2))

    # Then the default decides
    assert check.status == doctor.PASS
    assert "2 of 3 imported models used" in check.detail
    stubber.assert_no_pending_responses()


def test_a_denied_applied_value_falls_back_to_the_default_as_the_pipeline_does():
    quotas, stubber = stubbed("service-quotas")
    denied(stubber, "get_service_quota")
    stubber.add_response("get_aws_default_service_quota", quota_answer(3), BY_CODE)

    check = doctor.check_import_quota(quotas, imported(3))

    assert check.status == doctor.FAIL
    assert "3 of 3 imported models used; the pipeline imports one more" in check.detail


def test_a_quota_neither_call_can_read_fails_closed_naming_both_permissions():
    # Given credentials allowed neither Service Quotas read
    quotas, stubber = stubbed("service-quotas")
    denied(stubber, "get_service_quota")
    denied(stubber, "get_aws_default_service_quota")
    bedrock, bedrock_stub = stubbed("bedrock")

    # When the import quota is checked
    check = doctor.check_import_quota(quotas, bedrock)

    # Then it fails (an unknown quota is not room for one more), says why, and names the IAM actions
    assert check.status == doctor.FAIL
    assert check.detail == (
        "could not read the quota 'Imported models per account' (bedrock L-45B04988): GetServiceQuota "
        "answered AccessDeniedException; GetAWSDefaultServiceQuota answered AccessDeniedException"
    )
    assert "servicequotas:GetServiceQuota and servicequotas:GetAWSDefaultServiceQuota" in check.fix
    bedrock_stub.assert_no_pending_responses()  # nothing counted against an unknown quota


def test_doctor_prints_the_unreadable_import_quota_as_a_failure_and_exits_1(account: Account, capsys):
    # Given a fine-tune deploy whose training quota is fine but whose import quota cannot be read
    account.bootstrap()
    account.models()
    account.powertools()
    account.concurrency()
    account.quotas_stub.add_response(
        "list_service_quotas",
        {
            "Quotas": [
                {
                    "QuotaName": "ml.g5.2xlarge for spot training job usage",
                    "Value": 1,
                    "QuotaCode": "L-00000000",
                    "ServiceCode": "sagemaker",
                }
            ]
        },
    )
    denied(account.quotas_stub, "get_service_quota")
    denied(account.quotas_stub, "get_aws_default_service_quota")
    account.collection()

    # When doctor runs with fineTune=true
    code, out, err = account.doctor(capsys, "-c", "fineTune=true", "-c", "fineTuneSpot=true")

    # Then the user reads a ✗ line saying the quota could not be read, the permissions to add, and exit 1
    assert code == 1, out + err
    assert "✗ Custom Model Import quota: could not read the quota 'Imported models per account'" in out
    assert (
        "    fix: run doctor with credentials allowed servicequotas:GetServiceQuota and "
        "servicequotas:GetAWSDefaultServiceQuota" in out
    )
    assert "1 check failed" in out
