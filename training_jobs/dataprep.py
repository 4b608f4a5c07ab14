"""Check, de-duplicate and split chat-format fine-tuning data.

Standard library only: the same code runs in the operator CLI (``ladder data check FILE``), in the
dataset-validation Lambda of the fine-tune pipeline and in tests.

Input is JSON Lines, one conversation per line::

    {"messages": [{"role": "system", "content": "..."},
                  {"role": "user", "content": "..."},
                  {"role": "assistant", "content": "..."}]}

Every non-blank line is checked, in this order, and rejected with the first reason that applies
(see :class:`Reason`): it parses as JSON; it is an object whose only key is ``messages``, a non-empty
list of objects whose only keys are ``role`` (``system``, ``user`` or ``assistant``) and ``content``
(a string); the roles are an optional single leading ``system`` message, then ``user`` and
``assistant`` alternating, starting with ``user`` and ending with ``assistant``; no content is empty
or whitespace; the contents together are at most ``max_chars`` characters; it is not an exact
duplicate of an earlier clean line (same roles and contents); it is not a near duplicate of one.

Near duplicates: two conversations are near duplicates when they have the same roles in the same
order and every content is equal after :func:`normalise_text` (casefold, delete Unicode punctuation,
collapse every run of whitespace to one space, trim). The first clean occurrence is kept.

Held-out split: a clean record goes to the evaluation split when a SHA-256 hash of the seed and its
normalised text, read as a number in [0, 1), is below ``eval_fraction``. Membership therefore depends
only on the record's content, never on its position, so shuffling the input gives the same split.
When the fraction is above zero and there are at least two clean records, the evaluation split is
never empty (the record with the smallest hash goes there) and neither is the training split. Each
split is ordered by that hash, a deterministic shuffle.

Usage::

    with open("chats.jsonl", encoding="utf-8") as fp:
        prepared = prepare(fp, PrepOptions(min_examples=200))
    print(prepared.report.format())
    prepared.require_usable()          # raises NotEnoughExamplesError
    with open("train.jsonl", "w", encoding="utf-8") as out:
        write_jsonl(prepared.train, out)
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TextIO

__all__ = [
    "NotEnoughExamplesError",
    "PrepOptions",
    "Prepared",
    "Reason",
    "Rejection",
    "Report",
    "normalise_text",
    "prepare",
    "write_jsonl",
]

ROLES = ("system", "user", "assistant")
MESSAGE_KEYS = frozenset({"role", "content"})
RECORD_KEYS = frozenset({"messages"})
MAX_EVAL_FRACTION = 0.5
_DETAIL_PREVIEW_CHARS = 60

Record = dict[str, list[dict[str, str]]]


class Reason(StrEnum):
    """Why a line was rejected. The value is the stable name used in reports."""

    INVALID_JSON = "invalid_json"
    SCHEMA = "schema"
    EXTRA_KEYS = "extra_keys"
    ROLE_ORDER = "role_order"
    EMPTY_CONTENT = "empty_content"
    TOO_LONG = "too_long"
    DUPLICATE = "duplicate"
    NEAR_DUPLICATE = "near_duplicate"


@dataclass(frozen=True)
class PrepOptions:
    """How strict the checks are and how the held-out split is drawn.

    Attributes:
        eval_fraction: Share of clean records held out for evaluation, 0 to 0.5 (0 disables the split).
        min_examples: Clean records needed (train and eval together) for the dataset to be usable, >= 1.
        max_chars: Largest total number of content characters in one conversation, >= 1.
        seed: Mixed into the split hash; change it to draw a different, still deterministic, split.
    """

    eval_fraction: float = 0.1
    min_examples: int = 200
    max_chars: int = 16_000
    seed: int = 0

    def __post_init__(self) -> None:
        fraction = self.eval_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not math.isfinite(fraction):
            raise ValueError(
                f"eval_fraction must be a number from 0 to {MAX_EVAL_FRACTION}, got {fraction!r}"
            )
        if not 0 <= fraction <= MAX_EVAL_FRACTION:
            raise ValueError(f"eval_fraction must be from 0 to {MAX_EVAL_FRACTION}, got {fraction!r}")
        for name in ("min_examples", "max_chars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be a whole number, got {self.seed!r}")


@dataclass(frozen=True)
class Rejection:
    """One rejected line: its 1-based line number in the input, the reason and a detail for a person."""

    line: int
    reason: Reason
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason.value, "detail": self.detail}


@dataclass(frozen=True)
class Report:
    """What :func:`prepare` found. ``read`` counts non-blank lines; blank lines are skipped silently."""

    read: int
    clean: int
    train: int
    eval: int
    min_examples: int
    rejections: tuple[Rejection, ...]

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    @property
    def rejected_by_reason(self) -> dict[str, int]:
        """Every reason, in :class:`Reason` order, with its count (zero included, for a stable shape)."""
        counts = dict.fromkeys((reason.value for reason in Reason), 0)
        for rejection in self.rejections:
            counts[rejection.reason.value] += 1
        return counts

    @property
    def usable(self) -> bool:
        return self.clean >= self.min_examples

    @property
    def missing(self) -> int:
        """How many more clean examples are needed (0 when usable)."""
        return max(0, self.min_examples - self.clean)

    def counts(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "clean": self.clean,
            "rejected": self.rejected,
            "train": self.train,
            "eval": self.eval,
            "rejected_by_reason": self.rejected_by_reason,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``usable``, ``min_examples``, ``missing``, ``counts`` and every rejection."""
        return {
            "usable": self.usable,
            "min_examples": self.min_examples,
            "missing": self.missing,
            "counts": self.counts(),
            "rejections": [rejection.to_dict() for rejection in self.rejections],
        }

    def summary(self) -> str:
        """One line, e.g. ``412 read, 380 clean (342 train, 38 eval), 32 rejected (duplicate: 20, ...)``."""
        reasons = ", ".join(f"{name}: {n}" for name, n in self.rejected_by_reason.items() if n)
        rejected = f"{self.rejected} rejected" + (f" ({reasons})" if reasons else "")
        verdict = "usable" if self.usable else f"NOT usable: {self.missing} more clean examples needed"
        return (
            f"{self.read} read, {self.clean} clean ({self.train} train, {self.eval} eval), {rejected}; "
            f"minimum {self.min_examples}, {verdict}"
        )

    def format(self, max_rejections: int = 50) -> str:
        """Human-readable report: the summary, then up to ``max_rejections`` rejected lines."""
        lines = [self.summary()]
        shown = self.rejections[:max_rejections]
        lines.extend(f"  line {r.line}: {r.reason.value}: {r.detail}" for r in shown)
        if self.rejected > len(shown):
            lines.append(f"  ... and {self.rejected - len(shown)} more rejected lines")
        return "\n".join(lines)


