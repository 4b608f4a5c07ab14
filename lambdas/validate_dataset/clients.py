"""Creates the function's S3 client once per container, the standard boto3 way."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

from ladder_core.aws_clients import client_config

from . import constants

_S3_CONFIG = Config(
    **client_config(
        total_attempts=constants.S3_MAX_ATTEMPTS,
        connect_timeout_s=constants.S3_CONNECT_TIMEOUT_S,
        read_timeout_s=constants.S3_READ_TIMEOUT_S,
    )
)


@functools.cache
def s3_client() -> Any:
    return boto3.client("s3", config=_S3_CONFIG)
