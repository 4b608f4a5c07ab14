"""Scores one API answer against one item of the evaluation set: deterministic, documented rules only.
Standard library only (``jsonschema`` is imported by the one check that needs it), so the CLI and a
Lambda can run the same rules. README "How answers are scored" has the rules with examples.

Normalisation (for ``mustInclude``, token F1 and refusals), see :func:`normalise`: Unicode NFKC, lower
case; numbers read once (``10,000`` = ``10 000`` = ``10000``, ``2,5`` = ``2.5``, ``1.50`` = ``1.5``);
``%`` becomes the word ``percent``; every other punctuation character becomes a space; whitespace
collapsed. A fact is present when its normalised text occurs in the normalised answer on word boundaries.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from . import metrics
from .api import NO_CONTEXT_ANSWER, PROMPT, parse_arm

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


_NOT = r"(?: not|n t)"
# "does not" and "doesn't" alike: normalisation turns the apostrophe into a space ("doesn t").
_SOURCE = (
    r"(?:documents?|passages?|context|sources?|texts?|excerpts?|materials?|information|handbook|"
    r"search results|knowledge base|records?)"
)
REFUSAL_PATTERNS = (
    # "I don't know", "I'm not sure", "no idea"
    r"\b(?:i|we)(?: do| did)" + _NOT + r" know\b",
    r"\b(?:i m|i am|we re|we are) (?:not (?:sure|certain)|unsure|uncertain)\b",
    r"\bno idea\b",
    # "I cannot answer", "I couldn't find", "unable to find", "it cannot be found"
    r"\b(?:cannot|can not|can t|could not|couldn t|unable to|not able to) (?:answer|find|locate)\b",
    r"\b(?:cannot|can t|could not|couldn t|not) be (?:found|answered|determined)\b",
    # "I can't tell", "I'm unable to provide", "I don't see", "we cannot confirm" (first person only:
    # "You cannot provide your password to anyone" answers a question)
    r"\b(?:i|we)(?: \w+)? (?:cannot|can not|can t|could not|couldn t|am unable to|m unable to|are unable to|"
    r"re unable to|was unable to|were unable to|am not able to|m not able to|did not|didn t|do not|don t) "
    r"(?:determine|confirm|provide|tell|say|see|help)\b",
    # "I do not have enough information", "I don't have access", "we have no details"
    r"\b(?:i|we)(?: do| did)" + _NOT + r" have (?:\w+ )?(?:information|details|data|access|knowledge)\b",
    r"\b(?:i|we) have no (?:\w+ )?(?:information|details|data|access|knowledge)\b",
    # "not enough information", "insufficient context"
    r"\b(?:not enough|insufficient) (?:\w+ )?(?:information|context|details|data)\b",
    # "there is no information about", "no mention of", "no relevant information was found"; not
    # "No information beyond your employee ID is needed", which answers
    r"\b(?:there is|there s|there are|contains?|has|have|gives?|provides?|makes?|made) no (?:\w+ )?"
    r"(?:information|mention|details?|data)\b",
    r"\bno (?:\w+ )?(?:information|details|data|mention) (?:about|on|regarding|concerning|of)\b",
    r"\bno (?:\w+ )?(?:information|details|data) (?:is|was|are|were) "
    r"(?:found|provided|given|available|included)\b",
    # "the documents don't mention", "the handbook does not specify", "it is not stated"
    r"\b(?:does|do|did)" + _NOT + r" (?:mention|specify|say|state|address|discuss|indicate|clarify|detail)\b",
    r"\bnot (?:mentioned|specified|stated|addressed|discussed|indicated|clarified|detailed)\b",
    # "the provided context does not include", "the passages do not contain": a source as the subject, as
    # "The Breeze plan does not include API access" answers a question
    r"\b"
    + _SOURCE
    + r"(?: \w+){0,2}(?: do| does| did)"
    + _NOT
    + r" (?:include|contain|cover|provide|have|list|give|offer|show|reference)\b",
    r"\b(?:does|do|did)" + _NOT + r" (?:include|contain|provide|have|give|offer|list)"
    r"(?: any| enough| the| specific| sufficient)? (?:information|details|data|mention)\b",
    # "not in the documents", "isn't available in the provided documents", "not part of the context"
    r"(?:\bnot|n t)(?: \w+){0,2} (?:in|within|from|among|by|of) "
    r"(?:the|these|those|this|your|my|any)(?: \w+){0,2} " + _SOURCE + r"\b",
    # "nothing in the passages mentions it", "the handbook is silent on pets"
    r"\bnothing (?:in|within) (?:the|these|those|this|your|my|any)(?: \w+){0,2} " + _SOURCE + r"\b",
    r"\b" + _SOURCE + r"(?: \w+){0,2} (?:is|are) silent\b",
    # "that information isn't available", "the answer is not provided"
    r"\b(?:information|answer|details?|figure|number)(?: \w+){0,2} (?:is|are|was|were)"
    + _NOT
    + r" (?:available|provided|given|included|listed|found)\b",
)
"""Regular expressions over the normalised opening sentence: one that matches declines (``refusal``,
unless the answer states a ``mustInclude`` fact). Words are lower case, punctuation is a space."""
_DECLINES = re.compile("|".join(f"(?:{pattern})" for pattern in REFUSAL_PATTERNS))

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

# Thousands groups: a first group of 1-3 digits (no leading 0), then groups of exactly 3 digits, one
# separator throughout, not touching another digit. "2023 100" is two numbers: 2023 is no first group.
_SPACE_GROUPED = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?: \d{3})+(?!\d)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)+")
_COMMA_GROUPED = re.compile(r"[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")
_DOT_GROUPED = re.compile(r"[1-9]\d{0,2}(?:(?:\.\d{3}){2,}(?:,\d+)?|(?:\.\d{3})+,\d+)")
_DECIMAL = re.compile(r"\d+[.,]\d+")
_PER_CENT = re.compile(r"(?<!\S)per cent(?!\S)")
# Every character but a letter, a digit or white space; after _canonical_number, a "." between digits is
# the one decimal point of a number and stays.
_PUNCTUATION = re.compile(r"_|(?!(?<=\d)\.\d)[^\w\s]")
# A marker lists numbers and ranges: [1], [1, 3], [1-2], [1\u20132] (any dash).
_CITATION = re.compile(
    r"\[\s*(\d+(?:\s*[-\u2010-\u2014]\s*\d+)?(?:\s*[,;]\s*\d+(?:\s*[-\u2010-\u2014]\s*\d+)?)*)\s*\]"
)
_RANGE = re.compile(r"\s*[-\u2010-\u2014]\s*")
MAX_CITATION_NUMBER = 99
"""A bracketed number above this is not a citation marker (``[2023]`` is a year)."""
_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?```$", re.DOTALL)
# Leading marks an answer may open with: a heading, a quote, a list bullet, emphasis or a quotation mark.
_LEADING_MARK = re.compile(r"#{1,6}(?=\s)|>|[-+*](?=\s)|\*\*|__|[*_\"\u201c\u2018']")
_CLOSING_MARK = {
    "**": "**",
    "__": "__",
    "*": "*",
    "_": "_",
    '"': '"',
    "\u201c": "\u201d",
    "\u2018": "\u2019",
    "'": "'",
}
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n\s*\n")


@functools.lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    """The text as the matching rules see it.

    Unicode NFKC and lower case; then numbers: thousands separators (``,`` ``.`` or a space) are removed
    inside well-formed groups only (``10,000`` = ``10 000`` = ``10000``, ``1.500.000`` = ``1500000``;
    ``2023 100`` stays two numbers); a single ``,`` or ``.`` between digits is a decimal mark, written
    ``.`` with trailing fraction zeros dropped (``2,5`` = ``2.5``, ``€1,200.00`` = ``€1,200``, ``0.30``
    = ``0.3``); other runs of digits joined by ``.`` or ``,`` are separate numbers (``31.03.2024`` =
    ``31 03 2024``). ``%`` and ``per cent`` become the word ``percent``. Every other punctuation or symbol
    character (currency signs included) becomes a space; whitespace is collapsed.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = _SPACE_GROUPED.sub(lambda match: match.group().replace(" ", ""), text)
    text = _NUMBER.sub(_canonical_number, text).replace("%", " percent ")
    return _PER_CENT.sub("percent", " ".join(_PUNCTUATION.sub(" ", text).split()))


