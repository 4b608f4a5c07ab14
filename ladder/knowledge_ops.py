"""Operating the knowledge base: ingestion status, dead-letter redrive and on-demand sync.

Every function takes the boto3 clients it calls (``bedrock-agent``, ``sqs``), so a test passes a moto or
Stubber'd one. Nothing here prints: the CLI formats what these functions return.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from . import hints
from .outputs import IngestionOutputs

RECENT_JOBS = 5
"""Ingestion jobs ``ladder docs status`` shows, latest first."""
RUNNING_JOB_STATUSES = ("STARTING", "IN_PROGRESS", "STOPPING")
"""Ingestion job states during which Bedrock refuses another job on the same data source."""
FAILED_DOCUMENT_STATUSES = (
    "FAILED",
    "PARTIALLY_INDEXED",
    "METADATA_PARTIALLY_INDEXED",
    "METADATA_UPDATE_FAILED",
    "IGNORED",
)
"""Document states (ListKnowledgeBaseDocuments) in which a document is not, or not fully, searchable.

``IGNORED`` is a document Bedrock skipped (its API reference says ``statusReason`` accompanies it), e.g. an
unsupported or oversized file: for the person who uploaded it, that is a failure too."""
DOCUMENTS_PAGE_SIZE = 100
MOVE_TASK_RUNNING = "RUNNING"
MOVE_TASK_POLL_SECONDS = 5
SYNC_DESCRIPTION = "Started with `ladder docs sync`"
CONFLICT_ERROR_CODE = "ConflictException"


@dataclass(frozen=True)
class IngestionJob:
    """One ingestion job of the data source with Bedrock's document counts."""

    job_id: str
    status: str
    started_at: datetime | None
    scanned: int
    indexed: int
    failed: int
    deleted: int

    @property
    def running(self) -> bool:
        return self.status in RUNNING_JOB_STATUSES

    @classmethod
    def from_api(cls, job: dict[str, Any]) -> IngestionJob:
        """From an ``IngestionJobSummary`` or a ``StartIngestionJob`` answer's ``ingestionJob``."""
        stats = job.get("statistics") or {}
        return cls(
            job_id=job["ingestionJobId"],
            status=job["status"],
            started_at=job.get("startedAt"),
            scanned=stats.get("numberOfDocumentsScanned", 0),
            indexed=stats.get("numberOfNewDocumentsIndexed", 0)
            + stats.get("numberOfModifiedDocumentsIndexed", 0),
            failed=stats.get("numberOfDocumentsFailed", 0),
            deleted=stats.get("numberOfDocumentsDeleted", 0),
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "started_at": _iso(self.started_at)}

    def format(self) -> str:
        started = f"{self.started_at:%Y-%m-%d %H:%M} UTC" if self.started_at else "not started"
        return (
            f"{self.job_id}  {self.status:<11}  {started}  scanned {self.scanned}, indexed {self.indexed}, "
            f"failed {self.failed}, deleted {self.deleted}"
        )


@dataclass(frozen=True)
class FailedDocument:
    """A document the knowledge base could not (fully) index, with Bedrock's reason."""

    uri: str
    status: str
    reason: str


@dataclass(frozen=True)
class QueueDepth:
    """Messages in a queue: waiting to be received, and received but not yet deleted (in flight)."""

    waiting: int
    in_flight: int


@dataclass(frozen=True)
class DocsStatus:
    """What ``ladder docs status`` reports."""

    knowledge_base_id: str
    data_source_id: str
    jobs: list[IngestionJob]
    failed_documents: list[FailedDocument]
    queue: QueueDepth
    dead_letter_queue: QueueDepth

    def to_dict(self) -> dict[str, Any]:
        return {
            "knowledge_base_id": self.knowledge_base_id,
            "data_source_id": self.data_source_id,
            "jobs": [job.to_dict() for job in self.jobs],
            "failed_documents": [asdict(document) for document in self.failed_documents],
            "queue": asdict(self.queue),
            "dead_letter_queue": asdict(self.dead_letter_queue),
        }

    def format(self) -> str:
        lines = [f"Knowledge base {self.knowledge_base_id}, data source {self.data_source_id}", ""]
        if self.jobs:
            lines.append("Ingestion jobs (latest first):")
            lines += [f"  {job.format()}" for job in self.jobs]
        else:
            lines.append(
                f"No ingestion job yet: upload documents (`{hints.command('docs', 'upload')} DIR`) or "
                f"`{hints.command('docs', 'sync')}`."
            )
        lines.append("")
        if self.failed_documents:
            lines.append(f"Documents that failed ({len(self.failed_documents)}):")
            lines += [
                f"  {doc.uri}  {doc.status}: {doc.reason or '(no reason given)'}"
                for doc in self.failed_documents
            ]
        else:
            lines.append("No failed documents.")
        lines.append("")
        lines.append(f"Ingestion queue: {self.queue.waiting} waiting, {self.queue.in_flight} in flight")
        dead = self.dead_letter_queue.waiting + self.dead_letter_queue.in_flight
        redrive = hints.command("docs", "redrive")
        hint = f" (`{redrive}` moves them back to the ingestion queue)" if dead else ""
        lines.append(f"Dead-letter queue: {dead} messages{hint}")
        return "\n".join(lines)


