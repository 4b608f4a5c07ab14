"""`ladder justify`: each rule on a crafted run folder, the verdict file, exit codes, the bootstrap."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ladder import cli
from ladder.justify import JustifyOptions
from ladder.justify.economics import FineTuneEconomics, scale_case
from ladder.justify.rules import Targets
from ladder_core.stats import paired_bootstrap
from stacks.config import from_context
from stacks.fine_tune.verdict import SCHEMA_VERSION, VERDICT_KEYS, fine_tune_reason, validate
from tests.ladder.conftest import write_jsonl

from .runs import MODEL, items, score, write_run

REPO_ROOT = Path(__file__).resolve().parents[3]


def default_context() -> dict[str, Any]:
    """cdk.json's defaults, read directly: importing the CDK here would only slow these tests down."""
    return json.loads((REPO_ROOT / "cdk.json").read_text())["context"]


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    verdict: dict[str, Any] | None


@pytest.fixture
def justify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*argv: str) -> Outcome:
        out = tmp_path / "ladder-verdict.json"
        code = cli.main(["justify", *argv, "--out", str(out)])
        captured = capsys.readouterr()
        verdict = json.loads(out.read_text()) if out.exists() else None
        return Outcome(code, captured.out, captured.err, verdict)

    return run


def run_dir(tmp_path: Path, **arms: Any) -> str:
    return str(write_run(tmp_path / "eval-runs" / "20261130T090000Z-c0ffeec0", arms))


def data_file(tmp_path: Path, clean: int) -> str:
    return str(write_jsonl(tmp_path / "chats.jsonl", clean, extra_lines=("not json",)))


# --- rule 1 -----------------------------------------------------------------------------------------------


def test_rule_1_too_few_scored_items_means_measure_first(tmp_path: Path, justify) -> None:
    run = run_dir(tmp_path, prompt=items(20, 29, format_ok=29), rag=items(29, 29, format_ok=29))

    result = justify("--eval", run)

    assert result.code == 0, result.err
    assert result.verdict is not None
    assert (result.verdict["rung"], result.verdict["fineTuneJustified"]) == ("none", False)
    assert result.verdict["reasons"][0].startswith("No measurement: rag has 29 scored items < 30")
    assert "Measure first" in result.verdict["reasons"][0]


def test_rule_1_a_run_without_a_rag_arm_means_measure_first(tmp_path: Path, justify) -> None:
    run = run_dir(tmp_path, prompt=items(40, 40))

    result = justify("--eval", run)

    assert result.verdict is not None and result.verdict["rung"] == "none"
    assert "the run has no rag arm" in result.verdict["reasons"][0]


def test_rule_1_items_without_a_correctness_verdict_do_not_count(tmp_path: Path, justify) -> None:
    unscored = [(None, True)] * 10
    run = run_dir(tmp_path, rag=items(25, 25, format_ok=25) + unscored)

    result = justify("--eval", run, "--min-items", "30")

    assert result.verdict is not None and result.verdict["rung"] == "none"
    assert "rag has 25 scored items < 30" in result.verdict["reasons"][0]


# --- rules 2 and 3 ----------------------------------------------------------------------------------------


def test_rule_2_the_prompt_arm_meeting_both_targets_stops_at_prompt(tmp_path: Path, justify) -> None:
    run = run_dir(tmp_path, prompt=items(38, 40, format_ok=40), rag=items(39, 40, format_ok=40))

    result = justify("--eval", run)

    assert result.verdict is not None
    assert (result.verdict["rung"], result.verdict["fineTuneJustified"]) == ("prompt", False)
    assert result.verdict["reasons"][0].startswith(
        "Prompt suffices: prompt correctness 0.95 (95% 0.88-1.00) meets 0.80, "
        "format compliance 1.00 (95% 1.00-1.00) meets 0.95"
    )


def test_rule_2_a_set_without_format_checks_meets_the_format_target(tmp_path: Path, justify) -> None:
    run = run_dir(tmp_path, prompt=items(38, 40), rag=items(39, 40))

    result = justify("--eval", run)

    assert result.verdict is not None and result.verdict["rung"] == "prompt"
    assert "no format compliance checks" in result.verdict["reasons"][0]


