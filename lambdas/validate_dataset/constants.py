"""Names, sizes and limits of the dataset-validation function, with their units."""

from __future__ import annotations

PREPARED_PREFIX = "prepared"
"""Outputs go to ``prepared/<executionName>/`` in the bucket the dataset was read from."""
TRAIN_DIR = "train"
EVAL_DIR = "eval"
TRAIN_FILE = "train.jsonl"
"""Must equal training_jobs.job_contract.TRAIN_FILE (a test checks): the training job reads this name."""
EVAL_FILE = "eval.jsonl"
"""Must equal training_jobs.job_contract.EVAL_FILE (a test checks)."""
REPORT_FILE = "report.json"
JSONL_CONTENT_TYPE = "application/jsonl"
JSON_CONTENT_TYPE = "application/json"

MAX_DATASET_BYTES = 256 * 1024 * 1024
"""Largest dataset object read; the parsed records take several times its size in memory."""
READ_CHUNK_BYTES = 1024 * 1024

EXECUTION_NAME_PATTERN = r"^(?=.{1,63}$)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$"
"""The execution name becomes the training job name (SageMaker: 1-63 letters, digits and hyphens, starting
with a letter or digit), the imported model name (Bedrock: no two hyphens in a row) and the import job's
client token (Bedrock: not ending with a hyphen). Refusing any other name here stops the run before the
GPU job is paid for, instead of at the import after it."""

S3_MAX_ATTEMPTS = 5
"""Calls per S3 request, the first one included (ladder_core/aws_clients.py counts them so everywhere)."""
S3_CONNECT_TIMEOUT_S = 5
S3_READ_TIMEOUT_S = 60

ENV_MIN_EXAMPLES = "MIN_EXAMPLES"
ENV_EVAL_FRACTION = "EVAL_FRACTION"
ENV_MAX_CHARS = "MAX_CHARS"
