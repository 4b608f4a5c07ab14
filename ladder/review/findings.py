"""The scanners' verdict on every template: cdk-nag (from the synth's validation report and the
acknowledgements in the assembly), cfn-lint (in-process) and checkov (its own virtual environment)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from ladder.errors import SetupError
from ladder.review.model import Assembly
from stacks.nag_report import failing_reports

CHECKOV = Path(".venv-checkov/bin/checkov")
"""Where ``make checkov-venv`` installs checkov (pinned in requirements-checkov.txt)."""
CHECKOV_TIMEOUT_S = 600
# aws-cdk-lib gives every function a DependsOn on its role although it already references it: cfn-lint's
# W3005 on exactly that shape is aws-cdk-lib's, not the project's (see tests/support/lint.py).
CDK_ROLE_DEPENDS_ON = "W3005"


def cdk_nag(assembly: Assembly) -> dict[str, Any]:
    report_file = assembly.outdir / "validation-report.json"
    unacknowledged: list[Any] = []
    if report_file.is_file():
        unacknowledged = failing_reports(json.loads(report_file.read_text()))
    return {
        "unacknowledged": unacknowledged,
        "acknowledged": [
            {"stack": stack.name, "path": ack.path, "finding": ack.finding, "reason": ack.reason}
            for stack in assembly.stacks
            for ack in stack.acknowledgements
        ],
    }


def _is_cdk_function_role_dependency(rule: str, path: list[Any], template: dict[str, Any]) -> bool:
    if rule != CDK_ROLE_DEPENDS_ON or len(path) < 3 or path[0] != "Resources" or path[2] != "DependsOn":
        return False
    resource = template["Resources"][path[1]]
    depends = resource["DependsOn"]
    dependency = depends[path[3]] if isinstance(depends, list) and len(path) > 3 else depends
    return resource["Type"] == "AWS::Lambda::Function" and resource["Properties"].get("Role") == {
        "Fn::GetAtt": [dependency, "Arn"]
    }


def cfn_lint(assembly: Assembly, region: str) -> list[dict[str, Any]]:
    """Errors and warnings of every template; aws-cdk-lib's own W3005 shape is reported as tolerated."""
    try:
        from cfnlint.api import ManualArgs, lint
    except ImportError as err:  # the review venv installs it; say how when it is missing
        raise SetupError("cfn-lint is not installed in this Python: run `make review`") from err
    rows = []
    for stack in assembly.stacks:
        for match in lint(json.dumps(stack.template), config=ManualArgs(regions=[region])):
            rule = match.rule.id
            if rule[0] not in "EW":
                continue
            path = list(match.path)
            rows.append(
                {
                    "stack": stack.name,
                    "rule": rule,
                    "message": match.message,
                    "path": "/".join(map(str, path)),
                    "tolerated": _is_cdk_function_role_dependency(rule, path, stack.template),
                }
            )
    return rows


def run_checkov(templates: list[Path], checkov: Path = CHECKOV) -> dict[str, Any]:
    """checkov's JSON report for ``templates`` (one process for all of them, no network)."""
    if not checkov.is_file():
        raise SetupError(f"checkov is not installed at {checkov}: run `make checkov-venv` (make review does)")
    command = [str(checkov), "--framework", "cloudformation", "--skip-download", "--output", "json"]
    for template in templates:
        command += ["--file", str(template)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=CHECKOV_TIMEOUT_S, check=False)
    # checkov exits 1 when a check fails; anything else without a JSON report is a crash.
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError as err:
        raise SetupError(f"checkov failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}") from err
    reports = report if isinstance(report, list) else [report]
    return (
        next(r for r in reports if r.get("check_type") == "cloudformation")
        if len(reports) > 1
        else reports[0]
    )


def _check_row(check: dict[str, Any]) -> dict[str, Any]:
    resource_type, _, logical_id = check["resource"].partition(".")
    return {
        "stack": Path(check["file_path"]).name.removesuffix(".template.json"),
        "id": check["check_id"],
        "name": check["check_name"],
        "type": resource_type,
        "logicalId": logical_id,
        # checkov puts the skip's comment in the check result
        "reason": (check.get("check_result") or {}).get("suppress_comment", ""),
    }


def checkov_findings(assembly: Assembly, checkov: Path = CHECKOV) -> dict[str, Any]:
    """Passed count, failed checks and checks skipped on the resource with the reason it carries."""
    templates = [assembly.outdir / f"{stack.name}.template.json" for stack in assembly.stacks]
    report = run_checkov(templates, checkov)
    results = report.get("results", {})
    summary = report.get("summary", {})
    return {
        "version": summary.get("checkov_version", ""),
        "passed": summary.get("passed", len(results.get("passed_checks", []))),
        "failed": [_check_row(check) for check in results.get("failed_checks", [])],
        "skipped": [_check_row(check) for check in results.get("skipped_checks", [])],
    }


def findings(assembly: Assembly, region: str, checkov: Path = CHECKOV) -> dict[str, Any]:
    return {
        "cdkNag": cdk_nag(assembly),
        "cfnLint": cfn_lint(assembly, region),
        "checkov": checkov_findings(assembly, checkov),
    }
