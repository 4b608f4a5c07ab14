"""Step Functions task of the drift watch: resolve the arms of a scheduled run, then report on it.

Handler string in AWS: ``watch.handler.handler``. Environment: ``EVALUATIONS_BUCKET``, ``TOPIC_ARN``,
``MAX_ITEMS``, ``EXAMPLES_MANIFEST_BUCKET`` (empty without a few-shot store), ``MODEL_PARAMETER`` (empty
without the fine-tune stack), ``MODEL_IDS`` (comma-separated, may be empty).

Input ``{"action": "arms"}`` returns the evaluation state machine's input (raises ``NoStagedSet`` when
nothing is staged); ``{"action": "report", "evaluation": <the evaluation state machine's output>}`` publishes
the metrics and findings and returns ``{"runId", "verdictStaged", "findings": [...]}``.
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from ladder_core.aws_clients import client_config

from . import constants
from .settings import Settings, load_settings
from .watch import NoStagedSet, report, resolve

__all__ = ["NoStagedSet", "handler", "run"]

logger = Logger()
_CONFIG = Config(**client_config())


@functools.cache
def client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)


@functools.cache
def container_settings() -> Settings:
    """The settings, read once per container; a bad variable fails each invocation, naming it."""
    return load_settings(os.environ)


def run(
    event: dict[str, Any], settings: Settings, clients: Any = client, now: datetime | None = None
) -> dict[str, Any]:
    action = event.get("action")
    if action not in constants.ACTIONS:
        raise ValueError(f"expected {{'action': one of {constants.ACTIONS}}}, got {event}")
    if action == "arms":
        return resolve(clients("s3"), clients("ssm"), settings)
    evaluation = event.get("evaluation")
    if not isinstance(evaluation, dict):
        raise ValueError(f"expected {{'action': 'report', 'evaluation': the evaluation output}}, got {event}")
    return report(
        clients("s3"),
        clients("cloudwatch"),
        clients("sns"),
        evaluation,
        settings,
        now=now or datetime.now(UTC),
    )


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = run(event, container_settings())
    logger.info("Drift watch", extra={"action": event.get("action"), **result})
    return result