def recent_jobs(
    agent: Any, knowledge_base_id: str, data_source_id: str, limit: int = RECENT_JOBS
) -> list[IngestionJob]:
    """The data source's latest ``limit`` ingestion jobs, latest first."""
    response = agent.list_ingestion_jobs(
        knowledgeBaseId=knowledge_base_id,
        dataSourceId=data_source_id,
        sortBy={"attribute": "STARTED_AT", "order": "DESCENDING"},
        maxResults=limit,
    )
    return [IngestionJob.from_api(job) for job in response.get("ingestionJobSummaries", [])]


def running_job(agent: Any, knowledge_base_id: str, data_source_id: str) -> IngestionJob | None:
    """The job that is running on the data source, if any (Bedrock runs one at a time per data source)."""
    return next((job for job in recent_jobs(agent, knowledge_base_id, data_source_id) if job.running), None)


def failed_documents(agent: Any, knowledge_base_id: str, data_source_id: str) -> list[FailedDocument]:
    """Every document of the data source whose state says it is not (fully) searchable."""
    pages = agent.get_paginator("list_knowledge_base_documents").paginate(
        knowledgeBaseId=knowledge_base_id,
        dataSourceId=data_source_id,
        PaginationConfig={"PageSize": DOCUMENTS_PAGE_SIZE},
    )
    failed = []
    for page in pages:
        for document in page.get("documentDetails", []):
            if document["status"] in FAILED_DOCUMENT_STATUSES:
                failed.append(
                    FailedDocument(
                        uri=_document_uri(document.get("identifier", {})),
                        status=document["status"],
                        reason=document.get("statusReason", ""),
                    )
                )
    return failed


def queue_depth(sqs: Any, queue_url: str) -> QueueDepth:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return QueueDepth(
        waiting=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
    )


def docs_status(agent: Any, sqs: Any, ingestion: IngestionOutputs) -> DocsStatus:
    kb, ds = ingestion.knowledge_base_id, ingestion.data_source_id
    return DocsStatus(
        knowledge_base_id=kb,
        data_source_id=ds,
        jobs=recent_jobs(agent, kb, ds),
        failed_documents=failed_documents(agent, kb, ds),
        queue=queue_depth(sqs, ingestion.queue_url),
        dead_letter_queue=queue_depth(sqs, ingestion.dead_letter_queue_url),
    )


@dataclass(frozen=True)
class SyncResult:
    """``started``: this call started ``job``; otherwise ``job`` was already running (nothing started)."""

    started: bool
    job: IngestionJob

    def to_dict(self) -> dict[str, Any]:
        return {"started": self.started, "job": self.job.to_dict()}

    def format(self) -> str:
        if self.started:
            status = hints.command("docs", "status")
            return f"Started ingestion job {self.job.job_id} ({self.job.status}); see `{status}`."
        return (
            f"Ingestion job {self.job.job_id} is already {self.job.status}; nothing started "
            "(it picks up the data source as it is; run sync again after it finishes for later changes)."
        )


def sync(agent: Any, knowledge_base_id: str, data_source_id: str) -> SyncResult:
    """Start one ingestion job now, unless one is running (then report that one)."""
    running = running_job(agent, knowledge_base_id, data_source_id)
    if running is not None:
        return SyncResult(started=False, job=running)
    try:
        response = agent.start_ingestion_job(
            knowledgeBaseId=knowledge_base_id,
            dataSourceId=data_source_id,
            clientToken=str(uuid.uuid4()),
            description=SYNC_DESCRIPTION,
        )
    except ClientError as err:
        # The ingestion function may have started a job between our look and our start.
        if err.response.get("Error", {}).get("Code") != CONFLICT_ERROR_CODE:
            raise
        running = running_job(agent, knowledge_base_id, data_source_id)
        if running is None:
            raise
        return SyncResult(started=False, job=running)
    return SyncResult(started=True, job=IngestionJob.from_api(response["ingestionJob"]))


