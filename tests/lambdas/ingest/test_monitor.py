"""The ingestion job monitor: failed jobs and failed documents become error logs and metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from lambdas.ingest import monitoring
from lambdas.ingest.monitoring import window_end_for

from .conftest import DATA_SOURCE_ID, KNOWLEDGE_BASE_ID, LambdaContext, Output, load_event

SCHEDULED_AT = datetime(2025, 11, 12, 10, 15, tzinfo=UTC)  # the sample scheduled event's time
LIST_PARAMS = {
    "knowledgeBaseId": KNOWLEDGE_BASE_ID,
    "dataSourceId": DATA_SOURCE_ID,
    "sortBy": {"attribute": "STARTED_AT", "order": "DESCENDING"},
    "maxResults": 50,
}


def summary(job_id: str, status: str, updated_min_ago: float, failed_docs: int = 0) -> dict[str, Any]:
    updated = SCHEDULED_AT - timedelta(minutes=updated_min_ago)
    return {
        "knowledgeBaseId": KNOWLEDGE_BASE_ID,
        "dataSourceId": DATA_SOURCE_ID,
        "ingestionJobId": job_id,
        "status": status,
        "startedAt": updated - timedelta(minutes=3),
        "updatedAt": updated,
        "statistics": {
            "numberOfDocumentsScanned": 120,
            "numberOfNewDocumentsIndexed": 7,
            "numberOfDocumentsFailed": failed_docs,
        },
    }


def detail(job: dict[str, Any], reasons: list[str]) -> dict[str, Any]:
    return {"ingestionJob": {**job, "failureReasons": reasons}}


def test_failed_and_completed_jobs_in_the_window_are_reported_and_older_ones_ignored(
    monitor: ModuleType, bedrock_agent: Stubber, lambda_context: LambdaContext, output: Output
) -> None:
    # Given, newest first over two pages: a running job, a failed one, a completed one with 3 failed
    # documents, then a job finished before the window (where the scan must stop)
    running = summary("JOBRUNNING", "IN_PROGRESS", 1)
    failed = summary("JOBFAILED1", "FAILED", 5)
    completed = summary("JOBCOMPLE1", "COMPLETE", 10, failed_docs=3)
    old = summary("JOBOLD0001", "FAILED", 16, failed_docs=9)
    bedrock_agent.add_response(
        "list_ingestion_jobs",
        {"ingestionJobSummaries": [running, failed], "nextToken": "page-2"},
        expected_params=LIST_PARAMS,
    )
    bedrock_agent.add_response(
        "get_ingestion_job",
        detail(failed, ["Access denied to s3://documents/handbook.pdf"]),
        expected_params={
            "knowledgeBaseId": KNOWLEDGE_BASE_ID,
            "dataSourceId": DATA_SOURCE_ID,
            "ingestionJobId": "JOBFAILED1",
        },
    )
    bedrock_agent.add_response(
        "list_ingestion_jobs",
        {"ingestionJobSummaries": [completed, old, summary("JOBOLD0002", "FAILED", 40)]},
        expected_params={**LIST_PARAMS, "nextToken": "page-2"},
    )

    # When the schedule fires
    result = monitor.handler(load_event("scheduled_event.json"), lambda_context)

    # Then only the failed job in the window counts as failed, with its reasons in an error log
    assert result["jobsFailed"] == 1
    assert result["jobsCompleted"] == 1
    assert result["jobsInProgress"] == 1
    assert result["documentsFailed"] == 3
    assert result["windowEnd"] == SCHEDULED_AT.isoformat()
    assert output.metrics() == {
        "IngestionJobsFailed": 1,
        "IngestionJobsCompleted": 1,
        "IngestionDocumentsFailed": 3,
    }
    logs = output.logs()
    failures = [line for line in logs if line["message"] == "Ingestion job failed"]
    assert [(line["level"], line["ingestionJobId"]) for line in failures] == [("ERROR", "JOBFAILED1")]
    assert failures[0]["failureReasons"] == ["Access denied to s3://documents/handbook.pdf"]
    finished = [line for line in logs if line["message"] == "Ingestion job finished"]
    assert finished[0]["statistics"]["numberOfDocumentsFailed"] == 3
    assert finished[0]["level"] == "WARNING"
    assert "JOBOLD0001" not in {line.get("ingestionJobId") for line in logs}


def test_quiet_period_still_emits_zero_metrics(
    monitor: ModuleType, bedrock_agent: Stubber, lambda_context: LambdaContext, output: Output
) -> None:
    # Given no job was updated in the window
    bedrock_agent.add_response(
        "list_ingestion_jobs",
        {"ingestionJobSummaries": [summary("JOBOLD0001", "COMPLETE", 60)]},
        expected_params=LIST_PARAMS,
    )

    # When the schedule fires
    result = monitor.handler(load_event("scheduled_event.json"), lambda_context)

    # Then the alarms still get data points, all zero
    assert output.metrics() == {
        "IngestionJobsFailed": 0,
        "IngestionJobsCompleted": 0,
        "IngestionDocumentsFailed": 0,
    }
    assert (result["jobsFailed"], result["jobsCompleted"], result["documentsFailed"]) == (0, 0, 0)


def test_job_finished_after_the_scheduled_time_is_left_to_the_next_window(
    monitor: ModuleType, bedrock_agent: Stubber, lambda_context: LambdaContext
) -> None:
    # Given a job that failed a minute after the schedule time (the invocation started late)
    bedrock_agent.add_response(
        "list_ingestion_jobs",
        {
            "ingestionJobSummaries": [
                summary("JOBLATE001", "FAILED", -1),
                summary("JOBOLD0001", "COMPLETE", 30),
            ]
        },
        expected_params=LIST_PARAMS,
    )

    # When this window is reviewed
    result = monitor.handler(load_event("scheduled_event.json"), lambda_context)

    # Then it is not counted now (the next run's window holds it), so no job is counted twice
    assert result["jobsFailed"] == 0


def test_failed_job_counts_even_when_its_reasons_cannot_be_read(
    monitor: ModuleType, bedrock_agent: Stubber, lambda_context: LambdaContext, output: Output
) -> None:
    # Given a stopped job whose details GetIngestionJob refuses
    bedrock_agent.add_response(
        "list_ingestion_jobs", {"ingestionJobSummaries": [summary("JOBSTOP001", "STOPPED", 2)]}, LIST_PARAMS
    )
    bedrock_agent.add_client_error(
        "get_ingestion_job", service_error_code="AccessDeniedException", http_status_code=403
    )

    # When the schedule fires
    result = monitor.handler(load_event("scheduled_event.json"), lambda_context)

    # Then the failure is still counted and logged, saying why there are no reasons
    assert result["jobsFailed"] == 1
    assert output.metrics()["IngestionJobsFailed"] == 1
    failure = next(line for line in output.logs() if line["message"] == "Ingestion job failed")
    assert failure["detailError"] == "AccessDeniedException"


def test_monitor_that_cannot_list_jobs_fails_loudly(
    monitor: ModuleType, bedrock_agent: Stubber, lambda_context: LambdaContext, output: Output
) -> None:
    # Given ListIngestionJobs is denied
    bedrock_agent.add_client_error(
        "list_ingestion_jobs", service_error_code="AccessDeniedException", http_status_code=403
    )

    # When the schedule fires, then the invocation fails (the function's Errors metric shows it) rather
    # than report zero failures it could not see
    with pytest.raises(ClientError), pytest.warns(UserWarning, match="No application metrics"):
        monitor.handler(load_event("scheduled_event.json"), lambda_context)
    assert any(line["level"] == "ERROR" for line in output.logs())


def test_scan_stops_at_the_page_cap_and_says_so(
    monitor: ModuleType,
    bedrock_agent: Stubber,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a page cap of one and a first page that is entirely inside the window
    monkeypatch.setattr(monitoring, "LIST_JOBS_MAX_PAGES", 1)
    bedrock_agent.add_response(
        "list_ingestion_jobs",
        {"ingestionJobSummaries": [summary("JOBCOMPLE1", "COMPLETE", 3)], "nextToken": "more"},
        expected_params=LIST_PARAMS,
    )

    # When the schedule fires
    result = monitor.handler(load_event("scheduled_event.json"), lambda_context)

    # Then it reviews what it read, reads no further, and reports the truncation
    assert result["jobsCompleted"] == 1
    assert result["historyTruncated"] is True


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"time": "2025-11-12T10:15:00Z"}, SCHEDULED_AT),
        ({"time": "not a time"}, None),
        ({}, None),
    ],
)
def test_window_ends_at_the_schedule_time_when_the_event_has_one(
    event: dict[str, Any], expected: datetime | None
) -> None:
    # Given a clock reading, When the window end is derived, Then the schedule's time wins, else the clock
    now = datetime(2025, 11, 12, 10, 16, 7, tzinfo=UTC)
    assert window_end_for(event, now=now) == (expected or now)
