"""Summarise cdk-nag results after `cdk synth`: `python -m stacks.nag_report cdk.out`.

Synth already failed if any finding was unacknowledged; this writes the acknowledged findings, each with
its reason, to ``<outdir>/nag-report.md`` so a reviewer reads them next to the templates.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"


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


def write_report(outdir: Path) -> Path:
    validation = json.loads((outdir / "validation-report.json").read_text())
    failing = validation.get("pluginReports", [])
    rows = acknowledged_findings(outdir)
    lines = [
        "# cdk-nag report (AwsSolutions)",
        "",
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
