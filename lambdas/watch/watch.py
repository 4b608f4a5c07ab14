"""The drift watch's two steps around one evaluation run: which arms to measure, and what the run says.

``resolve`` (before the run) reads whether few-shot examples are uploaded (the manifest in the documents
bucket) and whether a fine-tuned model is published (the SSM parameter), and returns the evaluation state
machine's input. ``report`` (after it) publishes the run's per-arm metrics, decides the findings
(``ladder_core.drift``) against the staged verdict and sends each finding to the alarm topic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ladder_core import drift
from ladder_core.examples import MANIFEST_KEY
from ladder_core.published import read_published

from . import constants
from .settings import Settings

_ABSENT = ("NoSuchKey", "404", "NotFound")


class NoStagedSet(Exception):
    """The evaluations bucket has no ``staged/watch/set.jsonl`` (Step Functions error name)."""


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    """Whether ``key`` exists; the role lists the key's prefix, so a missing key answers 404, not 403."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in _ABSENT:
            return False
        raise
    return True


def resolve(s3: Any, ssm: Any, settings: Settings) -> dict[str, Any]:
    """The evaluation state machine's input for one scheduled run; NoStagedSet without a staged set."""
    if not object_exists(s3, settings.evaluations_bucket, drift.STAGED_SET_KEY):
        raise NoStagedSet(
            f"s3://{settings.evaluations_bucket}/{drift.STAGED_SET_KEY} does not exist: stage the set and "
            "the verdict the watch measures with `ladder eval stage`"
        )
    examples = settings.examples_manifest_bucket is not None and object_exists(
        s3, settings.examples_manifest_bucket, MANIFEST_KEY
    )
    published = settings.model_parameter is not None and read_published(ssm, settings.model_parameter)
    arms = drift.watch_arms(
        examples=examples, fine_tuned_published=bool(published), model_ids=settings.model_ids
    )
    return {
        "purpose": constants.PURPOSE,
        "evalSet": {"bucket": settings.evaluations_bucket, "key": drift.STAGED_SET_KEY},
        "arms": arms,
        "maxItems": settings.max_items,
    }


def staged_verdict(s3: Any, bucket: str) -> dict[str, Any] | None:
    """The staged verdict, or None when none is staged."""
    try:
        body = s3.get_object(Bucket=bucket, Key=drift.STAGED_VERDICT_KEY)["Body"].read()
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in _ABSENT:
            return None
        raise
    document = json.loads(body)
    return document if isinstance(document, dict) else None


def metric_data(summary: Mapping[str, Any], findings: int, now: datetime) -> list[dict[str, Any]]:
    """Per arm ``Correctness``, ``FormatCompliance``, ``CostPerQueryUsd`` (those the run measured), and the
    dimensionless ``DriftFindings``."""
    data = []
    for arm, values in (summary.get("arms") or {}).items():
        for metric, key in drift.ARM_METRICS.items():
            value = values.get(key)
            if isinstance(value, int | float):
                data.append(
                    {
                        "MetricName": metric,
                        "Dimensions": [{"Name": drift.ARM_DIMENSION, "Value": arm}],
                        "Timestamp": now,
                        "Value": float(value),
                        "Unit": "None",
                    }
                )
    data.append(
        {"MetricName": drift.FINDINGS_METRIC, "Timestamp": now, "Value": float(findings), "Unit": "Count"}
    )
    return data


def subject(finding: drift.Finding) -> str:
    text = f"Ladder drift watch: {finding.kind}" + (f" ({finding.arm})" if finding.arm else "")
    return text[: constants.SUBJECT_MAX_CHARS]


def report(
    s3: Any, cloudwatch: Any, sns: Any, evaluation: Mapping[str, Any], settings: Settings, *, now: datetime
) -> dict[str, Any]:
    """Publish the run's metrics and findings; ``evaluation`` is the evaluation state machine's output."""
    summary = evaluation.get("summary") or {}
    verdict = staged_verdict(s3, settings.evaluations_bucket)
    found = drift.findings(summary, verdict, now=now)
    data = metric_data(summary, len(found), now)
    for start in range(0, len(data), constants.METRICS_PER_CALL):
        cloudwatch.put_metric_data(
            Namespace=drift.METRICS_NAMESPACE, MetricData=data[start : start + constants.METRICS_PER_CALL]
        )
    location = f"s3://{evaluation.get('bucket')}/{evaluation.get('prefix')}"
    for finding in found:
        message = (
            f"{finding.message}\n\nRun {evaluation.get('runId')}: ladder eval report {location}\n\n"
            + json.dumps(finding.to_json(), indent=2)
        )
        sns.publish(TopicArn=settings.topic_arn, Subject=subject(finding), Message=message)
    return {
        "runId": evaluation.get("runId"),
        "verdictStaged": verdict is not None,
        "findings": [finding.to_json() for finding in found],
    }