def test_rule_2_a_point_above_the_target_is_not_enough(tmp_path: Path, justify) -> None:
    """0.85 on 40 items has an interval reaching below 0.80: prompt is undecided, rag decides."""
    run = run_dir(tmp_path, prompt=items(34, 40, format_ok=40), rag=items(38, 40, format_ok=40))

    result = justify("--eval", run)

    assert result.verdict is not None
    assert (result.verdict["rung"], result.verdict["fineTuneJustified"]) == ("rag", False)
    rule_2 = result.verdict["rules"][1]
    assert rule_2["outcome"] == "undecided"
    assert rule_2["check"]["correctness"]["status"] == "undecided"
    low, high = rule_2["check"]["correctness"]["ci95"]
    assert low < 0.8 < 0.85 < high
    # At 0.85 with variance 0.85 x 0.15, 1.96^2 x 0.1275 / 0.05^2 = 196 items decide it: 156 more.
    assert rule_2["check"]["correctness"]["moreItems"] == 156
    assert "about 156 more items would decide it at the observed rate" in rule_2["detail"]
    assert any(r.startswith("prompt may meet the targets too") for r in result.verdict["reasons"])


def test_rule_3_retrieval_meeting_both_targets_stops_at_rag(tmp_path: Path, justify) -> None:
    run = run_dir(tmp_path, prompt=items(16, 40, format_ok=40), rag=items(36, 40, format_ok=40))

    result = justify("--eval", run, "--target-correctness", "0.7")

    assert result.verdict is not None
    assert (result.verdict["rung"], result.verdict["fineTuneJustified"]) == ("rag", False)
    assert result.verdict["reasons"][0].startswith(
        "Retrieval suffices: rag correctness 0.90 (95% 0.80-0.97) meets 0.70"
    )
    assert result.verdict["targets"]["correctness"] == 0.7


def test_an_arm_whose_intervals_straddle_the_targets_is_undecided_not_justified(
    tmp_path: Path, justify
) -> None:
    run = run_dir(tmp_path, rag=items(34, 40, format_ok=38))

    result = justify("--eval", run, "--data", data_file(tmp_path, 300))

    assert result.verdict is not None
    assert (result.verdict["rung"], result.verdict["fineTuneJustified"]) == ("rag", False)
    first = result.verdict["reasons"][0]
    assert first.startswith("Undecided: rag correctness 0.85 (95% 0.72-0.95) undecided against 0.80")
    assert "format compliance 0.95 (95% 0.88-1.00) undecided against 0.95 (it sits on the target" in first
    assert "Measure more items before deciding" in first
    outcomes = {rule["number"]: rule["outcome"] for rule in result.verdict["rules"]}
    assert (outcomes[4], outcomes[5]) == ("undecided", "undecided")


# --- rule 4 -----------------------------------------------------------------------------------------------


def test_rule_4_missing_correctness_with_good_format_is_a_knowledge_gap(tmp_path: Path, justify) -> None:
    run = run_dir(tmp_path, prompt=items(10, 40, format_ok=40), rag=items(22, 40, format_ok=40))

    result = justify("--eval", run, "--data", data_file(tmp_path, 500))

    assert result.verdict is not None
    assert (result.verdict["rung"], result.verdict["fineTuneJustified"]) == ("rag", False)
    first = result.verdict["reasons"][0]
    assert first.startswith(
        "Knowledge gap: rag correctness 0.55 (95% 0.40-0.70) misses 0.80, "
        "format compliance 1.00 (95% 1.00-1.00) meets 0.95"
    )
    assert "source hit rate 0.55, MRR 0.41" in first
    assert "rag missed 18 items (item-022, item-023," in first and "and 8 more" in first
    assert "chunking" in first and "reranking" in first


# --- rule 5 -----------------------------------------------------------------------------------------------


