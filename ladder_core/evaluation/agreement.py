"""How often the deterministic rules and the LLM judge agree, per arm: ``summary.json``'s
``judgeAgreement``.

Two yes/no questions are compared on every answer both raters scored: *correct* (the rules' ``correct``
vs the judge's ``Correctness``) and *refusal* (the rules' ``refusal`` vs the judge's ``Refusal``). A judge
score of at least 0.5 counts as yes. For each: ``n`` answers, ``agree`` the share of them on which both
said the same, and Cohen's kappa, the agreement beyond what two raters with those yes-rates would reach by
chance: ``(agree - chance) / (1 - chance)`` with ``chance = p_rules * p_judge + (1 - p_rules) * (1 -
p_judge)``. 1 is full agreement, 0 no better than chance, negative worse than chance.

Kappa is null when ``n`` is 0, and when chance agreement is 1, that is when both raters put every answer
in the same class (all yes, or all no): kappa is then 0/0, undefined, and ``agree`` (1.0) is the only
honest number. When both are constant but opposite, chance is 0, agree is 0 and kappa is 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..metrics import CORRECTNESS

JUDGE_YES = 0.5
"""A judge score at or above this counts as yes."""
QUESTIONS = {
    "correctness": (CORRECTNESS.score_key, "Correctness"),
    "refusal": ("refusal", "Refusal"),
}
"""summary key -> (scores.jsonl key of the rules' answer, the judge's metric name)."""


def cohen_kappa(pairs: list[tuple[bool, bool]]) -> float | None:
    """Cohen's kappa of (rules, judge) yes/no pairs; None when there are none or chance agreement is 1."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(rules == judge for rules, judge in pairs) / n
    p_rules = sum(rules for rules, _ in pairs) / n
    p_judge = sum(judge for _, judge in pairs) / n
    chance = p_rules * p_judge + (1 - p_rules) * (1 - p_judge)
    if chance >= 1:
        return None
    return (observed - chance) / (1 - chance)


def pairs_for(rows: Iterable[dict[str, Any]], rules_key: str, judge_metric: str) -> list[tuple[bool, bool]]:
    """(rules, judge) for every answered row where both gave a verdict."""
    pairs = []
    for row in rows:
        rules = row.get(rules_key)
        judge = (row.get("judge") or {}).get(judge_metric)
        if row.get("status") == "ok" and rules is not None and judge is not None:
            pairs.append((bool(rules), float(judge) >= JUDGE_YES))
    return pairs


def judge_agreement(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]] | None:
    """``{"correctness": {"n", "agree", "kappa"}, "refusal": {...}}`` for one arm's score rows; None when
    the judge scored none of them."""
    if not any(row.get("judge") for row in rows):
        return None
    result = {}
    for name, (rules_key, judge_metric) in QUESTIONS.items():
        pairs = pairs_for(rows, rules_key, judge_metric)
        agree = sum(rules == judge for rules, judge in pairs) / len(pairs) if pairs else None
        result[name] = {"n": len(pairs), "agree": agree, "kappa": cohen_kappa(pairs)}
    return result
