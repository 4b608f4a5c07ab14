"""cdk-nag is attached to the whole app and makes synth fail on an unacknowledged finding."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs

from stacks.application import build_app
from tests.support.synth import default_context


def test_an_unacknowledged_finding_fails_synth(tmp_path) -> None:
    # Given the real app plus a queue without a dead-letter queue or TLS enforcement (AwsSolutions-SQS3/SQS4)
    app = cdk.App(context=default_context(), outdir=str(tmp_path))
    built = build_app(app)
    sqs.Queue(built.knowledge, "QueueWithoutDeadLetters")
    # When synthesized, then cdk-nag stops it
    with pytest.raises(Exception, match="AwsSolutions-SQS3"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "AwsSolutions-SQS3" in report and "QueueWithoutDeadLetters" in report


def test_acknowledgements_need_a_reason() -> None:
    from stacks.nag import acknowledge

    with pytest.raises(ValueError, match="specific reason"):
        acknowledge(cdk.App(), "AwsSolutions-S1", "because")
