"""Summarise cdk-nag results after `cdk synth`: `python -m stacks.nag_report cdk.out`.

Synth already failed if any finding was unacknowledged; this writes the acknowledged findings, each with
its reason, to ``<outdir>/nag-report.md`` so a reviewer reads them next to the templates. When the
fine-tune stack is in the assembly, the report opens with why it exists (its ``Ladder::FineTuneReason``
template metadata: the verdict's rung, dates and headline numbers, or the override reason).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from stacks.fine_tune.verdict import REASON_METADATA_KEY

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"
ANNOTATIONS_PLUGIN = "Construct Annotations"
"""How the validation report names synth warnings (``Annotations.add_warning_v2``): advice, not findings."""


def failing_reports(validation: dict[str, Any]) -> list[Any]:
    """The validation report's plugin reports that are findings: all but one holding only synth warnings."""
    return [
        report
        for report in validation.get("pluginReports", [])
        if report.get("pluginName") != ANNOTATIONS_PLUGIN
        or any(violation.get("severity") != "warning" for violation in report.get("violations", []))
    ]


def acknowledged_findings(outdir: Path) -> list[tuple[str, str, str]]:
    """(construct path, finding, reason) for every acknowledgement in the cloud assembly."""
    rows = []
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = [name for name, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack"]
    for metadata_file in sorted(outdir / f"{name}.metadata.json" for name in stacks):
        for path, entries in json.loads(metadata_file.read_text()).items():
            for entry in entries:
                if entry["type"] == ACKNOWLEDGED:
                    for finding, reason in entry["data"].items():
                        rows.append((path, finding.removeprefix("Annotation::"), reason))
    return rows


def fine_tune_reasons(outdir: Path) -> list[tuple[str, dict[str, Any]]]:
    """(stack name, ``Ladder::FineTuneReason`` value) for every stack template that records one."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    found = []
    for name, artifact in sorted(manifest["artifacts"].items()):
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        template = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
        reason = template.get("Metadata", {}).get(REASON_METADATA_KEY)
        if isinstance(reason, dict):
            found.append((name, reason))
    return found


def _reason_lines(stack: str, reason: dict[str, Any]) -> list[str]:
    lines = [f"## Why `{stack}` exists", ""]
    if reason.get("kind") == "override":
        lines.append(f"**Override** (no justified verdict): {reason.get('reason')}")
    else:
        lines += [
            f"**Verdict**: rung `{reason.get('rung')}`, measured {reason.get('verdictCreatedAt')}, "
            f"expires {reason.get('expiresAt')}.",
            "",
            f"Deciding reason: {reason.get('reason')}",
        ]
        headline = reason.get("headline") or {}
        arms = headline.get("arms") or {}
        if arms:
            lines += [
                "",
                f"Evaluation set: {headline.get('evalItems')} items, "
                f"sha256 `{headline.get('evalSetSha256')}`.",
                "",
                "| arm | correctness | format compliance |",
                "|---|---|---|",
                *(
                    f"| {arm} | {_rate(values.get('correctness'))} "
                    f"| {_rate(values.get('formatCompliance'))} |"
                    for arm, values in arms.items()
                ),
            ]
    return [*lines, ""]


def _rate(value: Any) -> str:
    # Template metadata holds the rates as decimal strings (CloudFormation metadata has no floats).
    return "n/a" if value is None else f"{float(value):.3f}"


def write_report(outdir: Path) -> Path:
    validation = json.loads((outdir / "validation-report.json").read_text())
    failing = failing_reports(validation)
    rows = acknowledged_findings(outdir)
    lines = [
        "# cdk-nag report (AwsSolutions)",
        "",
        *(line for stack, reason in fine_tune_reasons(outdir) for line in _reason_lines(stack, reason)),
        f"Unacknowledged findings: {len(failing)} (synth fails on any).",
        f"Acknowledged findings: {len(rows)}.",
        "",
        "| construct | finding | reason |",
        "|---|---|---|",
        *(f"| `{path}` | `{finding}` | {reason} |" for path, finding, reason in rows),
        "",
    ]
    report = outdir / "nag-report.md"
    report.write_text("\n".join(lines))
    return report


def main(argv: list[str]) -> int:
    outdir = Path(argv[1] if len(argv) > 1 else "cdk.out")
    report = write_report(outdir)
    manifest = json.loads((outdir / "manifest.json").read_text())
    templates = sorted(
        outdir / artifact["properties"]["templateFile"]
        for artifact in manifest["artifacts"].values()
        if artifact["type"] == "aws:cloudformation:stack"
    )
    print("Templates:")
    for template in templates:
        print(f"  {template}")
    print(f"cdk-nag report: {report} (raw: {outdir / 'validation-report.json'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
