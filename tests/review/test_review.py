"""The review built from the real synthesized templates of every flag combination."""

from __future__ import annotations

import json

import pytest

from ladder.review import diff, main, unexplained
from ladder_core.catalog import idle
from tests.stacks.conftest import COMBINATIONS
from tests.stacks.rag.templates import rag_function
from tests.support.synth import only

pytestmark = pytest.mark.synth


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_checkov_leaves_no_unexplained_failure(review_of, combination: str) -> None:
    # Given the review of one flag combination (checkov run on every template)
    checkov = review_of(combination)["findings"]["checkov"]
    # Then checkov failed nothing, and every check skipped on a resource says specifically why
    assert checkov["failed"] == [], json.dumps(checkov["failed"], indent=2)
    assert checkov["passed"] > 50
    assert checkov["skipped"], "the accepted findings are listed, not hidden"
    for skipped in checkov["skipped"]:
        assert len(skipped["reason"]) >= 60, skipped


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_nothing_is_unexplained_and_cfn_lint_is_clean(review_of, combination: str) -> None:
    review = review_of(combination)
    assert unexplained(review) == []
    assert review["findings"]["cdkNag"]["acknowledged"], "cdk-nag's acknowledgements are listed with reasons"


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_every_wildcard_resource_names_the_acknowledgement_that_allows_it(
    review_of, combination: str
) -> None:
    roles = review_of(combination)["permissions"]["roles"]
    wildcards = [
        (role["logicalId"], resource)
        for role in roles
        for statement in role["statements"]
        for resource in statement["resources"]
        if resource["wildcard"]
    ]
    assert wildcards, "Ladder's roles hold at least the X-Ray wildcard"
    for role, resource in wildcards:
        assert resource.get("acknowledgement"), f"{role}: {resource['text']} has no acknowledgement"


def test_rag_function_role_may_retrieve_from_the_knowledge_base(review_of, sandbox) -> None:
    # Given the RAG function and the knowledge base, found by type in their templates
    function_id, _ = rag_function(sandbox.template("RagApi"))
    knowledge_base_id, _ = only(sandbox.template("Knowledge"), "AWS::Bedrock::KnowledgeBase")
    # When the review lists the permissions
    roles = review_of("sandbox")["permissions"]["roles"]
    (row,) = [role for role in roles if function_id in role["usedBy"]]
    # Then the function's role row lists bedrock:Retrieve on the knowledge base's ARN (imported across stacks)
    retrieve = [s for s in row["statements"] if "bedrock:Retrieve" in s["actions"]]
    assert retrieve, row["statements"]
    resources = [r["text"] for s in retrieve for r in s["resources"]]
    assert any(f"{knowledge_base_id}.KnowledgeBaseArn" in text for text in resources), resources
    assert row["trust"][0]["principals"] == ["Service: lambda.amazonaws.com"]


def test_the_vector_collections_data_access_policy_is_listed_with_its_principals(review_of, sandbox) -> None:
    policies = review_of("sandbox")["permissions"]["resourcePolicies"]
    (access,) = [p for p in policies if p["type"] == "AWS::OpenSearchServerless::AccessPolicy"]
    principals = {p for rule_set in access["rules"] for p in rule_set["principals"]}
    kb_role = only(sandbox.template("Knowledge"), "AWS::Bedrock::KnowledgeBase")[1]["Properties"]["RoleArn"]
    assert any(kb_role["Fn::GetAtt"][0] in principal for principal in principals), principals
    assert {"index", "collection"} <= {r["resourceType"] for rs in access["rules"] for r in rs["rules"]}
    bucket_policies = [p for p in policies if p["type"] == "AWS::S3::BucketPolicy"]
    assert bucket_policies and all(p["statements"] for p in bucket_policies)


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_idle_floor_is_the_sum_of_its_lines_and_each_line_names_its_resource(
    review_of, synth, combination: str
) -> None:
    cost = review_of(combination)["cost"]
    templates = synth(COMBINATIONS[combination]).templates
    assert cost["idleMonthlyUsd"] == pytest.approx(sum(line["monthlyUsd"] for line in cost["lines"]))
    for line in cost["lines"]:
        assert templates[line["stack"]]["Resources"][line["logicalId"]]["Type"] == line["type"]
    keys = [line for line in cost["lines"] if line["type"] == "AWS::KMS::Key"]
    kms_keys = sum(
        1 for t in templates.values() for r in t["Resources"].values() if r["Type"] == "AWS::KMS::Key"
    )
    assert len(keys) == kms_keys


def test_prod_collection_floor_doubles_with_standby_replicas(review_of) -> None:
    def ocu_line(combination: str) -> dict:
        (line,) = [
            line
            for line in review_of(combination)["cost"]["lines"]
            if line["type"] == "AWS::OpenSearchServerless::Collection"
        ]
        return line

    assert ocu_line("sandbox")["monthlyUsd"] == pytest.approx(
        idle.OCU_MIN_WITHOUT_STANDBY * idle.HOURS_PER_MONTH * idle.OCU_HOUR.usd
    )
    assert ocu_line("prod")["monthlyUsd"] == pytest.approx(
        idle.OCU_MIN_WITH_STANDBY * idle.HOURS_PER_MONTH * idle.OCU_HOUR.usd
    )


