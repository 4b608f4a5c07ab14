"""`ladder docs status | sync | redrive`: operating the knowledge base's ingestion.

SQS queue depths come from moto; moto has no message-move tasks, so the redrive tests stub SQS with a
botocore Stubber (which checks every request and answer against the SQS model), as they do Bedrock's agent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from ladder import cli, knowledge_ops
from ladder.outputs import IngestionOutputs

from .conftest import ACCOUNT, REGION

KB = "KB12345678"
DS = "DS12345678"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:ingest"
DLQ_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:ingest-dlq"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/ingest"
DLQ_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/ingest-dlq"
STARTED = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)


def knowledge_outputs(queue_url: str = QUEUE_URL, dlq_url: str = DLQ_URL) -> dict[str, str]:
    return {
        "DocumentsBucketName": "ladder-documents",
        "DocumentsPrefix": "docs/",
        "KnowledgeBaseId": KB,
        "DataSourceId": DS,
        "IngestionQueueUrl": queue_url,
        "IngestionDeadLetterQueueUrl": dlq_url,
    }


def job(job_id: str, status: str, *, scanned: int = 0, new: int = 0, failed: int = 0) -> dict[str, Any]:
    return {
        "knowledgeBaseId": KB,
        "dataSourceId": DS,
        "ingestionJobId": job_id,
        "status": status,
        "startedAt": STARTED,
        "updatedAt": STARTED,
        "statistics": {
            "numberOfDocumentsScanned": scanned,
            "numberOfNewDocumentsIndexed": new,
            "numberOfModifiedDocumentsIndexed": 0,
            "numberOfDocumentsDeleted": 0,
            "numberOfDocumentsFailed": failed,
        },
    }


def document(key: str, status: str, reason: str = "") -> dict[str, Any]:
    detail: dict[str, Any] = {
        "knowledgeBaseId": KB,
        "dataSourceId": DS,
        "status": status,
        "identifier": {"dataSourceType": "S3", "s3": {"uri": f"s3://ladder-documents/{key}"}},
        "updatedAt": STARTED,
    }
    if reason:
        detail["statusReason"] = reason
    return detail


def move_task(status: str, moved: int, to_move: int, reason: str = "") -> dict[str, Any]:
    task: dict[str, Any] = {
        "TaskHandle": "handle-1",
        "Status": status,
        "SourceArn": DLQ_ARN,
        "DestinationArn": QUEUE_ARN,
        "ApproximateNumberOfMessagesMoved": moved,
        "ApproximateNumberOfMessagesToMove": to_move,
        "StartedTimestamp": int(STARTED.timestamp() * 1000),
    }
    if reason:
        task["FailureReason"] = reason
    return task


class Agent:
    """A Stubber'd bedrock-agent client with helpers for the calls the CLI makes, in order."""

    def __init__(self) -> None:
        self.client = boto3.client("bedrock-agent", region_name=REGION)
        self.stubber = Stubber(self.client)
        self.stubber.activate()

    def jobs(self, *summaries: dict[str, Any]) -> None:
        self.stubber.add_response(
            "list_ingestion_jobs",
            {"ingestionJobSummaries": list(summaries)},
            {
                "knowledgeBaseId": KB,
                "dataSourceId": DS,
                "sortBy": {"attribute": "STARTED_AT", "order": "DESCENDING"},
                "maxResults": knowledge_ops.RECENT_JOBS,
            },
        )

    def documents(self, *pages: list[dict[str, Any]]) -> None:
        for number, page in enumerate(pages):
            response: dict[str, Any] = {"documentDetails": page}
            if number + 1 < len(pages):
                response["nextToken"] = f"page-{number + 1}"
            expected: dict[str, Any] = {"knowledgeBaseId": KB, "dataSourceId": DS, "maxResults": 100}
            if number:
                expected["nextToken"] = f"page-{number}"
            self.stubber.add_response("list_knowledge_base_documents", response, expected)


