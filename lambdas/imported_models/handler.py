"""Step Functions task: prune the pipeline's imported models, check the import quota, gate a candidate.

Handler string in AWS: ``imported_models.handler.handler``. Environment: ``MODEL_PARAMETER`` (the published
model's SSM parameter, never deleted) and ``KEEP_MODELS`` (how many of the pipeline's newest models stay).

Input: ``{"action": "ensure_capacity" | "prune" | "gate", "pipeline": "<state machine name>"}``.
``ensure_capacity`` (before training) prunes, then raises ``NoImportCapacity`` when the quota leaves no room
for one more model and ``QuotaUnavailable`` when the quota cannot be read (the applied value, else the AWS
default); ``prune`` (after a publish) deletes the pipeline's models beyond the newest ``KEEP_MODELS``.
``gate`` (after the candidate's evaluation) also takes ``modelArn``, ``verdict`` (``{"bucket", "key"}`` of
the staged verdict) and ``evaluation`` (the evaluation state machine's output), tags the model with its
numbers and returns the promotion decision (``promote``, ``reasons``, ``numbers``).
"""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from ladder_core.aws_clients import client_config
from ladder_core.published import read_published

from . import constants
from .gate import GateInputError, evaluate_gate
from .housekeeping import NoImportCapacity, QuotaUnavailable, ensure_capacity, prune
from .settings import Settings, load_settings

__all__ = ["GateInputError", "NoImportCapacity", "QuotaUnavailable", "handler"]

logger = Logger()
_CONFIG = Config(**client_config())


@functools.cache
def client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)


@functools.cache
def container_settings() -> Settings:
    """The settings, read from the environment once per container (its first invocation) as the other
    functions do; a bad variable fails each invocation the same way, naming it, before any AWS call."""
    return load_settings(os.environ)


def run(event: dict[str, Any], settings: Settings, clients: Any = client) -> dict[str, Any]:
    action, pipeline = event.get("action"), event.get("pipeline")
    if action not in constants.ACTIONS or not isinstance(pipeline, str) or not pipeline:
        raise ValueError(f"expected {{'action': one of {constants.ACTIONS}, 'pipeline': name}}, got {event}")
    if action == constants.GATE_ACTION:
        return evaluate_gate(clients("s3"), clients("bedrock"), event)
    keep = settings.keep_models
    current = read_published(clients("ssm"), settings.model_parameter)
    if action == "prune":
        return {"deleted": prune(clients("bedrock"), pipeline=pipeline, keep=keep, published_arn=current)}
    return ensure_capacity(
        clients("bedrock"), clients("service-quotas"), pipeline=pipeline, keep=keep, published_arn=current
    )


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = run(event, container_settings())
    logger.info("Imported models checked", extra={"action": event.get("action"), **result})
    return result
