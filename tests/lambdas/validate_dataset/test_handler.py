"""The dataset-validation task against moto S3: outputs written, return shape, rejection with a report."""

from __future__ import annotations

import importlib
import json
import re
from types import ModuleType
from typing import Any

import botocore.session
import pytest

from lambdas.validate_dataset import constants
from lambdas.validate_dataset.preparation import DatasetRejected, InvalidRequest, parse_request
from tests.lambdas.validate_dataset.conftest import LambdaContext, load_event, sample_dataset
from training_jobs import job_contract


def _put_dataset(s3: Any, event: dict[str, Any], body: bytes) -> None:
    s3.put_object(Bucket=event["bucket"], Key=event["key"], Body=body)


def _read(s3: Any, bucket: str, key: str) -> str:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")


def _keys(s3: Any, bucket: str) -> set[str]:
    return {item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix="prepared/").get("Contents", [])}


def test_usable_dataset_is_split_into_the_training_channels_and_reported(
    s3: Any, handler_module: ModuleType, context: LambdaContext
) -> None:
    # Given the sample upload: 7 clean conversations, a duplicate, a near duplicate and 2 bad lines
    event = load_event("state_input.json")
    _put_dataset(s3, event, sample_dataset())
    # When the state machine invokes the function
    output = handler_module.handler(event, context)
    # Then it returns the channel prefixes, the report and the counts
    prefix = f"s3://{event['bucket']}/prepared/{event['executionName']}"
    assert output == {
        "trainS3Uri": f"{prefix}/train/",
        "evalS3Uri": f"{prefix}/eval/",
        "reportS3Uri": f"{prefix}/report.json",
        "counts": {
            "read": 11,
            "clean": 7,
            "rejected": 4,
            "train": output["counts"]["train"],
            "eval": output["counts"]["eval"],
            "rejected_by_reason": {
                "invalid_json": 1,
                "schema": 0,
                "extra_keys": 0,
                "role_order": 1,
                "empty_content": 0,
                "too_long": 0,
                "duplicate": 1,
                "near_duplicate": 1,
            },
        },
    }
    assert output["counts"]["eval"] >= 1
    assert output["counts"]["train"] + output["counts"]["eval"] == 7
    # And the three objects exist where the training job and the operator look
    run = f"prepared/{event['executionName']}"
    assert _keys(s3, event["bucket"]) == {
        f"{run}/train/train.jsonl",
        f"{run}/eval/eval.jsonl",
        f"{run}/report.json",
    }
    train = [json.loads(line) for line in _read(s3, event["bucket"], f"{run}/train/train.jsonl").splitlines()]
    held_out = [
        json.loads(line) for line in _read(s3, event["bucket"], f"{run}/eval/eval.jsonl").splitlines()
    ]
    assert len(train) == output["counts"]["train"]
    assert len(held_out) == output["counts"]["eval"]
    assert all(set(record) == {"messages"} for record in train + held_out)
    report = json.loads(_read(s3, event["bucket"], f"{run}/report.json"))
    assert report["usable"] is True
    assert report["source"] == f"s3://{event['bucket']}/{event['key']}"
    assert [(r["line"], r["reason"]) for r in report["rejections"]] == [
        (8, "duplicate"),
        (9, "near_duplicate"),
        (10, "role_order"),
        (11, "invalid_json"),
    ]
    assert report["options"] == {"eval_fraction": 0.2, "min_examples": 5, "max_chars": 2000, "seed": 0}


