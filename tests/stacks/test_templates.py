"""Checks that hold for every synthesized template in every flag combination."""

from __future__ import annotations

import json

import pytest

from stacks.nag_report import failing_reports
from tests.stacks.conftest import COMBINATIONS
from tests.support.lint import lint_template
from tests.support.synth import as_list, policy_statements

# Actions that IAM defines without any resource type: the only ones allowed on Resource "*".
ACTIONS_WITHOUT_RESOURCES = {
    # Lambda and Step Functions tracing
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    # SageMaker training: image pull token and job metrics (the latter narrowed by a namespace condition)
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
    # Step Functions execution logging (CloudWatch Logs vended-log delivery)
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    # Fine-tune housekeeping: listing the account's imported models and reading a quota's AWS default
    "bedrock:ListImportedModels",
    "servicequotas:GetAWSDefaultServiceQuota",
    # First use of a third-party Bedrock model (Subscribe narrowed by aws-marketplace:ProductId)
    "aws-marketplace:Subscribe",
    "aws-marketplace:ViewSubscriptions",
}


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_every_template_is_cfn_lint_clean(synth, combination: str) -> None:
    synthesized = synth(COMBINATIONS[combination])
    for name, template in synthesized.templates.items():
        problems = lint_template(template, synthesized.config.region)
        assert problems == [], f"{combination}/{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_synth_passes_cdk_nag_with_nothing_unacknowledged(synth, combination: str) -> None:
    # Given a synth that raises on any unacknowledged cdk-nag finding (it returned, so there was none)
    synthesized = synth(COMBINATIONS[combination])
    # Then the validation report records no failing plugin report (synth warnings, which CDK reports as
    # construct annotations, are advice to the user: their own tests check them)
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    assert failing_reports(report) == []
    assert synthesized.templates, "at least one stack was synthesized"


def test_synth_warnings_are_not_counted_as_findings_but_annotation_errors_are() -> None:
    warning = {"pluginName": "Construct Annotations", "violations": [{"severity": "warning"}]}
    error = {
        "pluginName": "Construct Annotations",
        "violations": [{"severity": "warning"}, {"severity": "error"}],
    }
    nag = {"pluginName": "AwsSolutions", "violations": [{"severity": "error"}]}
    assert failing_reports({"pluginReports": [warning, error, nag]}) == [error, nag]
    assert failing_reports({}) == []


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_no_iam_statement_uses_a_wildcard_resource_where_an_arn_exists(synth, combination: str) -> None:
    synthesized = synth(COMBINATIONS[combination])
    offenders = []
    for name, template in synthesized.templates.items():
        for owner, statement in policy_statements(template):
            if statement["Effect"] != "Allow" or "*" not in as_list(statement.get("Resource", [])):
                continue
            actions = set(as_list(statement["Action"]))
            if not actions <= ACTIONS_WITHOUT_RESOURCES:
                offenders.append(f"{name}/{owner}: {sorted(actions)}")
    assert offenders == []


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_every_acknowledgement_has_a_specific_reason(synth, combination: str) -> None:
    synthesized = synth(COMBINATIONS[combination])
    for metadata_file in synthesized.outdir.glob("*.metadata.json"):
        for path, entries in json.loads(metadata_file.read_text()).items():
            for entry in entries:
                if entry["type"] != "aws:cdk:acknowledged-rules":
                    continue
                for finding, reason in entry["data"].items():
                    assert finding.startswith("Annotation::AwsSolutions-"), (path, finding)
                    assert len(reason) >= 40, (path, finding, reason)


def test_stacks_do_not_need_an_account_to_synthesize(sandbox) -> None:
    # Given no CDK_DEFAULT_ACCOUNT (conftest removes it), the stacks are environment-agnostic in account
    for template in sandbox.templates.values():
        assert "123456789012" not in json.dumps(template)


def test_metric_publishing_is_narrowed_to_one_namespace(synth) -> None:
    synthesized = synth(COMBINATIONS["sandbox-finetune"])
    statements = [
        statement
        for template in synthesized.templates.values()
        for _, statement in policy_statements(template)
        if "cloudwatch:PutMetricData" in as_list(statement["Action"])
    ]
    assert statements, "the SageMaker role publishes training metrics"
    for statement in statements:
        assert "cloudwatch:namespace" in json.dumps(statement["Condition"])


def test_nag_report_lists_each_acknowledgement_and_the_current_templates(synth, capsys) -> None:
    from stacks import nag_report

    # Given a synthesized assembly with the fine-tune stack
    synthesized = synth(COMBINATIONS["sandbox-finetune"])
    # When the report is written (make synth does this after cdk synth)
    assert nag_report.main(["nag_report", str(synthesized.outdir)]) == 0
    # Then it names every acknowledged finding with its reason, and every stack's template
    report = (synthesized.outdir / "nag-report.md").read_text()
    rows = nag_report.acknowledged_findings(synthesized.outdir)
    assert rows and all(f"`{finding}` | {reason} |" in report for _, finding, reason in rows)
    assert "Unacknowledged findings: 0" in report
    printed = capsys.readouterr().out
    for name in synthesized.templates:
        assert f"{name}.template.json" in printed


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_prod_log_groups_use_the_stacks_logs_key_and_sandbox_ones_the_service_key(
    synth, combination: str
) -> None:
    # Given every template of a flag combination
    synthesized = synth(COMBINATIONS[combination])
    prod = synthesized.config.is_prod
    for name, template in synthesized.templates.items():
        groups = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Logs::LogGroup"}
        for logical_id, group in groups.items():
            key_ref = group["Properties"].get("KmsKeyId")
            if not prod:
                # Then sandbox log groups keep CloudWatch Logs' own encryption (no key to pay for)
                assert key_ref is None, f"{name}/{logical_id}"
                continue
            # Then in prod each one names a key of its stack that CloudWatch Logs may use for this
            # account's log groups only
            key_id = key_ref["Fn::GetAtt"][0]
            key = template["Resources"][key_id]
            assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True
            logs_statements = [
                s
                for s in key["Properties"]["KeyPolicy"]["Statement"]
                if "logs." in json.dumps(s.get("Principal", {}))
            ]
            assert len(logs_statements) == 1, f"{name}/{logical_id}"
            context = logs_statements[0]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
            assert ":log-group:*" in json.dumps(context)
            assert key["DeletionPolicy"] == "Retain", "retained log groups need their key"
