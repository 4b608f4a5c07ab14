"""Reviews the data source's recent ingestion jobs so that failures become logs and metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .constants import (
    JOB_FAILURE_STATUSES,
    JOB_FINISHED_STATUSES,
    JOB_STATUS_COMPLETE,
    LIST_JOBS_MAX_PAGES,
    LIST_JOBS_PAGE_SIZE,
)
from .settings import MonitorSettings


@dataclass(frozen=True)
class JobObservation:
    """One ingestion job last updated inside the review window."""

    job_id: str
    status: str
    started_at: datetime
    updated_at: datetime
    statistics: Mapping[str, int] = field(default_factory=dict)
    failure_reasons: tuple[str, ...] = ()
    detail_error: str | None = None
    """Error code when GetIngestionJob (for the failure reasons) itself failed."""

    @property
    def finished(self) -> bool:
        return self.status in JOB_FINISHED_STATUSES

    @property
    def failed(self) -> bool:
        return self.status in JOB_FAILURE_STATUSES

    @property
    def documents_failed(self) -> int:
        return int(self.statistics.get("numberOfDocumentsFailed", 0))


@dataclass(frozen=True)
class JobReview:
    """What one monitor run saw, with the counts its metrics report."""

    window_start: datetime
    window_end: datetime
    jobs: tuple[JobObservation, ...]
    history_truncated: bool
    """True when the page cap stopped the scan before it reached a job older than the window."""

    @property
    def jobs_completed(self) -> int:
        return sum(1 for job in self.jobs if job.status == JOB_STATUS_COMPLETE)

    @property
    def jobs_failed(self) -> int:
        return sum(1 for job in self.jobs if job.failed)

    @property
    def jobs_in_progress(self) -> int:
        return sum(1 for job in self.jobs if not job.finished)

    @property
    def documents_failed(self) -> int:
        return sum(job.documents_failed for job in self.jobs if job.finished)

    def summary(self) -> dict[str, Any]:
        return {
            "windowStart": self.window_start.isoformat(),
            "windowEnd": self.window_end.isoformat(),
            "jobsCompleted": self.jobs_completed,
            "jobsFailed": self.jobs_failed,
            "jobsInProgress": self.jobs_in_progress,
            "documentsFailed": self.documents_failed,
            "historyTruncated": self.history_truncated,
        }


def window_end_for(event: Mapping[str, Any], now: datetime) -> datetime:
    """End of the review window: the schedule's own ``time`` when present, else ``now``.

    Scheduled events carry the nominal schedule time, so consecutive runs review back-to-back windows
    and every finished job is counted exactly once, however late an invocation starts.
    """
    raw = event.get("time")
    if isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return now
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return now


def _failure_reasons(
    client: Any, settings: MonitorSettings, job_id: str
) -> tuple[tuple[str, ...], str | None]:
    try:
        job = client.get_ingestion_job(
            knowledgeBaseId=settings.knowledge_base_id,
            dataSourceId=settings.data_source_id,
            ingestionJobId=job_id,
        )["ingestionJob"]
    except ClientError as error:
        return (), str(error.response.get("Error", {}).get("Code", "Unknown"))
    except BotoCoreError as error:
        return (), type(error).__name__
    return tuple(job.get("failureReasons", ())), None


def review_recent_jobs(client: Any, settings: MonitorSettings, window_end: datetime) -> JobReview:
    """Collect the jobs whose ``updatedAt`` lies in ``(window_end - lookback, window_end]``.

    Jobs are listed newest start first. A data source runs one job at a time, so once a job was last
    updated before the window, every older job was too, and the scan stops there (or at the page cap).
    List failures propagate: a monitor that cannot see must fail loudly (the function's Errors metric).
    """
    window_start = window_end - timedelta(minutes=settings.lookback_minutes)
    request: dict[str, Any] = {
        "knowledgeBaseId": settings.knowledge_base_id,
        "dataSourceId": settings.data_source_id,
        "sortBy": {"attribute": "STARTED_AT", "order": "DESCENDING"},
        "maxResults": LIST_JOBS_PAGE_SIZE,
    }
    jobs: list[JobObservation] = []
    for _page in range(LIST_JOBS_MAX_PAGES):
        response = client.list_ingestion_jobs(**request)
        for summary in response.get("ingestionJobSummaries", []):
            updated_at: datetime = summary["updatedAt"]
            if updated_at <= window_start:
                return JobReview(window_start, window_end, tuple(jobs), history_truncated=False)
            if updated_at > window_end:
                continue  # the next run's window
            reasons: tuple[str, ...] = ()
            detail_error = None
            if summary["status"] in JOB_FAILURE_STATUSES:
                reasons, detail_error = _failure_reasons(client, settings, summary["ingestionJobId"])
            jobs.append(
                JobObservation(
                    job_id=summary["ingestionJobId"],
                    status=summary["status"],
                    started_at=summary["startedAt"],
                    updated_at=updated_at,
                    statistics=dict(summary.get("statistics", {})),
                    failure_reasons=reasons,
                    detail_error=detail_error,
                )
            )
        next_token = response.get("nextToken")
        if not next_token:
            return JobReview(window_start, window_end, tuple(jobs), history_truncated=False)
        request["nextToken"] = next_token
    return JobReview(window_start, window_end, tuple(jobs), history_truncated=True)
