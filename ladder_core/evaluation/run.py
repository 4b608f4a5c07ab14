"""A run folder's shape, wherever it lies (a local folder of ``ladder eval run``, or ``runs/<runId>/`` in
the evaluations bucket): the file names, ``run.json`` (:class:`RunInfo`) and the ``responses.jsonl``
record (:func:`answer_record`). ``responses.jsonl`` is the answers; ``scores.jsonl`` and ``summary.json``
are derived from it (:mod:`.summary`) and rewritten whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from ..api import INCLUDE_PASSAGES, parse_arm

RUN = "run.json"
SET_COPY = "evalset.jsonl"
RESPONSES = "responses.jsonl"
SCORES = "scores.jsonl"
SUMMARY = "summary.json"

STAGED_PREFIX = "staged/"
"""In the evaluations bucket: the sets (and verdicts) callers stage to be measured in AWS."""
PROMOTION_PREFIX = f"{STAGED_PREFIX}promotion/"
"""``staged/promotion/<execution>/``: what ``ladder finetune start`` stages for one pipeline's gate."""
RUNS_PREFIX = "runs/"
"""``runs/<runId>/``: a run folder in the evaluations bucket, the same files as a local one."""
PURPOSES = ("promotion", "watch", "manual")
"""What started a run in AWS; the second part of its id."""

RECORDED_MANIFEST_KEYS = ("sha256", "count", "createdAt", "embeddingModelId", "overlap")
"""What a run keeps of the examples manifest (``run.examples``): which set, checked against what; not the
index ARN, which names the account and travels with the run folder."""

Answers = dict[tuple[str, str, int], dict[str, Any]]
"""The latest ``responses.jsonl`` record per (item id, arm, repeat)."""


@dataclass(frozen=True)
class RunInfo:
    """``run.json``: the run's id (its folder name), when it began, where it sent, the set, the arms and
    the judge settings; a rerun into the folder continues with exactly these."""

    id: str
    createdAt: str
    url: str
    arms: list[str]
    evalSet: dict[str, Any]
    """path, sha256 and items of the set; the camelCase names are the file's keys."""
    judge: str | None = None
    """``--judge`` model id, or null (older run folders lack the key: no judge)."""
    style: str | None = None
    """``--style`` rubric path as given, or null."""
    repeat: int = 1
    """``--repeat``: how many times each item is sent per arm (older run folders lack the key: 1)."""
    examples: dict[str, Any] | None = None
    """The manifest of the uploaded examples (``examples/manifest.json``) the ``fewshot`` arm was measured
    with: sha256, count, createdAt, embeddingModelId, overlap; null without a ``fewshot`` arm (and in
    older run folders)."""

    def to_json(self) -> str:
        """``run.json``'s text."""
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, data: Any) -> RunInfo:
        """The run described by ``run.json``'s parsed object; KeyError, TypeError or ValueError when it is
        not one."""
        return cls(
            **{key: data[key] for key in ("id", "createdAt", "url", "arms", "evalSet")},
            judge=data.get("judge"),
            style=data.get("style"),
            repeat=int(data.get("repeat") or 1),
            examples=data.get("examples"),
        )


def recorded_examples(manifest: dict[str, Any]) -> dict[str, Any]:
    """``run.json``'s ``examples``: the :data:`RECORDED_MANIFEST_KEYS` of the uploaded examples' manifest."""
    return {key: manifest.get(key) for key in RECORDED_MANIFEST_KEYS}


def answer_record(
    item_id: str,
    arm: str,
    repeat: int,
    status: str,
    attempts: int,
    latency_ms: int,
    at: datetime,
    *,
    response: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One ``responses.jsonl`` line: ``status`` ``ok`` with the API's ``response``, or ``error`` with
    ``{"httpStatus", "code", "message"}``; ``attempts`` sends, the last one taking ``latency_ms``."""
    return {
        "id": item_id,
        "arm": arm,
        "repeat": repeat,
        "status": status,
        "attempts": attempts,
        "latencyMs": latency_ms,
        "at": at.isoformat(timespec="seconds"),
        "response": response,
        "error": error,
    }


def parse_answers(lines: Iterable[str]) -> Answers:
    """The latest record per (id, arm, repeat) among ``responses.jsonl`` lines (a record without
    ``repeat``, from before repeats existed, is repeat 0); a torn line (crash mid-write) is ignored."""
    records: Answers = {}
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "id" in record and "arm" in record:
            records[(record["id"], record["arm"], int(record.get("repeat") or 0))] = record
    return records


def ask_body(question: str, arm: str) -> dict[str, Any]:
    """The ``POST /ask`` body that answers ``question`` in ``arm`` (``MODE`` or ``MODE@MODEL_ID``, the model
    sent as ``modelId``), asking for the passages (kept in ``responses.jsonl`` for the LLM judge);
    ValueError naming the accepted arms."""
    parsed = parse_arm(arm)
    body: dict[str, Any] = {"question": question, "mode": parsed.mode, "include": [INCLUDE_PASSAGES]}
    if parsed.model_id is not None:
        body["modelId"] = parsed.model_id
    return body
