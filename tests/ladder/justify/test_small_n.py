"""`ladder justify` at small n: the cases where point estimates and the percentile bootstrap misled the old
rules, repeats averaged per item, and the contamination check of --data against the run's own questions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ladder import cli
from tests.ladder.conftest import conversation, write_jsonl

from .runs import items, score, write_run


@pytest.fixture
def justify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    def run(folder: Path, *argv: str) -> dict[str, Any]:
        out = tmp_path / "ladder-verdict.json"
        code = cli.main(["justify", str(folder), *argv, "--out", str(out)])
        assert code == 0, capsys.readouterr().err
        capsys.readouterr()
        return json.loads(out.read_text())

    return run


def chats(tmp_path: Path, clean: int = 300) -> str:
    return str(write_jsonl(tmp_path / "chats.jsonl", clean))


def rule(verdict: dict[str, Any], number: int) -> dict[str, Any]:
    return next(r for r in verdict["rules"] if r["number"] == number)


def test_one_paired_item_with_a_format_check_does_not_justify_fine_tuning(tmp_path: Path, justify) -> None:
    """42 items, one with a format check in both arms, which finetuned passes and rag fails: the old rule 7
    said "measurably better ... [+1.000, +1.000] over 1 paired items" and justified fine-tuning."""
    rag = [(n < 41, None) for n in range(41)] + [(True, False)]
    finetuned = [(n < 41, None) for n in range(41)] + [(True, True)]
    folder = write_run(tmp_path / "run", {"rag": rag, "finetuned": finetuned})

    verdict = justify(folder, "--data", chats(tmp_path))

    assert (verdict["rung"], verdict["fineTuneJustified"]) == ("rag", False)
    first = verdict["reasons"][0]
    assert first.startswith("Fine-tuned model not shown better with n = 1 (only 1 paired items < 30")
    assert "only 1 of them disagree < 10 (--min-disagreements)" in first
    comparison = rule(verdict, 7)["comparison"]
    assert comparison["ci95"] == [1.0, 1.0] and comparison["items"] == 1
    assert comparison["pOneSided"] == 0.5


def test_four_wins_and_no_loss_is_not_better_even_without_a_minimum(tmp_path: Path, justify) -> None:
    folder = write_run(
        tmp_path / "run",
        {"rag": items(36, 40, format_ok=36), "finetuned": items(36, 40, format_ok=40)},
    )

    verdict = justify(folder, "--min-disagreements", "1")

    assert verdict["fineTuneJustified"] is False
    comparison = rule(verdict, 7)["comparison"]
    assert (comparison["wins"], comparison["losses"]) == (4, 0)
    assert comparison["pOneSided"] == 0.0625
    assert comparison["ci95"][0] > 0, "the bootstrap interval alone would have called it better"
    assert "not shown better with n = 40 (p = 0.0625 > 0.025)" in verdict["reasons"][0]
    assert "this run could detect a difference of +0.18 or more" in verdict["reasons"][0]


def test_eight_wins_need_ten_disagreeing_items_by_default(tmp_path: Path, justify) -> None:
    # Given 8 wins and no loss: the exact test alone would say better (p = 1/256) ...
    folder = write_run(
        tmp_path / "run",
        {
            "rag": items(36, 40, format_ok=32),
            "fewshot": items(36, 40, format_ok=32),
            "finetuned": items(36, 40, format_ok=40),
        },
    )

    default, lowered = justify(folder), justify(folder, "--min-disagreements", "8")

    # ... but 8 < 10 disagreeing items is not enough by default; with the minimum at 8 it is
    assert default["fineTuneJustified"] is False
    assert "only 8 of them disagree < 10 (--min-disagreements)" in default["reasons"][0]
    assert lowered["fineTuneJustified"] is True and lowered["targets"]["minDisagreements"] == 8


def test_the_format_baseline_is_the_best_format_arm_not_the_most_correct(tmp_path: Path, justify) -> None:
    """prompt follows the format better (0.90) than rag (0.70), rag is more correct: a fine-tuned model
    must beat prompt's format, against which it wins only 2 items."""
    folder = write_run(
        tmp_path / "run",
        {
            "prompt": items(20, 40, format_ok=36),
            "rag": items(36, 40, format_ok=28),
            "finetuned": items(36, 40, format_ok=38),
        },
    )

    verdict = justify(folder, "--data", chats(tmp_path))

    comparison = rule(verdict, 7)["comparison"]
    assert comparison["baseline"] == "prompt"
    assert (comparison["wins"], comparison["losses"]) == (2, 0)
    assert rule(verdict, 7)["correctnessDrop"]["baseline"] == "rag"
    assert (verdict["rung"], verdict["fineTuneJustified"]) == ("rag", False)
    assert verdict["reasons"][0].startswith("Fine-tuned model not shown better with n = 40")


