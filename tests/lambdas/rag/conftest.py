"""Fixtures for the RAG function: real boto3 clients with Stubber (Bedrock) and moto (SSM)."""

from __future__ import annotations

import base64
import copy
import dataclasses
import importlib
import io
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from moto import mock_aws
from urllib3 import HTTPResponse

from tests.support.lambda_context import LambdaContext

EVENTS = Path(__file__).resolve().parents[2] / "events" / "rag"
PARAMETER_NAME = "/ladder/finetune/model-arn"
IMPORTED_MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:imported-model/abcdef123456"
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "Ladder",
    "POWERTOOLS_SERVICE_NAME": "ladder-rag",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "KNOWLEDGE_BASE_ID": "KB12345678",
    "MODEL_ID": "us.anthropic.claude-3-5-haiku-20241022-v1:0",
    "GUARDRAIL_ID": "abc123guardrail",
    "GUARDRAIL_VERSION": "1",
    "MAX_QUESTION_CHARS": "2000",
    "MAX_BODY_BYTES": "16384",
    "MAX_TOKENS": "1024",
    "TEMPERATURE": "0.2",
    "MIN_RELEVANCE_SCORE": "0.4",
    "SEARCH_TYPE": "",
    "RERANK_MODEL_ARN": "",
    "DEADLINE_MS": "25000",
    "BEDROCK_MAX_ATTEMPTS": "3",
    "FINETUNED_MODEL_PARAMETER": PARAMETER_NAME,
    "FINETUNED_MODEL_API": "converse",
    "LOG_CONTENT": "false",
}


_CLIENTS: dict[Any, Any] = {}


def cached_create_clients(settings: Any) -> Any:
    """The real client factory, run once per distinct settings (creating clients is what makes tests slow)."""
    from lambdas.rag.clients import create_clients

    if settings not in _CLIENTS:
        _CLIENTS[settings] = create_clients(settings)
    return _CLIENTS[settings]


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def retrieve_response() -> dict[str, Any]:
    """Three results: two above MIN_RELEVANCE_SCORE (0.4), one below it."""
    return load_event("retrieve_response.json")


def converse_response(text: str | None = None, stop_reason: str = "end_turn") -> dict[str, Any]:
    response = load_event("converse_response.json")
    if text is not None:
        response["output"]["message"]["content"] = [{"text": text}]
    response["stopReason"] = stop_reason
    return response


def guardrail_response(text: str | None = None) -> dict[str, Any]:
    """An ApplyGuardrail response: NONE, or GUARDRAIL_INTERVENED with ``text`` as its output."""
    units = (
        "topicPolicyUnits",
        "contentPolicyUnits",
        "wordPolicyUnits",
        "sensitiveInformationPolicyUnits",
        "sensitiveInformationPolicyFreeUnits",
        "contextualGroundingPolicyUnits",
    )
    return {
        "usage": dict.fromkeys(units, 1),
        "action": "NONE" if text is None else "GUARDRAIL_INTERVENED",
        "outputs": [] if text is None else [{"text": text}],
        "assessments": [],
    }


def streaming_json(payload: dict[str, Any]) -> StreamingBody:
    return streaming_bytes(json.dumps(payload).encode())


def streaming_bytes(raw: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(raw), len(raw))


def http_error(status: int, code: str, message: str) -> AWSResponse:
    """A rest-json error as the HTTP layer returns it, so botocore's retries and parsing both run."""
    body = json.dumps({"message": message}).encode()
    raw = HTTPResponse(body=io.BytesIO(body), status=status, preload_content=False)
    return AWSResponse(
        "https://bedrock-runtime.us-east-1.amazonaws.com", status, {"x-amzn-ErrorType": code}, raw
    )


@dataclasses.dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    raw: dict[str, Any]