def test_rule_5_a_behaviour_gap_with_enough_clean_examples_justifies(tmp_path: Path, justify) -> None:
    run = run_dir(
        tmp_path,
        prompt=items(12, 40, format_ok=20),
        rag=items(36, 40, format_ok=28),
        fewshot=items(36, 40, format_ok=28),
    )

    result = justify("--eval", run, "--data", data_file(tmp_path, 200))

    assert result.verdict is not None
    assert (result.verdict["rung"], result.verdict["fineTuneJustified"]) == ("finetune", True)
    assert result.verdict["reasons"][0].startswith(
        "Behaviour gap: rag format compliance 0.70 (95% 0.55-0.82) misses 0.95"
    )
    first = result.verdict["reasons"][0]
    assert "200 clean examples >= 200 needed, none of them an evaluation question" in first
    assert result.verdict["data"] == {
        "path": str(tmp_path / "chats.jsonl"),
        "usable": True,
        "minExamples": 200,
        "missing": 0,
        "read": 201,
        "clean": 200,
        "rejected": 1,
        "train": result.verdict["data"]["train"],
        "eval": result.verdict["data"]["eval"],
        "evalOverlap": {"exact": 0, "near": 0, "ids": []},
    }


def test_rule_5_too_few_clean_examples_names_how_many_more(tmp_path: Path, justify) -> None:
    run = run_dir(
        tmp_path,
        prompt=items(12, 40, format_ok=20),
        rag=items(36, 40, format_ok=28),
        fewshot=items(36, 40, format_ok=28),
    )

    result = justify("--eval", run, "--data", data_file(tmp_path, 150))

    assert result.verdict is not None
    assert (result.verdict["rung"], result.verdict["fineTuneJustified"]) == ("rag", False)
    assert (
        "150 clean examples < 200 needed: 50 more clean examples are needed" in result.verdict["reasons"][0]
    )
    assert result.verdict["data"]["missing"] == 50


def test_rule_5_without_data_is_not_justified_yet(tmp_path: Path, justify) -> None:
    run = run_dir(tmp_path, rag=items(36, 40, format_ok=28), fewshot=items(36, 40, format_ok=28))

    result = justify("--eval", run, "--min-examples", "100")

    assert result.verdict is not None and result.verdict["fineTuneJustified"] is False
    assert "no --data was given" in result.verdict["reasons"][0]
    assert result.verdict["data"] is None


def test_rule_5_also_names_a_knowledge_gap_when_correctness_misses_too(tmp_path: Path, justify) -> None:
    run = run_dir(tmp_path, rag=items(20, 40, format_ok=28), fewshot=items(20, 40, format_ok=28))

    result = justify("--eval", run, "--data", data_file(tmp_path, 200))

    assert result.verdict is not None and result.verdict["rung"] == "finetune"
    assert result.verdict["reasons"][1].startswith(
        "Knowledge gap as well: rag correctness 0.50 (95% 0.35-0.65) misses 0.80"
    )


# --- rule 6 -----------------------------------------------------------------------------------------------


def test_rule_6_at_scale_a_clearly_cheaper_fine_tuned_model_is_justified(tmp_path: Path, justify) -> None:
    folder = write_run(
        tmp_path / "run",
        {"prompt": items(10, 40, format_ok=40), "rag": items(36, 40, format_ok=40)},
        cost_per_query={"rag": 0.02},
    )

    result = justify(
        "--eval", str(folder), "--queries-per-day", "1000000", "--data", data_file(tmp_path, 200)
    )

    assert result.verdict is not None
    assert (result.verdict["rung"], result.verdict["fineTuneJustified"]) == ("finetune", True)
    first = result.verdict["reasons"][0]
    assert first.startswith("Scale case: at 1,000,000 queries/day the rag arm costs $600,000.00/month")
    assert "% cheaper" in first
    assert any(
        reason.startswith("Assumption: Custom Model Import bills") for reason in result.verdict["reasons"]
    )
    assert result.verdict["targets"]["queriesPerDay"] == 1_000_000


def test_rule_6_a_cheap_arm_at_low_volume_stays_where_it_is(tmp_path: Path, justify) -> None:
    run = run_dir(tmp_path, prompt=items(10, 40, format_ok=40), rag=items(36, 40, format_ok=40))

    result = justify("--eval", run, "--queries-per-day", "2000", "--data", data_file(tmp_path, 200))

    assert result.verdict is not None
    assert (result.verdict["rung"], result.verdict["fineTuneJustified"]) == ("rag", False)
    scale = next(r for r in result.verdict["reasons"] if r.startswith("Scale case:"))
    assert "more expensive" in scale and "not clearly cheaper" in scale


