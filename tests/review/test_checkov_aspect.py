"""The checkov Aspect skips a finding only where the fact that justifies it is in the app."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from stacks.checkov import CheckovSuppressions
from tests.stacks.rag.templates import rag_function
from tests.support.synth import only, resources


def _skips(resource: dict) -> dict[str, str]:
    return {s["id"]: s["comment"] for s in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])}


def test_dead_letter_skips_name_how_each_function_is_invoked(sandbox) -> None:
    # Given the synthesized app (the Aspect is applied in stacks/application.py)
    _, rag = rag_function(sandbox.template("RagApi"))
    knowledge = sandbox.template("Knowledge")
    _, mapping = only(knowledge, "AWS::Lambda::EventSourceMapping")
    ingest = knowledge["Resources"][mapping["Properties"]["FunctionName"]["Ref"]]
    # Then each function's dead-letter-queue skip names its own trigger
    assert "API Gateway" in _skips(rag)["CKV_AWS_116"]
    assert "SQS event source" in _skips(ingest)["CKV_AWS_116"]
    # And the queues' encryption skip holds only because SQS-managed encryption is on
    for queue in resources(knowledge, "AWS::SQS::Queue").values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        assert "CKV_AWS_27" in _skips(queue)


def test_a_function_with_no_known_trigger_gets_no_dead_letter_skip() -> None:
    # Given a function nothing in its stack invokes, and a queue without SQS-managed encryption
    app = cdk.App()
    stack = cdk.Stack(app, "Probe")
    lambda_.Function(
        stack,
        "Orphan",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )
    sqs.Queue(stack, "Plain", encryption=sqs.QueueEncryption.KMS_MANAGED)
    cdk.Aspects.of(app).add(CheckovSuppressions())
    template = Template.from_stack(stack).to_json()
    # Then nothing justifies skipping its dead-letter or concurrency checks, and the queue keeps its check
    _, function = only(template, "AWS::Lambda::Function")
    assert "CKV_AWS_116" not in _skips(function)
    assert "CKV_AWS_115" not in _skips(function)
    assert "CKV_AWS_117" in _skips(function)
    _, queue = only(template, "AWS::SQS::Queue")
    assert _skips(queue) == {}
