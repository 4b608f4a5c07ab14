"""Every metric on crafted responses: normalisation, refusals, citations, format checks, the score row."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ladder_core.api import NO_CONTEXT_ANSWER
from ladder_core.scoring import (
    SCHEMA_VERSION,
    SCORE_KEYS,
    Item,
    citations_valid,
    cited_numbers,
    contains,
    format_failures,
    is_refusal,
    must_include_recall,
    normalise,
    reciprocal_rank,
    score,
    token_f1,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
LEAVE = "s3://docs-bucket/docs/handbook/leave.md"
PLANS = "s3://docs-bucket/docs/pricing/plans.md"


def response(answer: str, citations: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    return {
        "answer": answer,
        "citations": [{"sourceUri": uri, "excerpt": "..."} for uri in citations],
        "usage": {"inputTokens": 500, "outputTokens": 40},
        "modelId": "us.amazon.nova-lite-v1:0",
        **extra,
    }


def ok(resp: dict[str, Any]) -> dict[str, Any]:
    return {"status": "ok", "latencyMs": 120, "response": resp}


@pytest.mark.parametrize(
    ("answer", "fact"),
    [
        ("You get 10000 calls.", "10,000"),
        ("You get 10 000 calls.", "10,000"),
        ("You get 10,000 calls.", "10000"),
        ("You get 10\u202f000 calls.", "10 000"),
        ("Employees get 27 DAYS of leave.", "27 days"),
        ("It is  27\ndays.", "27 days"),
        ("Report it to security@harbormist.example.", "security@harbormist.example"),
        ("The mileage rate is €0.30 per km.", "€0.30"),
        ("The price is 1,234,567 euro.", "1234567"),
        ("Maeve Lindqvist founded it.", "maeve lindqvist"),
    ],
)
def test_facts_match_after_case_whitespace_punctuation_and_number_normalisation(
    answer: str, fact: str
) -> None:
    assert contains(answer, fact)


@pytest.mark.parametrize(
    ("answer", "fact"),
    [
        ("You get 127 days.", "27 days"),
        ("You get 2.7 days.", "27 days"),
        ("You get 27 weeks.", "27 days"),
        ("Within 10 days.", "100 days"),
        ("Anything.", "!!!"),
    ],
)
def test_facts_match_only_as_whole_words_never_fuzzily(answer: str, fact: str) -> None:
    assert not contains(answer, fact)


def test_normalise_keeps_decimals_and_percent_and_drops_other_punctuation() -> None:
    assert normalise("It's 2.5%, OK?  Yes!") == "it s 2.5 percent ok yes"
    assert normalise("1,5 and 1,500") == "1.5 and 1500"


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("In 2023 100 employees joined", "in 2023 100 employees joined"),
        ("1 500 000 and 10 000", "1500000 and 10000"),
        ("1,500,000.50", "1500000.5"),
        ("1.500.000 and 1.234,56", "1500000 and 1234.56"),
        ("1.200 and 1,20 and 0,500", "1.2 and 1.2 and 0.5"),
        ("$1,200.00", "1200"),
        ("31.03.2024 and 1,2,3", "31 03 2024 and 1 2 3"),
        ("0 500 and 1000 000", "0 500 and 1000 000"),
        ("20% or 20 per cent", "20 percent or 20 percent"),
    ],
)
def test_numbers_are_read_once_thousands_groups_only_when_well_formed(text: str, normalised: str) -> None:
    assert normalise(text) == normalised


def test_must_include_recall_is_the_share_of_facts_present() -> None:
    assert must_include_recall(
        "Tuesdays and 20 working days", ("Tuesdays", "Thursdays", "20 working days")
    ) == (pytest.approx(2 / 3))
    assert must_include_recall("anything", ()) is None


def test_token_f1_compares_normalised_words() -> None:
    assert token_f1("27 days per year", "27 days per year") == 1.0
    assert token_f1("27 days", "27 days per calendar year") == pytest.approx(2 * 1 * 0.4 / 1.4)
    assert token_f1("nothing shared", "27 days") == 0.0
    assert token_f1("anything", None) is None


@pytest.mark.parametrize(
    ("resp", "refused"),
    [
        (response(NO_CONTEXT_ANSWER), True),
        (response("Blocked by policy.", guardrail={"action": "INTERVENED"}), True),
        (response("The answer is not in the documents."), True),
        (response("I don't know the share price."), True),
        (response("I'm not sure; the documents do not contain it."), True),
        (response("The passages do not say."), True),
        (response("The passages do not say it, but it is 27 days."), True),
        (response("27 days. The passages do not say more."), False),
        (response("You get 27 days [1]."), False),
        (response("You know, it's 27 days."), False),
    ],
)
def test_refusal_rules(resp: dict[str, Any], refused: bool) -> None:
    assert is_refusal(resp) is refused


@pytest.mark.parametrize(
    ("answer", "numbers"),
    [
        ("A [1], B [2].", [1, 2]),
        ("A [1, 3] and [ 2 ; 4 ].", [1, 3, 2, 4]),
        ("A [1][3].", [1, 3]),
        ("A [1-3], B [5\u20136], C [4 \u2014 2].", [1, 2, 3, 5, 6, 2, 3, 4]),
        ("Founded in [2016]; see [99].", [99]),
        ("Years [1, 2016] and [1-100] and [1-999999999].", []),
        ("Not markers: [a], [], [1.5], [#1].", []),
    ],
)
def test_cited_numbers_read_lists_ranges_and_adjacent_markers_but_not_years(
    answer: str, numbers: list[int]
) -> None:
    assert cited_numbers(answer) == numbers


def test_citations_are_valid_only_when_every_marker_points_to_a_citation() -> None:
    two = [{"sourceUri": LEAVE}, {"sourceUri": PLANS}]
    assert citations_valid("A [1] and B [2][1].", two) is True
    assert citations_valid("A [3].", two) is False
    assert citations_valid("A [0].", two) is False
    assert citations_valid("A [1].", []) is False
    assert citations_valid("No markers at all.", two) is None


def test_reciprocal_rank_matches_sources_as_uri_suffixes() -> None:
    citations = [{"sourceUri": PLANS}, {"sourceUri": LEAVE}]
    assert reciprocal_rank(citations, ("handbook/leave.md",)) == 0.5
    assert reciprocal_rank(citations, ("pricing/plans.md", "handbook/leave.md")) == 1.0
    assert reciprocal_rank(citations, ("faq.md",)) == 0.0


@pytest.mark.parametrize(
    ("answer", "checks", "failed"),
    [
        ("one two three", {"maxWords": 3}, []),
        ("one two three four", {"maxWords": 3}, ["maxWords"]),
        ("No, alcohol is not reimbursed.", {"regex": r"^\s*(Yes|No)\b"}, []),
        ("Alcohol is not reimbursed.", {"regex": r"^\s*(Yes|No)\b"}, ["regex"]),
        ("  laptops lock after 5 minutes.", {"startsWith": "Laptops lock after"}, []),
        ("They lock after 5 minutes.", {"startsWith": "Laptops lock after"}, ["startsWith"]),
        ("**Yes**, you can.", {"startsWith": "Yes,"}, []),
        ("> _No_: never.", {"startsWith": "no:", "regex": r"^No\b"}, []),
        ("# Summary\nShort.", {"startsWith": "# Summary"}, []),
        ("Summary: **yes**.", {"startsWith": "**"}, ["startsWith"]),
        ("Yes, **always**.", {"regex": r"^\*\*"}, ["regex"]),
        ('{"answer": "2 days", "source": "faq.md"}', {"jsonSchema": {"required": ["answer", "source"]}}, []),
        (
            '```json\n{"answer": "2 days", "source": "faq.md"}\n```',
            {"jsonSchema": {"required": ["answer"]}},
            [],
        ),
        ('{"answer": "2 days"}', {"jsonSchema": {"required": ["answer", "source"]}}, ["jsonSchema"]),
        ("Two days [1].", {"jsonSchema": {"type": "object"}}, ["jsonSchema"]),
        ("Two paid days.", {"noCitations": True}, []),
        ("Two paid days [1].", {"noCitations": True}, ["noCitations"]),
        (
            "Yes " * 10 + "[1]",
            {"maxWords": 5, "regex": "^Yes", "noCitations": True},
            ["maxWords", "noCitations"],
        ),
    ],
)
def test_each_format_check(answer: str, checks: dict[str, Any], failed: list[str]) -> None:
    assert format_failures(answer, checks) == failed


def test_an_answerable_item_is_correct_when_every_fact_is_present_and_it_does_not_refuse() -> None:
    item = Item(id="a", question="q", must_include=("27 days", "31 March"), sources=("handbook/leave.md",))
    good = score(item, "rag", ok(response("27 days, until 31 March [1].", (PLANS, LEAVE))), cost_usd=0.01)
    assert list(good) == list(SCORE_KEYS)
    assert good["correct"] is True and good["mustIncludeRecall"] == 1.0
    assert good["refusal"] is False and good["refusalCorrect"] is True
    assert good["sourceHit"] is True and good["reciprocalRank"] == 0.5
    assert good["citationsValid"] is True and good["formatOk"] is None and good["tokenF1"] is None
    assert (good["inputTokens"], good["outputTokens"], good["costUsd"], good["latencyMs"]) == (
        500,
        40,
        0.01,
        120,
    )
    partial = score(item, "rag", ok(response("27 days.")))
    assert partial["correct"] is False and partial["mustIncludeRecall"] == 0.5
    assert partial["sourceHit"] is False and partial["reciprocalRank"] == 0.0
    hedged = score(item, "rag", ok(response("27 days until 31 March, but I'm not sure.")))
    assert hedged["correct"] is True and hedged["refusal"] is False
    declined = score(item, "rag", ok(response("I'm not sure, sorry.")))
    assert (
        declined["correct"] is False and declined["refusal"] is True and declined["refusalCorrect"] is False
    )


def test_an_unanswerable_item_is_correct_when_the_answer_declines() -> None:
    item = Item(id="u", question="Share price?", answerable=False)
    declined = score(item, "rag", ok(response(NO_CONTEXT_ANSWER)))
    assert declined["correct"] is True and declined["refusal"] is True and declined["refusalCorrect"] is True
    invented = score(item, "prompt", ok(response("It is 12 euro.")))
    assert invented["correct"] is False and invented["refusalCorrect"] is False


def test_retrieval_metrics_are_null_for_the_prompt_arm_and_for_items_without_sources() -> None:
    item = Item(id="a", question="q", sources=("handbook/leave.md",))
    prompt = score(item, "prompt", ok(response("27 days")))
    assert prompt["sourceHit"] is None and prompt["reciprocalRank"] is None
    assert prompt["correct"] is None
    no_sources = score(Item(id="b", question="q"), "rag", ok(response("x", (LEAVE,))))
    assert no_sources["sourceHit"] is None


def test_an_error_record_scores_nothing_but_is_kept() -> None:
    item = Item(id="a", question="q", must_include=("x",), format={"maxWords": 3})
    row = score(item, "rag", {"status": "error", "latencyMs": 30, "error": {"httpStatus": 429}})
    assert row["status"] == "error" and row["refusal"] is False and row["latencyMs"] == 30
    assert row["schemaVersion"] == SCHEMA_VERSION
    assert row["repeat"] == 0  # a record from before repeats existed is repeat 0
    kept = ("schemaVersion", "id", "arm", "repeat", "status", "refusal", "latencyMs")
    assert all(row[key] is None for key in SCORE_KEYS if key not in kept)


def test_a_score_line_says_which_facts_are_missing_and_which_format_checks_failed() -> None:
    # Given an item with two facts and two format checks
    item = Item(
        id="a",
        question="q",
        must_include=("27 days", "31 March"),
        format={"maxWords": 5, "startsWith": "Yes"},
    )
    # When the answer states one fact and fails both checks
    row = score(item, "rag", ok(response("You get 27 days of leave.")))
    # Then the line names the missing fact and the failed checks, in the item's order
    assert row["missingFacts"] == ["31 March"]
    assert row["formatFailures"] == ["maxWords", "startsWith"]
    assert row["correct"] is False and row["formatOk"] is False and row["schemaVersion"] == SCHEMA_VERSION
    # And an answer that passes everything has empty lists, not nulls
    good = score(item, "rag", ok(response("Yes: 27 days, 31 March.")))
    assert good["missingFacts"] == [] and good["formatFailures"] == []
    assert good["correct"] is True and good["formatOk"] is True


def test_why_is_null_where_the_item_asks_for_nothing() -> None:
    row = score(Item(id="a", question="q"), "rag", ok(response("anything")))
    assert row["missingFacts"] is None and row["formatFailures"] is None


def test_the_rules_load_jsonschema_only_for_a_json_schema_check() -> None:
    # A fresh interpreter: this test process has imported jsonschema already.
    script = (
        "import sys\n"
        "from ladder_core.scoring import format_failures\n"
        "format_failures('short', {'maxWords': 3})\n"
        "before = 'jsonschema' in sys.modules\n"
        "failed = format_failures('{\"a\": 1}', {'jsonSchema': {'type': 'object', 'required': ['b']}})\n"
        "print(before, 'jsonschema' in sys.modules, failed)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "['jsonSchema']"]
