"""Scores one API answer against one item of the evaluation set: deterministic, documented rules only.
Standard library only (``jsonschema`` is imported by the one check that needs it), so the CLI and a
Lambda can run the same rules.

Normalisation (for ``mustInclude``, token F1 and refusal phrases): Unicode NFKC, lower case, thousands
separators dropped between digits (``10,000`` = ``10 000`` = ``10000``), every other punctuation
character becomes a space (a ``.`` or ``,`` between two digits is kept: ``2.5``), whitespace collapsed.
A fact is present when its normalised text occurs in the normalised answer on word boundaries.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from . import metrics
from .api import NO_CONTEXT_ANSWER, PROMPT

FORMAT_CHECKS = ("maxWords", "regex", "startsWith", "jsonSchema", "noCitations")
"""The checks an item's ``format`` may ask for (see :func:`format_failures`)."""
SCHEMA_VERSION = 2
"""``schemaVersion`` of a ``scores.jsonl`` line: raised when a key changes meaning, not when one is added.
2: a line is one (id, arm, repeat), so an (id, arm) has one line per repeat."""


@dataclass(frozen=True)
class Item:
    """One question of the set and what a good answer to it looks like."""

    id: str
    question: str
    answerable: bool = True
    must_include: tuple[str, ...] = ()
    reference: str | None = None
    sources: tuple[str, ...] = ()
    format: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


REFUSAL_PHRASES = (
    "not in the documents",
    "not in the passages",
    "not in the provided",
    "could not find",
    "couldn t find",
    "cannot answer",
    "can t answer",
    "unable to answer",
    "unable to find",
    "do not know",
    "don t know",
    "do not have information",
    "don t have information",
    "no information",
    "not mentioned",
    "does not contain",
    "doesn t contain",
    "do not contain",
    "don t contain",
    "does not say",
    "doesn t say",
    "does not specify",
    "doesn t specify",
    "not specified",
    "not provided",
    "i m not sure",
    "i am not sure",
)
"""A normalised answer containing one of these declines to answer (``refusal``)."""

SCORE_KEYS = (
    "schemaVersion",
    "id",
    "arm",
    "repeat",
    "status",
    metrics.CORRECTNESS.score_key,
    metrics.MUST_INCLUDE_RECALL.score_key,
    metrics.TOKEN_F1.score_key,
    "refusal",
    metrics.REFUSAL_ACCURACY.score_key,
    metrics.SOURCE_HIT_RATE.score_key,
    metrics.MRR.score_key,
    metrics.FORMAT_COMPLIANCE.score_key,
    metrics.CITATION_VALIDITY.score_key,
    "judge",
    metrics.LATENCY.score_key,
    "inputTokens",
    "outputTokens",
    metrics.COST_PER_QUERY.score_key,
    "missingFacts",
    "formatFailures",
)
"""The keys of one ``scores.jsonl`` line, in order (a public contract: keys are added, never renamed)."""

