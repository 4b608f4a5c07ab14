"""The CLI's clients use the one client configuration: attempts counted with the first call."""

from __future__ import annotations

import boto3

from ladder.aws_clients import create_client
from ladder_core.aws_clients import DEFAULT_TOTAL_ATTEMPTS


def test_every_cli_client_counts_attempts_the_shared_way() -> None:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    for service in ("s3", "bedrock", "bedrock-agent-runtime"):
        config = create_client(session, service).meta.config
        assert config.retries == {"mode": "standard", "total_max_attempts": DEFAULT_TOTAL_ATTEMPTS}
        assert (config.connect_timeout, config.read_timeout) == (60, 60)
