"""The drift watch in the RAG API stack: the schedule, the watch state machine, the watch function's
permissions and the alarms; none of it without a ``driftWatchSchedule``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.rag.evaluation_runner import evaluation_state_machine_name
from tests.stacks.conftest import COMBINATIONS
from tests.stacks.rag.templates import rag
from tests.support.synth import Synthesized, as_list, only, references, resources

WATCH_HANDLER = "watch.handler.handler"


def watch_function(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    found = [
        (k, f)
        for k, f in resources(template, "AWS::Lambda::Function").items()
        if f["Properties"].get("Handler") == WATCH_HANDLER
    ]
    assert len(found) == 1
    return found[0]


def statements_of_role(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    return [
        s
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def watch_state_machine(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    found = [
        (k, m)
        for k, m in resources(template, "AWS::StepFunctions::StateMachine").items()
        if "drift watch" in json.dumps(m["Properties"]["DefinitionString"])
    ]
    assert len(found) == 1
    return found[0]


def definition(machine: dict[str, Any]) -> dict[str, Any]:
    """The definition with each intrinsic replaced by a marker, parsed."""
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "X" for p in parts))


@pytest.fixture(scope="module")
def template(sandbox: Synthesized) -> dict[str, Any]:
    return rag(sandbox)


def test_schedule_starts_only_the_watch_state_machine_with_no_flexible_window(template) -> None:
    """AWS::Scheduler::Schedule (CloudFormation): FlexibleTimeWindow Mode "OFF" runs at the expression's
    time; Target.RoleArn is the role Scheduler assumes to call StartExecution on Target.Arn."""
    _, schedule = only(template, "AWS::Scheduler::Schedule")
    props = schedule["Properties"]
    machine_id, _ = watch_state_machine(template)
    assert props["ScheduleExpression"] == "rate(30 days)"
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert props["Target"]["Arn"] == {"Ref": machine_id}
    role_id = props["Target"]["RoleArn"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    assert [s["Principal"] for s in role["AssumeRolePolicyDocument"]["Statement"]] == [
        {"Service": "scheduler.amazonaws.com"}
    ]
    assert statements_of_role(template, role_id) == [
        {"Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": machine_id}}
    ]


def test_state_machine_resolves_arms_runs_the_evaluation_synchronously_then_reports(template) -> None:
    """Step Functions, "Start a new AWS Step Functions state machine from a running execution": the
    Run a Job pattern is ``arn:aws:states:::states:startExecution.sync:2``, whose Output is JSON."""
    _, machine = watch_state_machine(template)
    states = definition(machine)["States"]
    assert definition(machine)["StartAt"] == "ResolveArms"
    assert states["ResolveArms"]["Parameters"] == {"action": "arms"}
    assert states["ResolveArms"]["Next"] == "Evaluate"
    evaluate = states["Evaluate"]
    assert evaluate["Resource"].endswith(":states:::states:startExecution.sync:2")
    assert evaluate["Parameters"]["StateMachineArn"].endswith(":stateMachine:Ladder-evaluation")
    assert evaluate["Type"] == "Task"
    assert evaluate["Parameters"]["Input.$"] == "$"
    assert evaluate["ResultSelector"] == {"evaluation.$": "$.Output"}
    assert states["Report"]["Parameters"] == {"action": "report", "evaluation.$": "$.evaluation"}


def test_state_machine_may_start_only_the_evaluation_state_machine_as_documented(template) -> None:
    """Step Functions, "IAM policies for AWS Step Functions", Synchronous: StartExecution on
    ``stateMachine:<name>``, DescribeExecution/StopExecution on ``execution:<name>:*``,
    events:PutTargets/PutRule/DescribeRule on ``rule/StepFunctionsGetEventsForStepFunctionsExecutionRule``."""
    _, machine = watch_state_machine(template)
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    statements = {s.get("Sid"): s for s in statements_of_role(template, role_id)}

    def arn(sid: str) -> str:
        parts = statements[sid]["Resource"]["Fn::Join"][1]
        return "".join(p if isinstance(p, str) else "X" for p in parts)

    assert statements["StartEvaluation"]["Action"] == "states:StartExecution"
    assert arn("StartEvaluation") == "arn:X:states:X:X:stateMachine:Ladder-evaluation"
    assert statements["FollowEvaluation"]["Action"] == ["states:DescribeExecution", "states:StopExecution"]
    assert arn("FollowEvaluation") == "arn:X:states:X:X:execution:Ladder-evaluation:*"
    assert sorted(statements["ManagedRuleForSync"]["Action"]) == [
        "events:DescribeRule",
        "events:PutRule",
        "events:PutTargets",
    ]
    assert (
        arn("ManagedRuleForSync")
        == "arn:X:events:X:X:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
    )
    starts = [s for s in statements.values() if "states:StartExecution" in as_list(s["Action"])]
    assert len(starts) == 1


def test_watch_function_reads_only_the_staged_files_and_publishes_only_its_namespace(template) -> None:
    """CloudWatch, "Using condition keys to limit access to CloudWatch namespaces": PutMetricData with
    Resource "*" and ``StringEquals cloudwatch:namespace``. S3 HeadObject: "If you don't have the
    s3:ListBucket permission, Amazon S3 returns an HTTP status code 403" for a missing key."""
    _, function = watch_function(template)
    role_id = next(iter(references(function["Properties"]["Role"])))
    statements = {s.get("Sid", json.dumps(s["Action"])): s for s in statements_of_role(template, role_id)}
    metrics = statements["PublishEvaluationMetrics"]
    assert metrics["Action"] == "cloudwatch:PutMetricData"
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Ladder/Evaluation"}}
    read = json.dumps(statements["ReadStagedSetAndVerdict"]["Resource"])
    assert "/staged/watch/set.jsonl" in read and "/staged/watch/verdict.json" in read and "*" not in read
    listing = statements["TellMissingStagedFiles"]
    assert listing["Condition"] == {
        "StringEquals": {"s3:prefix": ["staged/watch/set.jsonl", "staged/watch/verdict.json"]}
    }
    assert statements["ReadExamplesManifest"]["Resource"]["Fn::Join"][1][-1] == "/examples/manifest.json"
    topic_id = next(iter(references(statements["PublishFindings"]["Resource"])))
    assert template["Resources"][topic_id]["Type"] == "AWS::SNS::Topic"
    # Without the fine-tune stack there is no parameter to read.
    assert "ReadPublishedModel" not in statements
    actions = {a for s in statements.values() for a in as_list(s["Action"])}
    assert not {a for a in actions if a.startswith(("s3:Put", "s3:Delete", "bedrock:", "lambda:"))}
    environment = function["Properties"]["Environment"]["Variables"]
    assert environment["MAX_ITEMS"] == "200"
    assert environment["MODEL_IDS"] == ""
    assert environment["MODEL_PARAMETER"] == ""


