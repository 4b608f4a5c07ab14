"""The training-instance catalogue prices a run one way for every caller (synth's cap, justify, plans)."""

from __future__ import annotations

import pytest

from ladder_core.catalog import training


def test_a_run_costs_the_hourly_price_of_every_instance_for_every_hour() -> None:
    g5 = training.instance("ml.g5.2xlarge")

    assert g5.usd_per_hour is not None
    assert training.run_cost_usd("ml.g5.2xlarge", 2, 4) == pytest.approx(g5.usd_per_hour * 8)


def test_an_unpriced_instance_has_an_unknown_cost_not_zero() -> None:
    assert training.instance("ml.p5.48xlarge").usd_per_hour is None
    assert training.run_cost_usd("ml.p5.48xlarge", 1, 4) is None


def test_an_uncatalogued_instance_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"ml.g5.3xlarge is not a catalogued GPU training instance; known: "):
        training.run_cost_usd("ml.g5.3xlarge", 1, 4)


def test_every_price_correction_is_of_a_catalogued_priced_instance() -> None:
    for name in training.PRICE_CORRECTIONS:
        assert training.instance(name).usd_per_hour is not None
        assert training.PRICE_CORRECTIONS[name].startswith(f"{training.instance(name).usd_per_hour}")


def test_a_family_the_training_image_cannot_drive_is_not_catalogued() -> None:
    families = {name.split(".")[1] for name in training.INSTANCES}

    assert not families & set(training.CUDA13_UNSUPPORTED_FAMILIES)
