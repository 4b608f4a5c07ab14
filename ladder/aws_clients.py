"""The CLI's boto3 clients: every service it calls gets the one client configuration of
``ladder_core.aws_clients`` (standard retries, at most its default number of calls, botocore's timeouts)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from ladder_core.aws_clients import client_config

_CONFIG = Config(**client_config())


def create_client(session: boto3.session.Session, service: str) -> Any:
    """The standard boto3 client of ``service`` from ``session``, with the shared retries and timeouts."""
    return session.client(service, config=_CONFIG)
