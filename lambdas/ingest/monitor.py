"""Scheduled review of recent ingestion jobs: failed jobs and failed documents become logs and metrics.

Invoked by an EventBridge schedule (every LOOKBACK_MINUTES). Always emits IngestionJobsFailed,
IngestionJobsCompleted and IngestionDocumentsFailed, zero included, so alarms always have data.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import clients
from .constants import METRIC_DOCUMENTS_FAILED, METRIC_JOBS_COMPLETED, METRIC_JOBS_FAILED
from .monitoring import JobObservation, review_recent_jobs, window_end_for
from .settings import load_monitor_settings

SETTINGS = load_monitor_settings(os.environ)

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=SETTINGS.metrics_namespace)


def _log_job(job: JobObservation) -> None:
    fields = {
        "ingestionJobId": job.job_id,
        "jobStatus": job.status,
        "startedAt": job.started_at.isoformat(),
        "updatedAt": job.updated_at.isoformat(),
        "statistics": dict(job.statistics),
    }
    if job.failed:
        logger.error(
            "Ingestion job failed",
            extra={**fields, "failureReasons": list(job.failure_reasons), "detailError": job.detail_error},
        )
    elif job.finished:
        log = logger.warning if job.documents_failed else logger.info
        log("Ingestion job finished", extra=fields)
    else:
        logger.info("Ingestion job still running", extra=fields)


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    window_end = window_end_for(event, now=datetime.now(UTC))
    try:
        review = review_recent_jobs(clients.bedrock_agent_client(), SETTINGS, window_end)
    except Exception:
        logger.exception("Could not list ingestion jobs; job failures are not being watched")
        raise
    for job in review.jobs:
        _log_job(job)
    if review.history_truncated:
        logger.warning("Job history scan stopped at the page cap; older jobs in the window were not reviewed")

    metrics.add_metric(name=METRIC_JOBS_FAILED, unit=MetricUnit.Count, value=review.jobs_failed)
    metrics.add_metric(name=METRIC_JOBS_COMPLETED, unit=MetricUnit.Count, value=review.jobs_completed)
    metrics.add_metric(name=METRIC_DOCUMENTS_FAILED, unit=MetricUnit.Count, value=review.documents_failed)
    summary = review.summary()
    logger.info("Ingestion job review", extra=summary)
    return summary
