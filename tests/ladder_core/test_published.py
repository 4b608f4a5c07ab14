"""The published model parameter's one reading rule, as every reader applies it."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ladder_core.published import NO_MODEL_VALUE, model_arn, read_published

ARN = "arn:aws:bedrock:us-east-1:123456789012:imported-model/abcdef123456"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(ARN, ARN), (f"  {ARN}\n", ARN), (NO_MODEL_VALUE, None), ("", None), (None, None), ("my-model", None)],
)
def test_only_an_arn_is_a_published_model(value: str | None, expected: str | None) -> None:
    assert model_arn(value) == expected


def test_the_parameter_is_read_and_a_missing_one_is_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        assert read_published(ssm, "/ladder/fine-tune/model-arn") is None
        ssm.put_parameter(Name="/ladder/fine-tune/model-arn", Value=NO_MODEL_VALUE, Type="String")
        assert read_published(ssm, "/ladder/fine-tune/model-arn") is None
        ssm.put_parameter(Name="/ladder/fine-tune/model-arn", Value=ARN, Type="String", Overwrite=True)
        assert read_published(ssm, "/ladder/fine-tune/model-arn") == ARN
