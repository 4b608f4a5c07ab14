"""`ladder finetune start|status`: validate locally, upload, start the pipeline, report on it."""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ladder import cli, finetune
from ladder.outputs import FineTuneOutputs

from .conftest import ACCOUNT, REGION, write_jsonl

TRAINING_BUCKET = "ladder-training-data"
PARAMETER = "/ladder/finetuned-model-arn"
MODEL_ARN = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:imported-model/abcd1234efgh"
UNGATED = ("--no-promotion-gate", "--reason", "smoke test of the pipeline")
"""How these tests start a run: the promotion gate is tested in test_finetune_promotion.py."""
OFF = finetune.PromotionGate(reason="smoke test of the pipeline")
UNGATED_INPUT = {"promotionGate": False, "promotionGateReason": "smoke test of the pipeline"}
PASS_DEFINITION = json.dumps(
    {"StartAt": "ValidateDataset", "States": {"ValidateDataset": {"Type": "Pass", "End": True}}}
)


@dataclass
class Pipeline:
    s3: Any
    sfn: Any
    ssm: Any
    state_machine_arn: str

    @property
    def outputs(self) -> dict[str, str]:
        return {
            "TrainingDataBucketName": TRAINING_BUCKET,
            "StateMachineArn": self.state_machine_arn,
            "FineTunedModelParameterName": PARAMETER,
        }

    def executions(self) -> list[dict[str, Any]]:
        return self.sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"]

    def keys(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=TRAINING_BUCKET).get("Contents", [])]


@pytest.fixture
def started_from_venv(tmp_path, monkeypatch) -> None:
    """ladder started as the README's setup leaves it: .venv/bin/ladder, with no `ladder` on the PATH."""
    monkeypatch.setattr("sys.argv", [".venv/bin/ladder"])
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))


@pytest.fixture
def pipeline(aws) -> Pipeline:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=TRAINING_BUCKET)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(
        name="LadderFineTunePipeline",
        definition=PASS_DEFINITION,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/pipeline",
    )
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=PARAMETER, Value="none", Type="String")
    return Pipeline(s3=s3, sfn=sfn, ssm=ssm, state_machine_arn=machine["stateMachineArn"])


def test_start_refuses_unusable_data_and_uploads_nothing(stacks, run_cli, pipeline, tmp_path):
    # Given a dataset with 3 clean conversations, below the minimum of 5
    data = write_jsonl(tmp_path / "chats.jsonl", clean=3, extra_lines=("{broken",))

    # When a fine-tune run is started
    result = run_cli("finetune", "start", "--data", str(data), "--min-examples", "5", "--no-wait", *UNGATED)

    # Then it is refused with how many examples are missing; nothing is uploaded or started
    assert result.code == 1
    assert "2 missing" in result.err
    assert "Nothing was uploaded" in result.err
    assert "line 4: invalid_json" in result.out
    assert pipeline.keys() == []
    assert pipeline.executions() == []


def test_start_uploads_the_data_and_starts_the_pipeline_with_its_location(
    stacks, run_cli, pipeline, tmp_path
):
    # Given a deployed FineTune stack and a usable dataset
    stacks.deployed("LadderFineTune", pipeline.outputs)
    data = write_jsonl(tmp_path / "chats.jsonl", clean=5)

    # When a run is started without waiting
    result = run_cli("finetune", "start", "--data", str(data), "--min-examples", "5", "--no-wait", *UNGATED)

    # Then the file is under uploads/<UTC timestamp>-<name>, byte for byte
    assert result.code == 0, result.err
    [key] = pipeline.keys()
    match = re.fullmatch(r"uploads/(\d{8}T\d{6}Z)-chats\.jsonl", key)
    assert match, key
    uploaded = pipeline.s3.get_object(Bucket=TRAINING_BUCKET, Key=key)["Body"].read()
    assert uploaded == data.read_bytes()
    # And one execution named after the same timestamp got {"bucket", "key"} as input
    [execution] = pipeline.executions()
    assert execution["name"] == f"ladder-{match.group(1)}"
    described = pipeline.sfn.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == {"bucket": TRAINING_BUCKET, "key": key, **UNGATED_INPUT}
    # And the user sees the execution ARN and its console link
    assert execution["executionArn"] in result.out
    assert (
        f"https://{REGION}.console.aws.amazon.com/states/home?region={REGION}"
        f"#/v2/executions/details/{execution['executionArn']}"
    ) in result.out


