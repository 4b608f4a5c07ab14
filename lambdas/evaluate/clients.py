"""Creates the function's clients once per container, the standard boto3 way."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

from ladder_core.aws_clients import client_config

from . import constants


@functools.cache
def s3_client() -> Any:
    return boto3.client("s3", config=Config(**client_config(total_attempts=constants.S3_MAX_ATTEMPTS)))


@functools.cache
def bedrock_client() -> Any:
    """Bedrock's control plane: GetImportedModel, for the fine-tuned arm's Custom Model Units."""
    return boto3.client("bedrock", config=Config(**client_config()))


@functools.cache
def lambda_client(rag_timeout_s: int) -> Any:
    """One attempt per call (the function retries throttling itself, with the bound the chunk size counts
    on), reading for as long as the RAG function may run plus the Invoke overhead."""
    config = client_config(
        total_attempts=1,
        connect_timeout_s=constants.CONNECT_TIMEOUT_S,
        read_timeout_s=rag_timeout_s + constants.INVOKE_OVERHEAD_S,
    )
    return boto3.client("lambda", config=Config(**config))
