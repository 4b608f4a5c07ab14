"""Step Functions task: check an uploaded chat dataset and split it for the SageMaker training job.

Handler string in AWS: ``validate_dataset.handler.handler``. The asset holds ``validate_dataset/`` and, next
to it, ``training_jobs/__init__.py`` and ``training_jobs/dataprep.py`` (the checks the operator CLI runs).

Input: ``{"bucket": "...", "key": "uploads/x.jsonl", "executionName": "..."}``.
Output: ``{"trainS3Uri": "s3://bucket/prepared/<executionName>/train/", "evalS3Uri": ".../eval/",
"reportS3Uri": ".../report.json", "counts": {"read", "clean", "rejected", "train", "eval",
"rejected_by_reason"}}``. An unusable dataset raises ``DatasetRejected`` (catch that error name) after the
report is written; a malformed input raises ``InvalidRequest``.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import clients
from .preparation import DatasetRejected, InvalidRequest, parse_request, prepare_dataset
from .settings import load_settings

__all__ = ["DatasetRejected", "InvalidRequest", "handler"]

SETTINGS = load_settings(os.environ)

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_request(event)
    logger.append_keys(executionName=request.execution_name)
    try:
        prepared = prepare_dataset(clients.s3_client(), request, SETTINGS.options)
    except DatasetRejected as rejected:
        logger.warning("Dataset rejected", extra={"reason": str(rejected), "key": request.key})
        raise
    logger.info("Dataset prepared", extra={"key": request.key, **prepared.counts})
    return prepared.to_output()