@dataclasses.dataclass
class App:
    """The handler module after a cold start, with Stubbers on its Bedrock clients and a log buffer."""

    module: ModuleType
    retrieve: Stubber
    bedrock: Stubber
    models: Stubber
    """The Bedrock control plane: GetImportedModel (the architecture behind finetuned InvokeModel)."""
    logs: io.StringIO
    hooks: list[tuple[Any, str, Callable[..., Any]]]
    context: LambdaContext = dataclasses.field(
        default_factory=lambda: LambdaContext(
            function_name="ladder-rag", memory_limit_in_mb=512, remaining_ms=29_000
        )
    )

    @property
    def runtime(self) -> Any:
        return self.module._runtime

    def invoke(self, event: Any) -> Response:
        raw = self.module.handler(event, self.context)
        return Response(raw["statusCode"], raw["headers"], json.loads(raw["body"]), raw)

    def ask(self, body: Any = None, **overrides: Any) -> Response:
        return self.invoke(ask_event(body, **overrides))

    def expect_retrieve(self, response: dict[str, Any] | None = None, **expected: Any) -> None:
        params = {"knowledgeBaseId": "KB12345678", "retrievalQuery": ANY, "retrievalConfiguration": ANY}
        params.update(expected)
        self.retrieve.add_response("retrieve", response or retrieve_response(), params)

    def expect_converse(self, response: dict[str, Any] | None = None, **expected: Any) -> None:
        params = {
            "modelId": ANY,
            "system": ANY,
            "messages": ANY,
            "inferenceConfig": {"maxTokens": 1024, "temperature": 0.2},
            "guardrailConfig": {
                "guardrailIdentifier": "abc123guardrail",
                "guardrailVersion": "1",
                "trace": "enabled",
            },
        }
        params.update(expected)
        self.bedrock.add_response("converse", response or converse_response(), params)

    def expect_architecture(
        self,
        architecture: str = "LLAMA3",
        model_arn: str = IMPORTED_MODEL_ARN,
        *,
        instruct_supported: bool | None = None,
    ) -> None:
        response: dict[str, Any] = {"modelArn": model_arn, "modelArchitecture": architecture}
        if instruct_supported is not None:
            response["instructSupported"] = instruct_supported
        self.models.add_response("get_imported_model", response, {"modelIdentifier": model_arn})

    def hook(self, client: Any, event_name: str, handler: Callable[..., Any], *, first: bool = True) -> None:
        """Registers a botocore event handler first in line (or after the function's own handlers when
        ``first`` is false); the fixture removes it after the test."""
        register = client.meta.events.register_first if first else client.meta.events.register
        register(event_name, handler)
        self.hooks.append((client, event_name, handler))

    def assert_no_pending(self) -> None:
        self.retrieve.assert_no_pending_responses()
        self.bedrock.assert_no_pending_responses()
        self.models.assert_no_pending_responses()

    def log_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.logs.getvalue().splitlines() if line.strip()]

    def use_clock(self, clock: Callable[[], float]) -> None:
        vars(self.module)["_runtime"] = dataclasses.replace(self.runtime, clock=clock)


def ask_event(body: Any = None, *, base64_body: bool = False, **overrides: Any) -> dict[str, Any]:
    """The sample REST proxy event with ``body`` (a dict is JSON-encoded) and top-level overrides."""
    event = copy.deepcopy(load_event("ask_rag.json"))
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    if base64_body:
        event["body"] = base64.b64encode(event["body"].encode()).decode()
        event["isBase64Encoded"] = True
    event.update(overrides)
    return event


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    return dict(ENVIRONMENT)


@pytest.fixture
def make_app(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., App]]:
    """Cold-starts the handler with env overrides (None unsets a variable) and stubs its clients."""
    stubbers: list[Stubber] = []
    handlers: list[tuple[logging.Logger, logging.Handler]] = []
    hooks: list[tuple[Any, str, Callable[..., Any]]] = []
    with mock_aws():

        def make(**overrides: str | None) -> App:
            for name, value in overrides.items():
                if value is None:
                    monkeypatch.delenv(name, raising=False)
                else:
                    monkeypatch.setenv(name, value)
            module = importlib.import_module("lambdas.rag.handler")
            monkeypatch.setattr(module, "_runtime", None)
            monkeypatch.setattr("lambdas.rag.service.create_clients", cached_create_clients)
            runtime = module.get_runtime()
            retrieve = Stubber(runtime.clients.agent_runtime)
            bedrock = Stubber(runtime.clients.bedrock_runtime)
            # Deployments that never read a model's architecture have no control-plane client: a Stubber on
            # an unused one lets such a test prove no expected GetImportedModel call is left pending.
            models = Stubber(runtime.clients.bedrock or boto3.client("bedrock", region_name="us-east-1"))
            for stubber in (retrieve, bedrock, models):
                stubber.activate()
                stubbers.append(stubber)
            logs = io.StringIO()
            log_handler = logging.StreamHandler(logs)
            log_handler.setFormatter(module.logger.registered_formatter)
            underlying = logging.getLogger(module.logger.name)
            underlying.addHandler(log_handler)
            handlers.append((underlying, log_handler))
            return App(
                module=module, retrieve=retrieve, bedrock=bedrock, models=models, logs=logs, hooks=hooks
            )

        yield make
        for stubber in stubbers:
            stubber.deactivate()
        for underlying, log_handler in handlers:
            underlying.removeHandler(log_handler)
        for client, event_name, handler in hooks:
            client.meta.events.unregister(event_name, handler)


@pytest.fixture
def app(make_app: Callable[..., App]) -> App:
    return make_app()


@pytest.fixture
def publish_model(make_app: Callable[..., App]) -> Callable[[str], None]:
    """Writes the fine-tuned model parameter the way the fine-tune stack does (inside moto)."""

    def publish(value: str) -> None:
        boto3.client("ssm", region_name="us-east-1").put_parameter(
            Name=PARAMETER_NAME, Value=value, Type="String", Overwrite=True
        )

    return publish
