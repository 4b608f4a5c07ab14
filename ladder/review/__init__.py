"""``make review``: the synthesized templates as a reviewer wants to read them.

Run after ``cdk synth``::

    python -m ladder.review cdk.out       # writes cdk.out/review/{index.html,REVIEW.md,review.json}
    python -m ladder.review cdk.out --against old/review.json      # adds what changed since then

Everything comes from the cloud assembly (templates, metadata, cdk-nag's report) plus cfn-lint and checkov run
on the templates; nothing is maintained by hand and no AWS account is needed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ladder.errors import EXIT_FAILED, LadderError, SetupError
from ladder.review import cost, diagram, diff, findings, inventory, model, permissions, render

OUTPUT_FILES = ("index.html", "REVIEW.md", "review.json")


def region_of(outdir: Path) -> str:
    """The region the stacks were synthesized for (``aws://unknown-account/us-east-1``)."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    for artifact in manifest["artifacts"].values():
        environment = artifact.get("environment", "")
        if artifact["type"] == "aws:cloudformation:stack" and environment.startswith("aws://"):
            region = environment.rsplit("/", 1)[-1]
            if region != "unknown-region":
                return str(region)
    return "us-east-1"


def build(
    outdir: Path,
    *,
    eval_runs: Path = Path("eval-runs"),
    checkov: Path = findings.CHECKOV,
    against: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The review data (what review.json holds) for the assembly in ``outdir``."""
    assembly = model.load(outdir)
    review: dict[str, Any] = {
        "generatedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "assembly": str(outdir),
        "region": region_of(outdir),
        "stacks": inventory.stacks(assembly),
        "diagram": diagram.mermaid(assembly),
        "diagrams": [dataclasses.asdict(graph) for graph in diagram.graphs(assembly)],
        "permissions": {
            "roles": permissions.roles(assembly),
            "resourcePolicies": permissions.resource_policies(assembly),
        },
        "cost": cost.cost(assembly, eval_runs),
        "findings": findings.findings(assembly, region_of(outdir), checkov),
        "optionalStacks": inventory.optional_stacks(assembly),
    }
    review["diff"] = diff.diff(against, review) if against is not None else None
    review["summary"] = summary_lines(review)
    review["summaryText"] = " ".join(review["summary"])
    return review


def unexplained(review: dict[str, Any]) -> list[str]:
    """Findings nobody has accepted: unacknowledged cdk-nag, cfn-lint problems, failed checkov checks."""
    found = review["findings"]
    return (
        [f"cdk-nag {report}" for report in found["cdkNag"]["unacknowledged"]]
        + [f"cfn-lint {r['stack']} {r['rule']} {r['path']}" for r in found["cfnLint"] if not r["tolerated"]]
        + [f"checkov {c['stack']} {c['id']} {c['logicalId']}" for c in found["checkov"]["failed"]]
    )


def summary_lines(review: dict[str, Any]) -> list[str]:
    """Five lines: stacks, permissions, cost, findings, changes."""
    resources = sum(len(stack["resources"]) for stack in review["stacks"])
    kept = sum(len(stack["survivesDestroy"]) for stack in review["stacks"])
    fine_tune = review["optionalStacks"][0]
    fine_tune_text = (
        "fine-tune off"
        if not fine_tune["on"]
        else f"fine-tune on ({(fine_tune['reason'] or {}).get('kind', 'no recorded reason')})"
    )
    roles = review["permissions"]["roles"]
    statements = [s for role in roles for s in role["statements"]]
    wildcards = [r for s in statements for r in s["resources"] if r["wildcard"]]
    unacknowledged = [r for r in wildcards if not r.get("acknowledgement")]
    cost_data = review["cost"]
    per_query = cost_data["perQuery"]
    per_query_text = (
        ", per query " + ", ".join(f"{arm} ${usd:.6f}" for arm, usd in per_query["costPerQueryUsd"].items())
        if per_query and per_query["costPerQueryUsd"]
        else ", no evaluation run for a per-query cost"
    )
    found = review["findings"]
    checkov = found["checkov"]
    lint_problems = [r for r in found["cfnLint"] if not r["tolerated"]]
    changes = review.get("diff")
    change_text = (
        f"Changes: +{len(changes['added'])} -{len(changes['removed'])} resources, "
        f"{len(changes['replaced'])} replaced, {len(changes['changed'])} changed; "
        f"permissions +{len(changes['permissionsGained'])} -{len(changes['permissionsLost'])}; "
        f"idle cost {changes['idleMonthlyUsdDelta']:+.2f} USD/month."
        if changes
        else "Changes: no earlier review.json given (AGAINST=path/to/review.json)."
    )
    return [
        f"Stacks: {', '.join(s['name'] for s in review['stacks'])} ({fine_tune_text}); "
        f"{resources} resources, {kept} survive cdk destroy.",
        f"Permissions: {len(roles)} roles, {len(statements)} statements, {len(wildcards)} wildcard resources "
        f"({len(unacknowledged)} without an acknowledgement), "
        f"{len(review['permissions']['resourcePolicies'])} resource policies.",
        f"Cost: idle floor ${cost_data['idleMonthlyUsd']:,.2f}/month ({cost_data['priceRegion']} prices of "
        f"{cost_data['pricesAsOf']}){per_query_text}.",
        f"Findings: cdk-nag {len(found['cdkNag']['unacknowledged'])} unacknowledged / "
        f"{len(found['cdkNag']['acknowledged'])} acknowledged; cfn-lint {len(lint_problems)} problems; "
        f"checkov {checkov['passed']} passed, {len(checkov['failed'])} failed, "
        f"{len(checkov['skipped'])} skipped with reasons.",
        change_text,
    ]


def write(review: dict[str, Any], directory: Path, mermaid_js: Path = render.MERMAID_JS) -> list[Path]:
    """Write index.html, REVIEW.md and review.json into ``directory``; returns their paths."""
    document = render.blocks(review)
    page = render.html_page(document, mermaid_js)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / name for name in OUTPUT_FILES]
    paths[0].write_text(page, encoding="utf-8")
    paths[1].write_text(render.markdown(document), encoding="utf-8")
    paths[2].write_text(json.dumps(review, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return paths


def read_review(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SetupError(f"no earlier review at {path} (give the review.json of an earlier `make review`)")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise LadderError(
            f"{path} is not JSON ({err}); give the review.json of an earlier `make review`"
        ) from err
    if not isinstance(data, dict) or not {"stacks", "permissions", "cost"} <= data.keys():
        raise LadderError(f"{path} is not a Ladder review.json (needs stacks, permissions and cost)")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ladder.review",
        description="Write cdk.out/review/{index.html,REVIEW.md,review.json} from a synthesized app.",
        epilog="Exit codes: 0 written and nothing unexplained, 1 written with unexplained findings or bad "
        "input, 2 missing setup (no synth, no checkov or Mermaid).",
    )
    parser.add_argument(
        "outdir", nargs="?", type=Path, default=Path("cdk.out"), help="cloud assembly (cdk.out)"
    )
    parser.add_argument("--against", type=Path, help="an earlier review.json to compare with")
    parser.add_argument(
        "--eval-runs", type=Path, default=Path("eval-runs"), help="where evaluation runs live"
    )
    parser.add_argument("--checkov", type=Path, default=findings.CHECKOV, help="checkov executable")
    parser.add_argument("--json", action="store_true", help="print only review.json's summary as JSON")
    args = parser.parse_args(argv)
    try:
        against = read_review(args.against) if args.against else None
        review = build(args.outdir, eval_runs=args.eval_runs, checkov=args.checkov, against=against)
        if against is not None:
            review["against"] = str(args.against)
        paths = write(review, args.outdir / "review")
    except LadderError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    problems = unexplained(review)
    if args.json:
        print(
            json.dumps(
                {"files": [str(p) for p in paths], "summary": review["summary"], "unexplained": problems}
            )
        )
    else:
        print("Review written:")
        for path in paths:
            print(f"  {path}")
        print("\n".join(review["summary"]))
    for problem in problems:
        print(f"unexplained finding: {problem}", file=sys.stderr)
    return EXIT_FAILED if problems else 0