def test_rule_6_a_cheaper_model_without_enough_examples_is_not_justified(tmp_path: Path, justify) -> None:
    folder = write_run(tmp_path / "run", {"rag": items(36, 40, format_ok=40)}, cost_per_query={"rag": 0.02})

    result = justify("--eval", str(folder), "--queries-per-day", "1000000")

    assert result.verdict is not None and result.verdict["fineTuneJustified"] is False
    scale = next(r for r in result.verdict["reasons"] if r.startswith("Scale case:"))
    assert "but no --data was given" in scale


def test_scale_case_arithmetic_from_the_stated_assumptions() -> None:
    economics = FineTuneEconomics(
        cmu_price_per_minute_usd=0.1,
        cmus_per_copy=2,
        storage_per_cmu_month_usd=2.0,
        queries_per_copy_minute=10,
        training_run_usd=9.0,
    )

    case = scale_case(
        queries_per_day=28_800, arm="rag", arm_cost_per_query_usd=0.01, valid_days=90, economics=economics
    )

    # 20 queries a minute need 2 copies, busy all 1,440 minutes: 2 x 2 CMU x $0.1 x 1,440 x 30 days.
    assert case.copies == 2
    assert case.serving_monthly_usd == pytest.approx(17_280.0)
    assert case.storage_monthly_usd == pytest.approx(4.0)
    assert case.training_monthly_usd == pytest.approx(3.0)
    assert case.arm_monthly_usd == pytest.approx(8_640.0)
    assert not case.clearly_cheaper


def test_scale_case_bills_only_the_five_minute_windows_that_see_traffic() -> None:
    economics = FineTuneEconomics(cmu_price_per_minute_usd=1.0, cmus_per_copy=1)

    case = scale_case(
        queries_per_day=12, arm="rag", arm_cost_per_query_usd=1.0, valid_days=90, economics=economics
    )

    assert case.active_minutes_per_day == 60
    assert case.serving_monthly_usd == pytest.approx(60 * 30)


# --- rule 7 -----------------------------------------------------------------------------------------------


def test_rule_7_a_measured_fine_tune_shown_better_on_format_is_kept(tmp_path: Path, justify) -> None:
    run = run_dir(
        tmp_path,
        prompt=items(12, 40, format_ok=20),
        rag=items(36, 40, format_ok=28),
        fewshot=items(36, 40, format_ok=28),
        finetuned=items(36, 40, format_ok=40),
    )

    result = justify("--eval", run)

    assert result.verdict is not None
    assert (result.verdict["rung"], result.verdict["fineTuneJustified"]) == ("finetune", True)
    first = result.verdict["reasons"][0]
    assert first.startswith("Fine-tuned model shown better: finetuned - rag on format compliance:")
    assert "difference +0.300" in first and "over 40 paired items (2,000 resamples" in first
    assert "12 won, 0 lost of 40 paired items (exact McNemar one-sided p = 0.0002)" in first
    rule_7 = result.verdict["rules"][6]
    assert rule_7["comparison"]["pOneSided"] == pytest.approx(2**-12, abs=1e-6)
    assert (rule_7["comparison"]["wins"], rule_7["comparison"]["losses"]) == (12, 0)
    assert rule_7["correctnessDrop"]["status"] == "keeps"


def test_rule_7_no_measurable_gain_recommends_switching_the_flag_off(tmp_path: Path, justify) -> None:
    run = run_dir(
        tmp_path,
        rag=items(36, 40, format_ok=28),
        finetuned=items(36, 40, format_ok=29),
    )

    result = justify("--eval", run, "--data", data_file(tmp_path, 300))

    assert result.verdict is not None
    assert (result.verdict["rung"], result.verdict["fineTuneJustified"]) == ("rag", False)
    first = result.verdict["reasons"][0]
    assert first.startswith("Fine-tuned model not shown better with n = 40")
    assert "only 1 of them disagree < 10 (--min-disagreements)" in first
    assert "this run could detect a difference of +0.18 or more (80% power" in first
    assert "95% interval [" in first and "Switch the flag off" in first


