"""Cost arithmetic and the price table's overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ladder.errors import SetupError
from ladder.pricing.models import load_prices
from ladder_core.catalog import bedrock
from ladder_core.catalog.bedrock import foundation_model_id
from ladder_core.evaluation.prices import catalog_prices


def test_every_entry_is_dated_and_names_its_source() -> None:
    for price in [
        *catalog_prices().values(),
        *bedrock.EMBEDDING_PRICES.values(),
        *bedrock.GUARDRAIL_TEXT_UNITS.values(),
        bedrock.CUSTOM_MODEL_IMPORT_STORAGE,
    ]:
        assert price.as_of and price.source.startswith("https://")
    assert bedrock.CUSTOM_MODEL_IMPORT.as_of and bedrock.CUSTOM_MODEL_IMPORT.source.startswith("https://")


def test_token_cost_uses_the_price_per_thousand_tokens() -> None:
    table = load_prices()
    lite = catalog_prices()["amazon.nova-lite-v1:0"]
    expected = 1200 / 1000 * lite.input_per_1k + 300 / 1000 * lite.output_per_1k
    assert table.query_cost("amazon.nova-lite-v1:0", 1200, 300, 900) == pytest.approx(expected)
    # A cross-region inference profile is billed at its foundation model's price.
    assert table.query_cost("us.amazon.nova-lite-v1:0", 1200, 300, 900) == pytest.approx(expected)
    assert (
        foundation_model_id("eu.anthropic.claude-3-haiku-20240307-v1:0")
        == "anthropic.claude-3-haiku-20240307-v1:0"
    )


def test_unknown_models_and_missing_usage_cost_nothing_rather_than_a_guess() -> None:
    table = load_prices()
    assert table.query_cost("acme.unknown-v1:0", 100, 10, 50) is None
    assert table.query_cost("amazon.nova-lite-v1:0", None, 10, 50) is None
    assert table.query_cost(None, 100, 10, 50) is None


def test_an_imported_model_is_priced_by_the_copy_time_the_request_held() -> None:
    cmi = bedrock.CUSTOM_MODEL_IMPORT
    cost = load_prices().query_cost("imported-model/abc123def456", 100, 10, 30_000)
    assert cost == pytest.approx(cmi.usd_per_cmu_minute * cmi.cmus_per_copy * 0.5)


def test_a_user_file_overrides_and_extends_the_table(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "models": {
                    "us.amazon.nova-lite-v1:0": {"inputPer1k": 1.0, "outputPer1k": 2.0, "asOf": "2027-01-01"},
                    "acme.model-v1:0": {"inputPer1k": 0.5, "outputPer1k": 0.5},
                },
                "customModelImport": {"usdPerCmuMinute": 0.1, "cmusPerCopy": 1},
            }
        ),
        encoding="utf-8",
    )
    table = load_prices(path)
    assert table.query_cost("amazon.nova-lite-v1:0", 1000, 1000, 0) == pytest.approx(3.0)
    assert table.query_cost("acme.model-v1:0", 2000, 0, 0) == pytest.approx(1.0)
    assert table.models["amazon.nova-lite-v1:0"].as_of == "2027-01-01"
    assert table.query_cost("imported-model/x", 0, 0, 60_000) == pytest.approx(0.1)
    assert catalog_prices()["amazon.nova-lite-v1:0"].input_per_1k != 1.0  # the defaults are untouched


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('{"model": {}}', "expected an object with 'models'"),
        (
            '{"models": {"a.b": {"inputPer1k": -1, "outputPer1k": 1}}}',
            "models.a.b.inputPer1k must be a number",
        ),
        ('{"models": {"a.b": {"inputPer1k": 1}}}', "outputPer1k must be a number"),
        ('{"customModelImport": {"usdPerCmuMinute": "x", "cmusPerCopy": 1}}', "usdPerCmuMinute"),
    ],
)
def test_a_bad_price_file_is_refused_with_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SetupError, match=message):
        load_prices(path)
    with pytest.raises(SetupError, match="cannot read price file"):
        load_prices(tmp_path / "missing.json")
