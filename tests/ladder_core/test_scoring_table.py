"""The scoring rules on crafted answers, as a user would write them: hedges, partial answers, each refusal
form, numbers, percents, currencies, dates, citation lists and Markdown, with the ``correct``, ``refusal``,
``citationsValid`` and ``formatOk`` each one must get. README "How answers are scored" shows a short
version of this table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from ladder_core.api import NO_CONTEXT_ANSWER
from ladder_core.scoring import Item, score

YES_NO = {"regex": r"^\s*(Yes|No)\b"}
ANSWER_JSON = {"jsonSchema": {"type": "object", "required": ["answer", "source"]}}


@dataclass(frozen=True)
class Case:
    """One crafted answer to one item and what the rules must make of it."""

    answer: str
    correct: bool | None
    refusal: bool = False
    citations_valid: bool | None = None
    format_ok: bool | None = None
    facts: tuple[str, ...] = ()
    answerable: bool = True
    format: dict[str, Any] = field(default_factory=dict)
    citations: int = 0
    guardrail: str = "NONE"


UNANSWERABLE = {"answerable": False}

CASES = {
    # The examples of the issue that changed the rules.
    "hedge-then-fact": Case(
        "I don't know the exact date, but the office opened in 2023.", True, facts=("2023",)
    ),
    "does-not-specify-then-fact": Case(
        "The handbook does not specify a maximum, but you can carry over up to 5 days [1].",
        True,
        citations_valid=True,
        facts=("5 days",),
        citations=1,
    ),
    "no-information-beyond": Case(
        "No information beyond your employee ID is needed [1].",
        True,
        citations_valid=True,
        facts=("employee ID",),
        citations=1,
    ),
    "no-information-beyond-no-facts": Case("No information beyond your employee ID is needed.", None),
    "documents-dont-mention": Case(
        "The documents don't mention the share price.", True, refusal=True, **UNANSWERABLE
    ),
    "isnt-available-in": Case(
        "That information isn't available in the provided documents.", True, refusal=True, **UNANSWERABLE
    ),
    "context-does-not-include": Case(
        "The provided context does not include the CEO's salary.", True, refusal=True, **UNANSWERABLE
    ),
    "not-enough-information": Case(
        "I do not have enough information to answer.", True, refusal=True, **UNANSWERABLE
    ),
    "two-numbers-stay-two": Case("In 2023 100 employees joined.", True, facts=("2023", "100 employees")),
    "percent-is-not-days": Case("Employees get 20 days.", False, facts=("20%",)),
    "bold-yes-starts-with": Case("**Yes**, you can.", None, format_ok=True, format={"startsWith": "Yes"}),
    "citation-list": Case("Both plans include it [1, 3].", None, citations_valid=True, citations=3),
    "citation-list-out-of-range": Case(
        "Both plans include it [1, 3].", None, citations_valid=False, citations=2
    ),
    "adjacent-citations": Case("Both plans include it [1][3].", None, citations_valid=False, citations=2),
    "year-in-brackets": Case("Harbormist was founded in [2016].", True, facts=("2016",), citations=0),
    # Every other refusal form, on an unanswerable item (a refusal is the correct answer there).
    "no-context-answer": Case(NO_CONTEXT_ANSWER, True, refusal=True, **UNANSWERABLE),
    "guardrail-intervened": Case(
        "Sorry, the model cannot answer this question.",
        True,
        refusal=True,
        guardrail="INTERVENED",
        **UNANSWERABLE,
    ),
    "i-dont-know": Case("I don't know.", True, refusal=True, **UNANSWERABLE),
    "not-sure": Case("I'm not sure what the share price is.", True, refusal=True, **UNANSWERABLE),
    "cannot-answer": Case("I cannot answer that from the documents.", True, refusal=True, **UNANSWERABLE),
    "cant-find": Case("I can't find the share price in the handbook.", True, refusal=True, **UNANSWERABLE),
    "could-not-find": Case("Sorry, I could not find that.", True, refusal=True, **UNANSWERABLE),
    "there-is-no-information": Case(
        "There is no information about the share price.", True, refusal=True, **UNANSWERABLE
    ),
    "makes-no-mention": Case("The passages make no mention of it.", True, refusal=True, **UNANSWERABLE),
    "not-mentioned": Case("The CEO's salary is not mentioned.", True, refusal=True, **UNANSWERABLE),
    "does-not-say": Case("The handbook doesn't say.", True, refusal=True, **UNANSWERABLE),
    "not-in-the-documents": Case("That is not in the documents.", True, refusal=True, **UNANSWERABLE),
    "figure-not-available": Case("That figure isn't available.", True, refusal=True, **UNANSWERABLE),
    "markdown-refusal": Case("**I don't know.** Ask HR.", True, refusal=True, **UNANSWERABLE),
    # Answers that are not refusals, and refusals of answerable items.
    "invented-answer": Case("The share price is €12.", False, **UNANSWERABLE),
    "decline-in-second-sentence": Case(
        "The share price is €12. I do not know whether that is current.", False, **UNANSWERABLE
    ),
    "negative-answer-is-no-refusal": Case("The Breeze plan does not include API access.", None),
    "you-cannot-is-no-refusal": Case("You cannot share your password with anyone.", None),
    "refusal-of-answerable": Case("I don't know.", False, refusal=True, facts=("27 days",)),
    "hedge-with-part-of-the-facts": Case(
        "I'm not sure, but parental leave is 20 weeks.", False, facts=("20 weeks", "full pay")
    ),
    "declining-words-state-no-fact": Case(
        "There is no information about cards in the documents.", False, refusal=True, facts=("No",)
    ),
    "no-is-an-answer": Case(
        "No, no card is needed [1].", True, citations_valid=True, facts=("No",), citations=1
    ),
    "hedge-after-the-facts": Case("It is 27 days, but I'm not sure.", True, facts=("27 days",)),
    "partial-answer": Case(
        "Parental leave is 20 weeks [1].",
        False,
        citations_valid=True,
        facts=("20 weeks", "full pay"),
        citations=1,
    ),
    "pii-masked-is-no-refusal": Case(
        "Report it within 1 hour to {EMAIL}.", True, facts=("1 hour",), guardrail="MASKED"
    ),
    # Numbers, percents and currencies.
    "space-thousands": Case("Tempest includes 10 000 API calls per day.", True, facts=("10,000",)),
    "space-millions": Case("The cap is 1 500 000 requests.", True, facts=("1,500,000",)),
    "percent-sign-spaced": Case("The discount is 40 %.", True, facts=("40%",)),
    "percent-word": Case("The discount is 40 percent.", True, facts=("40%",)),
    "per-cent": Case("The discount is 40 per cent.", True, facts=("40%",)),
    "decimal-comma": Case("The rate rose by 2,5 %.", True, facts=("2.5%",)),
    "dollar-thousands": Case("It costs $1,200 per seat.", True, facts=("$1,200",)),
    "euro-cents": Case("It costs €1.200,00 per seat.", True, facts=("€1,200",)),
    "single-dot-is-decimal": Case("It costs 1.200 € per seat.", False, facts=("€1,200",)),
    "trailing-zero": Case("The mileage rate is €0.30 per km.", True, facts=("€0.3",)),
    "not-a-substring": Case("Within 10 days.", False, facts=("100 days",)),
    # Dates: compared as written, no calendar.
    "date-words": Case("Take it by 31 March 2025.", True, facts=("31 March",)),
    "date-dots-and-slashes": Case("Take it by 31.03.2025.", True, facts=("31/03/2025",)),
    "date-iso": Case("The office opened on 2016-05-01.", True, facts=("2016",)),
    "date-order": Case("Take it by March 31.", False, facts=("31 March",)),
    "time": Case("Core hours are 10:00 to 15:00.", True, facts=("10:00", "15:00")),
    # Citation forms.
    "citation-range": Case("See the policy [1-2].", None, citations_valid=True, citations=2),
    "citation-en-dash-range": Case("See the policy [1\u20133].", None, citations_valid=False, citations=2),
    "citation-zero": Case("See the policy [0].", None, citations_valid=False, citations=2),
    "citations-in-prose": Case(
        "Backups are kept for 35 days (see [1] and [2]).",
        True,
        citations_valid=False,
        facts=("35 days",),
        citations=1,
    ),
    # Markdown and format checks.
    "bold-no-regex": Case(
        "**No**, alcohol is reimbursed only at client dinners [1].",
        True,
        citations_valid=True,
        format_ok=True,
        facts=("No",),
        format=YES_NO,
        citations=1,
    ),
    "heading-yes": Case(
        "## Yes\nMFA is mandatory on every account.", True, format_ok=True, facts=("Yes",), format=YES_NO
    ),
    "quoted-starts-with": Case(
        '> "Laptops lock after 5 minutes."',
        True,
        format_ok=True,
        facts=("5 minutes",),
        format={"startsWith": "Laptops lock after"},
    ),
    "starts-differently": Case(
        "They lock after 5 minutes.",
        True,
        format_ok=False,
        facts=("5 minutes",),
        format={"startsWith": "Laptops lock after"},
    ),
    "yes-later": Case("Maybe. **Yes**.", None, format_ok=False, format=YES_NO),
    "no-citations-list": Case(
        "2 paid days [1, 2].",
        True,
        citations_valid=True,
        format_ok=False,
        facts=("2 paid days",),
        format={"noCitations": True},
        citations=2,
    ),
    "no-citations-year": Case(
        "2 paid days since [2024].",
        True,
        format_ok=True,
        facts=("2 paid days",),
        format={"noCitations": True},
    ),
    "fenced-json": Case(
        '```json\n{"answer": "2 business days", "source": "faq.md"}\n```',
        True,
        format_ok=True,
        facts=("2 business days",),
        format=ANSWER_JSON,
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_crafted_answer_scores_as_the_table_says(case: Case) -> None:
    # Given an item and the API's answer to it
    item = Item(id="q", question="q", answerable=case.answerable, must_include=case.facts, format=case.format)
    response = {
        "answer": case.answer,
        "citations": [{"sourceUri": f"s3://docs/{n}.md", "excerpt": "..."} for n in range(case.citations)],
        "usage": {"inputTokens": 500, "outputTokens": 40},
        "guardrail": {"action": case.guardrail},
    }
    # When it is scored
    row = score(item, "rag", {"status": "ok", "latencyMs": 100, "response": response})
    # Then correct, refusal, citationsValid and formatOk are as the table says, and coherent
    got = (row["correct"], row["refusal"], row["citationsValid"], row["formatOk"])
    assert got == (case.correct, case.refusal, case.citations_valid, case.format_ok)
    assert row["refusalCorrect"] is (case.refusal != case.answerable)
    if case.facts:
        assert row["correct"] is (not row["missingFacts"] and not row["refusal"])
    if case.format:
        assert row["formatOk"] is (row["formatFailures"] == [])


def test_the_table_is_large_and_covers_both_outcomes_of_every_column() -> None:
    assert len(CASES) >= 40
    for column in ("correct", "refusal", "citations_valid", "format_ok"):
        values = {getattr(case, column) for case in CASES.values()}
        assert {True, False} <= values, column
