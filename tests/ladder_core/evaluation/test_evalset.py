"""The evaluation set's format: every rejection, the report of bad lines, the empty set, the sha256."""

from __future__ import annotations

import builtins
import hashlib
import json
from pathlib import PurePosixPath
from typing import Any

import pytest

from ladder_core.evaluation.evalset import InvalidSetError, parse_item, parse_set

SOURCE = PurePosixPath("s3://evaluations/staged/watch/set.jsonl")


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


def test_the_report_names_every_bad_line_and_blank_lines_are_skipped() -> None:
    raw = (
        b'{"id": "a", "question": "q1"}\n'
        b"\n"
        b"{broken\n"
        b'{"id": "a", "question": "q2"}\n'
        b'{"id": "b", "question": "q3", "format": {"colour": "red"}}\n'
    )
    with pytest.raises(InvalidSetError) as caught:
        parse_set(raw, SOURCE)
    error = caught.value
    assert [(p.line, p.reason.split(" ")[0]) for p in error.problems] == [
        (3, "not"),
        (4, "id"),
        (5, "format:"),
    ]
    assert "repeats line 1" in error.problems[1].reason
    text = str(error)
    assert text.startswith(f"{SOURCE}: 3 bad line(s) of 4; nothing was sent")
    assert "line 3: not valid JSON" in text and "line 5: format: unknown check(s) colour" in text


def test_an_empty_set_is_refused_with_an_example_of_an_item() -> None:
    with pytest.raises(
        InvalidSetError, match="is empty: an evaluation set needs at least one item"
    ) as caught:
        parse_set(b"\n\n", SOURCE)
    assert caught.value.problems == []


def test_a_valid_set_keeps_file_order_and_its_sha256() -> None:
    raw = b'{"id": "b", "question": "q1"}\n{"id": "a", "question": "q2"}\n'
    evalset = parse_set(raw, SOURCE)
    assert [item.id for item in evalset.items] == ["b", "a"]
    assert evalset.sha256 == hashlib.sha256(raw).hexdigest()
    assert evalset.path == SOURCE


def test_a_json_schema_check_without_jsonschema_installed_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a place without jsonschema (a Lambda function carries only the standard library)
    real_import = builtins.__import__

    def no_jsonschema(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "jsonschema":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_jsonschema)
    line = json.dumps({"id": "a", "question": "q", "format": {"jsonSchema": {"type": "object"}}})
    # Then the line is refused, naming the check and the checks that work here
    with pytest.raises(ValueError, match=r"format\.jsonSchema: cannot be checked here") as caught:
        parse_item(line)
    assert "maxWords, regex, startsWith, noCitations" in str(caught.value)
