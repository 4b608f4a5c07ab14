"""The ingestion trigger: one StartIngestionJob per SQS batch, and nothing lost when Bedrock says no."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from lambdas.ingest import clients
from lambdas.ingest.ingestion import client_token

from .conftest import (
    DATA_SOURCE_ID,
    DOCUMENTS_PREFIX,
    KNOWLEDGE_BASE_ID,
    LambdaContext,
    Output,
    fresh_module,
    load_event,
    s3_change_body,
    sqs_record,
)

CREATED_ID = "059f36b4-87a3-44ab-83d2-661975830a7d"
DELETED_ID = "2e1424d4-f796-459a-8184-9c92662be6da"
OUTSIDE_ID = "9d4a1e3c-5b7f-4c2e-8a61-3f0b2d7e9c15"


def expected_token(*message_ids: str) -> str:
    return hashlib.sha256("\n".join(sorted(message_ids)).encode()).hexdigest()


def job_response(job_id: str = "JOB0000001", description: str = "x") -> dict[str, Any]:
    now = datetime(2025, 11, 12, 9, 32, tzinfo=UTC)
    return {
        "ingestionJob": {
            "knowledgeBaseId": KNOWLEDGE_BASE_ID,
            "dataSourceId": DATA_SOURCE_ID,
            "ingestionJobId": job_id,
            "description": description,
            "status": "STARTING",
            "startedAt": now,
            "updatedAt": now,
        }
    }


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def test_sample_batch_starts_one_job_for_its_changes_and_ignores_keys_outside_the_prefix(
    ingest: ModuleType, bedrock_agent: Stubber, lambda_context: LambdaContext, output: Output
) -> None:
    # Given the sample batch: one created and one deleted document under documents/, one scratch/ object
    event = load_event("sqs_batch.json")
    description = "Ladder auto-ingest: 2 document change(s) (1 created or updated, 1 deleted)"
    bedrock_agent.add_response(
        "start_ingestion_job",
        job_response("JOBABC1234", description),
        expected_params={
            "knowledgeBaseId": KNOWLEDGE_BASE_ID,
            "dataSourceId": DATA_SOURCE_ID,
            "clientToken": expected_token(CREATED_ID, DELETED_ID),
            "description": description,
        },
    )

    # When the batch arrives
    response = ingest.handler(event, lambda_context)

    # Then every record is acknowledged, one job covers both changes, and the outcome is observable
    assert response == {"batchItemFailures": []}
    assert output.metrics() == {
        "IngestionEventsReceived": 3,
        "IngestionJobsStarted": 1,
        "IngestionDeferred": 0,
        "IngestionMalformedEvents": 0,
    }
    logs = output.logs()
    started = [line for line in logs if line["message"] == "Ingestion job started"]
    assert len(started) == 1
    assert started[0]["ingestionJobId"] == "JOBABC1234"
    assert (started[0]["changes"], started[0]["ignored"], started[0]["malformed"]) == (2, 1, 0)
    assert started[0]["correlation_id"] == CREATED_ID
    ignored = [line for line in logs if line.get("messageId") == OUTSIDE_ID]
    assert ignored[0]["key"] == "scratch/draft-notes.txt"


def test_client_token_depends_only_on_the_set_of_message_ids() -> None:
    # Given the same messages in two orders, and a different set
    ids = [f"id-{n}" for n in range(500)]

    # When tokens are derived
    forward, backward, other = client_token(ids), client_token(reversed(ids)), client_token(ids[:-1])

    # Then redelivery of the same batch is idempotent, another batch is a new job, and the API accepts it
    assert forward == backward != other
    assert 33 <= len(forward) <= 256
    assert forward.isalnum()


def test_redelivered_batch_in_another_order_sends_the_same_client_token(
    ingest: ModuleType, bedrock_agent: Stubber, lambda_context: LambdaContext
) -> None:
    # Given a batch and the same batch redelivered with its records in reverse order
    event = load_event("sqs_batch.json")
    redelivered = {"Records": list(reversed(event["Records"]))}
    for _ in range(2):
        bedrock_agent.add_response(
            "start_ingestion_job",
            job_response(),
            expected_params={
                "knowledgeBaseId": KNOWLEDGE_BASE_ID,
                "dataSourceId": DATA_SOURCE_ID,
                "clientToken": expected_token(CREATED_ID, DELETED_ID),
                "description": "Ladder auto-ingest: 2 document change(s) (1 created or updated, 1 deleted)",
            },
        )

    # When both are handled
    first = ingest.handler(event, lambda_context)
    second = ingest.handler(redelivered, lambda_context)

    # Then both calls carried the same token (the Stubber checked it) and both batches are acknowledged
    assert first == second == {"batchItemFailures": []}


@pytest.mark.parametrize(
    ("code", "status", "level"),
    [
        ("ConflictException", 409, "WARNING"),
        ("ThrottlingException", 429, "WARNING"),
        ("ServiceQuotaExceededException", 400, "WARNING"),
        ("InternalServerException", 500, "ERROR"),
        ("AccessDeniedException", 403, "ERROR"),
        ("ResourceNotFoundException", 404, "ERROR"),
        ("ValidationException", 400, "ERROR"),
    ],
)
def test_every_change_returns_to_the_queue_when_bedrock_refuses_the_job(
    ingest: ModuleType,
    bedrock_agent: Stubber,
    lambda_context: LambdaContext,
    output: Output,
    code: str,
    status: int,
    level: str,
) -> None:
    # Given Bedrock answers StartIngestionJob with an error
    bedrock_agent.add_client_error("start_ingestion_job", service_error_code=code, http_status_code=status)

    # When the sample batch arrives
    response = ingest.handler(load_event("sqs_batch.json"), lambda_context)

    # Then both changes come back for redelivery (the ignored record does not), and the code is logged
    assert sorted(failed_ids(response)) == sorted([CREATED_ID, DELETED_ID])
    metrics = output.metrics()
    assert (metrics["IngestionJobsStarted"], metrics["IngestionDeferred"]) == (0, 2)
    refusals = [line for line in output.logs() if line.get("errorCode") == code]
    assert [line["level"] for line in refusals] == [level]


def test_every_change_returns_to_the_queue_when_bedrock_cannot_be_reached(
    ingest: ModuleType,
    aws_env: None,
    lambda_context: LambdaContext,
    output: Output,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a real client whose request never leaves: the endpoint is unreachable
    client = boto3.client(
        "bedrock-agent",
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )

    def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://bedrock-agent.us-east-1.amazonaws.com")

    client.meta.events.register("before-send.bedrock-agent.StartIngestionJob", unreachable)
    monkeypatch.setattr(clients, "bedrock_agent_client", lambda: client)

    # When the sample batch arrives
    response = ingest.handler(load_event("sqs_batch.json"), lambda_context)

    # Then nothing is lost and the error is logged as an error
    assert sorted(failed_ids(response)) == sorted([CREATED_ID, DELETED_ID])
    refusals = [line for line in output.logs() if line.get("errorCode") == "EndpointConnectionError"]
    assert [line["level"] for line in refusals] == ["ERROR"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "body is not JSON"),
        ("[1, 2]", "body is not a JSON object"),
        (json.dumps({"source": "aws.ec2", "detail-type": "Object Created"}), "source is 'aws.ec2'"),
        (json.dumps({"source": "aws.s3", "detail-type": "Object Restore Completed"}), "detail-type is"),
        (json.dumps({"source": "aws.s3", "detail-type": "Object Created", "detail": []}), "detail must be"),
        (
            json.dumps(
                {"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": {"name": "b"}}}
            ),
            "detail.object.key",
        ),
    ],
)
def test_malformed_message_alone_is_returned_while_the_rest_of_the_batch_is_ingested(
    ingest: ModuleType,
    bedrock_agent: Stubber,
    lambda_context: LambdaContext,
    output: Output,
    body: str,
    reason: str,
) -> None:
    # Given a batch with one good change and one malformed message
    event = {
        "Records": [
            sqs_record("good-1", s3_change_body("documents/a.md")),
            sqs_record("broken-1", body),
        ]
    }
    bedrock_agent.add_response(
        "start_ingestion_job",
        job_response(),
        expected_params={
            "knowledgeBaseId": KNOWLEDGE_BASE_ID,
            "dataSourceId": DATA_SOURCE_ID,
            "clientToken": expected_token("good-1"),
            "description": "Ladder auto-ingest: 1 document change(s) (1 created or updated, 0 deleted)",
        },
    )

    # When it is handled
    response = ingest.handler(event, lambda_context)

    # Then only the malformed message goes back (towards the DLQ), with its reason logged as an error
    assert failed_ids(response) == ["broken-1"]
    assert output.metrics()["IngestionMalformedEvents"] == 1
    errors = [line for line in output.logs() if line.get("messageId") == "broken-1"]
    assert errors[0]["level"] == "ERROR"
    assert reason in errors[0]["reason"]


def test_batch_without_a_document_change_starts_no_job(
    ingest: ModuleType, bedrock_agent: Stubber, lambda_context: LambdaContext, output: Output
) -> None:
    # Given only a change outside the prefix and a malformed message (no Stubber response queued:
    # any StartIngestionJob call would fail the test)
    event = {
        "Records": [
            sqs_record("outside-1", s3_change_body("scratch/x.txt")),
            sqs_record("broken-1", "{}"),
        ]
    }

    # When it is handled
    response = ingest.handler(event, lambda_context)

    # Then the malformed one is returned, the other acknowledged, and the metrics still report
    assert failed_ids(response) == ["broken-1"]
    assert output.metrics() == {
        "IngestionEventsReceived": 2,
        "IngestionJobsStarted": 0,
        "IngestionDeferred": 0,
        "IngestionMalformedEvents": 1,
    }


def test_deletions_alone_trigger_ingestion(
    ingest: ModuleType, bedrock_agent: Stubber, lambda_context: LambdaContext
) -> None:
    # Given a batch of deletions only
    event = {
        "Records": [
            sqs_record(f"del-{n}", s3_change_body(f"documents/{n}.pdf", deleted=True)) for n in range(3)
        ]
    }
    bedrock_agent.add_response(
        "start_ingestion_job",
        job_response(),
        expected_params={
            "knowledgeBaseId": KNOWLEDGE_BASE_ID,
            "dataSourceId": DATA_SOURCE_ID,
            "clientToken": expected_token("del-0", "del-1", "del-2"),
            "description": "Ladder auto-ingest: 3 document change(s) (0 created or updated, 3 deleted)",
        },
    )

    # When it is handled
    response = ingest.handler(event, lambda_context)

    # Then a job removes them from the index
    assert response == {"batchItemFailures": []}


def test_empty_prefix_means_every_key_is_a_document(
    aws_env: None,
    monkeypatch: pytest.MonkeyPatch,
    bedrock_agent: Stubber,
    lambda_context: LambdaContext,
    output: Output,
) -> None:
    # Given DOCUMENTS_PREFIX is empty
    monkeypatch.setenv("DOCUMENTS_PREFIX", "")
    ingest = fresh_module("lambdas.ingest.handler", output.log_stream)
    bedrock_agent.add_response(
        "start_ingestion_job",
        job_response(),
        expected_params={
            "knowledgeBaseId": KNOWLEDGE_BASE_ID,
            "dataSourceId": DATA_SOURCE_ID,
            "clientToken": expected_token(CREATED_ID, DELETED_ID, OUTSIDE_ID),
            "description": "Ladder auto-ingest: 3 document change(s) (2 created or updated, 1 deleted)",
        },
    )

    # When the sample batch arrives
    response = ingest.handler(load_event("sqs_batch.json"), lambda_context)

    # Then the scratch/ object is ingested too
    assert response == {"batchItemFailures": []}


def test_event_that_is_not_an_sqs_batch_is_an_error(
    ingest: ModuleType, lambda_context: LambdaContext
) -> None:
    # Given an event without Records (e.g. a test invocation with the wrong payload)
    # When / Then it fails loudly instead of reporting success, and reports no ingestion metrics
    with (
        pytest.raises(ValueError, match="Records"),
        pytest.warns(UserWarning, match="No application metrics"),
    ):
        ingest.handler({"detail-type": "Object Created"}, lambda_context)


def test_lifecycle_expirations_start_no_job(
    ingest: ModuleType, bedrock_agent: Stubber, lambda_context: LambdaContext, output: Output
) -> None:
    # Given a lifecycle rule's deletion of an old version under the prefix (no Stubber response queued:
    # any StartIngestionJob call would fail the test)
    body = json.loads(s3_change_body(f"{DOCUMENTS_PREFIX}old.pdf", deleted=True))
    body["detail"]["reason"] = "Lifecycle Expiration"
    body["detail"]["deletion-type"] = "Permanently Deleted"
    event = {"Records": [sqs_record("expired-1", json.dumps(body))]}

    # When it is handled
    response = ingest.handler(event, lambda_context)

    # Then it is acknowledged without a job: nothing the knowledge base reads has changed
    assert failed_ids(response) == []
    assert output.metrics()["IngestionJobsStarted"] == 0
