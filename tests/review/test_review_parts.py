"""The review's parts on small hand-written templates: cross-stack references, per-query cost, the fine-tune
reason, bad input and missing setup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ladder.errors import EXIT_SETUP, SetupError
from ladder.review import cost, findings, inventory, main, model, render
from ladder_core.catalog import idle


def _assembly(tmp_path: Path, templates: dict[str, dict]) -> model.Assembly:
    return model.Assembly(tmp_path, [model.Stack(name, t, {}, ()) for name, t in templates.items()])


def test_an_imported_value_reads_as_the_resource_the_other_stack_exports(tmp_path) -> None:
    # Given a knowledge stack exporting its knowledge base ARN and an API stack importing it
    exporter = {
        "Resources": {"Kb": {"Type": "AWS::Bedrock::KnowledgeBase"}},
        "Outputs": {
            "Out": {"Value": {"Fn::GetAtt": ["Kb", "KnowledgeBaseArn"]}, "Export": {"Name": "K:KbArn"}}
        },
    }
    importer = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function"}}}
    assembly = _assembly(tmp_path, {"Knowledge": exporter, "Api": importer})
    value = {"Fn::ImportValue": "K:KbArn"}
    # Then the import is shown and resolved as the exporting stack's resource
    assert assembly.text("Api", value) == "Knowledge:Kb.KnowledgeBaseArn"
    assert assembly.refs("Api", value) == {model.Ref("Knowledge", "Kb", "KnowledgeBaseArn")}
    joined = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "Fn"}, "/*"]]}
    assert assembly.text("Api", joined) == "arn:${AWS::Partition}:s3:::Fn/*"
    assert assembly.nag_text("Api", joined) == "arn:<AWS::Partition>:s3:::<Fn>/*"


def test_per_query_cost_comes_from_the_latest_evaluation_run(tmp_path) -> None:
    for run, usd in (("2026-11-01T10-00-00Z", 0.5), ("2026-11-30T10-00-00Z", 0.002)):
        (tmp_path / run).mkdir()
        summary = {"arms": {"rag": {"costPerQueryUsd": usd}, "prompt": {"costPerQueryUsd": usd / 2}}}
        (tmp_path / run / "summary.json").write_text(json.dumps(summary))
    result = cost.per_query(tmp_path)
    assert result is not None
    assert result["summary"].endswith("2026-11-30T10-00-00Z/summary.json")
    assert result["costPerQueryUsd"] == {"prompt": 0.001, "rag": 0.002}
    assert cost.per_query(tmp_path / "none") is None


def test_s3_vectors_resources_have_no_idle_price_but_are_listed(tmp_path) -> None:
    template = {
        "Resources": {
            "Vectors": {"Type": "AWS::S3Vectors::VectorBucket", "Properties": {}},
            "Index": {"Type": "AWS::S3Vectors::Index", "Properties": {}},
            "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        }
    }
    assembly = _assembly(tmp_path, {"Knowledge": template})
    lines = cost.idle_lines(assembly)
    assert [(line["logicalId"], line["monthlyUsd"]) for line in lines] == [("Key", 1.0)]
    assert {row["logicalId"] for row in cost.no_idle_price(assembly)} == {"Vectors", "Index"}
    assert "S3 Vectors storage" in idle.STORAGE_PRICES


def test_fine_tune_reason_is_read_from_the_template_metadata(tmp_path) -> None:
    reason = {
        "kind": "verdict",
        "reason": "fine-tuning beat retrieval on format adherence",
        "rung": "finetune",
        "verdictCreatedAt": "2026-11-30T10:00:00Z",
        "expiresAt": "2027-02-28T10:00:00Z",
        "headline": "+18 points format adherence",
    }
    with_reason = {"Metadata": {inventory.FINE_TUNE_REASON_KEY: reason}, "Resources": {}}
    assembly = _assembly(tmp_path, {"LadderFineTune": with_reason})
    assert inventory.optional_stacks(assembly) == [{"stack": "LadderFineTune", "on": True, "reason": reason}]
    review_part = {"optionalStacks": inventory.optional_stacks(assembly)}
    text = render.markdown(_optional_blocks(review_part))
    assert (
        "on by verdict: fine-tuning beat retrieval" in text and "+18 points" in text and "expiresAt" in text
    )
    without = _assembly(tmp_path, {"LadderFineTune": {"Resources": {}}})
    assert inventory.optional_stacks(without)[0]["reason"] is None


def _optional_blocks(review_part: dict) -> list:
    # Render only the optional-stacks section: the rest of a full review is not needed here
    document = render.blocks(_minimal_review() | review_part)
    start = next(
        i for i, b in enumerate(document) if getattr(b, "text", "") == "Why the optional stacks exist"
    )
    return document[start:]


def _minimal_review() -> dict:
    return {
        "summary": [],
        "summaryText": "",
        "diagram": "flowchart LR\n",
        "stacks": [],
        "permissions": {"roles": [], "resourcePolicies": []},
        "cost": {
            "idleMonthlyUsd": 0,
            "priceRegion": "us-east-1",
            "pricesAsOf": "2026-12-01",
            "lines": [],
            "noIdlePrice": [],
            "usagePrices": [],
            "perQuery": None,
        },
        "findings": {
            "cdkNag": {"unacknowledged": [], "acknowledged": []},
            "cfnLint": [],
            "checkov": {"version": "x", "passed": 0, "failed": [], "skipped": []},
        },
        "optionalStacks": [],
        "diagrams": [],
    }


def test_html_escapes_template_text_and_inlines_the_renderer(tmp_path) -> None:
    fake_js = tmp_path / "mermaid.min.js"
    fake_js.write_text("var x = '</script>';")
    review = _minimal_review() | {"summary": ["<img src=x onerror=alert(1)>"]}
    page = render.html_page(render.blocks(review), fake_js)
    assert "<img src=x" not in page and "&lt;img src=x" in page
    assert "<\\/script>" in page, "a closing tag inside the inlined library cannot end the script early"
    with pytest.raises(SetupError, match="npm ci"):
        render.html_page(render.blocks(review), tmp_path / "missing.js")


def test_missing_checkov_is_a_setup_error_that_says_to_run_make(tmp_path) -> None:
    with pytest.raises(SetupError, match="make checkov-venv"):
        findings.run_checkov([tmp_path / "t.json"], tmp_path / "no-checkov")


def test_review_without_a_synthesized_app_exits_2_naming_make_synth(tmp_path, capsys) -> None:
    assert main([str(tmp_path)]) == EXIT_SETUP
    assert "make synth" in capsys.readouterr().err


def test_against_a_file_that_is_not_a_review_is_refused(tmp_path, capsys) -> None:
    not_json = tmp_path / "old.json"
    not_json.write_text("{not json")
    assert main([str(tmp_path), "--against", str(not_json)]) == 1
    assert "is not JSON" in capsys.readouterr().err
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"stacks": []}))
    assert main([str(tmp_path), "--against", str(other)]) == 1
    assert "not a Ladder review.json" in capsys.readouterr().err
    assert main([str(tmp_path), "--against", str(tmp_path / "missing.json")]) == EXIT_SETUP


def test_the_summary_is_a_short_list_and_a_cost_drop_reads_minus_dollars() -> None:
    diff = {
        "idleMonthlyUsdBefore": 400.0,
        "idleMonthlyUsdAfter": 224.8,
        "idleMonthlyUsdDelta": -175.2,
        **{key: [] for key in ("added", "removed", "replaced", "changed")},
        "permissionsGained": [],
        "permissionsLost": [],
    }
    review = _minimal_review() | {"summary": ["Stacks: A.", "Cost: B."], "diff": diff, "against": "old.json"}

    page = render.markdown(render.blocks(review))

    assert "- Stacks: A.\n- Cost: B.\n" in page
    assert "Idle monthly floor $400.00 → $224.80 (-$175.20)." in page
