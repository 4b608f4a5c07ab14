"""The run folder's shape shared by the CLI and the evaluation function: run.json, the responses record,
the /ask body of an arm."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ladder_core.evaluation.run import RunInfo, answer_record, ask_body, parse_answers


def test_run_json_round_trips_and_older_files_get_the_defaults() -> None:
    info = RunInfo(
        id="r1", createdAt="2026-12-03T22:00:00+00:00", url="lambda:f", arms=["rag"], evalSet={"items": 1}
    )
    assert RunInfo.from_json(json.loads(info.to_json())) == info
    older = {"id": "r0", "createdAt": "t", "url": "u", "arms": ["prompt"], "evalSet": {}}
    assert RunInfo.from_json(older).repeat == 1 and RunInfo.from_json(older).judge is None
    with pytest.raises(KeyError):
        RunInfo.from_json({"id": "r0"})


def test_the_latest_record_per_item_arm_and_repeat_wins_and_a_torn_line_is_ignored() -> None:
    at = datetime(2026, 12, 3, tzinfo=UTC)
    first = answer_record("a", "rag", 0, "error", 3, 10, at, error={"httpStatus": 503})
    second = answer_record("a", "rag", 0, "ok", 1, 12, at, response={"answer": "x"})
    lines = [
        json.dumps(first),
        json.dumps(second),
        '{"id": "b", "arm"',
        json.dumps({**second, "repeat": None}),
    ]
    records = parse_answers(lines)
    assert records == {("a", "rag", 0): {**second, "repeat": None}}
    assert list(second) == [
        "id",
        "arm",
        "repeat",
        "status",
        "attempts",
        "latencyMs",
        "at",
        "response",
        "error",
    ]
    assert second["at"] == "2026-12-03T00:00:00+00:00"


def test_an_arm_names_the_mode_and_the_model_of_the_ask_body() -> None:
    assert ask_body("q?", "rag") == {"question": "q?", "mode": "rag", "include": ["passages"]}
    assert ask_body("q?", "fewshot@us.amazon.nova-pro-v1:0") == {
        "question": "q?",
        "mode": "fewshot",
        "include": ["passages"],
        "modelId": "us.amazon.nova-pro-v1:0",
    }
    with pytest.raises(ValueError, match="answers with its own model"):
        ask_body("q?", "finetuned@x")
