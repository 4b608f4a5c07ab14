"""The training job runs in a container without cdk.json or the catalog, so it carries its own defaults
(``job_contract.DEFAULT_HYPERPARAMETERS``, ``dataprep.PrepOptions``). The pipeline passes cdk.json's
``fineTune*`` values to it; these tests keep the two in agreement, so a job started by hand (or a test of
train.py) trains what a deployed pipeline trains."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from training_jobs import dataprep, job_contract

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"


def _context() -> dict[str, Any]:
    return json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]


@pytest.mark.parametrize(
    ("context_key", "hyperparameter"),
    [
        ("fineTuneStrategy", "strategy"),
        ("fineTuneEpochs", "epochs"),
        ("fineTuneLearningRate", "learning_rate"),
        ("fineTuneLoraR", "lora_r"),
        ("fineTuneLoraAlpha", "lora_alpha"),
        ("fineTuneLoraDropout", "lora_dropout"),
        ("fineTuneMaxSeqLength", "max_seq_length"),
    ],
)
def test_cdk_json_training_defaults_are_the_jobs_defaults(context_key: str, hyperparameter: str) -> None:
    configured = _context()[context_key]
    default = job_contract.DEFAULT_HYPERPARAMETERS[hyperparameter]
    if isinstance(configured, str):
        assert configured == default
    else:
        assert float(configured) == float(default), f"{context_key}={configured}, {hyperparameter}={default}"


def test_cdk_json_dataset_defaults_are_the_dataset_checks_defaults() -> None:
    context = _context()
    defaults = dataprep.PrepOptions()

    assert context["fineTuneMinExamples"] == defaults.min_examples
    assert context["fineTuneEvalFraction"] == defaults.eval_fraction