def test_drift_findings_alarm_notifies_the_existing_alarm_topic(template) -> None:
    alarms = [
        a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "DriftFindings"
    ]
    assert len(alarms) == 1
    alarm = alarms[0]
    assert alarm["Namespace"] == "Ladder/Evaluation"
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    topics = resources(template, "AWS::SNS::Topic")
    assert len(topics) == 1
    assert alarm["AlarmActions"] == [{"Ref": next(iter(topics))}]


def test_fine_tune_and_model_ids_reach_the_function(synth) -> None:
    template = rag(
        synth(
            {
                **COMBINATIONS["sandbox-finetune"],
                "driftWatchModelIds": "us.amazon.nova-pro-v1:0",
                "allowedGenerationModelIds": "us.amazon.nova-pro-v1:0",
            }
        )
    )
    _, function = watch_function(template)
    environment = function["Properties"]["Environment"]["Variables"]
    assert environment["MODEL_PARAMETER"] == "/ladder/fine-tune/model-arn"
    assert environment["MODEL_IDS"] == "us.amazon.nova-pro-v1:0"
    role_id = next(iter(references(function["Properties"]["Role"])))
    read = [s for s in statements_of_role(template, role_id) if s.get("Sid") == "ReadPublishedModel"]
    assert read[0]["Action"] == "ssm:GetParameter"
    assert "parameter/ladder/fine-tune/model-arn" in json.dumps(read[0]["Resource"])


def test_without_a_schedule_no_watch_resource_exists(synth) -> None:
    synthesized = synth(COMBINATIONS["sandbox-no-drift-watch"])
    template = rag(synthesized)
    assert resources(template, "AWS::Scheduler::Schedule") == {}
    handlers = {f["Properties"].get("Handler") for f in resources(template, "AWS::Lambda::Function").values()}
    assert WATCH_HANDLER not in handlers
    assert "DriftFindings" not in json.dumps(template)
    # The one state machine left is the evaluation's, which the pipeline and a person may still start
    machines = resources(template, "AWS::StepFunctions::StateMachine").values()
    assert [m["Properties"]["StateMachineName"] for m in machines] == [
        evaluation_state_machine_name(synthesized.config)
    ]


def test_without_examples_the_watch_reads_no_manifest(synth) -> None:
    template = rag(synth(COMBINATIONS["sandbox-no-fewshot"]))
    _, function = watch_function(template)
    assert function["Properties"]["Environment"]["Variables"]["EXAMPLES_MANIFEST_BUCKET"] == ""
    assert "examples/manifest.json" not in json.dumps(resources(template, "AWS::IAM::Policy"))
