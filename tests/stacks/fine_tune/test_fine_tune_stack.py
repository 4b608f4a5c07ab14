"""Fine-tune stack: absent without the flag; with it, the pipeline, its IAM, storage, budget and alarms."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest

from stacks.config import ConfigError, from_context
from stacks.fine_tune.run_cost import RUN_METADATA_KEY, TrainingRun
from stacks.fine_tune.training import (
    HF_TRANSFORMERS_VERSION,
    STOCK_IMAGE_PACKAGES,
    TORCH_DISTRIBUTED_HYPERPARAMETER,
    hyperparameters,
    pinned_requirements,
    stock_image_warning,
    training_image_uri,
)
from stacks.fine_tune.training_code import (
    REQUIREMENTS,
    SOURCE_FILES,
    TRAINING_JOBS_DIR,
    write_source_archive,
)
from tests.stacks.conftest import COMBINATIONS, FINE_TUNE_ON
from tests.stacks.fine_tune.asl import (
    definition,
    fail_after,
    is_notification,
    is_stop,
    targets,
    training_states,
)
from tests.stacks.fine_tune.conftest import TRAINING_IMAGE
from tests.support.synth import Synthesized, as_list, only, policy_statements, resources
from training_jobs import job_contract as contract
from training_jobs.train import TrainArguments, parse_args

FINE_TUNE_TYPES = ("AWS::SageMaker::", "AWS::Budgets::")


def staged_asset(synthesized: Synthesized, object_key: str) -> Path:
    """Where the fine-tune stack's asset uploaded as ``object_key`` was staged in the cloud assembly."""
    (manifest,) = synthesized.outdir.glob("*FineTune.assets.json")
    for asset in json.loads(manifest.read_text())["files"].values():
        if any(d["objectKey"] == object_key for d in asset["destinations"].values()):
            return synthesized.outdir / asset["source"]["path"]
    raise AssertionError(f"no asset uploaded as {object_key}")


def role_assumed_by(template: dict[str, Any], service: str) -> str:
    found = [
        logical_id
        for logical_id, role in resources(template, "AWS::IAM::Role").items()
        if any(
            s["Principal"].get("Service") == service
            for s in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        )
    ]
    assert len(found) == 1, f"expected one role for {service}, found {found}"
    return found[0]


def statements_of_role(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    owners = {
        logical_id
        for logical_id, policy in resources(template, "AWS::IAM::Policy").items()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
    }
    return [statement for owner, statement in policy_statements(template) if owner in owners]


@pytest.mark.parametrize("combination", ["sandbox", "prod"])
def test_without_the_flag_not_one_fine_tune_resource_exists(synth, combination: str) -> None:
    # Given the default configuration (fineTune=false)
    synthesized = synth(COMBINATIONS[combination])
    # Then there is no fine-tune stack
    assert not [name for name in synthesized.templates if name.endswith("FineTune")]
    # And no template holds a SageMaker or Budgets resource
    for name, template in synthesized.templates.items():
        kinds = {r["Type"] for r in template["Resources"].values()}
        assert not [k for k in kinds if k.startswith(FINE_TUNE_TYPES)], name
        # And the only state machines are the RAG API stack's evaluation and drift watch, which train nothing
        machines = {
            logical_id: json.dumps(r["Properties"])
            for logical_id, r in template["Resources"].items()
            if r["Type"] == "AWS::StepFunctions::StateMachine"
        }
        unexpected = [m for m in machines if not m.startswith(("EvaluationRunner", "DriftWatch"))]
        assert not unexpected, name
        assert not [logical_id for logical_id, text in machines.items() if "sagemaker:" in text], name


def test_training_job_uses_managed_spot_with_checkpoints_and_config_time_limits(custom) -> None:
    # Given fineTuneMaxRuntimeHours=2 and fineTuneMaxWaitHours=3 with spot on (the default)
    states = training_states(definition(custom.template("FineTune")))
    assert states
    for state in states.values():
        job = state["Parameters"]
        # Then each training job is a managed spot job that checkpoints to S3 and resumes from there
        assert job["EnableManagedSpotTraining"] is True
        assert job["CheckpointConfig"]["LocalPath"] == contract.CHECKPOINT_LOCAL_PATH
        assert "/checkpoints/" in job["CheckpointConfig"]["S3Uri.$"]
        assert "$$.Execution.Name" in job["CheckpointConfig"]["S3Uri.$"]
        # And its runtime and spot-wait caps come from the configuration, in seconds
        assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 2 * 3600, "MaxWaitTimeInSeconds": 3 * 3600}


def test_spot_off_removes_spot_wait_and_checkpoints(no_spot) -> None:
    # Given -c fineTuneSpot=false
    for state in training_states(definition(no_spot.template("FineTune"))).values():
        job = state["Parameters"]
        # Then the job runs on demand with only a runtime cap
        assert "EnableManagedSpotTraining" not in job
        assert "CheckpointConfig" not in job
        assert job["StoppingCondition"] == {
            "MaxRuntimeInSeconds": no_spot.config.fine_tune_max_runtime_hours * 3600
        }


def test_training_job_runs_the_configured_instance_and_hugging_face_image(custom) -> None:
    for state in training_states(definition(custom.template("FineTune"))).values():
        job = state["Parameters"]
        assert job["ResourceConfig"]["InstanceType"] == "ml.g6.xlarge"
        assert job["ResourceConfig"]["InstanceCount"] == 1
        image = job["AlgorithmSpecification"]["TrainingImage"]
        assert image == training_image_uri(custom.config.region, "ml.g6.xlarge")
        assert "huggingface-pytorch-training" in image
        assert f".ecr.{custom.config.region}." in image


def test_one_gpu_job_runs_one_plain_process(default) -> None:
    for state in training_states(definition(default.template("FineTune"))).values():
        job = state["Parameters"]
        assert job["ResourceConfig"]["InstanceCount"] == 1
        assert job["HyperParameters"]["strategy"] == "lora"
        # Then the toolkit starts train.py as one process, without torchrun
        assert TORCH_DISTRIBUTED_HYPERPARAMETER not in job["HyperParameters"]