class NotEnoughExamplesError(ValueError):
    """Fewer clean examples than the minimum; ``clean``, ``required`` and ``missing`` say by how much."""

    def __init__(self, clean: int, required: int) -> None:
        self.clean = clean
        self.required = required
        self.missing = max(0, required - clean)
        super().__init__(
            f"Not enough clean examples: {clean} clean, {required} needed, {self.missing} missing. "
            "Fix the rejected lines listed in the report or add more conversations."
        )


@dataclass(frozen=True)
class Prepared:
    """The clean records, split into ``train`` and ``eval``, and the :class:`Report`."""

    train: list[Record]
    eval: list[Record]
    report: Report

    @property
    def usable(self) -> bool:
        return self.report.usable

    def require_usable(self) -> None:
        """Raise :class:`NotEnoughExamplesError` when there are fewer clean examples than required."""
        if not self.usable:
            raise NotEnoughExamplesError(self.report.clean, self.report.min_examples)


def normalise_text(text: str) -> str:
    """The text near-duplicate detection compares: casefolded, punctuation deleted, whitespace collapsed.

    Punctuation is every character whose Unicode category starts with ``P``; it is deleted, not replaced
    by a space, so ``e-mail`` and ``email`` compare equal.
    """
    folded = text.casefold()
    kept = "".join(ch for ch in folded if not unicodedata.category(ch).startswith("P"))
    return " ".join(kept.split())


def prepare(lines: Iterable[str | bytes], options: PrepOptions | None = None) -> Prepared:
    """Check every line, drop the rejected ones and split the rest into train and eval.

    ``lines`` are JSON Lines as ``str`` (an open text file) or ``bytes`` (UTF-8, UTF-16 or UTF-32, as
    read from S3); a UTF-8 byte-order mark on the first line is ignored. Never raises for bad data:
    call :meth:`Prepared.require_usable` to turn too few clean examples into an error.
    """
    opts = options if options is not None else PrepOptions()
    read = 0
    rejections: list[Rejection] = []
    clean: list[tuple[float, str, Record]] = []
    first_exact: dict[str, int] = {}
    first_near: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        read += 1
        checked = _check_line(raw, first_line=number == 1, max_chars=opts.max_chars)
        if isinstance(checked, tuple):
            reason, detail = checked
            rejections.append(Rejection(number, reason, detail))
            continue
        exact_key = json.dumps(checked, ensure_ascii=False, sort_keys=True)
        near_key = "\x1e".join(f"{m['role']}\x1f{normalise_text(m['content'])}" for m in checked)
        if exact_key in first_exact:
            detail = f"same conversation as line {first_exact[exact_key]}"
            rejections.append(Rejection(number, Reason.DUPLICATE, detail))
            continue
        if near_key in first_near:
            detail = f"same normalised text as line {first_near[near_key]}"
            rejections.append(Rejection(number, Reason.NEAR_DUPLICATE, detail))
            continue
        first_exact[exact_key] = number
        first_near[near_key] = number
        clean.append((_split_point(near_key, opts.seed), near_key, {"messages": checked}))

    train, held_out = _split(clean, opts.eval_fraction)
    report = Report(
        read=read,
        clean=len(clean),
        train=len(train),
        eval=len(held_out),
        min_examples=opts.min_examples,
        rejections=tuple(rejections),
    )
    return Prepared(train=train, eval=held_out, report=report)


