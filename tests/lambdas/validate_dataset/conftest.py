"""Fixtures for the dataset-validation function: environment, moto S3 bucket, Lambda context, handler."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdas.validate_dataset import clients
from tests.support.lambda_context import LambdaContext

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events" / "validate_dataset"
REGION = "us-east-1"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text())


def sample_dataset() -> bytes:
    return (EVENTS_DIR / "support_chats.jsonl").read_bytes()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "ladder-finetune")
    monkeypatch.setenv("MIN_EXAMPLES", "5")
    monkeypatch.setenv("EVAL_FRACTION", "0.2")
    monkeypatch.setenv("MAX_CHARS", "2000")


@pytest.fixture
def s3(aws_env: None) -> Iterator[Any]:
    """A moto S3 client with the event's bucket; the function's cached client is created inside the mock."""
    with mock_aws():
        clients.s3_client.cache_clear()
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=load_event("state_input.json")["bucket"])
        yield client
    clients.s3_client.cache_clear()


@pytest.fixture
def handler_module(aws_env: None) -> ModuleType:
    """The handler module imported afresh (a cold start) with the environment above."""
    module = importlib.import_module("lambdas.validate_dataset.handler")
    return importlib.reload(module)


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext(
        function_name="ladder-validate-dataset", memory_limit_in_mb=1024, remaining_ms=300000
    )
