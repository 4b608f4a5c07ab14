"""Fixtures for the operator CLI: moto for S3, Step Functions and SSM, Stubber for CloudFormation.

moto's CloudFormation backend needs the optional ``openapi-spec-validator`` package, which is not a
project dependency, so stack outputs come from a botocore Stubber on a real CloudFormation client:
it checks every request (the stack name the CLI asks for) and response against the service model.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ladder import cli

REGION = "us-east-1"
ACCOUNT = "123456789012"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        # The local API server must be reached directly, whatever proxy the machine has.
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_REGION", "LADDER_STACK_PREFIX", "SF_EXECUTION_HISTORY_TYPE"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


class Stacks:
    """Deployed stacks as CloudFormation reports them, queued in the order the CLI asks for them."""

    def __init__(self) -> None:
        self.client = boto3.client("cloudformation", region_name=REGION)
        self.stubber = Stubber(self.client)
        self.stubber.activate()

    def deployed(self, name: str, outputs: dict[str, str]) -> None:
        description = {
            "StackName": name,
            "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/0f1e2d3c",
            "CreationTime": datetime(2025, 1, 1, tzinfo=UTC),
            "StackStatus": "CREATE_COMPLETE",
            "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
        }
        self.stubber.add_response("describe_stacks", {"Stacks": [description]}, {"StackName": name})

    def missing(self, name: str) -> None:
        self.stubber.add_client_error(
            "describe_stacks",
            service_error_code="ValidationError",
            service_message=f"Stack with id {name} does not exist",
            http_status_code=400,
            expected_params={"StackName": name},
        )

    def client_factory(self, session: boto3.session.Session, service: str) -> Any:
        return self.client if service == "cloudformation" else cli.create_client(session, service)


@pytest.fixture
def stacks() -> Iterator[Stacks]:
    deployed = Stacks()
    yield deployed
    deployed.stubber.assert_no_pending_responses()


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(stacks: Stacks, capsys: pytest.CaptureFixture[str]) -> Any:
    """Runs ``ladder`` in-process with the stubbed stacks; returns exit code, stdout and stderr."""

    def run(*argv: str) -> Result:
        code = cli.main(list(argv), client_factory=stacks.client_factory)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class ApiServer:
    """A local stand-in for API Gateway: records each request and answers with ``status`` and ``body``."""

    url: str
    status: int = 200
    body: bytes = b"{}"
    requests: list[RecordedRequest] = field(default_factory=list)

    def answer(self, status: int, payload: Any) -> None:
        self.status = status
        self.body = json.dumps(payload).encode()


@pytest.fixture
def api_server() -> Iterator[ApiServer]:
    server_state: dict[str, ApiServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state = server_state["api"]
            length = int(self.headers.get("Content-Length", "0"))
            state.requests.append(
                RecordedRequest(
                    method="POST",
                    path=self.path,
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=self.rfile.read(length),
                )
            )
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state["api"] = ApiServer(url=f"http://127.0.0.1:{server.server_address[1]}/prod/ask")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state["api"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def conversation(number: int) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": "You answer questions about Harbormist weather stations."},
            {"role": "user", "content": f"What is rule number {number}?"},
            {"role": "assistant", "content": f"Rule number {number} says to check the rain gauge."},
        ]
    }


def write_jsonl(path: Path, clean: int, extra_lines: tuple[str, ...] = ()) -> Path:
    """``clean`` valid, distinct conversations, then ``extra_lines`` verbatim."""
    lines = [json.dumps(conversation(n)) for n in range(clean)]
    path.write_text("\n".join([*lines, *extra_lines]) + "\n", encoding="utf-8")
    return path
