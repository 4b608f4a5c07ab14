"""Fixtures for the ingestion functions: environment, Lambda context, Stubber'd client, captured output."""

from __future__ import annotations

import copy
import importlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from lambdas.ingest import clients
from tests.support.lambda_context import LambdaContext

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events" / "ingest"
KNOWLEDGE_BASE_ID = "KB12345678"
DATA_SOURCE_ID = "DS12345678"
DOCUMENTS_PREFIX = "documents/"
REGION = "us-east-1"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text())


def sqs_record(message_id: str, body: str) -> dict[str, Any]:
    """An SQS record as the event source mapping delivers it, based on the sample batch."""
    record = copy.deepcopy(load_event("sqs_batch.json")["Records"][0])
    record["messageId"] = message_id
    record["body"] = body
    return record


def s3_change_body(key: str, *, deleted: bool = False) -> str:
    """An EventBridge S3 notification body for ``key``, based on the sample events."""
    name = "eventbridge_object_deleted.json" if deleted else "eventbridge_object_created.json"
    event = load_event(name)
    event["detail"]["object"]["key"] = key
    return json.dumps(event)


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext(function_name="ladder-ingest", memory_limit_in_mb=256, remaining_ms=60000)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "KNOWLEDGE_BASE_ID": KNOWLEDGE_BASE_ID,
        "DATA_SOURCE_ID": DATA_SOURCE_ID,
        "DOCUMENTS_PREFIX": DOCUMENTS_PREFIX,
        "POWERTOOLS_SERVICE_NAME": "ladder-ingest",
        "POWERTOOLS_METRICS_NAMESPACE": "Ladder",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LOOKBACK_MINUTES", raising=False)


@pytest.fixture
def bedrock_agent(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """A real bedrock-agent client behind a Stubber, installed as the factory's client."""
    client = boto3.client(
        "bedrock-agent", region_name=REGION, config=Config(retries={"mode": "standard", "max_attempts": 1})
    )
    monkeypatch.setattr(clients, "bedrock_agent_client", lambda: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@dataclass
class Output:
    """What a handler wrote: Powertools JSON log lines and EMF metric documents."""

    log_stream: io.StringIO
    capsys: pytest.CaptureFixture[str]

    def logs(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_stream.getvalue().splitlines() if line.strip()]

    def metrics(self) -> dict[str, float]:
        """Metric name -> value, from the EMF documents printed to stdout."""
        values: dict[str, float] = {}
        for line in self.capsys.readouterr().out.splitlines():
            document = json.loads(line)
            for directive in document["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = document[metric["Name"]]
                    # Powertools writes each value as a list; every metric here is emitted once per run.
                    values[metric["Name"]] = (
                        value[0] if isinstance(value, list) and len(value) == 1 else value
                    )
        return values


def fresh_module(module_name: str, log_stream: io.StringIO) -> ModuleType:
    """Import the handler module anew, as a cold start would, and send its logs to ``log_stream``."""
    module = importlib.reload(importlib.import_module(module_name))
    module.logger.registered_handler.setStream(log_stream)
    return module


@pytest.fixture
def output(capsys: pytest.CaptureFixture[str]) -> Output:
    return Output(log_stream=io.StringIO(), capsys=capsys)


@pytest.fixture
def ingest(aws_env: None, output: Output) -> ModuleType:
    return fresh_module("lambdas.ingest.handler", output.log_stream)


@pytest.fixture
def monitor(aws_env: None, output: Output) -> ModuleType:
    return fresh_module("lambdas.ingest.monitor", output.log_stream)


@pytest.fixture
def reload_module() -> Callable[[str], ModuleType]:
    return lambda name: importlib.reload(importlib.import_module(name))
