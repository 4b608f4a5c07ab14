"""The cost of one scheduled drift-watch run in ``make review``'s cost section: items x arms x the
per-query cost, from the synthesized watch function's configuration and the latest evaluation run."""

from __future__ import annotations

import pytest

from ladder.review import cost, model, render
from ladder_core.evaluation.prices import catalog_prices
from tests.ladder.evaluation.crafted_run import three_arms
from tests.stacks.conftest import COMBINATIONS

PRO = "us.amazon.nova-pro-v1:0"


@pytest.fixture(scope="module")
def assembly(synth):
    return model.load(
        synth({**COMBINATIONS["sandbox"], "driftWatchModelIds": PRO, "allowedGenerationModelIds": PRO}).outdir
    )


def test_a_run_costs_items_times_the_sum_of_its_arms(assembly, tmp_path) -> None:
    # Given the latest evaluation run measured rag and fewshot with Nova Lite (1,000 in / 100 out tokens each)
    summary = three_arms(tmp_path / "eval-runs" / "20261201T100000Z-ab12cd34")
    # When the review prices one watch run of the default 200 items
    watch = cost.watch_run(assembly, tmp_path / "eval-runs")
    # Then the arms are those the schedule runs at most with examples uploaded, and each is priced
    assert [row["arm"] for row in watch["arms"]] == ["rag", "fewshot", f"rag@{PRO}", f"fewshot@{PRO}"]
    per_arm = {row["arm"]: row["costPerQueryUsd"] for row in watch["arms"]}
    assert per_arm["rag"] == summary["arms"]["rag"]["costPerQueryUsd"]
    # A model arm costs the mode's queries with the generation at that model's token prices.
    prices = catalog_prices()
    pro_minus_lite = prices["amazon.nova-pro-v1:0"].cost(1000, 100) - prices["amazon.nova-lite-v1:0"].cost(
        1000, 100
    )
    assert per_arm[f"rag@{PRO}"] == pytest.approx(per_arm["rag"] + pro_minus_lite)
    assert per_arm[f"fewshot@{PRO}"] == pytest.approx(per_arm["fewshot"] + pro_minus_lite)
    assert watch["items"] == 200
    assert watch["runUsd"] == pytest.approx(200 * sum(per_arm.values()), abs=1e-4)
    assert watch["metrics"] == 13
    assert "Step Functions" in watch["excludes"]


def test_without_an_evaluation_run_the_cost_is_unknown_not_zero(assembly, tmp_path) -> None:
    watch = cost.watch_run(assembly, tmp_path / "none")
    assert watch["runUsd"] is None
    assert watch["knownRunUsd"] == 0
    assert watch["unknownArms"] == ["rag", "fewshot", f"rag@{PRO}", f"fewshot@{PRO}"]
    text = "".join(str(block) for block in render._watch_run_blocks(watch))
    assert "at least $0.0000 (unknown: rag, fewshot" in text


def test_with_the_watch_off_there_is_no_run_to_price(synth, tmp_path) -> None:
    off = model.load(synth(COMBINATIONS["sandbox-no-drift-watch"]).outdir)
    assert cost.watch_run(off, tmp_path) is None
    assert "Drift watch: off" in str(render._watch_run_blocks(None))
