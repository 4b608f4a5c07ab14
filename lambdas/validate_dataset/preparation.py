"""Read an uploaded dataset from S3, check and split it, and write what the training job reads."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError

from training_jobs.dataprep import NotEnoughExamplesError, Prepared, PrepOptions, prepare, write_jsonl

from . import constants


class DatasetRejected(Exception):
    """The dataset cannot be used for training; the message summarises the report written to S3.

    The state machine catches this error by its class name, "DatasetRejected": do not rename it.
    """


class InvalidRequest(ValueError):
    """The state machine's input lacks a field or holds a value this function cannot use."""


@dataclass(frozen=True)
class DatasetRequest:
    bucket: str
    key: str
    execution_name: str

    @property
    def prefix(self) -> str:
        return f"{constants.PREPARED_PREFIX}/{self.execution_name}"

    def uri(self, suffix: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}/{suffix}"


@dataclass(frozen=True)
class PreparedDataset:
    train_uri: str
    eval_uri: str
    report_uri: str
    counts: dict[str, Any]

    def to_output(self) -> dict[str, Any]:
        """The state output: S3 prefixes of the training job's channels, the report and the counts."""
        return {
            "trainS3Uri": self.train_uri,
            "evalS3Uri": self.eval_uri,
            "reportS3Uri": self.report_uri,
            "counts": self.counts,
        }


def parse_request(event: Any) -> DatasetRequest:
    """``{"bucket", "key", "executionName"}`` from the state machine; InvalidRequest names a bad field."""
    if not isinstance(event, dict):
        raise InvalidRequest("the input must be an object with bucket, key and executionName")
    values = {}
    for field in ("bucket", "key", "executionName"):
        value = event.get(field)
        if not isinstance(value, str) or not value.strip():
            raise InvalidRequest(f"{field} must be a non-empty string, got {value!r}")
        values[field] = value
    if not re.match(constants.EXECUTION_NAME_PATTERN, values["executionName"]):
        raise InvalidRequest(
            "executionName must be 1-63 letters and digits, optionally in groups joined by single hyphens "
            f"(it names the training job and the imported model), got {values['executionName']!r}"
        )
    return DatasetRequest(values["bucket"], values["key"], values["executionName"])


def prepare_dataset(s3: Any, request: DatasetRequest, options: PrepOptions) -> PreparedDataset:
    """Check and split ``s3://bucket/key`` and write train.jsonl, eval.jsonl and report.json.

    Raises DatasetRejected, after writing the report, when the object is missing or too large or has
    fewer clean examples than required; other S3 errors propagate (the pipeline retries or fails).
    """
    report_uri = request.uri(constants.REPORT_FILE)
    source = f"s3://{request.bucket}/{request.key}"
    try:
        body = _open(s3, request)
    except DatasetRejected as rejected:
        _put_json(s3, request, {"source": source, "usable": False, "error": str(rejected)})
        raise DatasetRejected(f"{rejected} Report: {report_uri}") from None

    prepared = prepare(_lines(body), options)
    report = {"source": source, **prepared.report.to_dict(), "options": asdict(options)}
    try:
        prepared.require_usable()
    except NotEnoughExamplesError as error:
        _put_json(s3, request, report)
        raise DatasetRejected(f"{error} {prepared.report.summary()}. Report: {report_uri}") from None

    _put_jsonl(s3, request, f"{constants.TRAIN_DIR}/{constants.TRAIN_FILE}", prepared, train=True)
    _put_jsonl(s3, request, f"{constants.EVAL_DIR}/{constants.EVAL_FILE}", prepared, train=False)
    _put_json(s3, request, report)  # last: its presence means the prepared files are complete
    return PreparedDataset(
        train_uri=request.uri(f"{constants.TRAIN_DIR}/"),
        eval_uri=request.uri(f"{constants.EVAL_DIR}/"),
        report_uri=report_uri,
        counts=prepared.report.counts(),
    )


def _open(s3: Any, request: DatasetRequest) -> Any:
    try:
        response = s3.get_object(Bucket=request.bucket, Key=request.key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            raise DatasetRejected(f"No dataset at s3://{request.bucket}/{request.key}.") from None
        raise
    size = int(response.get("ContentLength", 0))
    if size > constants.MAX_DATASET_BYTES:
        response["Body"].close()
        raise DatasetRejected(
            f"The dataset is {size} bytes; the limit is {constants.MAX_DATASET_BYTES} bytes. Split it or "
            "remove long conversations."
        )
    return response["Body"]


def _lines(body: Any) -> Iterator[bytes]:
    """The object's lines, split on ``\\n`` only (JSON strings may hold other line separators)."""
    pending = b""
    for chunk in body.iter_chunks(constants.READ_CHUNK_BYTES):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from complete
    if pending:
        yield pending


def _put_jsonl(s3: Any, request: DatasetRequest, suffix: str, prepared: Prepared, *, train: bool) -> None:
    text = io.StringIO()
    write_jsonl(prepared.train if train else prepared.eval, text)
    s3.put_object(
        Bucket=request.bucket,
        Key=f"{request.prefix}/{suffix}",
        Body=text.getvalue().encode("utf-8"),
        ContentType=constants.JSONL_CONTENT_TYPE,
    )


def _put_json(s3: Any, request: DatasetRequest, document: dict[str, Any]) -> None:
    s3.put_object(
        Bucket=request.bucket,
        Key=f"{request.prefix}/{constants.REPORT_FILE}",
        Body=json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8"),
        ContentType=constants.JSON_CONTENT_TYPE,
    )