def test_rule_7_better_format_but_lost_correctness_is_not_kept(tmp_path: Path, justify) -> None:
    run = run_dir(
        tmp_path,
        rag=items(36, 40, format_ok=28),
        fewshot=items(36, 40, format_ok=28),
        finetuned=items(28, 40, format_ok=40),
    )

    result = justify("--eval", run)

    assert result.verdict is not None and result.verdict["fineTuneJustified"] is False
    assert "its correctness is not shown to stay within the allowed drop" in result.verdict["reasons"][0]
    drop = result.verdict["rules"][6]["correctnessDrop"]
    assert drop["status"] == "loses" and drop["ci95"][0] > 0.05
    assert "correctness drop from rag +0.200 (95% interval +0.075 to +0.325" in result.verdict["reasons"][0]


def test_rule_7_the_drop_guard_uses_the_paired_interval_not_two_points(tmp_path: Path, justify) -> None:
    """rag 0.90 and finetuned 0.85: two points 0.05 apart passed the old guard (drop <= 0.05); the paired
    interval of the drop reaches 0.125, so the loss cannot be ruled out on 40 items."""
    run = run_dir(
        tmp_path,
        rag=items(36, 40, format_ok=28),
        fewshot=items(36, 40, format_ok=28),
        finetuned=items(34, 40, format_ok=40),
    )

    result = justify("--eval", run)

    assert result.verdict is not None and result.verdict["fineTuneJustified"] is False
    drop = result.verdict["rules"][6]["correctnessDrop"]
    assert drop["drop"] == pytest.approx(0.05) and drop["status"] == "undecided"
    assert drop["ci95"][0] <= 0.05 < drop["ci95"][1]
    # The observed drop sits on the limit itself, so no number of items would settle it at this rate.
    assert "may exceed 0.05 (no number of items decides it" in result.verdict["rules"][6]["detail"]


def test_rule_7_a_fine_tune_is_not_needed_when_a_cheaper_arm_meets_the_targets(
    tmp_path: Path, justify
) -> None:
    run = run_dir(tmp_path, rag=items(36, 40, format_ok=40), finetuned=items(38, 40, format_ok=40))

    result = justify("--eval", run)

    assert result.verdict is not None
    assert (result.verdict["rung"], result.verdict["fineTuneJustified"]) == ("rag", False)
    assert result.verdict["reasons"][0].startswith("Fine-tuned model not needed: rag meets the targets")


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    candidate = [(n * 7 % 11) / 10 for n in range(40)]
    baseline = [(n * 3 % 13) / 12 for n in range(40)]

    first = paired_bootstrap(candidate, baseline, seed=7)
    again = paired_bootstrap(candidate, baseline, seed=7)
    other = paired_bootstrap(candidate, baseline, seed=8)

    assert first == again
    assert (first.low, first.high) != (other.low, other.high)
    assert first.low < first.mean < first.high


def test_bootstrap_pairs_the_items() -> None:
    candidate = [1.0] * 30 + [0.0] * 10
    baseline = [1.0] * 24 + [0.0] * 16

    interval = paired_bootstrap(candidate, baseline)

    assert interval.mean == pytest.approx(0.15)
    # Paired, the arms differ only on the 6 items the candidate gets right and the baseline wrong, so no
    # resample has a negative difference; unpaired (30/40 vs 24/40) the interval would cross zero.
    assert interval.low >= 0 and interval.resamples == 2_000


def test_bootstrap_refuses_fewer_than_2000_resamples() -> None:
    with pytest.raises(ValueError, match="at least 2000"):
        paired_bootstrap([1.0], [0.0], resamples=1_999)


def test_the_seed_changes_nothing_but_the_interval(tmp_path: Path, justify) -> None:
    run = run_dir(tmp_path, rag=items(36, 40, format_ok=28), finetuned=items(35, 40, format_ok=34))

    first = justify("--eval", run, "--seed", "1")
    again = justify("--eval", run, "--seed", "1")

    assert first.verdict is not None and again.verdict is not None
    assert first.verdict["reasons"] == again.verdict["reasons"]
    assert first.verdict["targets"]["bootstrap"] == {"resamples": 2000, "seed": 1, "confidence": 0.95}


