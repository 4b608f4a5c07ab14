"""The contract the CDK stack reads: metric regexes, hyperparameters, architectures. No torch needed."""

from __future__ import annotations

import re
import subprocess
import sys

from training_jobs import job_contract


def test_every_metric_definition_reads_the_line_train_py_prints() -> None:
    for definition in job_contract.METRIC_DEFINITIONS:
        for value in (1.2345, 2e-05, 0.0, 12.0):
            line = job_contract.metric_line(definition["Name"], value)
            match = re.search(definition["Regex"], line)
            assert match is not None, (definition, line)
            assert float(match.group(1)) == float(f"{value:.6g}")


def test_a_metric_definition_never_reads_another_metrics_line() -> None:
    for definition in job_contract.METRIC_DEFINITIONS:
        for other in job_contract.METRICS:
            if other != definition["Name"]:
                assert not re.search(definition["Regex"], job_contract.metric_line(other, 1.5))


def test_hyperparameters_are_strings_as_sagemaker_requires() -> None:
    assert all(
        isinstance(k, str) and isinstance(v, str) for k, v in job_contract.DEFAULT_HYPERPARAMETERS.items()
    )


def test_default_base_model_and_trainable_architectures_are_importable_into_bedrock() -> None:
    assert job_contract.TRAINABLE_ARCHITECTURES <= job_contract.BEDROCK_IMPORTABLE_ARCHITECTURES
    assert "Qwen2ForCausalLM" in job_contract.TRAINABLE_ARCHITECTURES
    assert job_contract.DEFAULT_HYPERPARAMETERS["model_id"] == job_contract.DEFAULT_BASE_MODEL_ID


def test_contract_imports_without_the_training_stack() -> None:
    # The CDK app imports it: importing it must not pull in torch or transformers
    code = (
        "import sys, training_jobs.job_contract, training_jobs.dataprep; "
        "print(sorted(m for m in ('torch', 'transformers', 'trl', 'peft') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