@dataclass(frozen=True)
class MoveTask:
    """An SQS message-move task from the dead-letter queue (ListMessageMoveTasks)."""

    handle: str | None
    status: str
    moved: int
    to_move: int | None
    failure_reason: str | None
    started_at: datetime | None

    @property
    def running(self) -> bool:
        return self.status == MOVE_TASK_RUNNING

    @classmethod
    def from_api(cls, task: dict[str, Any]) -> MoveTask:
        started = task.get("StartedTimestamp")
        return cls(
            handle=task.get("TaskHandle"),
            status=task["Status"],
            moved=task.get("ApproximateNumberOfMessagesMoved", 0),
            to_move=task.get("ApproximateNumberOfMessagesToMove"),
            failure_reason=task.get("FailureReason"),
            started_at=datetime.fromtimestamp(started / 1000, UTC) if started is not None else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "started_at": _iso(self.started_at)}

    def format(self) -> str:
        total = "?" if self.to_move is None else str(self.to_move)
        failure = f": {self.failure_reason}" if self.failure_reason else ""
        return f"{self.status}: moved {self.moved} of {total} messages{failure}"


@dataclass(frozen=True)
class RedriveResult:
    """``outcome``: ``started`` (a new task), ``running`` (one was moving already) or ``empty``."""

    outcome: str
    task: MoveTask | None

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "task": self.task.to_dict() if self.task else None}

    def format(self) -> str:
        if self.outcome == "empty":
            return "The dead-letter queue is empty: nothing to redrive."
        assert self.task is not None
        if self.outcome == "running":
            return f"A redrive is already running, not started again. {self.task.format()}"
        return (
            "Started moving the dead-letter queue's messages back to the ingestion queue. "
            f"{self.task.format()}"
        )


def queue_arn(sqs: Any, queue_url: str) -> str:
    return str(
        sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    )


def latest_move_task(sqs: Any, source_arn: str) -> MoveTask | None:
    results = sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=1).get("Results", [])
    return MoveTask.from_api(results[0]) if results else None


def redrive(sqs: Any, ingestion: IngestionOutputs) -> RedriveResult:
    """Move the dead-letter queue's messages back to the ingestion queue with SQS's own message-move task.

    Safe to repeat: a task already running is reported, not duplicated; an empty queue starts nothing.
    """
    source = queue_arn(sqs, ingestion.dead_letter_queue_url)
    latest = latest_move_task(sqs, source)
    if latest is not None and latest.running:
        return RedriveResult(outcome="running", task=latest)
    depth = queue_depth(sqs, ingestion.dead_letter_queue_url)
    if depth.waiting + depth.in_flight == 0:
        return RedriveResult(outcome="empty", task=None)
    destination = queue_arn(sqs, ingestion.queue_url)
    handle = sqs.start_message_move_task(SourceArn=source, DestinationArn=destination)["TaskHandle"]
    task = latest_move_task(sqs, source) or MoveTask(handle, MOVE_TASK_RUNNING, 0, depth.waiting, None, None)
    return RedriveResult(outcome="started", task=task)


def follow_move_task(
    sqs: Any,
    dead_letter_queue_url: str,
    *,
    sleep: Callable[[float], None],
    on_change: Callable[[MoveTask], None],
    poll_seconds: float = MOVE_TASK_POLL_SECONDS,
) -> MoveTask | None:
    """Poll the latest move task until it is no longer running; report each change; return the last state."""
    source = queue_arn(sqs, dead_letter_queue_url)
    last: MoveTask | None = None
    while True:
        task = latest_move_task(sqs, source)
        if task != last and task is not None:
            on_change(task)
        last = task
        if task is None or not task.running:
            return task
        sleep(poll_seconds)


def _document_uri(identifier: dict[str, Any]) -> str:
    if "s3" in identifier:
        return str(identifier["s3"].get("uri", "?"))
    if "custom" in identifier:
        return str(identifier["custom"].get("id", "?"))
    return "?"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
