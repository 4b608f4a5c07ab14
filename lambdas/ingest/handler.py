"""SQS -> StartIngestionJob: one Bedrock ingestion job per batch of S3 document changes.

Invoked by an SQS event source mapping with ReportBatchItemFailures. Each message body is an EventBridge
"Object Created" / "Object Deleted" event from S3. Changes outside DOCUMENTS_PREFIX are acknowledged;
malformed messages and, when no job could be started, every change of the batch are returned as batch
item failures, so SQS redelivers them and finally parks them in the DLQ.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import clients
from .constants import METRIC_DEFERRED, METRIC_EVENTS_RECEIVED, METRIC_JOBS_STARTED, METRIC_MALFORMED
from .events import ParsedBatch, parse_batch
from .ingestion import JobDeferred, JobStarted, start_ingestion
from .settings import load_ingest_settings

SETTINGS = load_ingest_settings(os.environ)

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=SETTINGS.metrics_namespace)


def _log_rejections(batch: ParsedBatch) -> None:
    for record in batch.malformed:
        logger.error(
            "Malformed message returned to the queue (it will reach the DLQ)",
            extra={"messageId": record.message_id, "reason": record.reason},
        )
    for change in batch.ignored:
        reason = "lifecycle expiration" if change.lifecycle else "outside the documents prefix"
        logger.info(
            "Change acknowledged without ingestion",
            extra={
                "messageId": change.message_id,
                "bucket": change.bucket,
                "key": change.key,
                "reason": reason,
            },
        )


def _log_outcome(outcome: JobStarted | JobDeferred, batch: ParsedBatch) -> None:
    counts = {"changes": len(batch.changes), "ignored": len(batch.ignored), "malformed": len(batch.malformed)}
    if isinstance(outcome, JobStarted):
        logger.info(
            "Ingestion job started",
            extra={"ingestionJobId": outcome.job_id, "jobStatus": outcome.status, **counts},
        )
        return
    log = logger.warning if outcome.busy else logger.error
    log(
        "Ingestion job not started; the batch's changes return to the queue",
        extra={"errorCode": outcome.error_code, "errorMessage": outcome.error_message, **counts},
    )


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(correlation_id_path="Records[0].messageId")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    batch = parse_batch(event, SETTINGS.documents_prefix)
    _log_rejections(batch)
    failures = [record.message_id for record in batch.malformed]
    started = deferred = 0
    if batch.changes:
        outcome = start_ingestion(clients.bedrock_agent_client(), SETTINGS, batch.changes)
        _log_outcome(outcome, batch)
        if isinstance(outcome, JobStarted):
            started = 1
        else:
            failures.extend(change.message_id for change in batch.changes)
            deferred = len(batch.changes)
    else:
        logger.info("No document change in this batch", extra={"ignored": len(batch.ignored)})

    # Emitted even when zero, so alarms on these metrics always have data points.
    metrics.add_metric(name=METRIC_EVENTS_RECEIVED, unit=MetricUnit.Count, value=batch.received)
    metrics.add_metric(name=METRIC_JOBS_STARTED, unit=MetricUnit.Count, value=started)
    metrics.add_metric(name=METRIC_DEFERRED, unit=MetricUnit.Count, value=deferred)
    metrics.add_metric(name=METRIC_MALFORMED, unit=MetricUnit.Count, value=len(batch.malformed))
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}
