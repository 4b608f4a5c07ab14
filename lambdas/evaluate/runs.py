"""The three steps of an evaluation run in AWS, each one function invocation: plan, answer a chunk,
summarise. Every rule (the set's format, scoring, the summary) is ``ladder_core.evaluation``'s, the one
copy ``ladder eval`` uses, and the run folder in S3 holds the same files in the same formats as a local
one (``runs/<runId>/run.json``, ``evalset.jsonl``, ``responses.jsonl``, ``scores.jsonl``,
``summary.json``).
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ladder_core.api import FEWSHOT, FINETUNED, parse_arm
from ladder_core.catalog.bedrock import IMPORTED_MODEL_PREFIX
from ladder_core.evaluation import run as run_folder
from ladder_core.evaluation.evalset import EvalSet, InvalidSetError, parse_set
from ladder_core.evaluation.imported import (
    IMPORTED_MODEL_FILE,
    ImportedModelUnits,
    units_document,
    units_from_response,
    with_units,
)
from ladder_core.evaluation.prices import default_prices
from ladder_core.evaluation.run import (
    Answers,
    RunInfo,
    answer_record,
    ask_body,
    parse_answers,
    recorded_examples,
)
from ladder_core.evaluation.summary import score_rows, scores_text, summarise, summary_text
from ladder_core.examples import MANIFEST_KEY
from ladder_core.scoring import Item

from . import constants
from .settings import Settings

RETRY_STATUSES = (429, 503)
THROTTLED_CODE = "TooManyRequestsException"
"""Lambda's Invoke error when the RAG function's concurrency (or the account's) is used up: HTTP 429."""
FUNCTION_ERROR_STATUS = 502
"""What API Gateway answers when the function itself fails; recorded the same way for a direct call."""
INPUT_KEYS = ("purpose", "runId", "evalSet", "arms", "candidateModelArn", "maxItems")

Sleep = Callable[[float], None]


class InvalidInput(Exception):
    """The execution's input or its set cannot be used; the message names what is wrong and what is
    accepted. Raised before anything is sent."""


class RagFunctionUnavailable(Exception):
    """The RAG function cannot be invoked at all (missing, or this role may not): every answer would fail."""


class RunIncomplete(Exception):
    """A chunk's answers are missing from the run folder when it is summarised."""


@dataclass(frozen=True)
class Request:
    """A valid execution input (the state machine's, README "Evaluating in AWS")."""

    purpose: str
    run_id: str
    set_key: str
    arms: list[str]
    candidate_model_arn: str | None
    max_items: int | None


def prefix(run_id: str) -> str:
    """``runs/<runId>/``."""
    return f"{constants.RUNS_PREFIX}{run_id}/"


def part_key(run_id: str, chunk: int) -> str:
    """Where chunk ``chunk``'s answers are written."""
    return f"{prefix(run_id)}{constants.PARTS_FOLDER}{chunk:05d}.jsonl"


def parse_request(data: Any, bucket: str, execution_name: str, now: datetime) -> Request:
    """The execution input as a :class:`Request`; InvalidInput naming the first thing wrong."""
    if not isinstance(data, dict):
        raise InvalidInput(f"the input must be a JSON object with {', '.join(INPUT_KEYS)}")
    unknown = sorted(set(data) - set(INPUT_KEYS))
    if unknown:
        raise InvalidInput(f"unknown input key(s) {', '.join(unknown)}; accepted: {', '.join(INPUT_KEYS)}")
    purpose = data.get("purpose")
    if purpose not in constants.PURPOSES:
        raise InvalidInput(f"purpose {purpose!r}: expected one of {', '.join(constants.PURPOSES)}")
    run_id = data.get("runId")
    if run_id is None:
        run_id = f"{now:%Y%m%dT%H%M%SZ}-{purpose}-{execution_name}"
    elif not isinstance(run_id, str) or not re.fullmatch(constants.RUN_ID_PATTERN, run_id):
        raise InvalidInput(
            f"runId {run_id!r}: expected 1-128 letters, digits, '.', '_' or '-' (leave it out to have one "
            "derived)"
        )
    eval_set = data.get("evalSet")
    key = eval_set.get("key") if isinstance(eval_set, dict) else None
    if (
        not isinstance(eval_set, dict)
        or eval_set.get("bucket") != bucket
        or not isinstance(key, str)
        or not key.startswith(constants.STAGED_PREFIX)
    ):
        raise InvalidInput(
            f'evalSet {eval_set!r}: expected {{"bucket": "{bucket}", "key": "{constants.STAGED_PREFIX}..."}} '
            "(the evaluations bucket's staged sets)"
        )
    arms = data.get("arms")
    if not isinstance(arms, list) or not arms or not all(isinstance(arm, str) for arm in arms):
        raise InvalidInput("arms: expected a non-empty list of arm names (MODE or MODE@MODEL_ID)")
    if len(set(arms)) != len(arms) or len(arms) > constants.MAX_ARMS:
        raise InvalidInput(f"arms: expected at most {constants.MAX_ARMS} arms, each once; got {arms}")
    for arm in arms:
        try:
            parse_arm(arm)
        except ValueError as err:
            raise InvalidInput(f"arms: {err}") from None
    candidate = data.get("candidateModelArn")
    if candidate is not None and (not isinstance(candidate, str) or not candidate.startswith("arn:")):
        raise InvalidInput(f"candidateModelArn {candidate!r}: expected an imported model's ARN")
    if candidate is not None and FINETUNED not in arms:
        raise InvalidInput(f"candidateModelArn is answered by the {FINETUNED} arm; add it to arms")
    max_items = data.get("maxItems")
    if max_items is not None and (
        isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 1
    ):
        raise InvalidInput(f"maxItems {max_items!r}: expected a whole number of at least 1 (or leave it out)")
    return Request(purpose, run_id, key, list(arms), candidate, max_items)


def plan(s3: Any, settings: Settings, event: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Read and check the set, keep its first ``maxItems`` items, write ``run.json`` and the set's copy, and
    split the items into chunks that one ``answer`` run finishes in its time limit."""
    request = parse_request(event.get("input"), settings.bucket, str(event.get("executionName")), now)
    source = f"s3://{settings.bucket}/{request.set_key}"
    try:
        raw = s3.get_object(Bucket=settings.bucket, Key=request.set_key)["Body"].read()
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "error")
        if code in ("NoSuchKey", "404"):
            raise InvalidInput(f"evalSet {source} does not exist; stage the set there first") from None
        raise
    lines = [line for line in raw.splitlines() if line.strip()]
    if request.max_items is not None:
        lines = lines[: request.max_items]
    copy = b"".join(line + b"\n" for line in lines)
    try:
        evalset = parse_set(copy, PurePosixPath(source))
    except InvalidSetError as err:
        raise InvalidInput(str(err)) from None
    described: dict[str, Any] = {"path": source, "sha256": evalset.sha256, "items": len(evalset.items)}
    if request.max_items is not None:
        described["maxItems"] = request.max_items
    info = RunInfo(
        id=request.run_id,
        createdAt=now.isoformat(timespec="seconds"),
        url=f"lambda:{settings.rag_function}",
        arms=request.arms,
        evalSet=described,
        examples=_examples(s3, settings, request.arms),
    )
    size = constants.items_per_chunk(settings.rag_timeout_s, len(request.arms))
    if len(evalset.items) > size * constants.MAX_CHUNKS:
        raise InvalidInput(
            f"{source}: {len(evalset.items)} items in {len(request.arms)} arms need more than "
            f"{constants.MAX_CHUNKS} chunks of {size} items; pass maxItems of at most "
            f"{size * constants.MAX_CHUNKS}"
        )
    folder = prefix(request.run_id)
    _put(s3, settings.bucket, folder + run_folder.SET_COPY, copy.decode("utf-8"))
    _put(s3, settings.bucket, folder + run_folder.RUN, info.to_json())
    chunks = [
        {"chunk": number, "start": start, "stop": min(start + size, len(evalset.items))}
        for number, start in enumerate(range(0, len(evalset.items), size))
    ]
    return {
        "runId": request.run_id,
        "bucket": settings.bucket,
        "prefix": folder,
        "arms": request.arms,
        "candidateModelArn": request.candidate_model_arn,
        "chunks": chunks,
        "chunkCount": len(chunks),
    }


def _examples(s3: Any, settings: Settings, arms: list[str]) -> dict[str, Any] | None:
    """``run.examples``: the manifest of the examples a ``fewshot`` arm is measured with, as ``ladder eval
    run`` records it; None without a ``fewshot`` arm, an examples store or uploaded examples."""
    bucket = settings.examples_manifest_bucket
    if bucket is None or all(parse_arm(arm).mode != FEWSHOT for arm in arms):
        return None
    try:
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=MANIFEST_KEY)["Body"].read())
    except ClientError as err:
        # The role may read the manifest object only (no listing): a missing one answers AccessDenied.
        if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "AccessDenied"):
            return None
        raise
    return recorded_examples(manifest) if isinstance(manifest, dict) else None


def answer(
    s3: Any,
    lambda_client: Any,
    settings: Settings,
    event: dict[str, Any],
    *,
    sleep: Sleep = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Answer one chunk: every (item, arm) of its items through the RAG function, :data:`constants.THREADS`
    at a time, and write the records to the chunk's part file."""
    run_id, chunk = str(event["runId"]), event["chunk"]
    arms, candidate = list(event["arms"]), event.get("candidateModelArn")
    evalset = _read_set(s3, settings.bucket, run_id)
    items = evalset.items[int(chunk["start"]) : int(chunk["stop"])]
    pairs = [(item, arm) for item in items for arm in arms]

    def ask(pair: tuple[Item, str]) -> dict[str, Any]:
        return answer_one(lambda_client, settings.rag_function, *pair, candidate, sleep=sleep, clock=clock)

    with ThreadPoolExecutor(constants.THREADS) as pool:
        records = list(pool.map(ask, pairs))
    text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    _put(s3, settings.bucket, part_key(run_id, int(chunk["chunk"])), text)
    return {
        "chunk": chunk["chunk"],
        "answers": len(records),
        "errors": sum(record["status"] != "ok" for record in records),
    }


def answer_one(
    lambda_client: Any,
    function: str,
    item: Item,
    arm: str,
    candidate_model_arn: str | None,
    *,
    sleep: Sleep = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """One ``responses.jsonl`` record: the RAG function's answer to ``item`` in ``arm`` (the candidate model
    answering the ``finetuned`` arm when given); throttling and 503 are retried with backoff, other errors
    are recorded as the API would have returned them."""
    direct: dict[str, Any] = {"body": ask_body(item.question, arm)}
    if candidate_model_arn and parse_arm(arm).mode == FINETUNED:
        direct["candidateModelArn"] = candidate_model_arn
    payload = json.dumps({"ladderDirect": direct}, ensure_ascii=False).encode("utf-8")
    error: dict[str, Any] = {}
    latency_ms = attempt = 0
    for attempt in range(1, constants.MAX_ATTEMPTS + 1):
        started = clock()
        status, body, error = _invoke(lambda_client, function, payload)
        latency_ms = round((clock() - started) * 1000)
        if status == 200 and isinstance(body, dict):
            return answer_record(item.id, arm, 0, "ok", attempt, latency_ms, datetime.now(UTC), response=body)
        if status not in RETRY_STATUSES or attempt == constants.MAX_ATTEMPTS:
            break
        ceiling = constants.backoff_ceiling(attempt)
        sleep(random.uniform(ceiling / 2, ceiling))
    return answer_record(item.id, arm, 0, "error", attempt, latency_ms, datetime.now(UTC), error=error)


def _invoke(lambda_client: Any, function: str, payload: bytes) -> tuple[int, Any, dict[str, Any]]:
    """(status, body, error) of one direct invocation; ``error`` in the record's shape when not 200."""
    try:
        response = lambda_client.invoke(
            FunctionName=function, InvocationType="RequestResponse", Payload=payload
        )
    except ClientError as err:
        details = err.response.get("Error", {})
        code = str(details.get("Code", "error"))
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code != THROTTLED_CODE and status not in RETRY_STATUSES:
            raise RagFunctionUnavailable(f"cannot invoke the RAG function {function}: {code}") from err
        return (
            status or 429,
            None,
            {"httpStatus": status or 429, "code": code, "message": details.get("Message")},
        )
    except BotoCoreError as err:
        # No answer within the RAG function's timeout plus the overhead: as API Gateway's timeout would be.
        return 504, None, {"httpStatus": 504, "code": type(err).__name__, "message": str(err)}
    raw = response["Payload"].read()
    if response.get("FunctionError"):
        try:
            error_type = json.loads(raw).get("errorType")
        except (ValueError, AttributeError):
            error_type = None
        message = f"the RAG function failed ({error_type or response['FunctionError']})"
        return (
            FUNCTION_ERROR_STATUS,
            None,
            {
                "httpStatus": FUNCTION_ERROR_STATUS,
                "code": "RagFunctionError",
                "message": message,
            },
        )
    try:
        answered = json.loads(raw)
        status, body = int(answered["statusCode"]), answered["body"]
    except (ValueError, KeyError, TypeError):
        return (
            FUNCTION_ERROR_STATUS,
            None,
            {
                "httpStatus": FUNCTION_ERROR_STATUS,
                "code": "RagFunctionError",
                "message": "the RAG function's answer is not {statusCode, body}",
            },
        )
    failure = body.get("error") if isinstance(body, dict) else None
    failure = failure if isinstance(failure, dict) else {}
    return (
        status,
        body,
        {"httpStatus": status, "code": failure.get("code"), "message": failure.get("message")},
    )


def summarise_run(
    s3: Any, settings: Settings, event: dict[str, Any], *, bedrock: Any = None
) -> dict[str, Any]:
    """Join the chunks' answers into ``responses.jsonl``, score them into ``scores.jsonl`` and
    ``summary.json``, the fine-tuned arm priced with its imported model's own units when ``bedrock`` can
    read them (:func:`record_imported_units`); the execution's output (the summary's ``arms`` and
    ``differences``)."""
    run_id, chunk_count = str(event["runId"]), int(event["chunkCount"])
    folder = prefix(run_id)
    info = RunInfo.from_json(json.loads(_get(s3, settings.bucket, folder + run_folder.RUN)))
    evalset = _read_set(s3, settings.bucket, run_id)
    parts = []
    for chunk in range(chunk_count):
        try:
            parts.append(_get(s3, settings.bucket, part_key(run_id, chunk)))
        except ClientError as err:
            raise RunIncomplete(f"{part_key(run_id, chunk)} cannot be read: {err}") from None
    responses = "".join(parts)
    records = parse_answers(responses.splitlines())
    units = record_imported_units(s3, settings, bedrock, run_id, records)
    prices = with_units(default_prices(settings.deployment), units)
    rows = score_rows(evalset, records, info.arms, prices)
    summary = summarise(info, rows, records, prices)
    _put(s3, settings.bucket, folder + run_folder.RESPONSES, responses)
    _put(s3, settings.bucket, folder + run_folder.SCORES, scores_text(rows))
    _put(s3, settings.bucket, folder + run_folder.SUMMARY, summary_text(summary))
    return {
        "runId": run_id,
        "bucket": settings.bucket,
        "prefix": folder,
        "arms": info.arms,
        "summary": {"arms": summary["arms"], "differences": summary["differences"]},
    }


def record_imported_units(
    s3: Any, settings: Settings, bedrock: Any, run_id: str, records: Answers
) -> ImportedModelUnits | None:
    """Write ``runs/<runId>/imported-model.json`` for the imported model that answered the ``finetuned``
    arm (the candidate, or the published model), as ``ladder eval run`` does locally, and return its units;
    None, and no file, without such answers; None and the file's ``note`` when GetImportedModel fails (the
    catalog's default units then price the arm, and the report says so)."""
    if bedrock is None or not settings.imported_model_arn_prefix:
        return None
    models = sorted(
        {
            str(model)
            for (_, arm, _), record in records.items()
            if parse_arm(arm).mode == FINETUNED
            and isinstance(model := (record.get("response") or {}).get("modelId"), str)
            and model.startswith(IMPORTED_MODEL_PREFIX)
        }
    )
    if not models:
        return None
    # One model answers the arm in a run: the candidate of a promotion run, else the published model.
    arn = settings.imported_model_arn_prefix + models[0]
    try:
        units, note = units_from_response(arn, bedrock.get_imported_model(modelIdentifier=arn))
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "error")
        units, note = None, f"GetImportedModel failed with {code}"
    document = units_document(arn, units, note)
    _put(s3, settings.bucket, prefix(run_id) + IMPORTED_MODEL_FILE, json.dumps(document, indent=2) + "\n")
    return units


def _read_set(s3: Any, bucket: str, run_id: str) -> EvalSet:
    key = prefix(run_id) + run_folder.SET_COPY
    return parse_set(_get(s3, bucket, key).encode("utf-8"), PurePosixPath(f"s3://{bucket}/{key}"))


def _get(s3: Any, bucket: str, key: str) -> str:
    return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8"))


def _put(s3: Any, bucket: str, key: str, text: str) -> None:
    content_type = "application/json" if key.endswith(".json") else "application/x-ndjson"
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType=content_type)