def write_jsonl(records: Iterable[Record], fp: TextIO) -> int:
    """Write one compact JSON object per line (UTF-8 text, not ASCII-escaped); return how many."""
    count = 0
    for record in records:
        fp.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        fp.write("\n")
        count += 1
    return count


def _check_line(
    raw: str | bytes, *, first_line: bool, max_chars: int
) -> list[dict[str, str]] | tuple[Reason, str]:
    """The conversation's messages, or the reason and detail of the first check that fails."""
    if first_line and isinstance(raw, str):
        raw = raw.removeprefix("\ufeff")
    try:
        record = json.loads(raw)
    except UnicodeDecodeError as err:
        return Reason.INVALID_JSON, f"not valid text: {err.reason} at byte {err.start}"
    except json.JSONDecodeError as err:
        return Reason.INVALID_JSON, f"{err.msg} at column {err.colno}"
    if not isinstance(record, dict):
        return Reason.SCHEMA, f"expected a JSON object, got {_json_type(record)}"
    if "messages" not in record:
        return Reason.SCHEMA, "missing key 'messages'"
    extra = sorted(set(record) - RECORD_KEYS)
    if extra:
        return Reason.EXTRA_KEYS, f"unexpected keys {extra}; only 'messages' is allowed"
    messages = record["messages"]
    if not isinstance(messages, list) or not messages:
        return Reason.SCHEMA, "'messages' must be a non-empty list"
    for index, message in enumerate(messages):
        problem = _check_message(index, message)
        if problem is not None:
            return problem
    order_problem = _check_role_order([m["role"] for m in messages])
    if order_problem is not None:
        return Reason.ROLE_ORDER, order_problem
    for index, message in enumerate(messages):
        if not message["content"].strip():
            return Reason.EMPTY_CONTENT, f"messages[{index}] ({message['role']}) has empty content"
    total = sum(len(m["content"]) for m in messages)
    if total > max_chars:
        return Reason.TOO_LONG, f"{total} characters of content, the limit is {max_chars}"
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def _check_message(index: int, message: object) -> tuple[Reason, str] | None:
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        return Reason.SCHEMA, f"{where} must be an object, got {_json_type(message)}"
    missing = sorted(MESSAGE_KEYS - set(message))
    if missing:
        return Reason.SCHEMA, f"{where} is missing {missing}"
    extra = sorted(set(message) - MESSAGE_KEYS)
    if extra:
        return (
            Reason.EXTRA_KEYS,
            f"{where} has unexpected keys {extra}; only 'role' and 'content' are allowed",
        )
    role = message["role"]
    if role not in ROLES:
        shown = _preview(role) if isinstance(role, str) else _json_type(role)
        return Reason.SCHEMA, f"{where}.role must be one of {list(ROLES)}, got {shown}"
    if not isinstance(message["content"], str):
        return Reason.SCHEMA, f"{where}.content must be a string, got {_json_type(message['content'])}"
    return None


def _check_role_order(roles: list[str]) -> str | None:
    """None when roles are [system] user assistant (user assistant)*, else what is wrong."""
    start = 1 if roles[0] == "system" else 0
    turns = roles[start:]
    if not turns:
        return "a system message alone is not a conversation; add a user and an assistant message"
    for offset, role in enumerate(turns):
        expected = "user" if offset % 2 == 0 else "assistant"
        if role != expected:
            at = start + offset
            if role == "system":
                return f"messages[{at}] is a system message; only the first message may be one"
            return f"messages[{at}] should be {expected}, got {role} (user and assistant must alternate)"
    if turns[-1] != "assistant":
        return "the conversation must end with an assistant message"
    return None


def _split_point(near_key: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}\x00{near_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _split(clean: list[tuple[float, str, Record]], fraction: float) -> tuple[list[Record], list[Record]]:
    ordered = sorted(clean, key=lambda item: (item[0], item[1]))
    cut = sum(1 for point, _, _ in ordered if point < fraction)
    if fraction > 0 and len(ordered) >= 2:
        cut = min(max(cut, 1), len(ordered) - 1)
    held_out = [record for _, _, record in ordered[:cut]]
    train = [record for _, _, record in ordered[cut:]]
    return train, held_out


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _preview(text: str) -> str:
    shown = text if len(text) <= _DETAIL_PREVIEW_CHARS else text[:_DETAIL_PREVIEW_CHARS] + "..."
    return repr(shown)