def test_start_without_the_fine_tune_stack_says_how_to_deploy_it(stacks, run_cli, tmp_path):
    # Given usable data but no FineTune stack
    stacks.missing("LadderFineTune")
    data = write_jsonl(tmp_path / "chats.jsonl", clean=2)

    # When a run is started
    result = run_cli("finetune", "start", "--data", str(data), "--min-examples", "2", "--no-wait", *UNGATED)

    # Then exit 2 naming the stack and the feature flag
    assert result.code == 2
    assert "stack LadderFineTune not found" in result.err
    assert "fineTune=true" in result.err


def test_start_follows_the_execution_until_it_ends_and_exits_1_when_it_did_not_succeed(
    stacks, run_cli, pipeline, tmp_path, monkeypatch
):
    # Given a deployed pipeline whose run is stopped while the CLI waits between polls
    stacks.deployed("LadderFineTune", pipeline.outputs)
    data = write_jsonl(tmp_path / "chats.jsonl", clean=2)

    def stop_running(seconds: float) -> None:
        for execution in pipeline.executions():
            if execution["status"] == "RUNNING":
                pipeline.sfn.stop_execution(executionArn=execution["executionArn"])

    monkeypatch.setattr(time, "sleep", stop_running)

    # When a run is started and followed (the default)
    result = run_cli("finetune", "start", "--data", str(data), "--min-examples", "2", *UNGATED)

    # Then the CLI reported the running state, then the final status, and exits 1
    assert result.code == 1
    assert re.search(r"^\d\d:\d\d:\d\d RUNNING +A State$", result.out, re.MULTILINE)
    assert "status:     ABORTED" in result.out


def test_status_shows_the_running_execution_rather_than_a_newer_finished_one(stacks, run_cli, pipeline):
    # Given a running execution and a newer, stopped one
    running = pipeline.sfn.start_execution(
        stateMachineArn=pipeline.state_machine_arn, name="ladder-older", input="{}"
    )["executionArn"]
    newer = pipeline.sfn.start_execution(
        stateMachineArn=pipeline.state_machine_arn, name="ladder-newer", input="{}"
    )["executionArn"]
    pipeline.sfn.stop_execution(executionArn=newer)
    stacks.deployed("LadderFineTune", pipeline.outputs)

    # When the status is asked for
    result = run_cli("finetune", "status")

    # Then the running one is shown, with its current state and that no model is published yet
    assert result.code == 0, result.err
    assert f"execution:  {running}" in result.out
    assert "status:     RUNNING" in result.out
    assert "\nstate:      A State\n" in result.out
    assert "published model: none yet" in result.out


def test_status_of_a_failed_execution_shows_the_last_state_and_the_error(
    stacks, run_cli, pipeline, monkeypatch
):
    # Given an execution that failed (moto reports it FAILED with a failure history)
    monkeypatch.setenv("SF_EXECUTION_HISTORY_TYPE", "FAILURE")
    failed = pipeline.sfn.start_execution(
        stateMachineArn=pipeline.state_machine_arn, name="ladder-failed", input="{}"
    )["executionArn"]
    pipeline.ssm.put_parameter(Name=PARAMETER, Value=MODEL_ARN, Type="String", Overwrite=True)
    stacks.deployed("LadderFineTune", pipeline.outputs)

    # When its status is asked for by ARN
    result = run_cli("finetune", "status", "--execution", failed)

    # Then it is FAILED, with the last state entered and an error line, and the published model ARN
    assert result.code == 0, result.err
    assert "status:     FAILED" in result.out
    assert "last state: A State" in result.out
    assert "error:" in result.out
    assert f"published model: {MODEL_ARN}" in result.out