def _canonical_number(match: re.Match[str]) -> str:
    token = match.group()
    if _COMMA_GROUPED.fullmatch(token):
        number = token.replace(",", "")
    elif _DOT_GROUPED.fullmatch(token):
        number = token.replace(".", "").replace(",", ".")
    elif _DECIMAL.fullmatch(token):
        number = token.replace(",", ".")
    else:
        return re.sub(r"[.,]", " ", token)
    whole, _, fraction = number.partition(".")
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def contains(answer: str, fact: str) -> bool:
    """Whether the normalised ``fact`` occurs in the normalised ``answer`` as whole words."""
    return _occurs(normalise(fact), normalise(answer))


def _occurs(needle: str, text: str) -> bool:
    return bool(needle) and f" {needle} " in f" {text} "


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


def strip_leading_markdown(text: str) -> str:
    """``text`` without the Markdown it opens with: heading marks (``#``), quote marks (``>``), a list
    bullet, emphasis (``**``, ``__``, ``*``, ``_``) and quotation marks, with the emphasis or quotation
    mark that closes each on the first line (``**Yes**, you can.`` -> ``Yes, you can.``)."""
    closers = []
    text = text.lstrip()
    while match := _LEADING_MARK.match(text):
        closer = _CLOSING_MARK.get(match.group())
        text = text[match.end() :]
        if closer and not text[:1].isspace():
            closers.append(closer)
        text = text.lstrip()
    first_line, newline, rest = text.partition("\n")
    for closer in reversed(closers):
        first_line = first_line.replace(closer, "", 1)
    return first_line + newline + rest


