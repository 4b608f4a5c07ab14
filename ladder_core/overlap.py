"""Contamination check: which evaluation questions also appear among training (or few-shot) user turns.

A model trained on its own test scores high, and an example shown in the prompt that is the question
itself answers it for the model. Two rules, both on normalised text (lower case, Unicode NFKC, punctuation
removed, whitespace collapsed):

- **exact**: the normalised question equals a normalised user turn;
- **near**: at least ``NEAR_THRESHOLD`` of the question's word 8-grams occur in one user turn (for a
  question shorter than 8 words, its whole word sequence must occur in the turn).

Used by ``ladder data check --eval-set``, ``ladder justify --data`` and ``ladder examples upload``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

NGRAM = 8
NEAR_THRESHOLD = 0.5

_NON_WORD = re.compile(r"[^\w\s]+")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-cased NFKC text without punctuation, whitespace collapsed to single spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", _NON_WORD.sub(" ", folded)).strip()


def ngrams(words: list[str], n: int = NGRAM) -> set[tuple[str, ...]]:
    """The word n-grams of ``words``; the whole sequence as one gram when it is shorter than ``n``."""
    if not words:
        return set()
    if len(words) < n:
        return {tuple(words)}
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@dataclass(frozen=True)
class Overlap:
    """The evaluation items found in the training text: ids by rule, in evaluation-set order."""

    exact: tuple[str, ...] = ()
    near: tuple[str, ...] = ()
    checked: int = 0
    against: int = 0
    details: dict[str, float] = field(default_factory=dict)

    @property
    def ids(self) -> tuple[str, ...]:
        """Every overlapping item id, exact ones first."""
        return self.exact + tuple(i for i in self.near if i not in self.exact)

    @property
    def clean(self) -> bool:
        return not self.exact and not self.near

    def to_dict(self) -> dict[str, Any]:
        """The public shape: ``{"exact": N, "near": N, "ids": [...]}`` (counts, and the ids to remove)."""
        return {"exact": len(self.exact), "near": len(self.near), "ids": list(self.ids)}

    def describe(self) -> str:
        """One line naming the items to remove, or saying none overlap."""
        if self.clean:
            return f"none of {self.checked} evaluation questions appear in {self.against} training user turns"
        return (
            f"{len(self.exact)} evaluation question(s) appear verbatim and {len(self.near)} nearly "
            f"(word {NGRAM}-gram overlap >= {NEAR_THRESHOLD}) in the training user turns; remove these "
            f"items from the training data or the evaluation set: {', '.join(self.ids)}"
        )


def find_overlap(questions: Iterable[tuple[str, str]], user_turns: Iterable[str]) -> Overlap:
    """Compare evaluation ``(id, question)`` pairs with training ``user_turns`` by the module's rules."""
    turns = [normalise(turn) for turn in user_turns]
    exact_set = set(turns)
    gram_index: dict[tuple[str, ...], set[int]] = {}
    for index, turn in enumerate(turns):
        for gram in ngrams(turn.split()):
            gram_index.setdefault(gram, set()).add(index)
    short_turns = [f" {turn} " for turn in turns]

    exact: list[str] = []
    near: list[str] = []
    details: dict[str, float] = {}
    checked = 0
    for item_id, question in questions:
        checked += 1
        text = normalise(question)
        if not text:
            continue
        if text in exact_set:
            exact.append(item_id)
            details[item_id] = 1.0
            continue
        words = text.split()
        if len(words) < NGRAM:
            # Too short for 8-grams: the whole question must occur inside one turn.
            if any(f" {text} " in turn for turn in short_turns):
                near.append(item_id)
                details[item_id] = 1.0
            continue
        grams = ngrams(words)
        hits: dict[int, int] = {}
        for gram in grams:
            for index in gram_index.get(gram, ()):
                hits[index] = hits.get(index, 0) + 1
        best = max(hits.values(), default=0) / len(grams)
        if best >= NEAR_THRESHOLD:
            near.append(item_id)
            details[item_id] = round(best, 3)
    return Overlap(tuple(exact), tuple(near), checked, len(turns), details)


def user_turns(record: dict[str, Any]) -> list[str]:
    """The user turns' text of one chat record (``{"messages": [{"role", "content"}]}``); content given as
    a list of ``{"text": ...}`` blocks is joined."""
    turns = []
    for message in record.get("messages") or []:
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(str(block.get("text", "")) for block in content if isinstance(block, dict))
        if isinstance(content, str) and content.strip():
            turns.append(content)
    return turns
