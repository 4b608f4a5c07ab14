"""Agreement between the deterministic rules and the LLM judge: Cohen's kappa against hand-computed values,
the degenerate cases, and ``judgeAgreement`` of an arm's score rows."""

from __future__ import annotations

from typing import Any

import pytest

from ladder_core.evaluation.agreement import JUDGE_YES, cohen_kappa, judge_agreement


def table(both_yes: int, rules_only: int, judge_only: int, both_no: int) -> list[tuple[bool, bool]]:
    """(rules, judge) pairs from a 2x2 contingency table."""
    return (
        [(True, True)] * both_yes
        + [(True, False)] * rules_only
        + [(False, True)] * judge_only
        + [(False, False)] * both_no
    )


def test_kappa_matches_the_worked_textbook_example() -> None:
    """Wikipedia, "Cohen's kappa", first worked example: 50 proposals, both yes 20, A yes B no 5, A no B
    yes 10, both no 15. p_o = 35/50 = 0.7; p_yes = 0.5 * 0.6 = 0.3; p_no = 0.5 * 0.4 = 0.2; p_e = 0.5;
    kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4."""
    assert cohen_kappa(table(20, 5, 10, 15)) == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("counts", "kappa"),
    [
        # p_o = 0.8; p_e = 0.5*0.5 + 0.5*0.5 = 0.5; (0.8 - 0.5) / 0.5 = 0.6
        ((4, 1, 1, 4), 0.6),
        # perfect agreement on both classes: p_o = 1, p_e = 0.5
        ((3, 0, 0, 3), 1.0),
        # perfect disagreement on balanced classes: p_o = 0, p_e = 0.5, (0 - 0.5) / 0.5 = -1
        ((0, 2, 2, 0), -1.0),
        # 46 of 50 agree, but each rater says yes 45 times: p_e = 0.9*0.9 + 0.1*0.1 = 0.82,
        # (0.92 - 0.82) / 0.18 = 0.556: high raw agreement, modest kappa
        ((43, 2, 2, 3), (0.92 - 0.82) / 0.18),
    ],
)
def test_kappa_against_hand_computed_values(counts: tuple[int, int, int, int], kappa: float) -> None:
    assert cohen_kappa(table(*counts)) == pytest.approx(kappa)


def test_degenerate_tables() -> None:
    # Both raters put every answer in the same class: chance agreement is 1 and kappa is 0/0, undefined
    assert cohen_kappa(table(5, 0, 0, 0)) is None
    assert cohen_kappa(table(0, 0, 0, 5)) is None
    # Both constant but opposite: p_o = 0, p_e = 1*0 + 0*1 = 0, kappa = 0
    assert cohen_kappa(table(0, 4, 0, 0)) == 0.0
    # One rater constant: 9 of 10 agree, p_e = 1*0.9 + 0*0.1 = 0.9 = p_o, kappa = 0 (no information
    # beyond what the constant rater's base rate gives)
    assert cohen_kappa(table(9, 1, 0, 0)) == pytest.approx(0.0)
    # Nothing to compare
    assert cohen_kappa([]) is None


def row(correct: bool | None, refusal: bool, judge: dict[str, float] | None, status: str = "ok") -> Any:
    return {"status": status, "correct": correct, "refusal": refusal, "judge": judge}


def test_judge_agreement_counts_only_answers_both_raters_scored() -> None:
    rows = [
        row(True, False, {"Correctness": 0.9, "Refusal": 0.1}),
        row(False, False, {"Correctness": JUDGE_YES, "Refusal": 0.0}),  # 0.5 counts as yes
        row(True, True, {"Refusal": 0.7}),  # a refusal keeps its Refusal score only
        row(None, False, {"Correctness": 0.2, "Refusal": 0.0}),  # no rule for correctness: not compared
        row(True, False, None),  # not judged
        row(None, False, {"Correctness": 1.0}, status="error"),
    ]
    result = judge_agreement(rows)
    assert result is not None
    # correctness: (T, T), (F, T); p_o = 0.5, p_rules = 0.5, p_judge = 1, p_e = 0.5, kappa = 0
    assert result["correctness"] == {"n": 2, "agree": 0.5, "kappa": 0.0}
    # refusal: (F, F), (F, F), (T, T), (F, F); p_o = 1, p_e = 0.25*0.25 + 0.75*0.75, kappa = 1
    assert result["refusal"]["n"] == 4 and result["refusal"]["agree"] == 1.0
    assert result["refusal"]["kappa"] == pytest.approx(1.0)


def test_no_judge_means_null_and_a_judge_without_pairs_means_zero_n() -> None:
    assert judge_agreement([row(True, False, None), row(False, True, None)]) is None
    assert judge_agreement([]) is None
    only_style = judge_agreement([row(True, False, {"HouseStyle": 1.0})])
    assert only_style == {
        "correctness": {"n": 0, "agree": None, "kappa": None},
        "refusal": {"n": 0, "agree": None, "kappa": None},
    }
