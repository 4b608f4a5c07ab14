"""Creates the AWS clients once per container, the standard boto3 way."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

from ladder_core.aws_clients import client_config

from .constants import BEDROCK_CONNECT_TIMEOUT_S, BEDROCK_MAX_ATTEMPTS, BEDROCK_READ_TIMEOUT_S

_BEDROCK_CONFIG = Config(
    **client_config(
        total_attempts=BEDROCK_MAX_ATTEMPTS,
        connect_timeout_s=BEDROCK_CONNECT_TIMEOUT_S,
        read_timeout_s=BEDROCK_READ_TIMEOUT_S,
    )
)


@functools.cache
def bedrock_agent_client() -> Any:
    """The ``bedrock-agent`` control-plane client (StartIngestionJob, List/GetIngestionJob)."""
    return boto3.client("bedrock-agent", config=_BEDROCK_CONFIG)