# --- the verdict file and the command ---------------------------------------------------------------------


def test_the_verdict_has_exactly_the_contract_keys_and_passes_the_synth_gate(tmp_path: Path, justify) -> None:
    run = run_dir(
        tmp_path,
        prompt=items(12, 40, format_ok=20),
        rag=items(36, 40, format_ok=28),
        fewshot=items(36, 40, format_ok=28),
    )

    result = justify("--eval", run, "--data", data_file(tmp_path, 200), "--valid-days", "30")

    assert result.verdict is not None
    assert tuple(result.verdict) == ("schemaVersion", *VERDICT_KEYS, "rules")
    assert result.verdict["schemaVersion"] == SCHEMA_VERSION == 3
    assert [rule["number"] for rule in result.verdict["rules"]] == [1, 2, 3, 4, 5, 6, 7, 8]
    validate(result.verdict)
    assert result.verdict["evalRun"] == {
        "dir": run,
        "id": Path(run).name,
        "evalSetSha256": "c0ffee" * 10 + "abcd",
        "items": 40,
    }
    assert result.verdict["generationModelId"] == MODEL
    assert set(result.verdict["arms"]) == {"prompt", "rag", "fewshot"}
    created = datetime.fromisoformat(result.verdict["createdAt"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(result.verdict["expiresAt"].replace("Z", "+00:00"))
    assert (expires - created).days == 30
    context = {**default_context(), "fineTune": "true", "generationModelId": MODEL}
    context["fineTuneVerdict"] = str(tmp_path / "ladder-verdict.json")
    reason = fine_tune_reason(from_context(context), now=datetime.now(UTC))
    assert reason.kind == "verdict" and reason.reason == result.verdict["reasons"][0]


def test_the_table_prints_every_rule_with_its_numbers(tmp_path: Path, justify) -> None:
    run = run_dir(
        tmp_path,
        prompt=items(12, 40, format_ok=20),
        rag=items(36, 40, format_ok=28),
        fewshot=items(36, 40, format_ok=28),
    )

    result = justify("--eval", run)

    assert result.code == 0
    rule_lines = [line for line in result.out.splitlines() if line[:3].strip().isdigit()]
    assert [line.split()[0] for line in rule_lines] == ["1", "2", "3", "4", "5", "6", "7", "8"]
    assert (
        "rag correctness 0.90 (95% 0.80-0.97) meets 0.80, format compliance 0.70 (95% 0.55-0.82) misses 0.95"
        in result.out
    )
    assert "Verdict: rung rag; fine-tuning not justified" in result.out
    assert result.out.rstrip().endswith(f"Wrote {tmp_path / 'ladder-verdict.json'}")


def test_json_prints_only_the_verdict(tmp_path: Path, justify) -> None:
    run = run_dir(tmp_path, rag=items(36, 40, format_ok=40))

    result = justify("--eval", run, "--json")

    assert result.code == 0
    assert json.loads(result.out) == result.verdict
    assert "Wrote" in result.err


def test_a_missing_run_folder_is_missing_setup(tmp_path: Path, justify) -> None:
    result = justify("--eval", str(tmp_path / "nowhere"))

    assert result.code == 2
    assert "no such run folder" in result.err and "ladder eval run" in result.err
    assert result.verdict is None


def test_a_missing_data_file_is_missing_setup(tmp_path: Path, justify) -> None:
    result = justify("--eval", run_dir(tmp_path, rag=items(36, 40)), "--data", str(tmp_path / "no.jsonl"))

    assert result.code == 2
    assert "cannot read" in result.err and result.verdict is None


def test_unusable_scores_name_every_bad_line(tmp_path: Path, justify) -> None:
    folder = write_run(tmp_path / "run", {"rag": items(36, 40)})
    with (folder / "scores.jsonl").open("a") as fp:
        fp.write("{oops\n")
        fp.write(json.dumps({**score("item-000", "rag", correct=True, format_ok=None)}) + "\n")
        fp.write(json.dumps({**score("x", "rag", correct="yes", format_ok=None)}) + "\n")

    result = justify("--eval", str(folder))

    assert result.code == 1
    assert "3 unusable lines" in result.err
    assert "line 41: not valid JSON" in result.err
    assert "line 42: item 'item-000' of arm 'rag' appears twice" in result.err
    assert "line 43: correct must be true, false or null, got 'yes'" in result.err
    assert "Traceback" not in result.err and result.verdict is None


def test_an_unusable_summary_names_the_field(tmp_path: Path, justify) -> None:
    folder = write_run(tmp_path / "run", {"rag": items(36, 40)})
    summary = json.loads((folder / "summary.json").read_text())
    summary["arms"]["rag"]["correctness"] = 1.5
    (folder / "summary.json").write_text(json.dumps(summary))

    result = justify("--eval", str(folder))

    assert result.code == 1
    assert "arms.rag.correctness is a rate from 0 to 1, got 1.5" in result.err


def test_a_target_outside_0_to_1_is_a_usage_error(tmp_path: Path, justify, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["justify", "--eval", str(tmp_path), "--target-format", "95"])

    assert exited.value.code == 2
    assert "must be from 0 to 1" in capsys.readouterr().err


# --- what a person reads ----------------------------------------------------------------------------------


def test_every_outcome_says_what_the_rule_found(tmp_path: Path, justify) -> None:
    """A rule whose condition does not hold reads "not met", never "passes" (issue: "Prompt suffices
    passes ... a target is missed" read as the opposite)."""
    run = run_dir(
        tmp_path,
        prompt=items(12, 40, format_ok=20),
        rag=items(36, 40, format_ok=28),
        fewshot=items(36, 40, format_ok=28),
    )

    result = justify(run)

    assert result.code == 0, result.err
    outcomes = {
        line.split()[0]: line[31:41].strip() for line in result.out.splitlines() if line[:3].strip().isdigit()
    }
    assert outcomes == {
        "1": "not met",
        "2": "not met",
        "3": "not met",
        "4": "not met",
        "5": "decides",
        "6": "skipped",
        "7": "skipped",
        "8": "not met",
    }
    assert "passes" not in result.out and all("passes" not in r for r in result.verdict["reasons"])
    assert any(
        r.startswith(
            "Rule 2 (Prompt suffices): not met - prompt correctness 0.30 (95% 0.15-0.45) misses 0.80"
        )
        for r in result.verdict["reasons"]
    )


def test_the_readmes_worked_example_is_what_the_cli_prints(tmp_path: Path, capsys, monkeypatch) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("### Worked example")[1].split("```text\n")[1].split("```")[0].splitlines()
    command = example[0].removeprefix("$ ").split()
    folder = tmp_path / command[2]
    write_run(
        folder,
        {
            "prompt": items(16, 40, format_ok=18),
            "rag": items(38, 40, format_ok=26),
            "fewshot": items(37, 40, format_ok=30),
            "finetuned": items(38, 40, format_ok=40),
        },
    )
    write_jsonl(tmp_path / command[4], 236)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["ladder"])

    assert cli.main(command[1:]) == 0

    printed = capsys.readouterr().out.splitlines()
    without_dates = [line.split(" (expires")[0] for line in printed]
    assert without_dates == [line.split(" (expires")[0] for line in example[1:]]


def test_the_run_folder_is_positional_and_eval_is_kept_as_an_alias(tmp_path: Path, justify) -> None:
    run = run_dir(tmp_path, rag=items(36, 40, format_ok=40))

    positional, alias = justify(run), justify("--eval", run)
    neither = justify()

    assert positional.code == alias.code == 0
    assert positional.verdict is not None and alias.verdict is not None
    assert positional.verdict["reasons"] == alias.verdict["reasons"]
    assert neither.code == 2 and "justify needs RUN_DIR" in neither.err


def test_a_finetuned_arm_that_never_answered_is_not_measured_and_keeps_the_flag_advice_out(
    tmp_path: Path, justify
) -> None:
    unavailable = {"httpStatus": 400, "code": "FineTunedModelUnavailable", "message": "no model published"}
    run = write_run(
        tmp_path / "run",
        {"rag": items(36, 40, format_ok=28), "fewshot": items(36, 40, format_ok=28), "finetuned": []},
        errors={"finetuned": 40},
        error_cause=unavailable,
    )

    result = justify(str(run), "--data", data_file(tmp_path, 300))

    assert result.code == 0, result.err
    assert result.verdict is not None
    assert (result.verdict["rung"], result.verdict["fineTuneJustified"]) == ("finetune", True)
    rule_7 = next(line for line in result.out.splitlines() if line.startswith("  7"))
    assert "undecided" in rule_7 and "not measured: 40 of 40 answers ended in an error" in rule_7
    assert "400 FineTunedModelUnavailable x 40" in rule_7
    assert "switch the flag off" not in result.out.lower()
    assert f"ladder eval run --out {run}" in result.out


def test_a_run_where_every_answer_failed_names_the_cause_not_a_malformed_file(
    tmp_path: Path, justify
) -> None:
    not_found = {"httpStatus": 404, "code": "ApiGateway", "message": "Missing Authentication Token"}
    run = write_run(
        tmp_path / "run", {"prompt": [], "rag": []}, errors={"prompt": 45, "rag": 45}, error_cause=not_found
    )

    result = justify(str(run))

    assert result.code == 1
    assert "no answer came back" in result.err and "malformed" not in result.err
    assert 'rag: 404 ApiGateway x 45 ("Missing Authentication Token")' in result.err
    assert f"ladder eval run --out {run}" in result.err
    assert result.verdict is None and "Traceback" not in result.err


def test_an_unfinished_run_is_continued_not_measured_again(tmp_path: Path, justify) -> None:
    run = write_run(tmp_path / "run", {"prompt": items(4, 4), "rag": items(4, 4)}, items_in_set=45)

    result = justify(str(run))

    assert result.code == 0
    assert result.verdict is not None and result.verdict["rung"] == "none"
    first = result.verdict["reasons"][0]
    assert "The run is unfinished (rag has 4 of 45 answers): continue it with: ladder eval run --out" in first
    assert "Measure first" not in first


def test_the_cli_defaults_are_the_rules_defaults() -> None:
    # Given no option but the run folder
    args = cli.build_parser().parse_args(["justify", "RUN"])
    # Then every default is the one the objects that apply it declare
    targets, options = Targets(), JustifyOptions(eval_dir=Path("RUN"))
    assert (args.target_correctness, args.target_format, args.min_items) == (
        targets.correctness,
        targets.format_compliance,
        targets.min_items,
    )
    assert (args.valid_days, args.resamples, args.seed, args.out) == (
        options.valid_days,
        options.resamples,
        options.seed,
        options.out,
    )
    # And the documented defaults are what they were: 0.8, 0.95, 30 items, 90 days, 2,000 resamples
    assert (targets.correctness, targets.format_compliance, targets.min_items) == (0.8, 0.95, 30)
    assert (options.valid_days, options.resamples) == (90, 2_000)


def test_an_arm_with_a_model_is_shown_but_the_rungs_are_decided_on_the_plain_arms(
    tmp_path: Path, justify
) -> None:
    # Given prompt@MODEL meeting both targets, while the plain prompt arm does not and rag does
    model_arm = "prompt@us.amazon.nova-pro-v1:0"
    arms = {
        "prompt": items(10, 40, format_ok=40),
        "rag": items(39, 40, format_ok=40),
        model_arm: items(40, 40, format_ok=40),
    }
    run = str(write_run(tmp_path / "eval-runs" / "20261130T090000Z-c0ffeec0", arms))

    # When the run is justified
    result = justify("--eval", run)

    # Then the rung is rag's (another model is not the deployment's prompt rung), and the verdict keeps the
    # arm's numbers beside the others
    assert result.code == 0, result.err
    assert result.verdict is not None and result.verdict["rung"] == "rag"
    assert list(result.verdict["arms"]) == ["prompt", "rag", model_arm]
    assert result.verdict["arms"][model_arm]["correctness"] == 1.0