_THOUSANDS = re.compile(r"(?<=\d)[,\s\u00a0\u202f](?=\d{3}(?!\d))")
_CITATION = re.compile(r"\[(\d+)\]")
_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?```$", re.DOTALL)


def normalise(text: str) -> str:
    """The text as the matching rules see it (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _THOUSANDS.sub("", text)
    kept = (char if _kept(text, index) else " " for index, char in enumerate(text))
    return " ".join("".join(kept).split())


def _kept(text: str, index: int) -> bool:
    char = text[index]
    if char.isalnum() or char.isspace():
        return True
    return char in ".," and _digit_at(text, index - 1) and _digit_at(text, index + 1)


def _digit_at(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isdigit()


def contains(answer: str, fact: str) -> bool:
    """Whether the normalised ``fact`` occurs in the normalised ``answer`` as whole words."""
    needle = normalise(fact)
    return bool(needle) and f" {needle} " in f" {normalise(answer)} "


def missing_facts(answer: str, facts: tuple[str, ...]) -> list[str]:
    """The ``facts`` the answer does not state, in the item's order."""
    return [fact for fact in facts if not contains(answer, fact)]


def must_include_recall(answer: str, facts: tuple[str, ...]) -> float | None:
    """The share of ``facts`` the answer states; None when there are none."""
    if not facts:
        return None
    return (len(facts) - len(missing_facts(answer, facts))) / len(facts)


def token_f1(answer: str, reference: str | None) -> float | None:
    """SQuAD-style F1 of the normalised word multisets of answer and reference; None without a reference."""
    if reference is None:
        return None
    predicted, expected = normalise(answer).split(), normalise(reference).split()
    common = sum((Counter(predicted) & Counter(expected)).values())
    if not predicted or not expected or not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def is_refusal(response: dict[str, Any]) -> bool:
    """The answer declines: the API's no-context answer, a guardrail intervention, or a refusal phrase."""
    answer = str(response.get("answer", ""))
    if answer.strip() == NO_CONTEXT_ANSWER:
        return True
    if (response.get("guardrail") or {}).get("action") == "INTERVENED":
        return True
    text = f" {normalise(answer)} "
    return any(f" {phrase} " in text for phrase in REFUSAL_PHRASES)


def cited_numbers(answer: str) -> list[int]:
    return [int(number) for number in _CITATION.findall(answer)]


def citations_valid(answer: str, citations: list[Any]) -> bool | None:
    """Every ``[n]`` in the answer is ``citations[n-1]``; None when the answer cites nothing."""
    numbers = cited_numbers(answer)
    if not numbers:
        return None
    return all(1 <= n <= len(citations) for n in numbers)


def reciprocal_rank(citations: list[dict[str, Any]], sources: tuple[str, ...]) -> float:
    """1/rank of the first citation whose ``sourceUri`` ends with one of ``sources``; 0 when none does."""
    for rank, citation in enumerate(citations, start=1):
        uri = str(citation.get("sourceUri", ""))
        if any(uri.endswith(source) for source in sources):
            return 1 / rank
    return 0.0


def format_failures(answer: str, checks: dict[str, Any]) -> list[str]:
    """The names of the ``format`` checks the answer fails (empty: all pass).

    ``maxWords``: at most N whitespace-separated words. ``regex``: ``re.search`` finds a match.
    ``startsWith``: the answer, leading whitespace stripped, starts with the text (case-insensitive).
    ``jsonSchema``: the answer (one surrounding Markdown code fence allowed) is JSON valid against the
    schema. ``noCitations``: no ``[n]`` marker.
    """
    failed = []
    if "maxWords" in checks and len(answer.split()) > checks["maxWords"]:
        failed.append("maxWords")
    if "regex" in checks and not re.search(checks["regex"], answer):
        failed.append("regex")
    if "startsWith" in checks and not answer.lstrip().lower().startswith(checks["startsWith"].lower()):
        failed.append("startsWith")
    if "jsonSchema" in checks and not _valid_json(answer, checks["jsonSchema"]):
        failed.append("jsonSchema")
    if checks.get("noCitations") and cited_numbers(answer):
        failed.append("noCitations")
    return failed


def _valid_json(answer: str, schema: dict[str, Any]) -> bool:
    # Imported here: only a set with a jsonSchema check needs it, and the rest of the rules stay stdlib-only.
    import jsonschema

    text = answer.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        jsonschema.validate(json.loads(text), schema)
    except (ValueError, jsonschema.ValidationError):
        return False
    return True


def score(item: Item, arm: str, record: dict[str, Any], *, cost_usd: float | None = None) -> dict[str, Any]:
    """One ``scores.jsonl`` line for ``item`` answered by ``arm``; ``record`` is a ``responses.jsonl`` line.

    An error record gets null metrics (``refusal`` false) so it counts in ``errors``, not in the rates.
    ``missingFacts`` and ``formatFailures`` say why an answer failed: the ``mustInclude`` facts it does not
    state and the names of the ``format`` checks it fails (null when the item has none).
    """
    row: dict[str, Any] = dict.fromkeys(SCORE_KEYS)
    row.update(
        {
            "schemaVersion": SCHEMA_VERSION,
            "id": item.id,
            "arm": arm,
            "repeat": record.get("repeat") or 0,
            "status": record["status"],
            "refusal": False,
            metrics.LATENCY.score_key: record.get("latencyMs"),
        }
    )
    response = record.get("response")
    if record["status"] != "ok" or not isinstance(response, dict):
        return row
    answer = str(response.get("answer", ""))
    citations = [c for c in response.get("citations") or [] if isinstance(c, dict)]
    usage = response.get("usage") or {}
    refusal = is_refusal(response)
    missing = missing_facts(answer, item.must_include) if item.must_include else None
    failures = format_failures(answer, item.format) if item.format else None
    if not item.answerable:
        correct: bool | None = refusal
    elif missing is not None:
        correct = not missing and not refusal
    else:
        correct = None
    retrieval = bool(item.sources) and arm != PROMPT
    rank = reciprocal_rank(citations, item.sources) if retrieval else None
    row.update(
        {
            metrics.CORRECTNESS.score_key: correct,
            metrics.MUST_INCLUDE_RECALL.score_key: must_include_recall(answer, item.must_include),
            metrics.TOKEN_F1.score_key: token_f1(answer, item.reference),
            "refusal": refusal,
            metrics.REFUSAL_ACCURACY.score_key: refusal == (not item.answerable),
            metrics.SOURCE_HIT_RATE.score_key: None if rank is None else rank > 0,
            metrics.MRR.score_key: rank,
            metrics.FORMAT_COMPLIANCE.score_key: None if failures is None else not failures,
            metrics.CITATION_VALIDITY.score_key: citations_valid(answer, citations),
            "inputTokens": usage.get("inputTokens"),
            "outputTokens": usage.get("outputTokens"),
            metrics.COST_PER_QUERY.score_key: cost_usd,
            "missingFacts": missing,
            "formatFailures": failures,
        }
    )
    return row
