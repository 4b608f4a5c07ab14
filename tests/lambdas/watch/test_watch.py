"""The drift watch function with moto (S3, SSM, SNS, CloudWatch): the arms it resolves, and what it
publishes from crafted evaluation state machine outputs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ladder_core.examples import MANIFEST_KEY
from lambdas.watch.handler import run
from lambdas.watch.settings import load_settings
from lambdas.watch.watch import NoStagedSet
from stacks.rag.drift_watch import WATCH_SHARED_FILES
from tests.lambdas.asset import run_in_asset

REGION = "us-east-1"
BUCKET = "ladder-evaluations"
DOCUMENTS = "ladder-documents"
PARAMETER = "/ladder/fine-tune/model-arn"
NOVA_PRO = "us.amazon.nova-pro-v1:0"
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:imported-model/abc123"


class Services:
    def __init__(self) -> None:
        self.s3 = boto3.client("s3", region_name=REGION)
        self.ssm = boto3.client("ssm", region_name=REGION)
        self.sns = boto3.client("sns", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        for bucket in (BUCKET, DOCUMENTS):
            self.s3.create_bucket(Bucket=bucket)
        self.topic = self.sns.create_topic(Name="alarms")["TopicArn"]
        # The topic's messages, read through a subscribed queue as an e-mail reader would get them.
        self.queue = self.sqs.create_queue(QueueName="inbox")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])
        self.sns.subscribe(TopicArn=self.topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])

    def clients(self, service: str) -> Any:
        return {"s3": self.s3, "ssm": self.ssm, "sns": self.sns, "cloudwatch": self.cloudwatch}[service]

    def settings(self, *, examples: bool = True, fine_tune: bool = True, model_ids: str = NOVA_PRO) -> Any:
        return load_settings(
            {
                "EVALUATIONS_BUCKET": BUCKET,
                "TOPIC_ARN": self.topic,
                "MAX_ITEMS": "200",
                "EXAMPLES_MANIFEST_BUCKET": DOCUMENTS if examples else "",
                "MODEL_PARAMETER": PARAMETER if fine_tune else "",
                "MODEL_IDS": model_ids,
            }
        )

    def stage(self, verdict: dict[str, Any] | None = None) -> None:
        self.s3.put_object(Bucket=BUCKET, Key="staged/watch/set.jsonl", Body=b'{"id": "q1"}\n')
        if verdict is not None:
            self.s3.put_object(
                Bucket=BUCKET, Key="staged/watch/verdict.json", Body=json.dumps(verdict).encode()
            )

    def messages(self) -> list[dict[str, Any]]:
        found = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in found]


@pytest.fixture
def aws() -> Iterator[Services]:
    with mock_aws():
        yield Services()


def test_arms_are_rag_alone_without_examples_a_published_model_or_extra_models(aws: Services) -> None:
    aws.stage()
    aws.ssm.put_parameter(Name=PARAMETER, Value="none", Type="String")
    result = run({"action": "arms"}, aws.settings(model_ids=""), aws.clients)
    assert result == {
        "purpose": "watch",
        "evalSet": {"bucket": BUCKET, "key": "staged/watch/set.jsonl"},
        "arms": ["rag"],
        "maxItems": 200,
    }


def test_arms_add_fewshot_finetuned_and_each_model_when_they_exist(aws: Services) -> None:
    # Given uploaded examples, a published model and one extra model
    aws.stage()
    aws.s3.put_object(Bucket=DOCUMENTS, Key=MANIFEST_KEY, Body=b"{}")
    aws.ssm.put_parameter(Name=PARAMETER, Value=MODEL_ARN, Type="String")
    # When the watch resolves the arms
    result = run({"action": "arms"}, aws.settings(), aws.clients)
    # Then every served arm and the extra model in both modes are measured
    assert result["arms"] == ["rag", "fewshot", "finetuned", f"rag@{NOVA_PRO}", f"fewshot@{NOVA_PRO}"]


def test_without_examples_an_extra_model_runs_as_rag_only(aws: Services) -> None:
    aws.stage()
    result = run({"action": "arms"}, aws.settings(examples=True, fine_tune=False), aws.clients)
    assert result["arms"] == ["rag", f"rag@{NOVA_PRO}"]


def test_a_missing_parameter_means_no_published_model(aws: Services) -> None:
    aws.stage()
    assert run({"action": "arms"}, aws.settings(model_ids=""), aws.clients)["arms"] == ["rag"]


def test_nothing_staged_fails_naming_the_command_that_stages(aws: Services) -> None:
    with pytest.raises(NoStagedSet, match="ladder eval stage"):
        run({"action": "arms"}, aws.settings(), aws.clients)


def evaluation_output(general_correctness: float, lower_bound: float) -> dict[str, Any]:
    """The evaluation state machine's output (contract: runId, bucket, prefix, arms, summary)."""

    def arm(correctness: float, cost: float) -> dict[str, Any]:
        return {
            "n": 200,
            "correctness": correctness,
            "formatCompliance": 0.97,
            "costPerQueryUsd": cost,
            "ci95": {"correctness": [correctness - 0.04, correctness + 0.04]},
        }

    run_id = "20261201T060000Z-watch"
    return {
        "runId": run_id,
        "bucket": BUCKET,
        "prefix": f"runs/{run_id}/",
        "arms": ["rag", "finetuned", f"rag@{NOVA_PRO}"],
        "summary": {
            "arms": {
                "rag": arm(0.83, 0.004),
                "finetuned": arm(0.9, 0.002),
                f"rag@{NOVA_PRO}": arm(general_correctness, 0.011),
            },
            "differences": {
                "finetuned-rag": {"correctness": {"diff": 0.07, "ci95": [0.03, 0.11], "n": 200}},
                f"rag@{NOVA_PRO}-finetuned": {
                    "correctness": {
                        "diff": general_correctness - 0.9,
                        "ci95": [-lower_bound - 0.06, -lower_bound],
                        "n": 200,
                    }
                },
            },
        },
    }