def test_prod_lists_the_retained_buckets_and_the_sandbox_keeps_nothing(review_of, prod) -> None:
    kept = [r for s in review_of("prod")["stacks"] for r in s["survivesDestroy"]]
    buckets = set(prod.template("Knowledge")["Resources"]) & {
        r["logicalId"] for r in kept if r["type"] == "AWS::S3::Bucket"
    }
    assert buckets, kept
    assert all(r["deletionPolicy"] in ("Retain", "RetainExceptOnCreate", "Snapshot") for r in kept)
    # A sandbox destroy keeps only API Gateway's account-wide CloudWatch role setting (it bills nothing, and
    # every REST API in the region logs through it)
    sandbox_kept = {r["type"] for s in review_of("sandbox")["stacks"] for r in s["survivesDestroy"]}
    assert sandbox_kept == {"AWS::IAM::Role", "AWS::ApiGateway::Account"}


def test_diff_of_sandbox_against_prod_shows_the_waf_acl_added_and_the_cost_delta(review_of) -> None:
    before, after = review_of("sandbox"), review_of("prod")
    changes = diff.diff(before, after)
    added_types = {r["type"] for r in changes["added"]}
    assert "AWS::WAFv2::WebACL" in added_types
    waf_cost = sum(
        line["monthlyUsd"] for line in after["cost"]["lines"] if line["type"] == "AWS::WAFv2::WebACL"
    )
    assert waf_cost > 0
    assert changes["idleMonthlyUsdDelta"] == pytest.approx(
        after["cost"]["idleMonthlyUsd"] - before["cost"]["idleMonthlyUsd"]
    )
    # Standby replicas on: the collection cannot change that in place
    assert "AWS::OpenSearchServerless::Collection" in {r["type"] for r in changes["replaced"]}
    # And the reverse direction loses what was added
    assert {r["logicalId"] for r in diff.diff(after, before)["removed"]} >= {
        r["logicalId"] for r in changes["added"]
    }


def test_diff_of_a_review_against_itself_is_empty(review_of) -> None:
    review = review_of("sandbox")
    changes = diff.diff(review, review)
    assert all(changes[key] == [] for key in ("added", "removed", "replaced", "changed"))
    assert changes["permissionsGained"] == changes["permissionsLost"] == []


def test_diff_reports_permissions_gained_when_the_fine_tune_stack_is_switched_on(review_of) -> None:
    changes = diff.diff(review_of("sandbox"), review_of("sandbox-finetune"))
    gained_roles = {g["role"].split("/")[0] for g in changes["permissionsGained"]}
    assert any(role.endswith("FineTune") for role in gained_roles)
    assert changes["permissionsLost"] == []


def test_diagram_draws_the_data_flow_across_stacks(review_of, sandbox) -> None:
    source = review_of("sandbox")["diagram"]
    assert source.startswith("flowchart")
    knowledge_base_id, _ = only(sandbox.template("Knowledge"), "AWS::Bedrock::KnowledgeBase")
    collection_id, _ = only(sandbox.template("Knowledge"), "AWS::OpenSearchServerless::Collection")
    api_id, _ = only(sandbox.template("RagApi"), "AWS::ApiGateway::RestApi")
    function_id, _ = rag_function(sandbox.template("RagApi"))
    for logical_id in (knowledge_base_id, collection_id, api_id, function_id):
        assert logical_id in source
    lines = source.splitlines()
    assert any(api_id in line and function_id in line and "integration" in line for line in lines)
    assert any("event source" in line for line in lines), "the ingestion queue feeds its function"
    # The RAG role's grant on the knowledge base crosses from one stack's subgraph to the other's
    assert any("LadderRagApi_" in line and f"LadderKnowledge_{knowledge_base_id}" in line for line in lines)


def test_fine_tune_stack_is_reported_off_or_on(review_of) -> None:
    assert review_of("sandbox")["optionalStacks"] == [{"stack": "FineTune", "on": False, "reason": None}]
    (row,) = review_of("sandbox-finetune")["optionalStacks"]
    assert row["on"] is True and row["stack"].endswith("FineTune")


def test_make_review_entry_point_writes_the_three_files_and_five_summary_lines(
    synth, checkov, tmp_path, capsys
) -> None:
    outdir = synth(COMBINATIONS["sandbox"]).outdir
    code = main([str(outdir), "--checkov", str(checkov), "--eval-runs", str(tmp_path)])
    printed = capsys.readouterr().out.splitlines()
    assert code == 0
    assert printed[0] == "Review written:"
    files = [line.strip() for line in printed[1:4]]
    assert [f.rsplit("/", 1)[-1] for f in files] == ["index.html", "REVIEW.md", "review.json"]
    assert len(printed[4:]) == 5
    assert printed[4].startswith("Stacks:") and printed[-1].startswith("Changes:")
    page = (outdir / "review" / "index.html").read_text()
    assert "<script src" not in page and "<link" not in page, "the page loads nothing from the network"
    assert "mermaid.initialize" in page and '<pre class="mermaid">flowchart' in page
    markdown = (outdir / "review" / "REVIEW.md").read_text()
    assert "```mermaid\nflowchart" in markdown
    for section in (
        "## Architecture",
        "## Permissions",
        "## Cost",
        "## Findings",
        "## Why the optional stacks",
    ):
        assert section in markdown


def test_make_review_against_an_earlier_review_prints_the_changes(
    synth, checkov, review_of, tmp_path, capsys
) -> None:
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps(review_of("sandbox")))
    outdir = synth(COMBINATIONS["prod"]).outdir
    code = main([str(outdir), "--checkov", str(checkov), "--against", str(earlier), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["summary"][-1].startswith("Changes: +")
    written = json.loads((outdir / "review" / "review.json").read_text())
    assert "AWS::WAFv2::WebACL" in {r["type"] for r in written["diff"]["added"]}
    assert "Changes since" in (outdir / "review" / "REVIEW.md").read_text()