def test_multi_instance_job_runs_one_process_per_gpu_through_torchrun(distributed) -> None:
    for state in training_states(definition(distributed.template("FineTune"))).values():
        job = state["Parameters"]
        # Then SageMaker starts 2 instances of the 4-GPU type
        assert job["ResourceConfig"] == {
            **job["ResourceConfig"],
            "InstanceCount": 2,
            "InstanceType": "ml.g5.12xlarge",
        }
        hyperparameters = job["HyperParameters"]
        assert hyperparameters["strategy"] == "fsdp-lora"
        # And the PyTorch toolkit reads a JSON true, which selects its torchrun launcher (one process per GPU
        # on every instance)
        assert json.loads(hyperparameters[TORCH_DISTRIBUTED_HYPERPARAMETER]) is True
        # And spot checkpoints stay on: every instance syncs the same prefix and restores it on restart
        assert job["CheckpointConfig"]["LocalPath"] == contract.CHECKPOINT_LOCAL_PATH


def test_template_records_the_run_and_its_cost_cap_within_budget_without_warning(default) -> None:
    run = default.template("FineTune")["Metadata"][RUN_METADATA_KEY]
    # Then the default run: one ml.g5.2xlarge, one process, at most 4 h x $1.515 on demand
    assert (run["instanceType"], run["instanceCount"], run["trainingProcesses"]) == ("ml.g5.2xlarge", 1, 1)
    assert float(run["maxRunCostUsd"]) == pytest.approx(1.515 * 4)
    assert run["strategy"] == "lora" and run["managedSpot"] is True
    assert not [w for ws in default.warnings.values() for w in ws if "fine-tune run may cost" in w]


def test_a_run_that_may_cost_more_than_the_monthly_budget_is_warned_about_at_synth(distributed) -> None:
    run = distributed.template("FineTune")["Metadata"][RUN_METADATA_KEY]
    assert run["trainingProcesses"] == 8
    assert float(run["maxRunCostUsd"]) == pytest.approx(7.09 * 2 * 4)
    (stack_name,) = [name for name in distributed.warnings if name.endswith("FineTune")]
    (warning,) = [w for w in distributed.warnings[stack_name] if "fine-tune run may cost" in w]
    assert "$56.72" in warning and "2 x ml.g5.12xlarge x 4 h" in warning
    assert "fineTuneMonthlyBudgetUsd=50" in warning


def test_an_instance_without_a_catalogued_price_has_no_cost_cap_and_says_so() -> None:
    config = from_context(_context(fineTuneInstanceType="ml.p5.48xlarge", fineTuneInstanceCount="4"))
    run = TrainingRun.of(config)
    assert run.max_cost_usd is None
    assert run.budget_warning(1) is None
    assert run.to_metadata()["trainingProcesses"] == 32
    assert run.to_metadata()["maxRunCostUsd"] == ""
    # Then the missing price is a warning of its own, never a cost of 0
    warning = run.price_warning()
    assert warning is not None and "no catalogued SageMaker training price for ml.p5.48xlarge" in warning
    assert "4 x ml.p5.48xlarge x 4 h" in warning and "--usd-per-hour" in warning


def test_synth_warns_when_the_instance_has_no_catalogued_price(unpriced, default) -> None:
    # When the fine-tune stack is synthesized for an unpriced and for a priced instance
    (stack_name,) = [name for name in unpriced.warnings if name.endswith("FineTune")]
    # Then only the unpriced one carries the warning, naming the instance and the way to price it
    (warning,) = [w for w in unpriced.warnings[stack_name] if "no catalogued SageMaker training price" in w]
    assert "ml.p5.48xlarge" in warning and "ladder finetune plan --usd-per-hour" in warning
    assert not [w for ws in default.warnings.values() for w in ws if "no catalogued" in w]
    assert unpriced.template("FineTune")["Metadata"][RUN_METADATA_KEY]["maxRunCostUsd"] == ""


@pytest.mark.parametrize(
    ("instance_type", "count", "strategy", "processes"),
    [
        ("ml.g5.2xlarge", 1, "lora", 1),
        ("ml.g5.2xlarge", 1, "qlora", 1),
        ("ml.g5.2xlarge", 3, "qlora", 3),
        ("ml.g5.12xlarge", 1, "lora", 4),
        ("ml.g6e.12xlarge", 1, "fsdp-lora", 4),
        ("ml.p4d.24xlarge", 2, "fsdp-lora", 16),
    ],
)
def test_torchrun_is_used_exactly_when_the_job_has_more_than_one_gpu(
    instance_type: str, count: int, strategy: str, processes: int
) -> None:
    config = from_context(
        _context(
            fineTuneInstanceType=instance_type, fineTuneInstanceCount=str(count), fineTuneStrategy=strategy
        )
    )
    params = hyperparameters(config, submit_directory="/opt/ml/input/data/code/source.tar.gz")
    assert config.fine_tune_total_gpus == processes
    assert (TORCH_DISTRIBUTED_HYPERPARAMETER in params) == (processes > 1)
    assert params["strategy"] == strategy


def test_training_job_writes_uncompressed_output_and_reports_the_contract_metrics(default) -> None:
    for state in training_states(definition(default.template("FineTune"))).values():
        job = state["Parameters"]
        # Bedrock Custom Model Import reads the Hugging Face folder, not a model.tar.gz
        assert job["OutputDataConfig"]["CompressionType"] == "NONE"
        assert job["OutputDataConfig"]["S3OutputPath"].endswith("/models/")
        assert job["OutputDataConfig"]["KmsKeyId"].startswith("${DataKey")
        assert job["AlgorithmSpecification"]["MetricDefinitions"] == contract.METRIC_DEFINITIONS
        assert job["TrainingJobName.$"] == "$$.Execution.Name"


def test_hyperparameters_are_ones_train_py_accepts_with_the_configured_values(custom) -> None:
    accepted = {f.name for f in dataclasses.fields(TrainArguments)}
    for state in training_states(definition(custom.template("FineTune"))).values():
        params = state["Parameters"]["HyperParameters"]
        # Every value is a string, as SageMaker requires
        assert all(isinstance(v, str) for v in params.values())
        # train.py would stop on an unknown name; sagemaker_* are the toolkit's own
        assert {k for k in params if not k.startswith("sagemaker_")} <= accepted
        assert params["lora_r"] == "8"
        assert params["model_id"] == custom.config.fine_tune_base_model_id
        assert params["epochs"] == str(custom.config.fine_tune_epochs)
        assert params["learning_rate"] == str(custom.config.fine_tune_learning_rate)
        assert params["max_seq_length"] == str(custom.config.fine_tune_max_seq_length)
        assert params["sagemaker_program"] == "train.py"


def toolkit_argv(hyperparameters: dict[str, str]) -> list[str]:
    """The command-line arguments the SageMaker training toolkit gives the entry point: each value
    JSON-decoded when it can be (hyperparameters.json holds strings), the toolkit's own ``sagemaker_*``
    removed, the rest as ``--name str(value)`` in name order (sagemaker_training.environment, mapping)."""
    decoded: dict[str, Any] = {}
    for name, value in hyperparameters.items():
        try:
            decoded[name] = json.loads(value)
        except ValueError:
            decoded[name] = value
    user = {name: value for name, value in decoded.items() if not name.startswith("sagemaker_")}
    return [part for name in sorted(user) for part in (f"--{name}", str(user[name]))]


