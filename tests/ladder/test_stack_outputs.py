"""The contract between the CLI and the stacks: every output the CLI reads is in the synthesized template.

The readers run against a Stubber'd CloudFormation that answers with exactly the outputs the synthesized
Knowledge stack declares, so a renamed or dropped output fails here rather than in a user's terminal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ladder import outputs
from tests.support.synth import Synthesized, resources, synthesize

pytestmark = pytest.mark.synth


@pytest.fixture(scope="module")
def knowledge_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    synthesized: Synthesized = synthesize(tmp_path_factory.mktemp("cdk.out"))
    return synthesized.template("Knowledge")


def _cloudformation_answering(template: dict[str, Any]) -> Any:
    client = boto3.client("cloudformation", region_name="us-east-1")
    stubber = Stubber(client)
    stack = {
        "StackName": "LadderKnowledge",
        "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
        "StackStatus": "CREATE_COMPLETE",
        "Outputs": [{"OutputKey": key, "OutputValue": f"value-of-{key}"} for key in template["Outputs"]],
    }
    for _ in range(2):
        stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "LadderKnowledge"})
    stubber.activate()
    return client


def test_the_cli_finds_every_knowledge_output_it_reads(knowledge_template):
    # Given CloudFormation reporting the synthesized stack's outputs
    cloudformation = _cloudformation_answering(knowledge_template)

    # When the CLI's readers run, they find every output they need
    ingestion = outputs.read_ingestion(cloudformation, "Ladder")
    knowledge = outputs.read_knowledge(cloudformation, "Ladder")

    # Then each value comes from the output of that name
    assert ingestion.queue_url == "value-of-IngestionQueueUrl"
    assert ingestion.dead_letter_queue_url == "value-of-IngestionDeadLetterQueueUrl"
    assert knowledge.knowledge_base_id == ingestion.knowledge_base_id == "value-of-KnowledgeBaseId"


def test_the_ingestion_queue_output_is_the_queue_whose_dead_letter_queue_is_the_dlq_output(
    knowledge_template,
):
    # Given the two queue outputs
    queue_id = knowledge_template["Outputs"]["IngestionQueueUrl"]["Value"]["Ref"]
    dlq_id = knowledge_template["Outputs"]["IngestionDeadLetterQueueUrl"]["Value"]["Ref"]
    queue = knowledge_template["Resources"][queue_id]

    # Then the first is an SQS queue that parks its failures in the second (the redrive's source)
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
    # and the event rule feeds the first: the redrive moves messages back to where ingestion reads them
    targets = [
        target["Arn"]
        for rule in resources(knowledge_template, "AWS::Events::Rule").values()
        for target in rule["Properties"].get("Targets", [])
    ]
    assert {"Fn::GetAtt": [queue_id, "Arn"]} in targets
