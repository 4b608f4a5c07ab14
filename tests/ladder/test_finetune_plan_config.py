"""`ladder finetune plan` without options plans the fine-tune the project deploys (cdk.json with -c)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ladder import cli
from ladder_core.catalog import training
from stacks.config.parsing import from_context
from stacks.config.settings import ConfigError

PROJECT_CDK_JSON = Path(__file__).parents[2] / "cdk.json"
QWEN_7B = "Qwen/Qwen2.5-7B-Instruct"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder whose cdk.json is the repository's with another fine-tune configured."""
    document = json.loads(PROJECT_CDK_JSON.read_text(encoding="utf-8"))
    document["context"].update(
        {
            "fineTuneBaseModelId": QWEN_7B,
            "fineTuneInstanceType": "ml.g5.4xlarge",
            "fineTuneInstanceCount": 1,
            "fineTuneStrategy": "qlora",
            "fineTuneMaxSeqLength": 1024,
            "fineTuneEpochs": 3,
        }
    )
    (tmp_path / "cdk.json").write_text(json.dumps(document), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def plan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    code = cli.main(["finetune", "plan", "--json", *argv])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_without_options_it_plans_the_configured_model_and_instance_and_says_what_it_read(project, capsys):
    # When plan is run with no option but --json, in the project folder
    code, document, err = plan(capsys)

    # Then it sizes the configured base model, instance, strategy, sequence length and epochs
    assert code == 0, err
    assert document["base_model"] == QWEN_7B
    assert (document["instance_type"], document["instance_count"]) == ("ml.g5.4xlarge", 1)
    assert (document["strategy"], document["max_seq_length"], document["epochs"]) == ("qlora", 1024, 3)
    # And stderr names the configuration and each value taken from it (stdout stays one JSON object)
    assert err.startswith("Planning with cdk.json: ")
    for setting in (
        f"fineTuneBaseModelId={QWEN_7B}",
        "fineTuneInstanceType=ml.g5.4xlarge",
        "fineTuneStrategy=qlora",
        "fineTuneMaxSeqLength=1024",
        "fineTuneEpochs=3",
    ):
        assert setting in err


def test_dash_c_overrides_the_configuration_as_for_make_deploy(project, capsys):
    code, document, err = plan(
        capsys, "-c", "fineTuneStrategy=lora", "-c", "fineTuneInstanceType=ml.g5.12xlarge"
    )

    assert document["strategy"] == "lora"
    assert document["instance_type"] == "ml.g5.12xlarge"
    assert code == (0 if document["fits"] else 1)
    assert (
        "Planning with cdk.json with -c fineTuneStrategy=lora -c fineTuneInstanceType=ml.g5.12xlarge: " in err
    )
    assert "fineTuneStrategy=lora" in err


def test_an_option_given_replaces_the_configured_value_and_is_not_reported_as_read(project, capsys):
    code, document, err = plan(capsys, "--instance-type", "ml.g6e.xlarge", "--epochs", "1")

    assert code == (0 if document["fits"] else 1)
    assert (document["instance_type"], document["epochs"], document["base_model"]) == (
        "ml.g6e.xlarge",
        1,
        QWEN_7B,
    )
    assert "fineTuneInstanceType" not in err and "fineTuneEpochs" not in err
    assert "fineTuneBaseModelId=" in err


def test_an_invalid_configured_value_is_refused_as_make_deploy_refuses_it(project, capsys):
    code = cli.main(["finetune", "plan", "-c", "fineTuneStrategy=full"])

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert "-c fineTuneStrategy=full is invalid: expected one of: lora, qlora, fsdp-lora" in captured.err


def test_outside_the_project_it_needs_the_model_and_instance(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    code = cli.main(["finetune", "plan"])

    captured = capsys.readouterr()
    assert code == 2
    assert "needs --base-model ID|DIR and --instance-type TYPE outside the project" in captured.err
    assert "no cdk.json here" in captured.err


def test_dash_c_outside_the_project_is_refused_rather_than_ignored(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    code = cli.main(
        [
            "finetune",
            "plan",
            "--base-model",
            QWEN_7B,
            "--instance-type",
            "ml.g5.4xlarge",
            "-c",
            "fineTuneEpochs=1",
        ]
    )

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "cdk.json not found: -c and --cdk-json apply to the project's configuration" in captured.err


def synth_accepts(key: str, value: int) -> bool:
    context = json.loads(PROJECT_CDK_JSON.read_text(encoding="utf-8"))["context"]
    try:
        from_context({**context, key: value})
    except ConfigError:
        return False
    return True


@pytest.mark.parametrize(
    ("option", "key", "limits"),
    [
        ("--epochs", "fineTuneEpochs", training.EPOCHS_RANGE),
        ("--max-seq-length", "fineTuneMaxSeqLength", training.MAX_SEQ_LENGTH_RANGE),
    ],
)
def test_plan_and_synth_accept_the_same_range(project, capsys, option, key, limits):
    """A plan for a run the stack would refuse to deploy is no plan: both read one range."""
    low, high = limits
    for value, accepted in ((low, True), (high, True), (low - 1, False), (high + 1, False)):
        assert synth_accepts(key, value) is accepted, (key, value)
        if accepted:
            _, document, _ = plan(capsys, option, str(value))
            assert document[option.removeprefix("--").replace("-", "_")] == value
        else:
            with pytest.raises(SystemExit) as exit_info:
                cli.main(["finetune", "plan", "--json", option, str(value)])
            assert exit_info.value.code == 2
            assert f"{low}" in capsys.readouterr().err