def test_repeats_are_averaged_per_item_before_the_interval(tmp_path: Path, justify) -> None:
    # Given 40 items answered twice by rag: the second repeat misses items 30-39 that the first got right
    folder = write_run(tmp_path / "run", {"rag": items(40, 40, format_ok=40)})
    with (folder / "scores.jsonl").open("a") as fp:
        for n in range(40):
            line = score(f"item-{n:03d}", "rag", correct=n < 30, format_ok=True)
            fp.write(json.dumps({**line, "repeat": 1}) + "\n")

    verdict = justify(folder)

    # Then the arm has 40 items, 30 worth 1.0 and 10 worth 0.5: 0.875, not 70 of 80 lines
    correctness = rule(verdict, 3)["check"]["correctness"]
    assert correctness["items"] == 40 and correctness["value"] == pytest.approx(0.875)
    assert rule(verdict, 1)["detail"].startswith("rag has 40 scored items")


def test_the_same_repeat_twice_is_still_refused(tmp_path: Path, capsys) -> None:
    folder = write_run(tmp_path / "run", {"rag": items(36, 40)})
    with (folder / "scores.jsonl").open("a") as fp:
        line = score("item-000", "rag", correct=True, format_ok=None)
        fp.write(json.dumps({**line, "repeat": 1}) + "\n")
        fp.write(json.dumps({**line, "repeat": 1}) + "\n")
        fp.write(json.dumps({**line, "repeat": -1}) + "\n")

    code = cli.main(["justify", str(folder), "--out", str(tmp_path / "v.json")])

    err = capsys.readouterr().err
    assert code == 1
    assert "line 42: item 'item-000' of arm 'rag' (repeat 1) appears twice" in err
    assert "line 43: repeat must be a whole number >= 0 (0-based), got -1" in err


def test_evaluation_questions_in_the_data_make_fine_tuning_not_justified(tmp_path: Path, justify) -> None:
    # Given a behaviour gap, enough clean examples, and two eval questions that are training user turns
    questions = {
        3: "What is rule number 3?",
        7: "  WHAT is rule number 7 ",
    }
    folder = write_run(
        tmp_path / "run",
        {"rag": items(36, 40, format_ok=28), "fewshot": items(36, 40, format_ok=28)},
        questions=questions,
    )

    verdict = justify(folder, "--data", chats(tmp_path))

    assert (verdict["rung"], verdict["fineTuneJustified"]) == ("rag", False)
    assert verdict["data"]["evalOverlap"] == {"exact": 2, "near": 0, "ids": ["item-003", "item-007"]}
    first = verdict["reasons"][0]
    assert "remove these items from the training data or the evaluation set: item-003, item-007" in first
    assert rule(verdict, 5)["data"]["evalOverlap"]["ids"] == ["item-003", "item-007"]