VERDICT = {"targets": {"correctness": 0.8, "formatCompliance": 0.95}, "expiresAt": "2027-03-01T00:00:00Z"}


def metric(aws: Services, name: str, arm: str | None) -> float | None:
    dimensions = [{"Name": "Arm", "Value": arm}] if arm else []
    points = aws.cloudwatch.get_metric_statistics(
        Namespace="Ladder/Evaluation",
        MetricName=name,
        Dimensions=dimensions,
        StartTime=datetime(2026, 12, 1, 5, 0, tzinfo=UTC),
        EndTime=datetime(2026, 12, 1, 7, 0, tzinfo=UTC),
        Period=3600,
        Statistics=["Maximum"],
    )["Datapoints"]
    return points[0]["Maximum"] if points else None


def test_a_healthy_run_publishes_per_arm_metrics_and_zero_findings(aws: Services) -> None:
    aws.stage(VERDICT)
    result = run(
        {"action": "report", "evaluation": evaluation_output(0.84, 0.03)}, aws.settings(), aws.clients, NOW
    )
    assert result == {"runId": "20261201T060000Z-watch", "verdictStaged": True, "findings": []}
    assert metric(aws, "Correctness", f"rag@{NOVA_PRO}") == 0.84
    assert metric(aws, "FormatCompliance", "finetuned") == 0.97
    assert metric(aws, "CostPerQueryUsd", "rag") == 0.004
    assert metric(aws, "DriftFindings", None) == 0
    assert aws.messages() == []


def test_a_general_model_catching_up_is_published_to_the_alarm_topic_with_the_numbers(aws: Services) -> None:
    # Given a run where the general model is as good as the fine-tuned one (interval reaching zero)
    aws.stage(VERDICT)
    output = evaluation_output(0.91, -0.02)
    # When the watch reports on it
    result = run({"action": "report", "evaluation": output}, aws.settings(), aws.clients, NOW)
    # Then one finding names the general model, the metric counts it and the topic carries it
    assert [(f["kind"], f["arm"]) for f in result["findings"]] == [
        ("generalModelCatchesUp", f"rag@{NOVA_PRO}")
    ]
    assert metric(aws, "DriftFindings", None) == 1
    [message] = aws.messages()
    assert message["Subject"] == f"Ladder drift watch: generalModelCatchesUp (rag@{NOVA_PRO})"
    assert "a general model now does as well" in message["Message"]
    assert f"ladder eval report s3://{BUCKET}/runs/20261201T060000Z-watch/" in message["Message"]
    assert '"costPerQueryUsd": 0.011' in message["Message"]


def test_without_a_staged_verdict_only_the_comparison_is_decided(aws: Services) -> None:
    aws.stage()
    output = evaluation_output(0.5, 0.2)
    output["summary"]["arms"]["rag"]["correctness"] = 0.1
    result = run({"action": "report", "evaluation": output}, aws.settings(), aws.clients, NOW)
    assert result["verdictStaged"] is False
    assert result["findings"] == []


def test_an_unknown_action_is_refused_naming_the_accepted_ones(aws: Services) -> None:
    with pytest.raises(ValueError, match="arms"):
        run({"action": "evaluate"}, aws.settings(), aws.clients)


def test_function_imports_from_its_aws_asset_layout(tmp_path: Any) -> None:
    code = (
        "import watch.handler as h, watch.settings as s\n"
        "settings = s.load_settings({'EVALUATIONS_BUCKET': 'b', 'MAX_ITEMS': '5',\n"
        "    'TOPIC_ARN': 'arn:aws:sns:us-east-1:123456789012:t', 'MODEL_IDS': 'a,b'})\n"
        "print(h.handler.__name__, settings.max_items, ','.join(settings.model_ids))"
    )
    result = run_in_asset(
        tmp_path,
        "watch",
        code,
        shared_files=WATCH_SHARED_FILES,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["handler", "5", "a,b"]