def test_status_with_no_execution_yet_says_how_to_start_one(stacks, run_cli, pipeline, started_from_venv):
    # Given a deployed pipeline that never ran
    stacks.deployed("LadderFineTune", pipeline.outputs)

    # When the status is asked for
    result = run_cli("finetune", "status")

    # Then the user is told how to start a run
    assert result.code == 0, result.err
    assert "start one with `.venv/bin/ladder finetune start --data FILE`" in result.out


def test_status_before_the_first_publish_says_no_model_yet(stacks, run_cli, pipeline):
    # Given no model parameter: the pipeline creates it on its first publish, no stack owns it
    pipeline.ssm.delete_parameter(Name=PARAMETER)
    stacks.deployed("LadderFineTune", pipeline.outputs)

    # When the status is asked for
    result = run_cli("finetune", "status")

    # Then there is simply no published model yet
    assert result.code == 0, result.err
    assert "published model: none yet" in result.out


def test_start_without_staged_weights_on_a_stack_that_requires_them_uploads_nothing(
    stacks, run_cli, pipeline, tmp_path, started_from_venv
):
    # Given a stack whose base model is gated (the default Llama): it trains only from staged weights
    stacks.deployed("LadderFineTune", {**pipeline.outputs, "BaseModelStaging": "required"})
    data = write_jsonl(tmp_path / "chats.jsonl", clean=5)

    # When a run is started without --base-weights, by a user who started ladder as .venv/bin/ladder
    result = run_cli("finetune", "start", "--data", str(data), "--min-examples", "5", "--no-wait", *UNGATED)

    # Then it is refused as a usage error with the staging commands, before any upload or execution
    assert result.code == 2
    assert "--base-weights is required" in result.err
    assert "aws s3 sync base-model s3://<ArtifactsBucketName>/base-models/<folder>/" in result.err
    assert (
        "  .venv/bin/ladder finetune start --data FILE --base-weights s3://<ArtifactsBucketName>/base-models/"
        "<folder>/" in result.err
    )
    assert pipeline.keys() == []
    assert pipeline.executions() == []


@pytest.mark.parametrize("option", ["--base-weights", "--base-model"])
def test_start_with_staged_weights_on_a_stack_that_requires_them_starts(
    stacks, run_cli, pipeline, tmp_path, option
):
    """--base-model is the README's earlier name of --base-weights: scripts that use it keep working."""
    stacks.deployed("LadderFineTune", {**pipeline.outputs, "BaseModelStaging": "required"})
    data = write_jsonl(tmp_path / "chats.jsonl", clean=5)
    staged = "s3://artifacts/base-models/llama-3.2-1b-instruct/"

    result = run_cli(
        "finetune", "start", "--data", str(data), "--min-examples", "5", "--no-wait", option, staged, *UNGATED
    )

    assert result.code == 0, result.err
    [execution] = pipeline.executions()
    described = pipeline.sfn.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"])["baseModelS3Uri"] == staged


@pytest.mark.parametrize("option", ["--base-weights", "--base-model"])
def test_start_with_a_model_id_instead_of_staged_weights_is_refused_before_any_aws_call(
    run_cli, pipeline, tmp_path, option
):
    # Given no stack answers (the Stubber fails on any CloudFormation call)
    data = write_jsonl(tmp_path / "chats.jsonl", clean=5)

    # When a Hugging Face id is passed where the staged weights' location goes
    result = run_cli(
        "finetune",
        "start",
        "--data",
        str(data),
        "--min-examples",
        "5",
        option,
        "meta-llama/Llama-3.2-1B-Instruct",
    )

    # Then it is a usage error naming what is accepted and how to train another model
    assert result.code == 2
    assert (
        f"{option} meta-llama/Llama-3.2-1B-Instruct: expected the s3:// URI of the staged weights"
        in result.err
    )
    assert "change it in cdk.json and redeploy" in result.err
    assert pipeline.keys() == []