class StubbedSqs:
    """A Stubber'd SQS client for the redrive flow."""

    def __init__(self) -> None:
        self.client = boto3.client("sqs", region_name=REGION)
        self.stubber = Stubber(self.client)
        self.stubber.activate()

    def arn(self, url: str, arn: str) -> None:
        self.stubber.add_response(
            "get_queue_attributes",
            {"Attributes": {"QueueArn": arn}},
            {"QueueUrl": url, "AttributeNames": ["QueueArn"]},
        )

    def depth(self, url: str, waiting: int, in_flight: int = 0) -> None:
        self.stubber.add_response(
            "get_queue_attributes",
            {
                "Attributes": {
                    "ApproximateNumberOfMessages": str(waiting),
                    "ApproximateNumberOfMessagesNotVisible": str(in_flight),
                }
            },
            {
                "QueueUrl": url,
                "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            },
        )

    def tasks(self, *tasks: dict[str, Any]) -> None:
        self.stubber.add_response(
            "list_message_move_tasks", {"Results": list(tasks)}, {"SourceArn": DLQ_ARN, "MaxResults": 1}
        )

    def start(self) -> None:
        self.stubber.add_response(
            "start_message_move_task",
            {"TaskHandle": "handle-1"},
            {"SourceArn": DLQ_ARN, "DestinationArn": QUEUE_ARN},
        )


@pytest.fixture
def agent() -> Iterator[Agent]:
    stubbed = Agent()
    yield stubbed
    stubbed.stubber.assert_no_pending_responses()


@pytest.fixture
def stubbed_sqs() -> Iterator[StubbedSqs]:
    stubbed = StubbedSqs()
    yield stubbed
    stubbed.stubber.assert_no_pending_responses()


@pytest.fixture
def moto_queues(aws) -> tuple[Any, str, str]:
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.create_queue(QueueName="ingest-dlq")["QueueUrl"]
    queue = sqs.create_queue(QueueName="ingest")["QueueUrl"]
    return sqs, queue, dlq


@pytest.fixture
def docs_cli(stacks, agent, capsys) -> Any:
    """Runs ``ladder`` with stubbed stacks and agent; SQS is moto's unless a stubbed client is passed."""

    def run(*argv: str, sqs: Any = None) -> Any:
        def clients(session: boto3.session.Session, service: str) -> Any:
            if service == "bedrock-agent":
                return agent.client
            if service == "sqs" and sqs is not None:
                return sqs
            return stacks.client_factory(session, service)

        code = cli.main(list(argv), client_factory=clients)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_status_shows_jobs_failed_documents_with_reasons_and_both_queues(
    stacks, agent, docs_cli, moto_queues
):
    # Given a knowledge base with failed, partly indexed and skipped documents across two listing pages,
    # two uploads waiting in the ingestion queue and one message parked in the dead-letter queue
    sqs, queue, dlq = moto_queues
    for n in range(2):
        sqs.send_message(QueueUrl=queue, MessageBody=f"upload {n}")
    sqs.send_message(QueueUrl=dlq, MessageBody="parked")
    stacks.deployed("LadderKnowledge", knowledge_outputs(queue, dlq))
    agent.jobs(job("JOB2", "COMPLETE", scanned=5, new=3, failed=2), job("JOB1", "COMPLETE", scanned=3, new=3))
    agent.documents(
        [document("docs/ok.md", "INDEXED"), document("docs/scan.pdf", "FAILED", "File is encrypted")],
        [
            document("docs/big.csv", "PARTIALLY_INDEXED", "Row exceeds the chunk limit"),
            document("docs/song.mp3", "IGNORED", "Unsupported file type"),
            document("docs/new.md", "IN_PROGRESS"),
        ],
    )

    # When the status is asked for
    code, out, _ = docs_cli("docs", "status")

    # Then the jobs, each failed document with Bedrock's reason, and the queue depths are shown
    assert code == 0
    assert "JOB2  COMPLETE     2026-12-01 21:30 UTC  scanned 5, indexed 3, failed 2, deleted 0" in out
    assert "Documents that failed (3):" in out
    assert "s3://ladder-documents/docs/song.mp3  IGNORED: Unsupported file type" in out
    assert "docs/new.md" not in out
    assert "s3://ladder-documents/docs/scan.pdf  FAILED: File is encrypted" in out
    assert "s3://ladder-documents/docs/big.csv  PARTIALLY_INDEXED: Row exceeds the chunk limit" in out
    assert "docs/ok.md" not in out
    assert "Ingestion queue: 2 waiting, 0 in flight" in out
    assert "Dead-letter queue: 1 messages (`ladder docs redrive`" in out


def test_status_json_is_only_the_machine_readable_result(stacks, agent, docs_cli, moto_queues):
    # Given a knowledge base with one running job and one failed document
    _, queue, dlq = moto_queues
    stacks.deployed("LadderKnowledge", knowledge_outputs(queue, dlq))
    agent.jobs(job("JOB3", "IN_PROGRESS", scanned=1))
    agent.documents([document("docs/scan.pdf", "FAILED", "File is encrypted")])

    # When the status is asked for as JSON
    code, out, _ = docs_cli("docs", "status", "--json")

    # Then stdout is one JSON document with the same facts
    assert code == 0
    status = json.loads(out)
    assert status["jobs"][0] == {
        "job_id": "JOB3",
        "status": "IN_PROGRESS",
        "started_at": "2026-12-01T21:30:00+00:00",
        "scanned": 1,
        "indexed": 0,
        "failed": 0,
        "deleted": 0,
    }
    assert status["failed_documents"] == [
        {"uri": "s3://ladder-documents/docs/scan.pdf", "status": "FAILED", "reason": "File is encrypted"}
    ]
    assert status["dead_letter_queue"] == {"waiting": 0, "in_flight": 0}


def test_status_of_a_fresh_knowledge_base_says_nothing_ran_and_the_dead_letter_queue_is_empty(
    stacks, agent, docs_cli, moto_queues
):
    # Given a knowledge base with no job, no document and empty queues
    _, queue, dlq = moto_queues
    stacks.deployed("LadderKnowledge", knowledge_outputs(queue, dlq))
    agent.jobs()
    agent.documents([])

    # When the status is asked for
    code, out, _ = docs_cli("docs", "status")

    # Then it says so, and does not suggest a redrive
    assert code == 0
    assert "No ingestion job yet" in out
    assert "No failed documents." in out
    assert "Dead-letter queue: 0 messages" in out
    assert "redrive" not in out


def test_status_against_a_stack_without_the_queue_output_asks_for_a_redeploy(stacks, docs_cli):
    # Given a Knowledge stack deployed before it published its ingestion queue URL
    outputs = knowledge_outputs()
    del outputs["IngestionQueueUrl"]
    stacks.deployed("LadderKnowledge", outputs)

    # When the status is asked for
    code, _, err = docs_cli("docs", "status")

    # Then it exits 2 naming the missing output
    assert code == 2
    assert "lacks output IngestionQueueUrl" in err


def test_sync_starts_one_job_when_none_is_running(stacks, agent, docs_cli):
    # Given a data source whose last job finished
    stacks.deployed("LadderKnowledge", knowledge_outputs())
    agent.jobs(job("JOB1", "COMPLETE"))
    agent.stubber.add_response(
        "start_ingestion_job",
        {"ingestionJob": job("JOB2", "STARTING")},
        {"knowledgeBaseId": KB, "dataSourceId": DS, "clientToken": ANY, "description": ANY},
    )

    # When a sync is asked for
    code, out, _ = docs_cli("docs", "sync")

    # Then one job is started and named
    assert code == 0
    assert "Started ingestion job JOB2 (STARTING)" in out


@pytest.mark.parametrize("status", ["STARTING", "IN_PROGRESS", "STOPPING"])
def test_sync_while_a_job_runs_reports_it_and_starts_nothing(stacks, agent, docs_cli, status):
    # Given a data source whose latest job has not finished
    stacks.deployed("LadderKnowledge", knowledge_outputs())
    agent.jobs(job("JOB9", status), job("JOB8", "COMPLETE"))

    # When a sync is asked for (no start_ingestion_job is stubbed: calling it would fail the test)
    code, out, _ = docs_cli("docs", "sync", "--json")

    # Then the running job is reported
    assert code == 0
    assert json.loads(out)["started"] is False
    assert json.loads(out)["job"]["job_id"] == "JOB9"


def test_sync_that_races_the_ingestion_function_reports_the_job_that_won(stacks, agent, docs_cli):
    # Given no running job at first, but the ingestion function starts one before ours
    stacks.deployed("LadderKnowledge", knowledge_outputs())
    agent.jobs(job("JOB1", "COMPLETE"))
    agent.stubber.add_client_error(
        "start_ingestion_job", service_error_code="ConflictException", http_status_code=409
    )
    agent.jobs(job("JOB2", "IN_PROGRESS"), job("JOB1", "COMPLETE"))

    # When a sync is asked for
    code, out, _ = docs_cli("docs", "sync")

    # Then the conflict is not an error: the running job is reported
    assert code == 0
    assert "Ingestion job JOB2 is already IN_PROGRESS; nothing started" in out


def test_sync_reports_other_bedrock_errors_and_exits_1(stacks, agent, docs_cli):
    # Given Bedrock refuses the start for another reason
    stacks.deployed("LadderKnowledge", knowledge_outputs())
    agent.jobs()
    agent.stubber.add_client_error(
        "start_ingestion_job",
        service_error_code="ValidationException",
        service_message="Data source is deleting",
    )

    # When a sync is asked for
    code, _, err = docs_cli("docs", "sync")

    # Then the error is reported with exit 1
    assert code == 1
    assert "ValidationException in StartIngestionJob: Data source is deleting" in err


def test_redrive_of_an_empty_dead_letter_queue_starts_nothing(stacks, docs_cli, stubbed_sqs):
    # Given an empty dead-letter queue and no move task
    stacks.deployed("LadderKnowledge", knowledge_outputs())
    stubbed_sqs.arn(DLQ_URL, DLQ_ARN)
    stubbed_sqs.tasks()
    stubbed_sqs.depth(DLQ_URL, 0)

    # When a redrive is asked for (start_message_move_task is not stubbed: calling it fails the test)
    code, out, _ = docs_cli("docs", "redrive", sqs=stubbed_sqs.client)

    # Then nothing is started
    assert code == 0
    assert "The dead-letter queue is empty: nothing to redrive." in out


def test_redrive_while_a_move_runs_reports_it_and_starts_no_second_one(stacks, docs_cli, stubbed_sqs):
    # Given a move task already running from the dead-letter queue
    stacks.deployed("LadderKnowledge", knowledge_outputs())
    stubbed_sqs.arn(DLQ_URL, DLQ_ARN)
    stubbed_sqs.tasks(move_task("RUNNING", 4, 10))

    # When a redrive is asked for again
    code, out, _ = docs_cli("docs", "redrive", "--json", sqs=stubbed_sqs.client)

    # Then the running task is reported and no second one is started
    assert code == 0
    result = json.loads(out)
    assert result["outcome"] == "running"
    assert result["task"]["moved"] == 4
    assert result["task"]["to_move"] == 10


def test_redrive_moves_the_messages_back_to_the_ingestion_queue(stacks, docs_cli, stubbed_sqs):
    # Given three parked messages and an earlier move that finished
    stacks.deployed("LadderKnowledge", knowledge_outputs())
    stubbed_sqs.arn(DLQ_URL, DLQ_ARN)
    stubbed_sqs.tasks(move_task("COMPLETED", 2, 2))
    stubbed_sqs.depth(DLQ_URL, 3)
    stubbed_sqs.arn(QUEUE_URL, QUEUE_ARN)
    stubbed_sqs.start()
    stubbed_sqs.tasks(move_task("RUNNING", 0, 3))

    # When a redrive is asked for without following it
    code, out, _ = docs_cli("docs", "redrive", "--no-wait", sqs=stubbed_sqs.client)

    # Then SQS's move task is started from the dead-letter queue to the ingestion queue, and reported
    assert code == 0
    assert "Started moving the dead-letter queue's messages back" in out
    assert "RUNNING: moved 0 of 3 messages" in out


def test_follow_move_task_reports_each_change_until_the_task_ends(stubbed_sqs):
    # Given a move task that progresses, stays the same for one poll, then completes
    stubbed_sqs.arn(DLQ_URL, DLQ_ARN)
    for moved, status in ((1, "RUNNING"), (1, "RUNNING"), (3, "COMPLETED")):
        stubbed_sqs.tasks(move_task(status, moved, 3))
    changes: list[str] = []
    sleeps: list[float] = []

    # When it is followed
    final = knowledge_ops.follow_move_task(
        stubbed_sqs.client,
        DLQ_URL,
        sleep=sleeps.append,
        on_change=lambda task: changes.append(task.format()),
    )

    # Then each distinct state is reported once, and it sleeps between polls only while running
    assert changes == ["RUNNING: moved 1 of 3 messages", "COMPLETED: moved 3 of 3 messages"]
    assert sleeps == [knowledge_ops.MOVE_TASK_POLL_SECONDS] * 2
    assert final is not None and final.status == "COMPLETED"


def test_a_failed_move_task_carries_the_reason():
    # Given a failed move as SQS lists it
    task = knowledge_ops.MoveTask.from_api(
        move_task("FAILED", 1, 3, "AWS.SimpleQueueService.NonExistentQueue")
    )

    # Then the reason is in what is printed
    assert task.format() == "FAILED: moved 1 of 3 messages: AWS.SimpleQueueService.NonExistentQueue"
    assert task.started_at == STARTED


def test_queue_depth_counts_waiting_and_in_flight_messages(moto_queues):
    # Given two messages, one of them received (in flight)
    sqs, queue, _ = moto_queues
    sqs.send_message(QueueUrl=queue, MessageBody="a")
    sqs.send_message(QueueUrl=queue, MessageBody="b")
    sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, VisibilityTimeout=300)

    # When its depth is read
    depth = knowledge_ops.queue_depth(sqs, queue)

    # Then one waits and one is in flight
    assert depth == knowledge_ops.QueueDepth(waiting=1, in_flight=1)


def test_ingestion_outputs_are_read_in_one_call(stacks):
    # Given a deployed Knowledge stack
    stacks.deployed("LadderKnowledge", knowledge_outputs())

    # When the ingestion outputs are read
    from ladder import outputs

    read = outputs.read_ingestion(stacks.client, "Ladder")

    # Then every field comes from its output
    assert read == IngestionOutputs(KB, DS, QUEUE_URL, DLQ_URL)