def test_a_near_duplicate_question_also_counts(tmp_path: Path, justify) -> None:
    long_turn = "How many days of annual leave does a new station keeper get in the first year of service?"
    data = tmp_path / "chats.jsonl"
    records = [conversation(n) for n in range(300)]
    records[0]["messages"][1]["content"] = long_turn
    data.write_text("".join(json.dumps(record) + "\n" for record in records))
    question = "How many days of annual leave does a new station keeper get in the first year?"
    folder = write_run(tmp_path / "run", {"rag": items(36, 40, format_ok=28)}, questions={12: question})

    verdict = justify(folder, "--data", str(data))

    assert verdict["fineTuneJustified"] is False
    assert verdict["data"]["evalOverlap"] == {"exact": 0, "near": 1, "ids": ["item-012"]}


def test_contamination_overturns_a_fine_tuned_model_shown_better(tmp_path: Path, justify) -> None:
    folder = write_run(
        tmp_path / "run",
        {
            "rag": items(36, 40, format_ok=28),
            "fewshot": items(36, 40, format_ok=28),
            "finetuned": items(36, 40, format_ok=40),
        },
        questions={0: "What is rule number 0?"},
    )

    clean = justify(
        write_run(
            tmp_path / "clean",
            {
                "rag": items(36, 40, format_ok=28),
                "fewshot": items(36, 40, format_ok=28),
                "finetuned": items(36, 40, format_ok=40),
            },
        ),
        "--data",
        chats(tmp_path),
    )
    tainted = justify(folder, "--data", chats(tmp_path))

    assert clean["fineTuneJustified"] is True
    assert (tainted["rung"], tainted["fineTuneJustified"]) == ("rag", False)
    assert tainted["reasons"][0].startswith("Evaluation questions in --data: 1 evaluation question(s)")
    assert tainted["reasons"][0].endswith("Fine-tuning is not justified until they are removed.")
    assert "item-000" in tainted["reasons"][0]


def test_a_run_without_its_set_copy_cannot_clear_the_data(tmp_path: Path, justify) -> None:
    folder = write_run(
        tmp_path / "run", {"rag": items(36, 40, format_ok=28), "fewshot": items(36, 40, format_ok=28)}
    )
    (folder / "evalset.jsonl").unlink()

    verdict = justify(folder, "--data", chats(tmp_path))

    assert verdict["fineTuneJustified"] is False
    assert verdict["data"]["evalOverlap"] is None
    assert "the run folder has no evalset.jsonl" in verdict["reasons"][0]


def test_every_rule_carries_its_evidence_in_the_verdict(tmp_path: Path, justify) -> None:
    folder = write_run(
        tmp_path / "run",
        {
            "prompt": items(12, 40, format_ok=20),
            "rag": items(36, 40, format_ok=28),
            "fewshot": items(36, 40, format_ok=28),
            "finetuned": items(36, 40, format_ok=40),
        },
    )

    verdict = justify(folder)

    assert [r["outcome"] for r in verdict["rules"]] == [
        "not met",
        "not met",
        "not met",
        "not met",
        "decides",
        "skipped",
        "decides",
        "not met",
    ]
    rag = rule(verdict, 3)["check"]
    assert rag["status"] == "misses"
    assert rag["correctness"]["status"] == "meets" and rag["formatCompliance"]["status"] == "misses"
    low, high = rag["formatCompliance"]["ci95"]
    assert low < 0.7 < high < 0.95
    comparison = rule(verdict, 7)["comparison"]
    assert {"pOneSided", "pTwoSided", "ci95", "detectableDifference", "wins", "losses"} <= set(comparison)
    assert verdict["targets"]["alphaOneSided"] == 0.025


def test_a_prompt_arm_without_a_scored_answer_is_not_taken_to_meet_the_targets(
    tmp_path: Path, justify
) -> None:
    unavailable = {"httpStatus": 503, "code": "ServiceUnavailable", "message": "try again"}
    folder = write_run(
        tmp_path / "run",
        {"prompt": [], "rag": items(39, 40, format_ok=40)},
        errors={"prompt": 40},
        error_cause=unavailable,
    )

    verdict = justify(folder)

    assert verdict["rung"] == "rag"
    assert rule(verdict, 2)["outcome"] == "undecided"
    assert (
        rule(verdict, 2)["detail"]
        == "prompt correctness not measured, no format compliance checks: measure more items"
    )