def test_two_different_staged_weights_locations_are_refused(run_cli, pipeline, tmp_path):
    data = write_jsonl(tmp_path / "chats.jsonl", clean=5)

    result = run_cli(
        "finetune",
        "start",
        "--data",
        str(data),
        "--base-weights",
        "s3://a/base-models/x/",
        "--base-model",
        "s3://b/y/",
    )

    assert result.code == 2
    assert "two staged-weights locations given" in result.err
    assert pipeline.keys() == []


def test_stopping_to_follow_prints_the_status_command_in_the_form_ladder_was_started_with(
    stacks, run_cli, pipeline, tmp_path, started_from_venv, monkeypatch
):
    # Given a run being followed, and Ctrl-C pressed while following
    stacks.deployed("LadderFineTune", pipeline.outputs)
    data = write_jsonl(tmp_path / "chats.jsonl", clean=5)

    def interrupted(*args: Any, **kwargs: Any) -> finetune.RunStatus:
        raise KeyboardInterrupt

    monkeypatch.setattr(finetune, "follow", interrupted)

    result = run_cli("finetune", "start", "--data", str(data), "--min-examples", "5", *UNGATED)

    # Then the run goes on and the command to check it works when pasted into the same shell
    assert result.code == 130
    [execution] = pipeline.executions()
    assert (
        f"Check later: .venv/bin/ladder finetune status --execution {execution['executionArn']}" in result.out
    )


def test_follow_reports_each_change_once_and_returns_the_final_status(pipeline):
    # Given a running execution that is stopped after the second poll
    arn = pipeline.sfn.start_execution(
        stateMachineArn=pipeline.state_machine_arn, name="ladder-follow", input="{}"
    )["executionArn"]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            pipeline.sfn.stop_execution(executionArn=arn)

    changes: list[str] = []

    # When it is followed
    final = finetune.follow(
        pipeline.sfn, arn, sleep=sleep, on_change=lambda run: changes.append(run.status), poll_s=7
    )

    # Then RUNNING was reported once (not once per poll), then ABORTED, polling every poll_s
    assert changes == ["RUNNING", "ABORTED"]
    assert sleeps == [7, 7]
    assert final.status == "ABORTED"
    assert final.finished


