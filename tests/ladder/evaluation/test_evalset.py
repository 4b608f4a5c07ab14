"""The evaluation set's format: every rejection, the report of bad lines, and the shipped sample set."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from ladder.errors import LadderError, SetupError
from ladder.evaluation.evalset import InvalidSetError, load_set, parse_item
from ladder_core.scoring import contains

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_SET = ROOT / "sample_corpus" / "eval.jsonl"


def test_a_full_item_is_parsed_with_defaults_for_what_is_left_out() -> None:
    item = parse_item(
        json.dumps(
            {
                "id": "leave-1",
                "question": "How many days?",
                "mustInclude": ["27 days"],
                "reference": "27 days.",
                "sources": ["handbook/leave.md"],
                "format": {"maxWords": 80, "noCitations": True},
                "tags": ["handbook"],
            }
        )
    )
    assert item.answerable is True
    assert item.must_include == ("27 days",)
    assert item.sources == ("handbook/leave.md",)
    assert item.format == {"maxWords": 80, "noCitations": True}
    assert parse_item('{"id": "a", "question": "q?"}').reference is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        ("[1, 2]", "expected a JSON object"),
        ('{"id": "a", "question": "q", "extra": 1}', "unknown key(s) extra"),
        ('{"question": "q"}', "id: required"),
        ('{"id": " ", "question": "q"}', "id: required"),
        ('{"id": "a"}', "question: required"),
        ('{"id": "a", "question": "   "}', "question: required"),
        (json.dumps({"id": "a", "question": "x" * 2001}), "1..2000"),
        ('{"id": "a", "question": "q", "answerable": "yes"}', "answerable: expected true or false"),
        ('{"id": "a", "question": "q", "reference": ""}', "reference: expected a non-blank string"),
        ('{"id": "a", "question": "q", "mustInclude": "27 days"}', "mustInclude: expected a list"),
        ('{"id": "a", "question": "q", "sources": [1]}', "sources: expected a list"),
        ('{"id": "a", "question": "q", "tags": [""]}', "tags: expected a list"),
        (
            '{"id": "a", "question": "q", "answerable": false, "mustInclude": ["x"]}',
            "unanswerable item cannot",
        ),
        ('{"id": "a", "question": "q", "format": {}}', "format: expected an object"),
        ('{"id": "a", "question": "q", "format": {"minWords": 3}}', "unknown check(s) minWords"),
        ('{"id": "a", "question": "q", "format": {"maxWords": 0}}', "format.maxWords"),
        ('{"id": "a", "question": "q", "format": {"maxWords": true}}', "format.maxWords"),
        ('{"id": "a", "question": "q", "format": {"regex": "("}}', "format.regex: not a valid"),
        ('{"id": "a", "question": "q", "format": {"regex": 5}}', "format.regex: expected"),
        ('{"id": "a", "question": "q", "format": {"startsWith": ""}}', "format.startsWith"),
        ('{"id": "a", "question": "q", "format": {"jsonSchema": []}}', "format.jsonSchema: expected"),
        ('{"id": "a", "question": "q", "format": {"jsonSchema": {"type": 5}}}', "not a valid JSON Schema"),
        ('{"id": "a", "question": "q", "format": {"noCitations": false}}', "format.noCitations"),
    ],
)
def test_a_bad_line_is_rejected_with_what_is_wrong(line: str | bytes, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_item(line)
    assert reason in str(caught.value)


def test_the_report_names_every_bad_line_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(
        '{"id": "a", "question": "q1"}\n'
        "\n"
        "{broken\n"
        '{"id": "a", "question": "q2"}\n'
        '{"id": "b", "question": "q3", "format": {"colour": "red"}}\n',
        encoding="utf-8",
    )
    with pytest.raises(InvalidSetError) as caught:
        load_set(path)
    error = caught.value
    assert [(p.line, p.reason.split(" ")[0]) for p in error.problems] == [
        (3, "not"),
        (4, "id"),
        (5, "format:"),
    ]
    assert "repeats line 1" in error.problems[1].reason
    text = str(error)
    assert "3 bad line(s) of 4; nothing was sent" in text
    assert "line 3: not valid JSON" in text and "line 5: format: unknown check(s) colour" in text


def test_an_empty_set_and_an_unreadable_file_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(LadderError, match="is empty: an evaluation set needs at least one item"):
        load_set(empty)
    with pytest.raises(SetupError, match="cannot read evaluation set"):
        load_set(tmp_path / "missing.jsonl")


def test_a_valid_set_keeps_file_order_and_its_sha256(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text('{"id": "b", "question": "q1"}\n{"id": "a", "question": "q2"}\n', encoding="utf-8")
    evalset = load_set(path)
    assert [item.id for item in evalset.items] == ["b", "a"]
    assert evalset.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


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
