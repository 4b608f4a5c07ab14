"""Creates the AWS clients once per container, the standard boto3 way."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

from .constants import BEDROCK_CONNECT_TIMEOUT_S, BEDROCK_MAX_ATTEMPTS, BEDROCK_READ_TIMEOUT_S

# ``total_max_attempts`` counts the first call; botocore reads a ``max_attempts`` here as retries (one more).
_BEDROCK_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": BEDROCK_MAX_ATTEMPTS},
    connect_timeout=BEDROCK_CONNECT_TIMEOUT_S,
    read_timeout=BEDROCK_READ_TIMEOUT_S,
)


@functools.cache
def bedrock_agent_client() -> Any:
    """The ``bedrock-agent`` control-plane client (StartIngestionJob, List/GetIngestionJob)."""
    return boto3.client("bedrock-agent", config=_BEDROCK_CONFIG)
