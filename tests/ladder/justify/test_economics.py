"""The scale case prices the training run the configuration describes, from the catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ladder import cli
from ladder.justify.economics import FineTuneEconomics, scale_case
from ladder_core.catalog import training

from .runs import items, write_run

CDK_JSON = Path(__file__).resolve().parents[3] / "cdk.json"


def _context(**overrides: Any) -> dict[str, Any]:
    return {**json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"], **overrides}


def test_the_configured_run_is_priced_from_the_catalog() -> None:
    context = _context(
        fineTuneInstanceType="ml.g6e.xlarge", fineTuneInstanceCount="2", fineTuneMaxRuntimeHours=6
    )

    economics = FineTuneEconomics.configured(context)

    rate = training.instance("ml.g6e.xlarge").usd_per_hour
    assert rate is not None
    assert economics.training_run_usd == pytest.approx(rate * 2 * 6)
    assert "2 x ml.g6e.xlarge for 6 h" in economics.training_run


def test_the_default_configuration_prices_its_own_instance_and_runtime() -> None:
    context = _context()

    economics = FineTuneEconomics.configured(context)

    rate = training.instance(context["fineTuneInstanceType"]).usd_per_hour
    assert rate is not None
    expected = rate * context["fineTuneInstanceCount"] * context["fineTuneMaxRuntimeHours"]
    assert economics.training_run_usd == pytest.approx(expected)
    assert any(f"${expected:.2f}" in line for line in economics.describe())


@pytest.mark.parametrize(
    ("context", "said"),
    [
        (_context(fineTuneInstanceType="ml.p5.48xlarge"), "the catalog has no price for ml.p5.48xlarge"),
        (
            _context(fineTuneInstanceType="ml.g5.3xlarge"),
            "ml.g5.3xlarge is not a catalogued training instance",
        ),
        ({}, "no training run configured"),
    ],
)
def test_an_unknown_training_cost_is_said_and_claims_no_saving(context: dict[str, Any], said: str) -> None:
    economics = FineTuneEconomics.configured(context)

    case = scale_case(
        queries_per_day=1_000_000, arm="rag", arm_cost_per_query_usd=0.02, valid_days=90, economics=economics
    )

    assert economics.training_run_usd is None
    assert any(said in line and "is unknown" in line for line in economics.describe())
    assert case.training_monthly_usd is None
    assert case.saving > 0.3 and not case.clearly_cheaper
    assert "training unknown, left out" in case.describe() and "at least $" in case.describe()


def test_justify_states_the_configured_training_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_run(
        tmp_path / "run",
        {"prompt": items(10, 40, format_ok=40), "rag": items(36, 40, format_ok=40)},
        cost_per_query={"rag": 0.02},
    )
    out = tmp_path / "ladder-verdict.json"

    code = cli.main(["justify", str(folder), "--queries-per-day", "1000000", "--out", str(out)])

    capsys.readouterr()
    assert code == 0
    reasons = json.loads(out.read_text())["reasons"]
    context = _context()
    run = f"{context['fineTuneInstanceCount']} x {context['fineTuneInstanceType']} for "
    assert any(r.startswith("Assumption: one training run costs $") and run in r for r in reasons)
