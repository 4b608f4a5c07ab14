"""Fixtures for the dataset-validation function: environment, moto S3 bucket, Lambda context, handler."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdas.validate_dataset import clients

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events" / "validate_dataset"
REGION = "us-east-1"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text())


def sample_dataset() -> bytes:
    return (EVENTS_DIR / "support_chats.jsonl").read_bytes()


@dataclass
class LambdaContext:
    function_name: str = "ladder-validate-dataset"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:111122223333:function:ladder-validate-dataset"
    aws_request_id: str = "0f3a9c1e-6b2d-4e8f-9a7c-5d1b3e2f4a60"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


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
    return LambdaContext()
