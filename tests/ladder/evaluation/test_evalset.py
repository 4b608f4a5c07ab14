"""Reading an evaluation set file, and the shipped sample set (the format's own tests are in
tests/ladder_core/evaluation/test_evalset.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ladder.errors import LadderError, SetupError
from ladder.evaluation.evalset import load_set
from ladder_core.scoring import contains

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_SET = ROOT / "sample_corpus" / "eval.jsonl"


def test_a_bad_file_is_refused_naming_every_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text('{"id": "a", "question": "q1"}\n{broken\n', encoding="utf-8")
    with pytest.raises(LadderError) as caught:
        load_set(path)
    assert str(caught.value).startswith(f"{path}: 1 bad line(s) of 2; nothing was sent")
    assert "line 2: not valid JSON" in str(caught.value)
    assert caught.value.exit_code == 1


def test_an_empty_set_and_an_unreadable_file_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(LadderError, match="is empty: an evaluation set needs at least one item"):
        load_set(empty)
    with pytest.raises(SetupError, match="cannot read evaluation set"):
        load_set(tmp_path / "missing.jsonl")


def test_the_sample_set_is_large_enough_and_built_from_the_sample_documents() -> None:
    evalset = load_set(SAMPLE_SET)
    items = evalset.items
    assert len(items) >= 40
    assert sum(not item.answerable for item in items) >= 6
    assert sum(bool(item.format) for item in items) >= 10
    questions_md = (ROOT / "sample_corpus" / "QUESTIONS.md").read_text(encoding="utf-8")
    listed = {
        line.split("|")[2].strip() for line in questions_md.splitlines() if re.match(r"^\| \d+ \|", line)
    }
    assert len(listed) == 16
    assert {item.question for item in items} >= listed
    for item in items:
        for source in item.sources:
            document = (ROOT / "sample_corpus" / source).read_text(encoding="utf-8")
            facts = [fact for fact in item.must_include if fact not in ("Yes", "No")]
            assert all(contains(document, fact) for fact in facts), (item.id, facts)


def test_the_sample_set_is_never_uploaded_as_a_document() -> None:
    ignored = (ROOT / "sample_corpus" / ".ladderignore").read_text(encoding="utf-8").split()
    assert "eval.jsonl" in ignored
