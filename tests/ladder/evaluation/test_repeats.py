"""``ladder eval run --repeat N`` end to end against the loopback API: every item N times per arm, the
repeats in every file, rates over items with the repeats averaged, the spread between repeats, and a
resume that sends only the missing (item, arm, repeat) answers."""

from __future__ import annotations

import json
import shlex
import statistics
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ladder.evaluation import commands
from ladder_core.scoring import SCORE_KEYS

from .conftest import write_set
from .loopback import LoopbackApi, serve

ITEMS = [
    {"id": "leave", "question": "How much leave?", "mustInclude": ["27 days"]},
    {"id": "carry", "question": "How many days carry over?", "mustInclude": ["5 days"]},
]


class Flaky:
    """Answers every other request for the same question and arm wrongly, as a model sampled at a
    temperature might: the 1st, 3rd, ... are right, the 2nd, 4th, ... are not."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()

    def __call__(self, question: str, mode: str) -> dict[str, Any]:
        with self.lock:
            self.calls[(question, mode)] += 1
            right = self.calls[(question, mode)] % 2 == 1
        fact = "27 days" if "leave" in question else "5 days"
        return {
            "answer": f"It is {fact}." if right else "It depends on your contract.",
            "citations": [],
            "mode": mode,
            "modelId": "us.amazon.nova-lite-v1:0",
            "usage": {"inputTokens": 1000, "outputTokens": 100},
        }


@pytest.fixture
def api() -> Iterator[LoopbackApi]:
    with serve(LoopbackApi(answer=Flaky())) as loop:
        yield loop


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_each_item_is_sent_n_times_and_the_repeats_are_averaged_per_item(
    run_cli: Any, api: LoopbackApi, tmp_path: Path
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    out = tmp_path / "run"

    result = run_cli(
        "eval", "run", "--set", str(evalset), "--url", api.url, "--out", str(out), "--repeat", "3",
        "--concurrency", "1",
    )  # fmt: skip

    assert result.code == 0, result.err
    assert Counter(api.received) == {
        (item["question"], arm): 3 for item in ITEMS for arm in ("prompt", "rag")
    }
    assert "12 answers to fetch (2 items x 2 arms x 3 repeats)" in result.err
    responses = lines(out / "responses.jsonl")
    assert sorted((r["id"], r["arm"], r["repeat"]) for r in responses) == sorted(
        (item["id"], arm, repeat) for item in ITEMS for arm in ("prompt", "rag") for repeat in range(3)
    )
    scores = lines(out / "scores.jsonl")
    assert all(list(line) == list(SCORE_KEYS) and line["schemaVersion"] == 2 for line in scores)
    rag = [line for line in scores if line["arm"] == "rag"]
    assert [(line["id"], line["repeat"], line["correct"]) for line in rag] == [
        ("leave", 0, True), ("leave", 1, False), ("leave", 2, True),
        ("carry", 0, True), ("carry", 1, False), ("carry", 2, True),
    ]  # fmt: skip
    assert json.loads((out / "run.json").read_text())["repeat"] == 3
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["repeat"] == 3
    arm = summary["arms"]["rag"]
    assert (arm["n"], arm["errors"]) == (6, 0)
    assert arm["correctness"] == pytest.approx(2 / 3)
    # Repeat 0 and 2 were right on both items, repeat 1 on neither.
    assert arm["repeatSpread"]["correctness"] == pytest.approx(statistics.stdev([1.0, 0.0, 1.0]))
    # Two items, each 2/3 right: resampling items cannot move the rate; repeats are not extra items.
    assert arm["ci95"]["correctness"] == [pytest.approx(2 / 3), pytest.approx(2 / 3)]
    assert summary["differences"]["rag-prompt"]["correctness"]["n"] == 2
    rag_line = next(line for line in result.out.splitlines() if line.startswith("rag"))
    assert rag_line.split()[1:4] == ["6", "of", "6"]  # answers of 2 items x 3 repeats
    status = run_cli("eval", "status", str(out), "--json")
    assert json.loads(status.out)["answers"]["rag"] == {"ok": 6, "error": 0, "pending": 0}


def test_a_killed_repeated_run_resumes_with_only_the_missing_answers(
    run_cli: Any, api: LoopbackApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class InterruptAfterThree:
        def __init__(self) -> None:
            self.seen = 0

        def advance(self, *, ok: bool) -> None:
            self.seen += 1
            if self.seen == 3:
                raise KeyboardInterrupt

    @contextmanager
    def interrupting_bar(total: int) -> Iterator[InterruptAfterThree]:
        yield InterruptAfterThree()

    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(commands, "progress_bar", interrupting_bar)
        first = run_cli(
            "eval", "run", "--set", str(evalset), "--url", api.url, "--out", str(out), "--repeat", "2",
            "--concurrency", "1",
        )  # fmt: skip
    assert first.code == 130
    kept = len(lines(out / "responses.jsonl"))
    assert 3 <= kept < 8
    resume = shlex.split(
        next(line for line in first.err.splitlines() if "continue with: " in line).split(
            "continue with: ", 1
        )[1]
    )[1:]
    assert "--repeat" not in resume  # the run keeps its own

    again = run_cli(*resume)

    assert again.code == 0, again.err
    assert f"{8 - kept} answers to fetch" in again.err
    # Nothing sent twice: each question and arm exactly twice over both invocations.
    assert Counter(api.received) == {
        (item["question"], arm): 2 for item in ITEMS for arm in ("prompt", "rag")
    }
    assert len(lines(out / "responses.jsonl")) == 8

    more = run_cli("eval", "run", "--out", str(out), "--repeat", "3")
    assert more.code == 0, more.err
    assert "4 answers to fetch (2 items x 2 arms x 3 repeats, 8 already done)" in more.err
    assert {line["repeat"] for line in lines(out / "scores.jsonl")} == {0, 1, 2}

    fewer = run_cli("eval", "run", "--out", str(out), "--repeat", "2")
    assert fewer.code == 2
    assert "--repeat 2 vs the run's 3 (repeats can be added to a run, not taken away)" in fewer.err
    assert len(api.received) == 12


@pytest.mark.parametrize("value", ["0", "11", "two"])
def test_a_repeat_outside_1_to_10_is_refused_before_anything_is_sent(
    run_cli: Any, api: LoopbackApi, tmp_path: Path, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    with pytest.raises(SystemExit) as exit_info:
        run_cli("eval", "run", "--set", str(evalset), "--url", api.url, "--repeat", value)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    expected = (
        "expected a whole number, got 'two'" if value == "two" else f"must be from 1 to 10, got {value}"
    )
    assert f"argument --repeat: {expected}" in err
    assert api.received == []


def test_a_run_folder_from_before_repeats_is_scored_as_one_repeat(
    run_cli: Any, api: LoopbackApi, tmp_path: Path
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    out = tmp_path / "run"
    assert run_cli("eval", "run", "--set", str(evalset), "--url", api.url, "--out", str(out)).code == 0
    # As an older version wrote them: no "repeat" in run.json nor in the responses.
    info = json.loads((out / "run.json").read_text())
    del info["repeat"]
    (out / "run.json").write_text(json.dumps(info))
    old = [
        {key: value for key, value in record.items() if key != "repeat"}
        for record in lines(out / "responses.jsonl")
    ]
    (out / "responses.jsonl").write_text("".join(json.dumps(record) + "\n" for record in old))

    report = run_cli("eval", "report", str(out), "--json")
    again = run_cli("eval", "run", "--out", str(out))

    assert report.code == 0, report.err
    summary = json.loads(report.out)
    assert summary["run"]["repeat"] == 1 and summary["arms"]["rag"]["repeatSpread"] is None
    assert summary["arms"]["rag"]["ci95"]["correctness"] == [1.0, 1.0]
    assert [line["repeat"] for line in lines(out / "scores.jsonl")] == [0, 0, 0, 0]
    assert again.code == 0 and "0 answers to fetch" in again.err
    assert len(api.received) == 4