def test_too_few_clean_examples_raises_dataset_rejected_and_still_writes_the_report(
    s3: Any, handler_module: ModuleType, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a function deployed with MIN_EXAMPLES=10 and the 7-clean-example upload
    monkeypatch.setenv("MIN_EXAMPLES", "10")
    cold = importlib.reload(handler_module)
    event = load_event("state_input.json")
    _put_dataset(s3, event, sample_dataset())
    # When it runs, then the error the state machine catches says what is missing and where the report is
    with pytest.raises(DatasetRejected) as raised:
        cold.handler(event, context)
    assert type(raised.value).__name__ == "DatasetRejected"
    message = str(raised.value)
    assert "7 clean, 10 needed, 3 missing" in message
    assert f"prepared/{event['executionName']}/report.json" in message
    # And only the report was written, listing every rejected line
    run = f"prepared/{event['executionName']}"
    assert _keys(s3, event["bucket"]) == {f"{run}/report.json"}
    report = json.loads(_read(s3, event["bucket"], f"{run}/report.json"))
    assert (report["usable"], report["missing"], report["counts"]["clean"]) == (False, 3, 7)
    assert len(report["rejections"]) == 4


def test_missing_upload_is_rejected_with_a_report(
    s3: Any, handler_module: ModuleType, context: LambdaContext
) -> None:
    event = {**load_event("state_input.json"), "key": "uploads/absent.jsonl"}
    with pytest.raises(DatasetRejected, match="No dataset at s3://"):
        handler_module.handler(event, context)
    report = json.loads(_read(s3, event["bucket"], f"prepared/{event['executionName']}/report.json"))
    assert report["usable"] is False
    assert "uploads/absent.jsonl" in report["error"]


def test_upload_over_the_size_limit_is_rejected_before_parsing(
    s3: Any, handler_module: ModuleType, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(constants, "MAX_DATASET_BYTES", 100)
    event = load_event("state_input.json")
    _put_dataset(s3, event, sample_dataset())
    with pytest.raises(DatasetRejected, match="the limit is 100 bytes"):
        handler_module.handler(event, context)


def test_lines_are_split_on_newline_only_and_crlf_files_are_accepted(
    s3: Any, handler_module: ModuleType, context: LambdaContext
) -> None:
    # Given an upload with Windows line ends whose contents hold a raw U+2028 line separator
    rows = [
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"q{i}\u2028more"},
                    {"role": "assistant", "content": "a"},
                ]
            },
            ensure_ascii=False,
        )
        for i in range(6)
    ]
    event = load_event("state_input.json")
    _put_dataset(s3, event, "\r\n".join(rows).encode("utf-8") + b"\r\n")
    output = handler_module.handler(event, context)
    assert output["counts"]["clean"] == 6
    assert output["counts"]["rejected"] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"bucket": ""}, "bucket"),
        ({"key": None}, "key"),
        ({"executionName": "../escape"}, "executionName"),
        ({"executionName": "x" * 64}, "executionName"),
        # SageMaker refuses "_" in a training job name; Bedrock refuses "--" in a model name and a
        # trailing "-" in a client token: each would fail the run after validation, or after training
        ({"executionName": "ladder_20250301"}, "executionName"),
        ({"executionName": "ladder--20250301"}, "executionName"),
        ({"executionName": "ladder-20250301-"}, "executionName"),
        ({"executionName": "-ladder"}, "executionName"),
    ],
)
def test_malformed_state_input_is_refused_naming_the_field(
    s3: Any, handler_module: ModuleType, context: LambdaContext, change: dict[str, Any], field: str
) -> None:
    event = {**load_event("state_input.json"), **change}
    with pytest.raises(handler_module.InvalidRequest, match=field):
        handler_module.handler(event, context)
    assert _keys(s3, load_event("state_input.json")["bucket"]) == set()


def test_output_file_names_are_the_ones_the_training_job_reads() -> None:
    assert constants.TRAIN_FILE == job_contract.TRAIN_FILE
    assert constants.EVAL_FILE == job_contract.EVAL_FILE


NAME_CANDIDATES = [
    "ladder-20250301T093000Z",  # what `ladder finetune start` names an execution
    "ft-20250301-0930-7f3c2a",
    "a",
    "A1-b2-C3",
    "x" * 63,
    "x" * 64,
    "ladder_20250301",
    "ladder--20250301",
    "ladder-",
    "-ladder",
    "ladder.1",
    "ladder+1",
    "ladder 1",
    "ladder/1",
]


@pytest.mark.parametrize("name", NAME_CANDIDATES)
def test_execution_names_accepted_are_exactly_those_every_named_resource_accepts(name: str) -> None:
    # Given the name constraints of what the execution name becomes, read from the service models
    session = botocore.session.get_session()
    training = session.get_service_model("sagemaker").operation_model("CreateTrainingJob").input_shape
    model_import = session.get_service_model("bedrock").operation_model("CreateModelImportJob").input_shape
    shapes = [
        training.members["TrainingJobName"],
        model_import.members["jobName"],
        model_import.members["importedModelName"],
        model_import.members["clientRequestToken"],
    ]
    fits_everywhere = all(
        re.fullmatch(shape.metadata["pattern"], name) and len(name) <= shape.metadata["max"]
        for shape in shapes
    )
    # When the validation task parses an input carrying that execution name
    event = {**load_event("state_input.json"), "executionName": name}
    try:
        parse_request(event)
        accepted = True
    except InvalidRequest:
        accepted = False
    # Then it accepts the name exactly when SageMaker and Bedrock would both accept it later
    assert accepted == bool(fits_everywhere)
