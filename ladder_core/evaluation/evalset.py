"""The evaluation set: JSON Lines, one item a line; every bad line is reported before anything is sent.

An item::

    {"id": "leave-1", "question": "How many days of annual leave ...?", "answerable": true,
     "mustInclude": ["27 days"], "reference": "27 days per calendar year ...",
     "sources": ["handbook/leave.md"], "format": {"maxWords": 80}, "tags": ["handbook"]}

Parsing works on the set's bytes, wherever they were read from (a file for the CLI, an S3 object for the
evaluation function); ``format.jsonSchema`` needs ``jsonschema``, imported only by that check.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from ..scoring import FORMAT_CHECKS, Item

MAX_QUESTION_CHARS = 2000
MAX_ID_CHARS = 200
ITEM_KEYS = ("id", "question", "answerable", "mustInclude", "reference", "sources", "format", "tags")
SHOWN_PROBLEMS = 50


@dataclass(frozen=True)
class EvalSet:
    """A valid set: where it was read from, the sha256 of its bytes (names the run folder) and its items in
    file order."""

    path: PurePath
    sha256: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Problem:
    """One bad line: its number (1-based) and why it was refused."""

    line: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason}


class InvalidSetError(ValueError):
    """The set cannot be used: ``problems`` names each bad line (none when the set is empty); the message
    says what is wrong and what is accepted."""

    def __init__(self, path: PurePath, problems: list[Problem], read: int) -> None:
        self.path = path
        self.problems = problems
        self.read = read
        super().__init__(self.format())

    def format(self, max_problems: int = SHOWN_PROBLEMS) -> str:
        if not self.problems:
            return (
                f"{self.path} is empty: an evaluation set needs at least one item, one JSON object per line "
                '(such as {"id": "leave-1", "question": "How many days of leave?"}); nothing was sent'
            )
        lines = [f"{self.path}: {len(self.problems)} bad line(s) of {self.read}; nothing was sent"]
        lines += [f"  line {p.line}: {p.reason}" for p in self.problems[:max_problems]]
        if len(self.problems) > max_problems:
            lines.append(f"  ... and {len(self.problems) - max_problems} more")
        return "\n".join(lines)


def parse_set(raw: bytes, path: PurePath) -> EvalSet:
    """Parse and check the whole set (``raw``, read from ``path``): an :class:`EvalSet`, or
    :class:`InvalidSetError` naming every bad line. Blank lines are skipped."""
    items: list[Item] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    read = 0
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        read += 1
        try:
            item = parse_item(line)
        except ValueError as err:
            problems.append(Problem(number, str(err)))
            continue
        if item.id in seen:
            problems.append(
                Problem(number, f"id {item.id!r} repeats line {seen[item.id]}; ids must be unique")
            )
            continue
        seen[item.id] = number
        items.append(item)
    if problems or not read:
        raise InvalidSetError(path, problems, read)
    return EvalSet(path=path, sha256=hashlib.sha256(raw).hexdigest(), items=tuple(items))


def parse_item(line: bytes | str) -> Item:
    """One line as an :class:`Item`; ValueError whose message says what is wrong and what is accepted."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("not UTF-8 text") from None
    try:
        data = json.loads(line)
    except ValueError as err:
        raise ValueError(f"not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(ITEM_KEYS))
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}; accepted: {', '.join(ITEM_KEYS)}")
    item_id = data.get("id")
    if not isinstance(item_id, str) or not item_id.strip() or len(item_id) > MAX_ID_CHARS:
        raise ValueError(f"id: required, a non-blank string of at most {MAX_ID_CHARS} characters")
    question = data.get("question")
    if not isinstance(question, str) or not question.strip() or len(question) > MAX_QUESTION_CHARS:
        raise ValueError(f"question: required, a non-blank string of 1..{MAX_QUESTION_CHARS} characters")
    answerable = data.get("answerable", True)
    if not isinstance(answerable, bool):
        raise ValueError("answerable: expected true or false")
    reference = data.get("reference")
    if reference is not None and (not isinstance(reference, str) or not reference.strip()):
        raise ValueError("reference: expected a non-blank string")
    must_include = _strings(data, "mustInclude")
    if must_include and not answerable:
        raise ValueError("mustInclude: an unanswerable item cannot list facts its answer must state")
    return Item(
        id=item_id,
        question=question,
        answerable=answerable,
        must_include=must_include,
        reference=reference,
        sources=_strings(data, "sources"),
        format=_format(data.get("format")),
        tags=_strings(data, "tags"),
    )


def _strings(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{key}: expected a list of non-blank strings")
    return tuple(value)


def _format(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not value:
        raise ValueError(f"format: expected an object with one or more of {', '.join(FORMAT_CHECKS)}")
    unknown = sorted(set(value) - set(FORMAT_CHECKS))
    if unknown:
        raise ValueError(
            f"format: unknown check(s) {', '.join(unknown)}; accepted: {', '.join(FORMAT_CHECKS)}"
        )
    max_words = value.get("maxWords")
    if "maxWords" in value and (
        isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1
    ):
        raise ValueError("format.maxWords: expected a whole number of at least 1")
    if "regex" in value:
        if not isinstance(value["regex"], str):
            raise ValueError("format.regex: expected a regular expression string")
        try:
            re.compile(value["regex"])
        except re.error as err:
            raise ValueError(f"format.regex: not a valid regular expression ({err})") from None
    if "startsWith" in value and (not isinstance(value["startsWith"], str) or not value["startsWith"]):
        raise ValueError("format.startsWith: expected a non-empty string")
    if "jsonSchema" in value:
        schema = value["jsonSchema"]
        if not isinstance(schema, dict):
            raise ValueError("format.jsonSchema: expected a JSON Schema object")
        try:
            import jsonschema
        except ImportError:
            raise ValueError(
                "format.jsonSchema: cannot be checked here (the jsonschema package is not installed); "
                "accepted here: " + ", ".join(check for check in FORMAT_CHECKS if check != "jsonSchema")
            ) from None
        try:
            jsonschema.validators.validator_for(schema).check_schema(schema)
        except jsonschema.SchemaError as err:
            raise ValueError(f"format.jsonSchema: not a valid JSON Schema ({err.message})") from None
    if "noCitations" in value and value["noCitations"] is not True:
        raise ValueError("format.noCitations: expected true (leave it out otherwise)")
    return dict(value)
