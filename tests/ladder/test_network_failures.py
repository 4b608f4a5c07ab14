"""A machine that cannot reach AWS is told so, by endpoint, instead of a bare botocore message.

The endpoints are a closed loopback port: botocore's connection to it fails the way a missing route,
proxy or VPC endpoint does (EndpointConnectionError), without any network."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from ladder import cli

from .conftest import REGION
from .test_doctor import account  # noqa: F401 (the doctor's stubbed account, a fixture)

UNREACHABLE = "http://127.0.0.1:9"


def unreachable(service: str) -> Any:
    config = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2)
    return boto3.client(service, region_name=REGION, endpoint_url=UNREACHABLE, config=config)


def test_a_command_that_cannot_reach_aws_names_the_endpoint(capsys):
    code = cli.main(["docs", "status"], client_factory=lambda session, service: unreachable(service))

    err = capsys.readouterr().err
    assert code == 1
    assert f"cannot reach AWS at {UNREACHABLE}/ (network, proxy or VPC endpoint?)" in err
    assert "Traceback" not in err


def test_doctor_still_prints_what_it_could_check_when_one_service_is_unreachable(account, capsys):  # noqa: F811
    account.bootstrap()
    account.models()
    account.powertools()
    account.lambda_client = unreachable("lambda")
    account.collection()

    code, out, _ = account.doctor(capsys)

    assert code == 1
    assert f"✗ Lambda concurrency: could not check: cannot reach AWS at {UNREACHABLE}/" in out
    assert "fix: let this machine reach lambda" in out
    assert "✓ CDK bootstrap" in out and "✓ OpenSearch Serverless collection name" in out