@pytest.mark.parametrize("combination", ["default", "custom", "distributed"])
def test_train_py_parses_what_the_toolkit_passes_into_the_configured_values(
    request, combination: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    synthesized = request.getfixturevalue(combination)
    config = synthesized.config
    for name in ("SM_CHANNEL_MODEL", "SM_CHANNEL_TRAIN", "SM_CHANNEL_EVAL", "SM_MODEL_DIR", "CHECKPOINT_DIR"):
        monkeypatch.delenv(name, raising=False)
    for state in training_states(definition(synthesized.template("FineTune"))).values():
        hyperparameters = state["Parameters"]["HyperParameters"]
        # Given the job's HyperParameters as the toolkit turns them into arguments
        args = parse_args(toolkit_argv(hyperparameters))
        # Then train.py accepts every one and reads the configured values
        assert args.model_id == config.fine_tune_base_model_id
        assert args.epochs == config.fine_tune_epochs
        assert args.learning_rate == pytest.approx(config.fine_tune_learning_rate)
        assert (args.lora_r, args.lora_alpha) == (config.fine_tune_lora_r, config.fine_tune_lora_alpha)
        assert args.lora_dropout == pytest.approx(config.fine_tune_lora_dropout)
        assert args.max_seq_length == config.fine_tune_max_seq_length
        assert args.strategy == config.fine_tune_strategy
        # And the toolkit finds the entry point in the archive it unpacks
        assert hyperparameters["sagemaker_program"] in SOURCE_FILES


def test_training_code_arrives_as_a_channel_the_toolkit_unpacks(default) -> None:
    for state in training_states(definition(default.template("FineTune"))).values():
        job = state["Parameters"]
        channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"] for c in job["InputDataConfig"]}
        # Given the code channel pointing at the archived training_jobs/ asset
        code_uri = channels["code"]["S3Uri"]
        archive_name = code_uri.rsplit("/", 1)[-1]
        # Then the toolkit is told to unpack that file from the channel folder (works with network isolation)
        submit = job["HyperParameters"]["sagemaker_submit_directory"]
        assert submit == f"/opt/ml/input/data/code/{archive_name}"
        # And the archive holds exactly the files the job needs
        with tarfile.open(staged_asset(default, archive_name), mode="r:gz") as archive:
            assert sorted(archive.getnames()) == sorted(SOURCE_FILES)
        # And the data channels come from the validation output
        assert channels[contract.CHANNEL_TRAIN]["S3Uri.$"] == "$.dataset.trainS3Uri"
        assert channels[contract.CHANNEL_EVAL]["S3Uri.$"] == "$.dataset.evalS3Uri"


def test_source_archive_is_reproducible(tmp_path: Path) -> None:
    # Given the same sources packed twice
    first, second = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    source = Path(__file__).resolve().parents[3] / "training_jobs"
    write_source_archive(source, first)
    write_source_archive(source, second)
    # Then the bytes (and so the asset hash and the template) are identical
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(fileobj=io.BytesIO(first.read_bytes()), mode="r:gz") as archive:
        assert archive.extractfile("train.py").read() == (source / "train.py").read_bytes()  # type: ignore[union-attr]


@pytest.mark.parametrize(("combination", "reason"), [("isolated", "network isolation"), ("default", "gated")])
def test_an_isolated_job_or_a_gated_base_model_requires_staged_weights(
    request, combination: str, reason: str
) -> None:
    # Given network isolation on, or the default gated Llama (the job gets no Hub token)
    synthesized = request.getfixturevalue(combination)
    asl = definition(synthesized.template("FineTune"))
    states = training_states(asl)
    # Then the only training job reads the staged base model channel
    assert len(states) == 1
    job = next(iter(states.values()))["Parameters"]
    assert job["EnableNetworkIsolation"] is synthesized.config.fine_tune_network_isolation
    assert "model" in {c["ChannelName"] for c in job["InputDataConfig"]}
    # And the stack tells `ladder finetune start` that --base-weights is required
    assert synthesized.template("FineTune")["Outputs"]["BaseModelStaging"]["Value"] == "required"
    # And an execution without baseModelS3Uri is told so and fails (after validation and the quota check)
    choice = asl["States"][_make_room(asl["States"])["Next"]]
    assert choice["Type"] == "Choice"
    assert [rule["Variable"] for rule in choice["Choices"]] == ["$.baseModelS3Uri"]
    notify = asl["States"][choice["Default"]]
    assert is_notification(notify)
    assert asl["States"][notify["Next"]] == {
        "Type": "Fail",
        "Error": "BaseModelRequired",
        "Cause": asl["States"][notify["Next"]]["Cause"],
    }
    assert reason in asl["States"][notify["Next"]]["Cause"]


def test_an_ungated_base_model_may_come_from_the_hub(custom) -> None:
    assert custom.template("FineTune")["Outputs"]["BaseModelStaging"]["Value"] == "optional"


def test_a_configured_training_image_is_used_and_gets_no_requirements_to_install(isolated) -> None:
    # Given -c fineTuneTrainingImageUri (an image built from training_jobs/Dockerfile)
    for state in training_states(definition(isolated.template("FineTune"))).values():
        job = state["Parameters"]
        # Then the job runs it
        assert job["AlgorithmSpecification"]["TrainingImage"] == TRAINING_IMAGE
        # And the code archive has no requirements.txt, so the toolkit installs nothing (no PyPI needed)
        code_uri = next(
            c["DataSource"]["S3DataSource"]["S3Uri"]
            for c in job["InputDataConfig"]
            if c["ChannelName"] == "code"
        )
        with tarfile.open(staged_asset(isolated, code_uri.rsplit("/", 1)[-1]), mode="r:gz") as archive:
            assert sorted(archive.getnames()) == sorted(n for n in SOURCE_FILES if n != REQUIREMENTS)
    # And the execution role may pull exactly that repository
    template = isolated.template("FineTune")
    pulls = [
        s
        for s in statements_of_role(template, role_assumed_by(template, "sagemaker.amazonaws.com"))
        if "ecr:BatchGetImage" in as_list(s["Action"])
    ]
    (pull,) = pulls
    assert json.dumps(pull["Resource"]).endswith(':ecr:us-east-1:123456789012:repository/ladder-training"]]}')


def _context(**overrides: str) -> dict[str, Any]:
    context = json.loads((Path(__file__).resolve().parents[3] / "cdk.json").read_text())["context"]
    return {**context, **FINE_TUNE_ON, **overrides}


def test_network_isolation_without_a_prebuilt_image_is_refused_at_synth() -> None:
    with pytest.raises(ConfigError) as refused:
        from_context(_context(fineTuneNetworkIsolation="true"))
    message = str(refused.value)
    assert "fineTuneNetworkIsolation=true needs -c fineTuneTrainingImageUri" in message
    assert "training_jobs/Dockerfile" in message
    # And with the image it is accepted
    config = from_context(_context(fineTuneNetworkIsolation="true", fineTuneTrainingImageUri=TRAINING_IMAGE))
    assert config.fine_tune_training_image_uri == TRAINING_IMAGE


@pytest.mark.parametrize("value", ["my-image:latest", "docker.io/library/python:3.12", "123.dkr.ecr.x/y"])
def test_a_training_image_outside_ecr_is_refused(value: str) -> None:
    with pytest.raises(
        ConfigError, match=r"fineTuneTrainingImageUri=.* is invalid: expected an ECR image URI"
    ):
        from_context(_context(fineTuneTrainingImageUri=value))


@pytest.mark.parametrize("instance_type", ["ml.g5.2xlarge", "ml.g6e.4xlarge", "ml.g4dn.xlarge"])
def test_fsdp_lora_on_a_single_gpu_is_refused_with_what_to_change(instance_type: str) -> None:
    with pytest.raises(ConfigError) as refused:
        from_context(_context(fineTuneInstanceType=instance_type, fineTuneStrategy="fsdp-lora"))
    message = str(refused.value)
    assert "fineTuneStrategy=fsdp-lora needs more than one GPU in total" in message
    assert f"1 x {instance_type} has 1" in message
    assert "fineTuneInstanceCount" in message and "fineTuneStrategy=qlora" in message


def test_fsdp_lora_over_several_single_gpu_instances_is_accepted() -> None:
    config = from_context(_context(fineTuneInstanceCount="2", fineTuneStrategy="fsdp-lora"))
    assert (config.fine_tune_instance_count, config.fine_tune_strategy) == (2, "fsdp-lora")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "fineTuneInstanceCount",
            "0",
            "fineTuneInstanceCount=0 is invalid: expected an integer from 1 to 16",
        ),
        (
            "fineTuneInstanceCount",
            "17",
            "fineTuneInstanceCount=17 is invalid: expected an integer from 1 to 16",
        ),
        (
            "fineTuneStrategy",
            "dora",
            "fineTuneStrategy=dora is invalid: expected one of: lora, qlora, fsdp-lora",
        ),
        (
            "fineTuneInstanceType",
            "ml.g5.3xlarge",
            "fineTuneInstanceType=ml.g5.3xlarge is invalid: SageMaker has no such g5 training instance; "
            "use one of ml.g5.xlarge",
        ),
    ],
)
def test_bad_scale_out_settings_are_refused_naming_what_is_accepted(
    key: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        from_context(_context(**{key: value}))
    assert expected in str(refused.value)


@pytest.mark.parametrize("instance_type", ["ml.p3.2xlarge", "ml.p3.16xlarge", "ml.p3dn.24xlarge"])
def test_a_gpu_the_cuda_13_image_cannot_drive_is_refused_with_alternatives(instance_type: str) -> None:
    with pytest.raises(ConfigError) as refused:
        from_context(_context(fineTuneInstanceType=instance_type))
    message = str(refused.value)
    assert f"fineTuneInstanceType={instance_type} is invalid: its V100 GPU" in message
    assert "ml.g5.2xlarge" in message and "ml.g6.xlarge" in message


@pytest.mark.parametrize(
    "instance_type", ["ml.g4dn.xlarge", "ml.g5.2xlarge", "ml.g6e.xlarge", "ml.p4d.24xlarge"]
)
def test_turing_and_newer_gpus_are_accepted(instance_type: str) -> None:
    assert from_context(_context(fineTuneInstanceType=instance_type)).fine_tune_instance_type == instance_type


def test_without_network_isolation_the_hub_path_exists_and_vpc_is_used(custom) -> None:
    states = training_states(definition(custom.template("FineTune")))
    channel_sets = sorted(
        sorted(c["ChannelName"] for c in s["Parameters"]["InputDataConfig"]) for s in states.values()
    )
    # Then one job uses the staged model channel and one downloads model_id from the Hub
    assert channel_sets == [["code", "eval", "model", "train"], ["code", "eval", "train"]]
    for state in states.values():
        job = state["Parameters"]
        assert job["EnableNetworkIsolation"] is False
        assert job["VpcConfig"] == {
            "Subnets": ["subnet-0123456789abcdef0"],
            "SecurityGroupIds": ["sg-0123456789abcdef0"],
        }


@pytest.mark.parametrize("combination", ["default", "custom", "no_spot", "isolated"])
def test_every_failure_publishes_a_notification_then_fails(request, combination: str) -> None:
    asl = definition(request.getfixturevalue(combination).template("FineTune"))
    states = asl["States"]
    work = {n: s for n, s in states.items() if s["Type"] == "Task" and not is_notification(s)}
    assert work
    for name, state in work.items():
        # Every task catches everything
        catches = state.get("Catch", [])
        assert any(c["ErrorEquals"] == ["States.ALL"] for c in catches), name
        for catch in catches:
            # ... and a caught error leads to a notification (after stopping a job that may still run),
            # which leads to a Fail state; the stop's own error lands beside the one that led to it
            notify = states[catch["Next"]]
            if is_stop(notify):
                notify = states[notify["Next"]]
            assert is_notification(notify), (name, catch)
            assert catch["ResultPath"] == ("$.stopError" if is_stop(state) else "$.error")
            assert states[notify["Next"]]["Type"] == "Fail"
            assert [states[c["Next"]]["Type"] for c in notify["Catch"]] == ["Fail"]
    # And nothing reaches a Fail state without passing a notification first
    for name, state in states.items():
        for target in targets(state):
            if states[target]["Type"] == "Fail":
                assert is_notification(state), (name, target)


def while_the_job_may_run(asl: dict[str, Any], training: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The states an execution passes after CreateTrainingJob answered and before the job is known to have
    ended (DescribeTrainingJob said Completed, or neither InProgress nor Stopping), Catches aside."""
    states = asl["States"]
    seen: dict[str, dict[str, Any]] = {}
    pending = [training["Next"]]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen[name] = state = states[name]
        if state["Type"] == "Choice":
            # Only the rules that keep polling: Completed goes to the import, the default reports an ended job
            pending += [
                rule["Next"]
                for rule in state["Choices"]
                if "Completed" not in json.dumps(rule) and "InProgress" in json.dumps(rule)
            ]
        elif "Next" in state:
            pending.append(state["Next"])
    return seen


@pytest.mark.parametrize("combination", ["default", "custom", "no_spot", "isolated"])
def test_every_failure_while_the_training_job_may_run_stops_it_first(request, combination: str) -> None:
    """The job is started with the SDK integration, which returns once CreateTrainingJob answered: nothing in
    Step Functions stops it afterwards ("SFN does absolutely nothing to stop a running task",
    https://stackoverflow.com/questions/45596276), and it bills until MaxRuntimeInSeconds."""
    asl = definition(request.getfixturevalue(combination).template("FineTune"))
    states = asl["States"]
    (stop_name,) = [n for n, s in states.items() if is_stop(s)]
    stop = states[stop_name]
    for training in training_states(asl).values():
        # A job that could not be created needs no stop
        for catch in training["Catch"]:
            assert fail_after(states, catch["Next"]) == "TrainingFailed"
        # Given every state passed while the job may still run (the polling loop)
        running = while_the_job_may_run(asl, training)
        tasks = {n: s for n, s in running.items() if s["Type"] == "Task"}
        assert {s["Resource"].rsplit(":", 1)[-1] for s in tasks.values()} == {"describeTrainingJob"}
        for name, state in tasks.items():
            # Then each of its failures goes to StopTrainingJob first
            assert [c["Next"] for c in state["Catch"]] == [stop_name], name
    # And the stop names this execution's job, keeps the caught error, and then reports and fails
    assert stop["Parameters"] == {"TrainingJobName.$": "$$.Execution.Name"}
    assert stop["ResultPath"] not in ("$", "$.error")
    assert fail_after(states, stop["Next"]) == "TrainingNotFollowed"
    assert stop["Retry"][0]["ErrorEquals"] == ["States.TaskFailed"]
    # And a stop that fails too says so, with both errors: the job may still be billing
    (stop_failed,) = stop["Catch"]
    assert stop_failed["ErrorEquals"] == ["States.ALL"]
    assert fail_after(states, stop_failed["Next"]) == "TrainingJobNotStopped"
    message = states[stop_failed["Next"]]["Parameters"]["Message"]
    assert message["stopError.$"] == "$.stopError.Cause"
    assert message["cause.$"] == "$.error.Cause"


def test_ssm_errors_are_retried_by_the_name_step_functions_gives_them(default) -> None:
    """Step Functions Developer Guide, AWS SDK service integrations: the error is "ServiceName.ErrorName",
    "Both the service name and error name are in Pascal case", and "include the Exception suffix ... even if
    the suffix isn't already part of the error name provided by the service"."""
    import botocore.session

    states = definition(default.template("FineTune"))["States"]
    (publish,) = [s for s in states.values() if s.get("Resource", "").endswith(":aws-sdk:ssm:putParameter")]
    model = botocore.session.get_session().get_service_model("ssm").operation_model("PutParameter")
    errors = {
        f"Ssm.{e.name}" if e.name.endswith("Exception") else f"Ssm.{e.name}Exception"
        for e in model.error_shapes
    }
    retried = [name for retry in publish["Retry"] for name in retry["ErrorEquals"]]
    assert retried == ["Ssm.TooManyUpdatesException"]
    assert set(retried) <= errors


def test_dataset_rejection_is_reported_as_such(default) -> None:
    states = definition(default.template("FineTune"))["States"]
    validate = states[definition(default.template("FineTune"))["StartAt"]]
    assert validate["Parameters"]["executionName.$"] == "$$.Execution.Name"
    assert validate["Parameters"]["key.$"] == "$.key"
    rejected = validate["Catch"][0]
    assert rejected["ErrorEquals"] == ["DatasetRejected"]
    assert states[states[rejected["Next"]]["Next"]]["Error"] == "DatasetRejected"


def test_training_is_started_with_the_sdk_integration_and_polled_until_it_ends(default) -> None:
    asl = definition(default.template("FineTune"))
    states = asl["States"]
    training = next(iter(training_states(asl).values()))
    # Not the optimized .sync integration, whose field list Step Functions checks at creation
    assert training["Resource"].endswith(":states:::aws-sdk:sagemaker:createTrainingJob")
    wait = states[training["Next"]]
    assert wait["Type"] == "Wait"
    describe = states[wait["Next"]]
    assert describe["Resource"].endswith(":states:::aws-sdk:sagemaker:describeTrainingJob")
    assert describe["Parameters"] == {"TrainingJobName.$": "$$.Execution.Name"}
    status = states[describe["Next"]]
    # Then it waits again while the job runs or stops, imports once it completed, and fails otherwise
    routes = {json.dumps(rule, sort_keys=True): rule["Next"] for rule in status["Choices"]}
    assert set(routes.values()) == {training["Next"], _import_state_name(states)}
    for rule in status["Choices"]:
        values = {c["StringEquals"] for c in rule.get("Or", [rule])}
        assert values == ({"Completed"} if rule["Next"] != training["Next"] else {"InProgress", "Stopping"})
    notify = states[status["Default"]]
    assert is_notification(notify)
    assert states[notify["Next"]]["Error"] == "TrainingJobFailed"


def _import_state_name(states: dict[str, Any]) -> str:
    (name,) = [n for n, s in states.items() if s.get("Resource", "").endswith("bedrock:createModelImportJob")]
    return name


def test_success_imports_into_bedrock_polls_publishes_the_arn_and_notifies(default) -> None:
    asl = definition(default.template("FineTune"))
    states = asl["States"]
    training = next(iter(training_states(asl).values()))
    start_import = states[_import_state_name(states)]
    params = start_import["Parameters"]
    # The merged Hugging Face folder of this job, built from the execution (= job) name, is what Bedrock
    # imports: the uncompressed model prefix, ending with "/"
    assert training["Parameters"]["TrainingJobName.$"] == "$$.Execution.Name"
    assert params["ModelDataSource"]["S3DataSource"]["S3Uri.$"] == (
        "States.Format('s3://${Ref:" + _artifacts_bucket_id(default) + "}/models/{}/output/model/', "
        "$$.Execution.Name)"
    )
    assert params["JobName.$"] == params["ImportedModelName.$"] == "$$.Execution.Name"
    assert (
        params["RoleArn"]
        == f"${{{role_assumed_by(default.template('FineTune'), 'bedrock.amazonaws.com')}.Arn}}"
    )
    # Then it waits and checks until the job leaves InProgress
    wait = states[start_import["Next"]]
    assert wait["Type"] == "Wait"
    assert wait["Seconds"] == 60
    check = states[wait["Next"]]
    assert check["Resource"].endswith(":states:::aws-sdk:bedrock:getModelImportJob")
    status = states[check["Next"]]
    by_value = {c["StringEquals"]: c["Next"] for c in status["Choices"]}
    assert by_value["InProgress"] == start_import["Next"]
    assert is_notification(states[status["Default"]])
    # And on completion the promotion gate decides (test_pipeline_paths follows its branches); the model ARN
    # is written to the parameter the RAG function reads
    assert states[by_value["Completed"]]["Type"] == "Choice"
    (publish,) = [
        state
        for state in states.values()
        if state.get("Resource", "").endswith(":states:::aws-sdk:ssm:putParameter")
    ]
    assert publish["Parameters"]["Value.$"] == "$.importJob.ImportedModelArn"
    assert publish["Parameters"]["Overwrite"] is True
    # PutParameter creates the parameter on the first publish, which needs its type
    assert publish["Parameters"]["Type"] == "String"
    # And older imported models are pruned before the success is announced
    prune = states[publish["Next"]]
    assert "ImportedModelsFunction" in prune["Resource"]
    assert prune["Parameters"] == {"action": "prune", "pipeline.$": "$$.StateMachine.Name"}
    notify = states[prune["Next"]]
    assert is_notification(notify)
    assert states[notify["Next"]]["Type"] == "Succeed"
    # And each imported model carries this pipeline's tag, which is all the pruning may delete
    assert params["ImportedModelTags"] == [{"Key": "ladder:pipeline", "Value.$": "$$.StateMachine.Name"}]


def test_room_for_one_more_imported_model_is_made_before_any_gpu_is_paid_for(default) -> None:
    asl = definition(default.template("FineTune"))
    states = asl["States"]
    # Given the state after validation and the promotion gate's input check (no GPU yet)
    make_room = _make_room(states)
    assert make_room["Parameters"] == {"action": "ensure_capacity", "pipeline.$": "$$.StateMachine.Name"}
    # Then a full quota ends the run in NoImportCapacity before the training job exists
    full = next(c for c in make_room["Catch"] if c["ErrorEquals"] == ["NoImportCapacity"])
    assert states[states[full["Next"]]["Next"]]["Error"] == "NoImportCapacity"
    assert states[make_room["Next"]]["Type"] == "Choice"
    # And the function keeps the configured number of models and never touches another parameter
    function = next(
        f
        for f in resources(default.template("FineTune"), "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "imported_models.handler.handler"
    )
    environment = function["Properties"]["Environment"]["Variables"]
    assert environment["KEEP_MODELS"] == "2"
    assert environment["MODEL_PARAMETER"] == default.config.fine_tuned_model_parameter


def _make_room(states: dict[str, Any]) -> dict[str, Any]:
    """The quota check: the one state the promotion gate's input check continues to when the input is
    complete (test_pipeline_paths follows both of its branches)."""
    check = states["PromotionGateAsked"]
    assert states[check["Default"]] is states[states[check["Choices"][0]["Next"]]["Default"]]
    return dict(states[check["Default"]])


def _artifacts_bucket_id(synthesized: Synthesized) -> str:
    (bucket,) = [
        i for i in resources(synthesized.template("FineTune"), "AWS::S3::Bucket") if "Artifacts" in i
    ]
    return bucket


def test_no_stack_owns_the_model_parameter_so_a_deploy_cannot_unpublish_a_model(default) -> None:
    # Given the fine-tune stack (and every other one): CloudFormation would write its template value over
    # what the pipeline published whenever the parameter's properties change on an update
    for name, template in default.templates.items():
        assert not resources(template, "AWS::SSM::Parameter"), name
    template = default.template("FineTune")
    # Then only the pipeline writes it, by name, and the CLI finds that name in the outputs
    assert (
        template["Outputs"]["FineTunedModelParameterName"]["Value"]
        == default.config.fine_tuned_model_parameter
    )
    writers = [s for _, s in policy_statements(template) if "ssm:PutParameter" in as_list(s["Action"])]
    assert len(writers) == 1
    assert default.config.fine_tuned_model_parameter.lstrip("/") in json.dumps(writers[0]["Resource"])
    outputs = template["Outputs"]
    assert {
        "TrainingDataBucketName",
        "ArtifactsBucketName",
        "StateMachineArn",
        "FineTunedModelParameterName",
    } <= {key for key in outputs}


def test_state_machine_logs_without_execution_data_and_traces(default) -> None:
    _, machine = only(default.template("FineTune"), "AWS::StepFunctions::StateMachine")
    props = machine["Properties"]
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert props["TracingConfiguration"] == {"Enabled": True}


def test_failed_timed_out_and_stopped_executions_raise_alarms_to_the_topic(default) -> None:
    template = default.template("FineTune")
    topic_id, _ = only(template, "AWS::SNS::Topic")
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    metrics = {
        a["Properties"]["MetricName"] for a in alarms if a["Properties"].get("Namespace") == "AWS/States"
    }
    assert metrics == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    # A stopped execution ran no Catch: the alarm says how to stop the job it may have left running
    (aborted,) = [a for a in alarms if a["Properties"].get("MetricName") == "ExecutionsAborted"]
    assert "ladder finetune stop" in aborted["Properties"]["AlarmDescription"]
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


def test_validation_function_gets_the_dataprep_module_and_config(default) -> None:
    template = default.template("FineTune")
    function = next(
        f
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "validate_dataset.handler.handler"
    )
    environment = function["Properties"]["Environment"]["Variables"]
    assert environment["MIN_EXAMPLES"] == str(default.config.fine_tune_min_examples)
    assert environment["EVAL_FRACTION"] == str(default.config.fine_tune_eval_fraction)
    asset = staged_asset(default, function["Properties"]["Code"]["S3Key"])
    assert (asset / "training_jobs" / "dataprep.py").is_file()
    assert (asset / "training_jobs" / "__init__.py").is_file()
    assert (asset / "validate_dataset" / "handler.py").is_file()


@pytest.mark.parametrize("combination", ["default", "custom"])
def test_pass_role_is_scoped_to_the_two_roles_and_their_services(request, combination: str) -> None:
    template = request.getfixturevalue(combination).template("FineTune")
    passes = {
        (json.dumps(statement["Resource"]), statement["Condition"]["StringEquals"]["iam:PassedToService"])
        for _, statement in policy_statements(template)
        if "iam:PassRole" in as_list(statement["Action"]) and as_list(statement["Action"]) == ["iam:PassRole"]
    }
    all_pass = [s for _, s in policy_statements(template) if "iam:PassRole" in as_list(s["Action"])]
    assert all("Condition" in s for s in all_pass)
    sagemaker = role_assumed_by(template, "sagemaker.amazonaws.com")
    bedrock = role_assumed_by(template, "bedrock.amazonaws.com")
    assert passes == {
        (json.dumps({"Fn::GetAtt": [sagemaker, "Arn"]}), "sagemaker.amazonaws.com"),
        (json.dumps({"Fn::GetAtt": [bedrock, "Arn"]}), "bedrock.amazonaws.com"),
    }


@pytest.mark.parametrize("combination", ["default", "custom"])
def test_sagemaker_role_uses_wildcard_resources_only_where_iam_has_no_resource_type(
    request, combination: str
) -> None:
    template = request.getfixturevalue(combination).template("FineTune")
    role = role_assumed_by(template, "sagemaker.amazonaws.com")
    statements = statements_of_role(template, role)
    assert statements
    unscoped = set()
    for statement in statements:
        if "*" in as_list(statement["Resource"]):
            unscoped |= set(as_list(statement["Action"]))
            if "cloudwatch:PutMetricData" in as_list(statement["Action"]):
                assert statement["Condition"] == {
                    "StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}
                }
    allowed = {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"}
    if combination == "custom":  # the VPC's Describe* calls have no resource type either
        allowed |= {a for a in unscoped if a.startswith("ec2:Describe")}
    assert unscoped == allowed


@pytest.mark.parametrize("service", ["sagemaker.amazonaws.com", "bedrock.amazonaws.com"])
def test_service_roles_may_list_their_buckets_without_a_prefix_condition(default, service: str) -> None:
    # Given the roles SageMaker (training) and Bedrock (Custom Model Import) assume: their bucket-level calls
    # do not always carry an s3:prefix, and a condition they do not meet would deny them
    template = default.template("FineTune")
    lists = [
        s
        for s in statements_of_role(template, role_assumed_by(template, service))
        if "s3:ListBucket" in as_list(s["Action"])
    ]
    assert lists
    stack_buckets = set(resources(template, "AWS::S3::Bucket"))
    for statement in lists:
        # Then ListBucket is granted unconditionally, but only on this stack's own buckets
        for resource in as_list(statement["Resource"]):
            if "Fn::GetAtt" in resource:
                assert resource["Fn::GetAtt"][0] in stack_buckets
                assert "Condition" not in statement, statement


def test_sagemaker_role_writes_only_model_and_checkpoint_prefixes(default) -> None:
    template = default.template("FineTune")
    statements = statements_of_role(template, role_assumed_by(template, "sagemaker.amazonaws.com"))
    written = [
        json.dumps(resource)
        for s in statements
        if {"s3:PutObject", "s3:DeleteObject"} & set(as_list(s["Action"]))
        for resource in as_list(s["Resource"])
    ]
    assert written
    assert all("/models/*" in r or "/checkpoints/*" in r for r in written)


@pytest.mark.parametrize("combination", ["sandbox-finetune", "prod-finetune"])
def test_data_buckets_use_the_rotating_stack_key_and_are_logged(synth, combination: str) -> None:
    synthesized = synth(COMBINATIONS[combination])
    template = synthesized.template("FineTune")
    keys = resources(template, "AWS::KMS::Key")
    buckets = resources(template, "AWS::S3::Bucket")
    versioned = {k: b for k, b in buckets.items() if b["Properties"].get("VersioningConfiguration")}
    assert len(versioned) == 2  # training data and artifacts
    for logical_id, bucket in versioned.items():
        rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        encryption = rule["ServerSideEncryptionByDefault"]
        assert encryption["SSEAlgorithm"] == "aws:kms", logical_id
        key_id = encryption["KMSMasterKeyID"]["Fn::GetAtt"][0]
        assert keys[key_id]["Properties"]["EnableKeyRotation"] is True
        # logged in prod only: sandbox auto-deletes its buckets, which late log delivery could refill
        assert ("LoggingConfiguration" in bucket["Properties"]) == synthesized.config.is_prod
        assert bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        expected = "Retain" if synthesized.config.is_prod else "Delete"
        assert bucket["DeletionPolicy"] == expected


def test_budget_alerts_on_the_topic_when_no_email_is_configured(default) -> None:
    template = default.template("FineTune")
    _, budget = only(template, "AWS::Budgets::Budget")
    topic_id, _ = only(template, "AWS::SNS::Topic")
    props = budget["Properties"]
    assert props["Budget"]["BudgetLimit"] == {
        "Amount": default.config.fine_tune_monthly_budget_usd,
        "Unit": "USD",
    }
    assert props["Budget"]["TimeUnit"] == "MONTHLY"
    assert "CostFilters" not in props["Budget"]
    alerts = {
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"]): n["Subscribers"]
        for n in props["NotificationsWithSubscribers"]
    }
    assert set(alerts) == {("ACTUAL", 80), ("FORECASTED", 100)}
    for subscribers in alerts.values():
        assert subscribers == [{"SubscriptionType": "SNS", "Address": {"Ref": topic_id}}]
    # And the topic lets AWS Budgets publish (from this account only)
    _, topic_policy = only(template, "AWS::SNS::TopicPolicy")
    budgets_statements = [
        s
        for s in topic_policy["Properties"]["PolicyDocument"]["Statement"]
        if isinstance(s["Principal"], dict) and s["Principal"].get("Service") == "budgets.amazonaws.com"
    ]
    assert len(budgets_statements) == 1
    assert "aws:SourceAccount" in budgets_statements[0]["Condition"]["StringEquals"]


def test_budget_uses_the_configured_limit_and_email(custom) -> None:
    _, budget = only(custom.template("FineTune"), "AWS::Budgets::Budget")
    props = budget["Properties"]
    assert props["Budget"]["BudgetLimit"]["Amount"] == 250
    for notification in props["NotificationsWithSubscribers"]:
        assert notification["Subscribers"] == [
            {"SubscriptionType": "EMAIL", "Address": "ml-team@example.com"}
        ]


def test_budget_counts_sagemaker_training_and_bedrock_import_spend(default) -> None:
    """AWS::Budgets::Budget ExpressionDimensionValues: Key "SERVICE" is an allowed dimension; Cost Explorer
    names the services "Amazon SageMaker" and "Amazon Bedrock" (Cost Explorer's Service filter). Custom Model
    Import bills inference per model unit and storage under Amazon Bedrock (Amazon Bedrock pricing)."""
    _, budget = only(default.template("FineTune"), "AWS::Budgets::Budget")
    expression = budget["Properties"]["Budget"]["FilterExpression"]
    assert expression == {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon SageMaker", "Amazon Bedrock"]}}


def test_training_job_keeps_the_hugging_face_cache_on_its_storage_volume(request) -> None:
    """SageMaker Developer Guide, "Managing storage paths for different types of instance local storage": "We
    recommend that you use the /tmp directory as a scratch space for temporarily storing any large objects
    during training ... you must not use directories that are mounted to small disk space allocated for
    system, such as /user and /home, to avoid out-of-space errors." /opt/ml/model, /opt/ml/output and
    /opt/ml/checkpoints are uploaded to S3 ("SageMaker AI environment variables and the default paths")."""
    for combination in ("default", "custom", "isolated"):
        for state in training_states(
            definition(request.getfixturevalue(combination).template("FineTune"))
        ).values():
            environment = state["Parameters"]["Environment"]
            assert environment == {
                "HF_HOME": "/tmp/huggingface",
                "HF_DATASETS_CACHE": "/tmp/huggingface/datasets",
            }
            for path in environment.values():
                assert not path.startswith(
                    ("/opt/ml/model", "/opt/ml/output", "/opt/ml/checkpoints", "/home")
                )


def test_output_is_encrypted_with_the_key_s_arn_so_the_role_needs_no_encrypt(default) -> None:
    """CreateTrainingJob, OutputDataConfig.KmsKeyId: "If you use a KMS key ID or an alias of your KMS key, the
    SageMaker execution role must include permissions to call kms:Encrypt." The job passes the key's ARN."""
    template = default.template("FineTune")
    keys = resources(template, "AWS::KMS::Key")
    for state in training_states(definition(template)).values():
        key = re.fullmatch(r"\$\{(\w+)\.Arn\}", state["Parameters"]["OutputDataConfig"]["KmsKeyId"])
        assert key and key.group(1) in keys
    role = role_assumed_by(template, "sagemaker.amazonaws.com")
    actions = {a for s in statements_of_role(template, role) for a in as_list(s["Action"])}
    assert "kms:GenerateDataKey" in actions
    assert "kms:Encrypt" not in actions


def test_the_pipeline_may_stop_training_jobs_of_its_account_and_region_only(default) -> None:
    template = default.template("FineTune")
    stops = [s for _, s in policy_statements(template) if "sagemaker:StopTrainingJob" in as_list(s["Action"])]
    assert len(stops) == 1
    assert as_list(stops[0]["Action"]) == ["sagemaker:StopTrainingJob"]
    (resource,) = as_list(stops[0]["Resource"])
    assert json.dumps(resource).endswith(':training-job/*"]]}')
    assert f"arn:aws:sagemaker:{default.config.region}:" in json.dumps(resource)
    assert "AWS::AccountId" in json.dumps(resource)


def test_the_import_quota_is_read_by_its_code_with_the_default_as_fallback(default) -> None:
    """Service Authorization Reference, Service Quotas: GetServiceQuota requires the resource type quota
    (arn:${Partition}:servicequotas:${Region}:${Account}:${ServiceCode}/${QuotaCode});
    GetAWSDefaultServiceQuota has no resource type. ListServiceQuotas omits quotas with no applied value."""
    template = default.template("FineTune")
    statements = [s for _, s in policy_statements(template)]
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert "servicequotas:ListServiceQuotas" not in actions
    (applied,) = [s for s in statements if "servicequotas:GetServiceQuota" in as_list(s["Action"])]
    assert as_list(applied["Action"]) == ["servicequotas:GetServiceQuota"]
    (quota_arn,) = as_list(applied["Resource"])
    assert json.dumps(quota_arn).endswith(':bedrock/L-45B04988"]]}')
    (fallback,) = [s for s in statements if "servicequotas:GetAWSDefaultServiceQuota" in as_list(s["Action"])]
    assert fallback["Resource"] == "*"


def test_the_stock_image_with_pins_it_lacks_is_warned_about_at_synth(default) -> None:
    # Given the default: no prebuilt image, so the toolkit pip-installs requirements.txt at every job start
    pins = pinned_requirements((TRAINING_JOBS_DIR / REQUIREMENTS).read_text())
    assert pins["transformers"] != HF_TRANSFORMERS_VERSION
    (stack_name,) = [name for name in default.warnings if name.endswith("FineTune")]
    (warning,) = [w for w in default.warnings[stack_name] if "stock Hugging Face training image" in w]
    # Then synth names every pin the image lacks, the image's own transformers, and the way out
    assert f"lacks {len(pins)} pins" in warning
    assert f"transformers=={pins['transformers']} (image: {HF_TRANSFORMERS_VERSION})" in warning
    for name, version in pins.items():
        shipped = STOCK_IMAGE_PACKAGES.get(name)
        assert f"{name}=={version}" + (f" (image: {shipped})" if shipped else "") in warning
    assert "make training-image" in warning
    assert "-c fineTuneTrainingImageUri=" in warning


def test_a_prebuilt_image_or_an_image_with_every_pin_gets_no_warning(isolated) -> None:
    assert not [
        w for ws in isolated.warnings.values() for w in ws if "stock Hugging Face training image" in w
    ]
    shipped = f"# pins\ntransformers=={HF_TRANSFORMERS_VERSION}  # as in the image\n\n"
    assert stock_image_warning("", shipped) is None
    assert stock_image_warning("", shipped + "peft==0.21.2\n") is not None


def test_the_rag_function_may_read_the_imported_model_s_architecture_only_with_the_flag(default) -> None:
    # Given the fine-tune flag on: the RAG function's InvokeModel path picks the chat format of the
    # published model's architecture (GetImportedModel)
    template = default.template("RagApi")
    granted = [
        s for _, s in policy_statements(template) if "bedrock:GetImportedModel" in as_list(s["Action"])
    ]
    # Then exactly imported models of the account may be described, as they may be invoked
    invoking = [s for s in granted if "bedrock:InvokeModel" in as_list(s["Action"])]
    assert len(invoking) == 1
    # And the only other reader is the evaluation function, which prices the fine-tuned arm by its units
    (units,) = [s for s in granted if s not in invoking]
    assert units["Sid"] == "ReadImportedModelUnits" and units["Action"] == "bedrock:GetImportedModel"
    for statement in granted:
        assert json.dumps(statement["Resource"]).endswith(':imported-model/*"]]}')
