"""The runner against a real loopback HTTP API: retries on 429/503 honouring Retry-After, errors kept,
resume after an interruption with nothing sent twice and nothing lost."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from ladder import api
from ladder.evaluation.evalset import load_set
from ladder.evaluation.runner import (
    Pacer,
    RetryPolicy,
    Runner,
    parse_retry_after,
    pending_pairs,
    read_answers,
    read_records,
)
from ladder_core.evaluation.evalset import EvalSet
from ladder_core.scoring import Item

from .conftest import items, write_set
from .loopback import LoopbackApi, serve

FAST = RetryPolicy(max_attempts=3, base_backoff_s=0.01, max_backoff_s=2.0)


def sender(url: str) -> Any:
    credentials = botocore.session.get_session().get_credentials()

    def send(body: dict[str, Any]) -> dict[str, Any]:
        return api.post_signed_json(url, body, credentials=credentials, region="us-east-1")

    return send


def pairs(count: int, arms: tuple[str, ...] = ("rag",)) -> list[tuple[Item, str, int]]:
    return [(Item(id=f"q{n}", question=f"Question {n}?"), arm, 0) for n in range(count) for arm in arms]


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=7), usegmt=True), now) == 7.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=7), usegmt=True), now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


def test_429_and_503_are_retried_after_their_retry_after(tmp_path: Path) -> None:
    fail = {("Question 0?", "rag"): [429], ("Question 1?", "rag"): [503]}
    with serve(LoopbackApi(failures=fail, retry_after="1")) as loop:
        out = tmp_path / "responses.jsonl"
        started = time.monotonic()
        outcome = Runner(sender(loop.url), out, concurrency=2, policy=FAST).run(pairs(3))
        elapsed = time.monotonic() - started
    records = {record["id"]: record for record in lines(out)}
    assert outcome.errors == 0 and set(records) == {"q0", "q1", "q2"}
    assert [records[i]["attempts"] for i in ("q0", "q1", "q2")] == [2, 2, 1]
    assert all(record["status"] == "ok" for record in records.values())
    assert elapsed >= 1.0  # the one-second Retry-After was waited, not ignored
    assert loop.received.count(("Question 0?", "rag")) == 2


def test_without_retry_after_the_retry_backs_off_and_gives_up_as_a_recorded_error(tmp_path: Path) -> None:
    fail = {("Question 0?", "rag"): [503, 503, 503], ("Question 1?", "rag"): [400]}
    with serve(LoopbackApi(failures=fail, retry_after=None)) as loop:
        out = tmp_path / "responses.jsonl"
        outcome = Runner(sender(loop.url), out, concurrency=2, policy=FAST).run(pairs(3))
    records = {record["id"]: record for record in lines(out)}
    assert outcome.errors == 2
    assert records["q0"]["status"] == "error" and records["q0"]["attempts"] == 3
    assert records["q0"]["error"]["httpStatus"] == 503
    assert records["q1"]["attempts"] == 1 and records["q1"]["error"]["httpStatus"] == 400  # not retried
    assert records["q2"]["status"] == "ok"
    assert loop.received.count(("Question 0?", "rag")) == 3


def test_a_throttled_run_paces_itself_and_loses_nothing(tmp_path: Path) -> None:
    with serve(LoopbackApi(rate_per_second=20, retry_after="1")) as loop:
        out = tmp_path / "responses.jsonl"
        outcome = Runner(sender(loop.url), out, concurrency=8).run(pairs(50))
    assert outcome.errors == 0
    assert sorted(record["id"] for record in lines(out)) == sorted(f"q{n}" for n in range(50))
    assert loop.throttled > 0
    assert len(loop.answered) == 50


class InterruptAfter:
    """A progress reporter that presses Ctrl-C after ``count`` answers."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.seen = 0

    def advance(self, *, ok: bool) -> None:
        self.seen += 1
        if self.seen == self.count:
            raise KeyboardInterrupt


def test_an_interrupted_run_resumes_without_sending_anything_twice(tmp_path: Path) -> None:

    items = tuple(Item(id=f"q{n}", question=f"Question {n}?") for n in range(12))
    evalset = EvalSet(path=tmp_path / "set.jsonl", sha256="0" * 64, items=items)
    arms = ("prompt", "rag")
    out = tmp_path / "responses.jsonl"
    with serve(LoopbackApi(delay_s=0.02)) as loop:
        with pytest.raises(KeyboardInterrupt):
            Runner(sender(loop.url), out, concurrency=2).run(
                pending_pairs(evalset, arms, {}), InterruptAfter(5)
            )
        first = read_answers(out)
        assert 5 <= len(first) < 24
        # Everything the API answered before the interruption is on disk.
        assert {(f"q{q.split()[1][:-1]}", mode, 0) for q, mode in loop.answered} == set(first)
        rest = pending_pairs(evalset, arms, first)
        Runner(sender(loop.url), out, concurrency=2).run(rest)
    final = read_answers(out)
    assert len(final) == 24 and all(record["status"] == "ok" for record in final.values())
    assert len(loop.received) == 24  # no pair sent twice
    assert len(set(loop.received)) == 24


