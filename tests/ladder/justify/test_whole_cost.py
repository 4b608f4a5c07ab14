"""The scale case compares whole costs, and prices a copy of the imported model with its own CMUs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ladder import cli
from ladder.justify.economics import FineTuneEconomics, scale_case, vector_store_floor_monthly_usd
from ladder.pricing import imported
from ladder.pricing.models import load_prices
from ladder_core.catalog import idle

from .runs import items, write_run

MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:imported-model/abcdef123456"
BREAKDOWN = {
    "generation": 0.0001,
    "guardrail": 0.0016,
    "embedding": 0.0000002,
    "rerank": 0.0,
    "vectorQuery": None,
    "requests": 0.0000171,
}


@pytest.fixture
def bedrock() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "bedrock", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def imported_model(**units: Any) -> dict[str, Any]:
    """A GetImportedModel response (botocore's bedrock model: ``customModelUnits`` is CustomModelUnits)."""
    response: dict[str, Any] = {
        "modelArn": MODEL_ARN,
        "modelName": "ladder-finetuned",
        "modelArchitecture": "llama",
    }
    if units:
        response["customModelUnits"] = units
    return response


def test_the_imported_models_own_units_are_read_and_kept_in_the_run_folder(
    bedrock: tuple[Any, Stubber], tmp_path: Path
) -> None:
    """Bedrock API reference, CustomModelUnits: ``customModelUnitsPerModelCopy`` "The number of custom model
    units used to host a model copy", ``customModelUnitsVersion`` "Use to determine the billing rate for the
    custom model unit" (pattern v\\d+.\\d+); GetImportedModel returns them as ``customModelUnits``."""
    client, stubber = bedrock
    stubber.add_response(
        "get_imported_model",
        imported_model(customModelUnitsPerModelCopy=1, customModelUnitsVersion="v1.0"),
        {"modelIdentifier": MODEL_ARN},
    )

    units = imported.record_units(tmp_path, client, MODEL_ARN)

    assert units == imported.ImportedModelUnits("imported-model/abcdef123456", 1, "v1.0")
    assert imported.recorded_units(tmp_path) == (units, "")
    # And the run's answers of that model are priced at 1 CMU per copy, half the default's 2
    default = load_prices()
    own = imported.with_recorded_units(default, tmp_path)
    assert own.custom_model_import.cmus_per_copy == 1
    assert own.query_cost("imported-model/abcdef123456", 0, 0, 60_000) == pytest.approx(
        default.query_cost("imported-model/abcdef123456", 0, 0, 60_000) / 2
    )


@pytest.mark.parametrize(
    ("response", "error", "note"),
    [
        (imported_model(), None, "GetImportedModel returned no customModelUnitsPerModelCopy"),
        (None, "ResourceNotFoundException", "GetImportedModel failed with ResourceNotFoundException"),
        (None, "AccessDeniedException", "GetImportedModel failed with AccessDeniedException"),
    ],
)
def test_units_that_cannot_be_read_keep_the_default_and_say_why(
    bedrock: tuple[Any, Stubber], tmp_path: Path, response: Any, error: str | None, note: str
) -> None:
    client, stubber = bedrock
    if error:
        stubber.add_client_error("get_imported_model", error, "nope", 400, {"modelIdentifier": MODEL_ARN})
    else:
        stubber.add_response("get_imported_model", response, {"modelIdentifier": MODEL_ARN})

    assert imported.record_units(tmp_path, client, MODEL_ARN) is None

    assert imported.recorded_units(tmp_path) == (None, note)
    economics = FineTuneEconomics().with_imported_model(*imported.recorded_units(tmp_path))
    assert economics.cmus_per_copy == 2
    assert "2 CMUs per copy (the default for a Llama 3.1 8B-class model" in economics.describe()[0]
    assert note in economics.describe()[0]
    assert imported.with_recorded_units(load_prices(), tmp_path) == load_prices()


def test_the_scale_case_adds_what_both_sides_pay_so_the_saving_is_not_inflated() -> None:
    economics = FineTuneEconomics(
        cmu_price_per_minute_usd=0.1,
        cmus_per_copy=1,
        storage_per_cmu_month_usd=2.0,
        queries_per_copy_minute=100,
        training_run_usd=30.0,
        vector_floor_monthly_usd=175.2,
        vector_floor="OpenSearch Serverless 1 OCU",
    )
    whole = sum(value for value in BREAKDOWN.values() if value is not None)

    generation_only = scale_case(
        queries_per_day=1_000_000, arm="rag", arm_cost_per_query_usd=whole, valid_days=30, economics=economics
    )
    case = scale_case(
        queries_per_day=1_000_000,
        arm="rag",
        arm_cost_per_query_usd=whole,
        valid_days=30,
        economics=economics,
        arm_breakdown=BREAKDOWN,
    )

    # The fine-tuned side pays the same guardrail, embedding and requests per query, and both the floor
    shared = (0.0016 + 0.0000002 + 0.0000171) * 1_000_000 * 30
    assert case.shared_monthly_usd == pytest.approx(shared)
    assert case.arm_total_monthly_usd == pytest.approx(whole * 30_000_000 + 175.2)
    serving = case.serving_monthly_usd + case.storage_monthly_usd + 30.0
    assert case.fine_tuned_monthly_usd == pytest.approx(serving + shared + 175.2)
    assert case.saving == pytest.approx(1 - (serving + shared + 175.2) / (whole * 30_000_000 + 175.2))
    # And leaving the shared costs out would have claimed a far larger saving
    assert generation_only.saving > case.saving + 0.5
    # And the reason states each component per query, the unknown one as unknown
    text = case.describe()
    assert "per query: generation $0.0001000, guardrail $0.0016000, embedding $0.0000002" in text
    assert "vectorQuery unknown, requests $0.0000171" in text
    assert f"the same guardrail, retrieval and requests ${shared:,.2f}" in text
    assert "vector store floor $175.20" in text


@pytest.mark.parametrize(
    ("context", "ocus"),
    [
        ({"vectorStore": "opensearch", "profile": "sandbox", "standbyReplicas": ""}, 1.0),
        ({"vectorStore": "opensearch", "profile": "prod", "standbyReplicas": ""}, 2.0),
        ({"vectorStore": "opensearch", "profile": "prod", "standbyReplicas": "false"}, 1.0),
        ({"vectorStore": "opensearch", "profile": "sandbox", "standbyReplicas": True}, 2.0),
        ({"vectorStore": "s3vectors", "profile": "prod"}, 0.0),
    ],
)
def test_the_vector_store_floor_follows_the_configuration(context: dict[str, Any], ocus: float) -> None:
    usd, text = vector_store_floor_monthly_usd(context)
    assert usd == pytest.approx(ocus * idle.OCU_HOUR.usd * idle.HOURS_PER_MONTH)
    assert (text == "") == (ocus == 0.0)


def test_justify_states_the_components_and_the_imported_models_own_units(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a run whose summary has the cost breakdown and whose folder recorded the model's units
    folder = write_run(
        tmp_path / "run",
        {"prompt": items(10, 40, format_ok=40), "rag": items(36, 40, format_ok=40)},
        cost_per_query={"rag": 0.0017173},
    )
    summary = json.loads((folder / "summary.json").read_text())
    summary["arms"]["rag"]["costBreakdownUsd"] = BREAKDOWN
    summary["arms"]["rag"]["costUnknown"] = ["vectorQuery"]
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / imported.IMPORTED_MODEL_FILE).write_text(
        json.dumps(
            {
                "modelId": "imported-model/abcdef123456",
                "customModelUnitsPerModelCopy": 1,
                "customModelUnitsVersion": "v1.0",
            }
        )
    )
    out = tmp_path / "ladder-verdict.json"

    # When justify decides at scale
    code = cli.main(["justify", str(folder), "--queries-per-day", "1000000", "--out", str(out)])

    # Then the scale reason names every component and the units come from GetImportedModel
    capsys.readouterr()
    assert code == 0
    reasons = json.loads(out.read_text())["reasons"]
    scale = next(r for r in reasons if r.startswith("Scale case:"))
    assert "per query: generation $0.0001000, guardrail $0.0016000" in scale
    assert "the same guardrail, retrieval and requests $" in scale
    assumption = next(r for r in reasons if r.startswith("Assumption: Custom Model Import bills"))
    own = "1 CMUs per copy (read from GetImportedModel for imported-model/abcdef123456, CMU version v1.0)"
    assert own in assumption


def test_a_summary_with_a_malformed_breakdown_is_refused(tmp_path: Path) -> None:
    from ladder.justify.runs import UnusableRunError, read_run

    folder = write_run(tmp_path / "run", {"rag": items(36, 40, format_ok=40)})
    summary = json.loads((folder / "summary.json").read_text())
    summary["arms"]["rag"]["costBreakdownUsd"] = {"generation": -1}
    (folder / "summary.json").write_text(json.dumps(summary))

    with pytest.raises(UnusableRunError, match=r"arms\.rag\.costBreakdownUsd must be an object"):
        read_run(folder)