def test_start_run_names_the_upload_and_execution_after_the_utc_time(pipeline, tmp_path):
    # Given a dataset and a clock in another time zone
    data = write_jsonl(tmp_path / "my data.jsonl", clean=1)
    now = datetime(2025, 6, 1, 16, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    outputs = FineTuneOutputs(TRAINING_BUCKET, pipeline.state_machine_arn, PARAMETER)

    # When a run is started
    run = finetune.start_run(pipeline.s3, pipeline.sfn, outputs, data, now, gate=OFF)

    # Then the key and the execution name use the UTC timestamp
    assert run.key == "uploads/20250601T143005Z-my data.jsonl"
    assert run.execution_arn.endswith(":ladder-20250601T143005Z")


def test_durations_read_as_hours_minutes_seconds():
    assert finetune.format_duration(timedelta(seconds=59)) == "0m 59s"
    assert finetune.format_duration(timedelta(hours=2, minutes=3, seconds=4)) == "2h 03m 04s"


def test_start_run_passes_the_staged_base_model_to_the_pipeline(pipeline, tmp_path):
    # Given staged base-model weights (network isolation keeps the job off the hub)
    data = write_jsonl(tmp_path / "chats.jsonl", clean=1)
    outputs = FineTuneOutputs(TRAINING_BUCKET, pipeline.state_machine_arn, PARAMETER)
    staged = "s3://artifacts/base-models/llama-3.2-1b-instruct/"

    # When a run is started with them
    run = finetune.start_run(pipeline.s3, pipeline.sfn, outputs, data, datetime.now(UTC), staged, gate=OFF)

    # Then the execution input names them next to the uploaded data
    execution_input = json.loads(pipeline.sfn.describe_execution(executionArn=run.execution_arn)["input"])
    assert execution_input == {
        "bucket": TRAINING_BUCKET,
        "key": run.key,
        "baseModelS3Uri": staged,
        **UNGATED_INPUT,
    }


class TrainingJobs:
    """SageMaker through a Stubber: moto has no StopTrainingJob. Each expected call is queued in order."""

    def __init__(self) -> None:
        self.client = boto3.client("sagemaker", region_name=REGION)
        self.stub = Stubber(self.client)
        self.stub.activate()

    def described(self, name: str, status: str) -> None:
        self.stub.add_response(
            "describe_training_job",
            {
                "TrainingJobName": name,
                "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{name}",
                "ModelArtifacts": {"S3ModelArtifacts": f"s3://ladder-artifacts/models/{name}/output/model"},
                "TrainingJobStatus": status,
                "SecondaryStatus": "Training" if status == "InProgress" else status,
                "AlgorithmSpecification": {"TrainingInputMode": "File"},
                "ResourceConfig": {
                    "InstanceType": "ml.g5.2xlarge",
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 100,
                },
                "StoppingCondition": {"MaxRuntimeInSeconds": 14400},
                "CreationTime": datetime(2025, 3, 1, 9, 31, tzinfo=UTC),
            },
            {"TrainingJobName": name},
        )

    def missing(self, name: str) -> None:
        """What SageMaker answers for a job that does not exist (aws/aws-sdk#165: a ValidationException,
        "Requested resource not found.", not the ResourceNotFound its model lists)."""
        self.stub.add_client_error(
            "describe_training_job",
            service_error_code="ValidationException",
            service_message="Requested resource not found.",
            http_status_code=400,
            expected_params={"TrainingJobName": name},
        )

    def stopped(self, name: str) -> None:
        self.stub.add_response("stop_training_job", {}, {"TrainingJobName": name})


@pytest.fixture
def training_jobs() -> Iterator[TrainingJobs]:
    jobs = TrainingJobs()
    yield jobs
    jobs.stub.assert_no_pending_responses()


@pytest.fixture
def run_stop(stacks, pipeline, training_jobs, capsys) -> Any:
    """``ladder finetune stop ...`` against the deployed pipeline, with SageMaker stubbed."""

    def factory(session: boto3.session.Session, service: str) -> Any:
        return training_jobs.client if service == "sagemaker" else stacks.client_factory(session, service)

    def run(*argv: str) -> Any:
        stacks.deployed("LadderFineTune", pipeline.outputs)
        code = cli.main(["finetune", "stop", *argv], client_factory=factory)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _start(pipeline: Pipeline, name: str) -> str:
    return str(
        pipeline.sfn.start_execution(stateMachineArn=pipeline.state_machine_arn, name=name, input="{}")[
            "executionArn"
        ]
    )


def _status(pipeline: Pipeline, arn: str) -> str:
    return str(pipeline.sfn.describe_execution(executionArn=arn)["status"])


def test_stop_without_an_execution_stops_the_running_one_and_its_training_job(
    run_stop, pipeline, training_jobs
):
    # Given one running execution whose training job is in progress
    arn = _start(pipeline, "ladder-20250301T093000Z")
    training_jobs.described("ladder-20250301T093000Z", "InProgress")
    training_jobs.stopped("ladder-20250301T093000Z")

    # When the operator stops the run
    code, out, err = run_stop()

    # Then the execution is stopped, then its job, and both are named
    assert code == 0, err
    assert _status(pipeline, arn) == "ABORTED"
    assert f"Stopped execution {arn}." in out
    assert "Stopping training job ladder-20250301T093000Z (it was InProgress;" in out


def test_stop_of_an_execution_stopped_in_the_console_stops_its_training_job(
    run_stop, pipeline, training_jobs
):
    """Stopping an execution runs none of its Catch states: its job keeps running until its runtime cap."""
    # Given an execution stopped from the console, its job still in progress
    arn = _start(pipeline, "ladder-console")
    pipeline.sfn.stop_execution(executionArn=arn)
    training_jobs.described("ladder-console", "InProgress")
    training_jobs.stopped("ladder-console")

    # When that execution is named (by name)
    code, out, err = run_stop("ladder-console")

    # Then the job is stopped, and the execution is reported as already ended
    assert code == 0, err
    assert f"Execution {arn} had already ended (ABORTED)." in out
    assert "Stopping training job ladder-console" in out


@pytest.mark.parametrize(
    ("job_status", "expected"),
    [
        (None, "No training job ladder-early: the execution ended before it started one."),
        ("Completed", "Training job ladder-early is not running (Completed): nothing to stop."),
        ("Stopping", "Training job ladder-early is already stopping."),
    ],
)
def test_stop_leaves_a_job_that_does_not_run_alone(run_stop, pipeline, training_jobs, job_status, expected):
    # Given a running execution whose job never started, already completed or is already stopping
    arn = _start(pipeline, "ladder-early")
    if job_status is None:
        training_jobs.missing("ladder-early")
    else:
        training_jobs.described("ladder-early", job_status)

    # When it is stopped by ARN
    code, out, err = run_stop(arn)

    # Then only the execution is stopped (the Stubber refuses any StopTrainingJob)
    assert code == 0, err
    assert _status(pipeline, arn) == "ABORTED"
    assert expected in out


def test_stop_with_nothing_running_stops_nothing(run_stop, pipeline):
    finished = _start(pipeline, "ladder-finished")
    pipeline.sfn.stop_execution(executionArn=finished)

    code, out, err = run_stop()

    assert code == 0, err
    assert "No fine-tune execution is running: nothing stopped" in out


def test_stop_with_several_running_asks_which(run_stop, pipeline):
    first, second = _start(pipeline, "ladder-one"), _start(pipeline, "ladder-two")

    code, _out, err = run_stop()

    assert code == 1
    assert "2 fine-tune executions run; name the one to stop" in err
    assert first in err and second in err
    assert _status(pipeline, first) == _status(pipeline, second) == "RUNNING"


def test_stop_refuses_an_execution_of_another_state_machine(run_stop, pipeline):
    other = pipeline.state_machine_arn.replace(":stateMachine:", ":execution:").rsplit(":", 1)[0]
    foreign = f"{other}:SomeoneElsesPipeline:ladder-x"

    code, out, err = run_stop(foreign)

    assert code == 1
    assert "is not an execution of this deployment's pipeline" in err
    assert out == ""


def readme_commands(*prefixes: str) -> list[list[str]]:
    """Each `.venv/bin/ladder PREFIX ...` command of the README, continuation lines joined, comments cut."""
    text = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        words = (
            shlex.split(line.strip(), comments=True) if line.strip().startswith(".venv/bin/ladder ") else []
        )
        if words and any(words[1 : 1 + len(prefix.split())] == prefix.split() for prefix in prefixes):
            commands.append(words[1:])
    return commands


def test_every_finetune_and_data_command_in_the_readme_parses():
    """The README's commands are pasted as they are: each must be one the CLI accepts (placeholders aside)."""
    commands = readme_commands("finetune", "data")
    parser = cli.build_parser()

    for words in commands:
        parser.parse_args(words)  # exits 2, failing the test, on an unknown option or a bad value
    assert ["finetune", "plan"] in commands
    assert any("--base-weights" in words for words in commands)