def test_a_torn_last_line_is_ignored_and_errors_are_sent_again(tmp_path: Path) -> None:
    out = tmp_path / "responses.jsonl"
    out.write_text(
        json.dumps({"id": "q0", "arm": "rag", "status": "ok"})
        + "\n"
        + json.dumps({"id": "q1", "arm": "rag", "status": "error"})
        + "\n"
        + '{"id": "q2", "arm": "ra',
        encoding="utf-8",
    )

    items = tuple(Item(id=f"q{n}", question="?") for n in range(3))
    done = read_answers(out)
    assert set(done) == {("q0", "rag", 0), ("q1", "rag", 0)}  # lines without "repeat" are repeat 0
    todo = pending_pairs(EvalSet(path=out, sha256="", items=items), ["rag"], done)
    assert [(item.id, arm, repeat) for item, arm, repeat in todo] == [("q1", "rag", 0), ("q2", "rag", 0)]


def test_repeats_are_pending_pass_by_pass_and_the_judge_view_keeps_repeat_0(tmp_path: Path) -> None:
    out = tmp_path / "responses.jsonl"
    out.write_text(
        "".join(
            json.dumps({"id": item, "arm": "rag", "repeat": repeat, "status": status, "answer": repeat})
            + "\n"
            for item, repeat, status in (
                ("q0", 0, "ok"),
                ("q0", 1, "ok"),
                ("q1", 0, "error"),
                ("q1", 2, "ok"),
            )
        ),
        encoding="utf-8",
    )
    items = tuple(Item(id=f"q{n}", question="?") for n in range(2))

    todo = pending_pairs(EvalSet(path=out, sha256="", items=items), ["rag"], read_answers(out), 3)

    # The whole of repeat 0 comes first, so an interrupted run still has one complete pass.
    assert [(item.id, repeat) for item, _, repeat in todo] == [("q1", 0), ("q1", 1), ("q0", 2)]
    assert {key: record["answer"] for key, record in read_records(out).items()} == {
        ("q0", "rag"): 0,
        ("q1", "rag"): 0,
    }


def test_an_unreachable_api_stops_the_run_with_one_error(tmp_path: Path) -> None:
    with serve(LoopbackApi()) as loop:
        url = loop.url
    out = tmp_path / "responses.jsonl"
    with pytest.raises(api.LadderError, match="could not reach"):
        Runner(sender(url), out, concurrency=2).run(pairs(4))


def test_the_pacer_spaces_requests_at_the_rate_accepted_before_a_429_and_recovers() -> None:
    import threading

    now = [100.0]
    pacer = Pacer(threading.Event(), clock=lambda: now[0])
    assert pacer.interval == 0.0
    for offset in (0.0, 0.1, 0.2, 0.3):
        pacer.accepted(100.0 + offset)
    now[0] = 100.5
    pacer.throttled()  # four accepted in the last second
    assert pacer.interval == pytest.approx(0.25)
    assert pacer.acquire() == 100.5
    assert pacer.acquire() == pytest.approx(100.75)  # the next slot is one interval later
    pacer.accepted(100.5)
    assert pacer.interval == pytest.approx(0.25 * Pacer.RECOVERY)


def test_every_request_asks_for_the_passages_the_model_saw(tmp_path: Path) -> None:
    """The API contract (``"include": ["passages"]`` adds each citation's full passage as ``text``): the
    runner asks for it on every request, so responses.jsonl keeps what the LLM judge needs."""
    bodies: list[dict[str, Any]] = []

    def send(body: dict[str, Any]) -> dict[str, Any]:
        bodies.append(body)
        return {"answer": "27 days [1]", "citations": [{"sourceUri": "s3://d/a.md", "text": "27 days."}]}

    evalset = load_set(write_set(tmp_path / "set.jsonl", items(2)))
    Runner(send, tmp_path / "responses.jsonl", concurrency=1).run(
        pending_pairs(evalset, ["prompt", "rag"], {})
    )
    assert sorted((b["question"], b["mode"]) for b in bodies) == sorted(
        (item.question, arm) for item in evalset.items for arm in ("prompt", "rag")
    )
    assert all(b["include"] == ["passages"] for b in bodies)
    saved = read_records(tmp_path / "responses.jsonl")
    assert saved[("q0", "rag")]["response"]["citations"][0]["text"] == "27 days."
