"""`ladder justify` with the few-shot rung: the operator's examples in the prompt (the ``fewshot`` arm) sit
between retrieval and fine-tuning, and count only when the run recorded a clean overlap check of them
against its own evaluation set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ladder import cli
from stacks.fine_tune.verdict import validate
from tests.ladder.conftest import write_jsonl

from .runs import SET_SHA256, items, manifest, write_run

FORMAT_GAP = items(36, 40, format_ok=28)
"""0.90 correct, format 0.70 (95% 0.55-0.82): meets correctness, misses format."""
MEETS_BOTH = items(39, 40, format_ok=40)


@pytest.fixture
def justify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    def run(folder: Path, *argv: str) -> tuple[dict[str, Any], str]:
        out = tmp_path / "ladder-verdict.json"
        code = cli.main(["justify", str(folder), *argv, "--out", str(out)])
        printed = capsys.readouterr()
        assert code == 0, printed.err
        verdict = json.loads(out.read_text())
        validate(verdict)
        return verdict, printed.out

    return run


def chats(tmp_path: Path, clean: int = 200) -> str:
    return str(write_jsonl(tmp_path / "chats.jsonl", clean))


def rule(verdict: dict[str, Any], number: int) -> dict[str, Any]:
    return next(r for r in verdict["rules"] if r["number"] == number)


def test_examples_in_the_prompt_that_meet_both_targets_stop_at_the_fewshot_rung(
    tmp_path: Path, justify
) -> None:
    folder = write_run(
        tmp_path / "run", {"prompt": items(12, 40, format_ok=20), "rag": FORMAT_GAP, "fewshot": MEETS_BOTH}
    )

    verdict, out = justify(folder, "--data", chats(tmp_path))

    assert (verdict["rung"], verdict["fineTuneJustified"]) == ("fewshot", False)
    assert verdict["reasons"][0].startswith(
        "Few-shot suffices: fewshot correctness 0.97 (95% 0.93-1.00) meets 0.80"
    )
    assert verdict["reasons"][0].endswith(
        "your examples in the prompt reach the targets; fine-tuning would add cost and upkeep for "
        "nothing measured."
    )
    assert rule(verdict, 8)["outcome"] == "decides" and rule(verdict, 8)["check"]["status"] == "meets"
    assert rule(verdict, 5)["outcome"] == "skipped"
    assert "Verdict: rung fewshot; fine-tuning not justified" in out
    assert verdict["schemaVersion"] == 3


def test_a_lower_rung_that_meets_the_targets_wins_over_fewshot(tmp_path: Path, justify) -> None:
    folder = write_run(tmp_path / "run", {"rag": MEETS_BOTH, "fewshot": MEETS_BOTH})

    verdict, _ = justify(folder)

    assert verdict["rung"] == "rag"
    assert rule(verdict, 8) == {
        **rule(verdict, 8),
        "outcome": "skipped",
        "detail": "rag already meets the targets",
    }


def test_a_behaviour_gap_without_a_fewshot_arm_means_measure_the_few_shot_rung_first(
    tmp_path: Path, justify
) -> None:
    folder = write_run(tmp_path / "run", {"prompt": items(12, 40, format_ok=20), "rag": FORMAT_GAP})

    verdict, _ = justify(folder, "--data", chats(tmp_path))

    assert (verdict["rung"], verdict["fineTuneJustified"]) == ("rag", False)
    first = verdict["reasons"][0]
    assert first.startswith("Behaviour gap: rag format compliance 0.70 (95% 0.55-0.82) misses 0.95")
    assert "but the run has no fewshot arm; measure the few-shot rung first" in first
    assert "ladder examples upload FILE --eval-set SET" in first
    assert "ladder eval run --set SET --arms prompt,rag,fewshot" in first
    assert first.endswith("Fine-tuning is not justified yet.")
    assert rule(verdict, 5)["outcome"] == "decides" and rule(verdict, 8)["outcome"] == "skipped"


def test_a_measured_fine_tune_is_not_kept_while_the_few_shot_rung_is_unmeasured(
    tmp_path: Path, justify
) -> None:
    """The fine-tuned arm wins 12 format items, which kept it before the few-shot rung existed; without a
    fewshot arm the behaviour gap is not established against the cheaper rung."""
    folder = write_run(tmp_path / "run", {"rag": FORMAT_GAP, "finetuned": items(36, 40, format_ok=40)})

    verdict, _ = justify(folder, "--data", chats(tmp_path))

    assert verdict["fineTuneJustified"] is False and verdict["rung"] == "rag"
    assert verdict["reasons"][0].startswith(
        "Fine-tuned model better, but the few-shot rung, which may close the gap for less, was not measured"
    )
    assert "measure the few-shot rung first" in verdict["reasons"][1]


def test_a_behaviour_gap_the_examples_do_not_close_justifies_fine_tuning(tmp_path: Path, justify) -> None:
    folder = write_run(tmp_path / "run", {"rag": FORMAT_GAP, "fewshot": items(34, 40, format_ok=30)})

    verdict, _ = justify(folder, "--data", chats(tmp_path))

    assert (verdict["rung"], verdict["fineTuneJustified"]) == ("finetune", True)
    first = verdict["reasons"][0]
    assert first.startswith("Behaviour gap: rag format compliance 0.70 (95% 0.55-0.82) misses 0.95")
    assert (
        "fewshot format compliance 0.75 (95% 0.62-0.88) misses 0.95 too, with the examples in the prompt"
        in first
    )
    assert first.endswith("none of them an evaluation question: fine-tuning is justified.")


def test_without_enough_clean_examples_a_measured_fewshot_gap_is_not_justified(
    tmp_path: Path, justify
) -> None:
    folder = write_run(tmp_path / "run", {"rag": FORMAT_GAP, "fewshot": FORMAT_GAP})

    verdict, _ = justify(folder, "--data", chats(tmp_path, 150))

    assert verdict["fineTuneJustified"] is False
    assert "50 more clean examples are needed" in verdict["reasons"][0]


def test_a_fewshot_format_that_straddles_the_target_is_undecided_not_justified(
    tmp_path: Path, justify
) -> None:
    folder = write_run(tmp_path / "run", {"rag": FORMAT_GAP, "fewshot": items(34, 40, format_ok=38)})

    verdict, _ = justify(folder, "--data", chats(tmp_path))

    assert verdict["fineTuneJustified"] is False
    assert rule(verdict, 5)["outcome"] == "undecided"
    assert verdict["reasons"][0].startswith("Undecided: rag format compliance 0.70")
    assert "fewshot format compliance 0.95 (95% 0.88-1.00) undecided against 0.95" in verdict["reasons"][0]


def test_examples_that_teach_the_format_leave_no_behaviour_gap(tmp_path: Path, justify) -> None:
    folder = write_run(tmp_path / "run", {"rag": FORMAT_GAP, "fewshot": items(20, 40, format_ok=40)})

    verdict, _ = justify(folder, "--data", chats(tmp_path))

    assert (verdict["rung"], verdict["fineTuneJustified"]) == ("fewshot", False)
    assert rule(verdict, 5)["outcome"] == "not met"
    assert verdict["reasons"][0].startswith("No behaviour gap left:")
    assert "the examples in the prompt teach it" in verdict["reasons"][0]
    assert verdict["reasons"][1].startswith("Knowledge gap: fewshot correctness 0.50")


@pytest.mark.parametrize(
    ("examples", "why"),
    [
        ({}, "the run recorded no examples manifest (run.examples)"),
        ({**manifest(), "overlap": None}, "uploaded without an overlap check against an evaluation set"),
        (
            manifest(eval_set_sha256="f" * 64),
            "checked against another evaluation set (sha256 ffffffffffff, the run's is c0ffeec0ffee)",
        ),
        (manifest(exact=1), "its examples contain evaluation questions (1 exact, 0 near: item-000)"),
        (manifest(near=2), "its examples contain evaluation questions (0 exact, 2 near: item-000, item-001)"),
    ],
)
def test_a_fewshot_arm_without_a_clean_overlap_check_does_not_count_as_measured(
    tmp_path: Path, justify, examples: dict[str, Any], why: str
) -> None:
    """Even meeting both targets, examples unchecked against the run's set (or containing its questions)
    may have shown the model its own test: the arm is left out, and the verdict says why."""
    folder = write_run(tmp_path / "run", {"rag": FORMAT_GAP, "fewshot": MEETS_BOTH}, examples=examples)

    verdict, _ = justify(folder, "--data", chats(tmp_path))

    assert (verdict["rung"], verdict["fineTuneJustified"]) == ("rag", False)
    assert rule(verdict, 8)["outcome"] == "undecided"
    assert rule(verdict, 8)["detail"].startswith("the fewshot arm does not count as measured: ")
    assert why in rule(verdict, 8)["detail"]
    assert "the fewshot arm does not count as measured" in verdict["reasons"][0]
    assert "measure the few-shot rung first" in verdict["reasons"][0]


def test_the_manifest_is_read_from_run_json_when_the_summary_lacks_it(tmp_path: Path, justify) -> None:
    folder = write_run(
        tmp_path / "run", {"rag": FORMAT_GAP, "fewshot": MEETS_BOTH}, examples=manifest(), examples_in="run"
    )
    assert "examples" not in json.loads((folder / "summary.json").read_text())["run"]

    verdict, _ = justify(folder)

    assert verdict["rung"] == "fewshot"
    assert verdict["evalRun"]["evalSetSha256"] == SET_SHA256


def test_the_scale_case_compares_the_cheapest_arm_that_meets_the_targets(tmp_path: Path, justify) -> None:
    """rag meets the targets at $0.02 a query, fewshot at $0.0004: at a million queries a day the fine-tuned
    model is clearly cheaper than rag but not than fewshot, so the case is made against fewshot."""
    arms = {"rag": MEETS_BOTH, "fewshot": MEETS_BOTH}
    cheap = write_run(tmp_path / "cheap", arms, cost_per_query={"rag": 0.02, "fewshot": 0.0004})
    dear = write_run(tmp_path / "dear", arms, cost_per_query={"rag": 0.02, "fewshot": 0.03})

    cheap_verdict, _ = justify(cheap, "--queries-per-day", "1000000", "--data", chats(tmp_path))
    dear_verdict, _ = justify(dear, "--queries-per-day", "1000000", "--data", chats(tmp_path))

    assert (cheap_verdict["rung"], cheap_verdict["fineTuneJustified"]) == ("rag", False)
    assert rule(cheap_verdict, 6)["detail"].startswith("at 1,000,000 queries/day the fewshot arm costs")
    assert rule(cheap_verdict, 6)["outcome"] == "not met"
    assert dear_verdict["fineTuneJustified"] is True
    assert rule(dear_verdict, 6)["detail"].startswith("at 1,000,000 queries/day the rag arm costs")