def opening_sentence(answer: str) -> str:
    """The answer's first sentence, leading Markdown stripped: up to the first ``.``, ``!`` or ``?``
    followed by white space, or the first blank line (a decimal point does not end it)."""
    text = strip_leading_markdown(answer)
    end = _SENTENCE_END.search(text)
    return text[: end.start()] if end else text


def declines(answer: str) -> bool:
    """The answer's opening sentence matches one of :data:`REFUSAL_PATTERNS`."""
    return bool(_declining_phrases(answer))


def _declining_phrases(answer: str) -> list[str]:
    return [match.group() for match in _DECLINES.finditer(f" {normalise(opening_sentence(answer))} ")]


def is_refusal(response: dict[str, Any], facts: tuple[str, ...] = ()) -> bool:
    """The answer declines: the API's no-context answer, a guardrail intervention, or an opening sentence
    that declines (:func:`declines`) in an answer that states none of ``facts`` (the item's
    ``mustInclude``): "I don't know the exact date, but the office opened in 2023." answers "2023". The
    declining words themselves state nothing: "There is no information about it." does not state "No"."""
    answer = str(response.get("answer", ""))
    if answer.strip() == NO_CONTEXT_ANSWER:
        return True
    guardrail = response.get("guardrail")
    if isinstance(guardrail, dict) and guardrail.get("action") == "INTERVENED":
        return True
    phrases = _declining_phrases(answer)
    if not phrases:
        return False
    rest = normalise(answer)
    for phrase in phrases:
        rest = rest.replace(phrase.strip(), " | ", 1)
    return not any(_occurs(normalise(fact), rest) for fact in facts)


def cited_numbers(answer: str) -> list[int]:
    """The passage numbers the answer's markers cite, in order, ranges expanded: ``[1, 3]``, ``[1][3]``
    and ``[1-3]`` (any dash). A bracket holding a number above :data:`MAX_CITATION_NUMBER` is no marker."""
    numbers: list[int] = []
    for marker in _CITATION.finditer(answer):
        parts = [
            [int(bound) for bound in _RANGE.split(part)] for part in re.split(r"\s*[,;]\s*", marker.group(1))
        ]
        if max(max(bounds) for bounds in parts) > MAX_CITATION_NUMBER:
            continue
        for bounds in parts:
            numbers.extend(range(min(bounds), max(bounds) + 1))
    return numbers


def citations_valid(answer: str, citations: list[Any]) -> bool | None:
    """Every cited number ``n`` (:func:`cited_numbers`) is ``citations[n-1]``; None when the answer cites
    nothing."""
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

    ``maxWords``: at most N whitespace-separated words. ``regex``: ``re.search`` finds a match in the
    answer with its leading Markdown stripped (:func:`strip_leading_markdown`). ``startsWith``: that
    stripped answer starts with the text (itself stripped the same way), case-insensitive. ``jsonSchema``:
    the answer (one surrounding Markdown code fence allowed) is JSON valid against the schema.
    ``noCitations``: no citation marker (:func:`cited_numbers`).
    """
    failed = []
    view = strip_leading_markdown(answer)
    if "maxWords" in checks and len(answer.split()) > checks["maxWords"]:
        failed.append("maxWords")
    if "regex" in checks and not re.search(checks["regex"], view):
        failed.append("regex")
    if "startsWith" in checks and not _starts_with(view, checks["startsWith"]):
        failed.append("startsWith")
    if "jsonSchema" in checks and not _valid_json(answer, checks["jsonSchema"]):
        failed.append("jsonSchema")
    if checks.get("noCitations") and cited_numbers(answer):
        failed.append("noCitations")
    return failed


def _starts_with(view: str, expected: str) -> bool:
    # The expected text is seen as the answer is ("# Summary" -> "Summary"), unless it is nothing but marks.
    expected = strip_leading_markdown(expected) or expected
    return view.lower().startswith(expected.lower())


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
    refusal = is_refusal(response, item.must_include)
    missing = missing_facts(answer, item.must_include) if item.must_include else None
    failures = format_failures(answer, item.format) if item.format else None
    if not item.answerable:
        correct: bool | None = refusal
    elif missing is not None:
        correct = not missing and not refusal
    else:
        correct = None
    retrieval = bool(item.sources) and parse_arm(arm).mode != PROMPT
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
