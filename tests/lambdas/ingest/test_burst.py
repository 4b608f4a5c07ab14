"""A burst of 1,000 uploads through a real (moto) SQS queue: few jobs, nothing lost, nothing parked."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.core.utils import unix_time
from moto.sqs.models import SQSBackend

from .conftest import DATA_SOURCE_ID, KNOWLEDGE_BASE_ID, REGION, LambdaContext, s3_change_body

UPLOADS = 1_000
MAX_RECEIVE_COUNT = 10
BATCH_SIZE = 500  # the event source mapping's BatchSize
SQS_RECEIVE_MAX = 10  # SQS returns at most 10 messages per ReceiveMessage
MAX_POLLS = 20  # safety net: the emulated poller must drain the queue well before this


def _job(job_id: str) -> dict[str, Any]:
    now = datetime(2025, 11, 12, 9, 32, tzinfo=UTC)
    return {
        "ingestionJob": {
            "knowledgeBaseId": KNOWLEDGE_BASE_ID,
            "dataSourceId": DATA_SOURCE_ID,
            "ingestionJobId": job_id,
            "status": "STARTING",
            "startedAt": now,
            "updatedAt": now,
        }
    }


def _receive_batch(sqs: Any, queue_url: str, queue_arn: str) -> list[dict[str, Any]]:
    """Poll like the event source mapping: up to BATCH_SIZE messages, shaped as Lambda SQS records."""
    records: list[dict[str, Any]] = []
    while len(records) < BATCH_SIZE:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(SQS_RECEIVE_MAX, BATCH_SIZE - len(records)),
            AttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        records.extend(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message["Attributes"],
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for message in messages
        )
    return records


def _in_chunks(items: list[Any], size: int = SQS_RECEIVE_MAX) -> list[list[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _queue_depth(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _retention_check(backend: SQSBackend, queue_name: str, message: Any) -> bool:
    """moto's own rule (a message outlives its queue's retention period) without its O(queue) cost.

    moto 5.2.5 rebuilds every queue attribute, counting all messages, for each message it receives;
    with 1,000 messages that alone takes over a minute on a small machine. Same answer, computed directly.
    """
    queue: Any = backend.get_queue(queue_name)  # its attributes are set dynamically from the API names
    return int(queue.message_retention_period) + message.sent_timestamp / 1000 > unix_time()


@pytest.fixture
def queues(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(SQSBackend, "is_message_valid_based_on_retention_period", _retention_check)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        dlq_url = sqs.create_queue(QueueName="ladder-ingest-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        queue_url = sqs.create_queue(
            QueueName="ladder-ingest",
            Attributes={
                "VisibilityTimeout": "900",
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}
                ),
            },
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        yield sqs, queue_url, queue_arn, dlq_url


def test_a_burst_of_uploads_is_ingested_by_a_few_jobs_without_losing_one(
    ingest: ModuleType, bedrock_agent: Stubber, lambda_context: LambdaContext, queues: Any
) -> None:
    # Given 1,000 uploads announced on the queue, and Bedrock busy with a job when the second batch comes
    sqs, queue_url, queue_arn, dlq_url = queues
    for chunk in _in_chunks([f"documents/burst/{n:04d}.md" for n in range(UPLOADS)]):
        sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(n), "MessageBody": s3_change_body(key)} for n, key in enumerate(chunk)],
        )
    sent_ids: set[str] = set()
    bedrock_agent.add_response("start_ingestion_job", _job("JOB0000001"))
    bedrock_agent.add_client_error(
        "start_ingestion_job", service_error_code="ConflictException", http_status_code=409
    )
    bedrock_agent.add_response("start_ingestion_job", _job("JOB0000002"))
    calls: list[dict[str, Any]] = []
    bedrock_agent.client.meta.events.register(
        "before-parameter-build.bedrock-agent.StartIngestionJob", lambda params, **_: calls.append(params)
    )

    # When the event source mapping drains the queue: delete what the handler acknowledged, make the
    # returned messages visible again at once (the visibility timeout, fast-forwarded)
    covered: set[str] = set()
    for _poll in range(MAX_POLLS):
        records = _receive_batch(sqs, queue_url, queue_arn)
        if not records:
            break
        sent_ids.update(record["messageId"] for record in records)
        calls_before = len(calls)
        response = ingest.handler({"Records": records}, lambda_context)
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        acknowledged = [record for record in records if record["messageId"] not in failed]
        if acknowledged:
            # Acknowledgement must mean "a job started after this upload": this invocation's call
            # succeeded and its token names exactly these messages
            assert len(calls) == calls_before + 1
            ids = sorted(record["messageId"] for record in acknowledged)
            assert calls[-1]["clientToken"] == hashlib.sha256("\n".join(ids).encode()).hexdigest()
            covered.update(ids)
        for chunk in _in_chunks(acknowledged):
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": r["receiptHandle"]} for n, r in enumerate(chunk)],
            )
        for chunk in _in_chunks([record for record in records if record["messageId"] in failed]):
            sqs.change_message_visibility_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": r["receiptHandle"], "VisibilityTimeout": 0}
                    for n, r in enumerate(chunk)
                ],
            )

    # Then a handful of jobs covered every upload, and neither the queue nor the DLQ holds anything
    assert len(sent_ids) == UPLOADS
    assert len(calls) <= 4
    assert covered == sent_ids
    assert _queue_depth(sqs, queue_url) == 0
    assert _queue_depth(sqs, dlq_url) == 0
