"""The review as a document of blocks (headings, paragraphs, tables, the diagrams), rendered once to
Markdown for a pull request and once to a self-contained HTML page whose diagrams are drawn by the vendored,
pinned Mermaid (``node_modules/mermaid``, inlined into the page: no network at view time)."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ladder.errors import SetupError
from ladder.headless import RECORD_ERRORS_JS
from ladder.review import diagram

MERMAID_JS = Path("node_modules/mermaid/dist/mermaid.min.js")


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Paragraph:
    text: str


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Diagram:
    source: str


@dataclass
class Bullets:
    items: list[str]


Block = Heading | Paragraph | Table | Diagram | Bullets


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _usd_change(value: float) -> str:
    """A signed amount, the sign before the currency: ``+$12.00``, ``-$175.20``."""
    return f"{'-' if value < 0 else '+'}{_usd(abs(value))}"


def _statement_cells(statement: dict[str, Any]) -> list[str]:
    resources = []
    for resource in statement["resources"]:
        text = resource["text"]
        if resource.get("wildcard"):
            ack = resource.get("acknowledgement")
            text += (
                f" ⚠ wildcard — acknowledged: {ack}" if ack else " ⚠ wildcard (no matching acknowledgement)"
            )
        resources.append(text)
    effect = "" if statement["effect"] == "Allow" else f"{statement['effect']}: "
    actions = ("NOT " if statement.get("notAction") else "") + ", ".join(statement["actions"])
    return [effect + actions, "; ".join(resources) or "—", "; ".join(statement["conditions"]) or "—"]


def blocks(review: dict[str, Any]) -> list[Block]:
    """The whole report, in reading order: one step per section of the page."""
    out: list[Block] = [Heading("Ladder review", 1), Bullets(list(review["summary"]))]
    if review.get("diff"):
        out += _diff_blocks(review["diff"], review.get("against", ""))
    out += _architecture_blocks(review["diagrams"])
    out += _stack_blocks(review["stacks"])
    out += _permission_blocks(review["permissions"])
    out += _cost_blocks(review["cost"])
    out += _finding_blocks(review["findings"])
    out += _optional_stack_blocks(review["optionalStacks"])
    return out


def _diff_blocks(diff: dict[str, Any], against: str) -> list[Block]:
    """What changed since the earlier review ``against``: the idle floor, resources, permissions."""
    out: list[Block] = [
        Heading(f"Changes since {against}"),
        Paragraph(
            f"Idle monthly floor {_usd(diff['idleMonthlyUsdBefore'])} → {_usd(diff['idleMonthlyUsdAfter'])} "
            f"({_usd_change(diff['idleMonthlyUsdDelta'])})."
        ),
    ]
    resource_rows = [
        [change, r["stack"], r["logicalId"], r["type"], r.get("why", "")]
        for change in ("added", "removed", "replaced", "changed")
        for r in diff[change]
    ]
    out.append(Table(["change", "stack", "resource", "type", "why"], resource_rows))
    grant_rows = [
        [change, g["role"], g["action"], g["resource"]]
        for change, key in (("gained", "permissionsGained"), ("lost", "permissionsLost"))
        for g in diff[key]
    ]
    out.append(Table(["permission", "role", "action", "resource"], grant_rows))
    return out


def _architecture_blocks(diagrams: list[dict[str, Any]]) -> list[Block]:
    """The diagrams derived from the templates: the stacks and their links, then one per stack."""
    out: list[Block] = [
        Heading("Architecture"),
        Paragraph(
            "Derived from the synthesized templates: the stacks and what links them, then one diagram per "
            "stack. Dashed boxes belong to another stack. A diagram wider than the page scrolls sideways."
        ),
    ]
    for graph in diagrams:
        out += [Heading(graph["title"], 3), Diagram(graph["source"])]
    return out


def _stack_blocks(stacks: list[dict[str, Any]]) -> list[Block]:
    """Per stack: its resources by type, and what survives ``cdk destroy``."""
    out: list[Block] = [Heading("What gets created, what survives cdk destroy")]
    for stack in stacks:
        out.append(Heading(f"{stack['name']} — {len(stack['resources'])} resources", 3))
        if stack["description"]:
            out.append(Paragraph(stack["description"]))
        out.append(Table(["resource type", "count"], [[t, str(n)] for t, n in stack["countsByType"].items()]))
        kept = stack["survivesDestroy"]
        if kept:
            out.append(
                Paragraph(
                    f"{len(kept)} resource(s) survive `cdk destroy` and keep billing until deleted by hand:"
                )
            )
            out.append(
                Table(
                    ["resource", "type", "deletion policy", "construct"],
                    [[r["logicalId"], r["type"], r["deletionPolicy"], r["path"]] for r in kept],
                )
            )
        else:
            out.append(Paragraph("Nothing in this stack survives `cdk destroy`."))
    return out


def _permission_blocks(permissions: dict[str, Any]) -> list[Block]:
    """Every role with what it may do, then every resource policy."""
    return [
        Heading("Permissions"),
        Table(["role", "actions", "resources", "conditions"], _role_rows(permissions["roles"])),
        Heading("Resource policies", 3),
        Table(
            ["policy", "principals", "actions", "resources", "conditions"],
            _resource_policy_rows(permissions["resourcePolicies"]),
        ),
    ]


def _role_rows(roles: list[dict[str, Any]]) -> list[list[str]]:
    """A role's line (who assumes it, what uses it), then one line per managed policy and statement."""
    rows = []
    for role in roles:
        trust = "; ".join(
            ", ".join(t["principals"]) + (f" when {'; '.join(t['conditions'])}" if t["conditions"] else "")
            for t in role["trust"]
        )
        name = f"{role['stack']}/{role['logicalId']}"
        used = ", ".join(role["usedBy"]) or "—"
        rows.append([f"**{name}** (used by {used})", f"assumed by {trust}", "", ""])
        for managed in role["managedPolicies"]:
            rows.append(["", f"managed policy {managed}", "", ""])
        for statement in role["statements"]:
            rows.append(["", *_statement_cells(statement)])
    return rows


def _resource_policy_rows(policies: list[dict[str, Any]]) -> list[list[str]]:
    """One line per statement or access rule of each resource policy; a policy not parsed, as written."""
    rows = []
    for policy in policies:
        name = f"{policy['stack']}/{policy['logicalId']} ({policy['type']}) on {policy['on']}"
        for statement in policy.get("statements", []):
            principals = ", ".join(statement["principals"]) or "—"
            rows.append([name, principals, *_statement_cells(statement)])
        for rule_set in policy.get("rules", []):
            for rule in rule_set["rules"]:
                rows.append(
                    [
                        name,
                        ", ".join(rule_set["principals"]),
                        ", ".join(rule["permissions"]),
                        f"{rule['resourceType']}: {', '.join(rule['resources'])}",
                        "—",
                    ]
                )
        if "raw" in policy:
            rows.append([name, "—", policy["raw"], "", ""])
    return rows


def _cost_blocks(cost: dict[str, Any]) -> list[Block]:
    """The idle monthly floor line by line, the usage prices outside it, and the measured per-query cost."""
    out: list[Block] = [
        Heading("Cost"),
        Paragraph(
            f"Idle monthly floor: **{_usd(cost['idleMonthlyUsd'])}** (list prices for {cost['priceRegion']} "
            f"as of {cost['pricesAsOf']}, free tiers ignored). Each line names the resource it comes from."
        ),
        Table(
            ["stack", "resource", "type", "quantity", "unit price", "monthly", "detail"],
            [
                [
                    line["stack"],
                    line["logicalId"],
                    line["type"],
                    f"{line['quantity']:g}",
                    f"{_usd(line['unitUsd'])} per {line['unit']}",
                    _usd(line["monthlyUsd"]),
                    line["detail"],
                ]
                for line in cost["lines"]
            ],
        ),
    ]
    for item in cost["noIdlePrice"]:
        out.append(
            Paragraph(f"{item['stack']}/{item['logicalId']} ({item['type']}): $0 idle — {item['why']}.")
        )
    out.append(
        Table(
            ["usage price (not in the floor)", "price"],
            [[p["what"], f"{_usd(p['usd'])} per {p['unit']}"] for p in cost["usagePrices"]],
        )
    )
    return out + _per_query_blocks(cost["perQuery"]) + _watch_run_blocks(cost.get("watchRun"))


def _watch_run_blocks(watch: dict[str, Any] | None) -> list[Block]:
    """One scheduled drift-watch run: items x arms x cost per query, and what the figure leaves out."""
    if watch is None:
        return [Paragraph("Drift watch: off (driftWatchSchedule is empty), no scheduled runs.")]
    total = (
        f"**${watch['runUsd']:,.4f}**"
        if watch["runUsd"] is not None
        else f"at least ${watch['knownRunUsd']:,.4f} (unknown: {', '.join(watch['unknownArms'])})"
    )
    rows = [
        [
            row["arm"],
            "-" if row["costPerQueryUsd"] is None else f"${row['costPerQueryUsd']:.6f}",
            row["basis"],
        ]
        for row in watch["arms"]
    ]
    return [
        Paragraph(
            f"One scheduled drift-watch run: {watch['items']} items x {len(watch['arms'])} arms = {total}. "
            f"Excludes {watch['excludes']}"
        ),
        Table(["arm", "cost per query", "from"], rows),
    ]


def _per_query_blocks(per_query: dict[str, Any] | None) -> list[Block]:
    """Each arm's cost per query from the latest evaluation run, or a line saying there is none yet."""
    if per_query and per_query["costPerQueryUsd"]:
        return [
            Paragraph(f"Per-query cost from the latest evaluation run ({per_query['summary']}):"),
            Table(
                ["arm", "cost per query"], [[a, f"${v:.6f}"] for a, v in per_query["costPerQueryUsd"].items()]
            ),
        ]
    return [Paragraph("Per-query cost: no evaluation run yet (eval-runs/*/summary.json).")]


def _finding_blocks(findings: dict[str, Any]) -> list[Block]:
    """What each checker found: cdk-nag, cfn-lint, checkov."""
    return [
        Heading("Findings"),
        *_cdk_nag_blocks(findings["cdkNag"]),
        *_cfn_lint_blocks(findings["cfnLint"]),
        *_checkov_blocks(findings["checkov"]),
    ]


def _cdk_nag_blocks(nag: dict[str, Any]) -> list[Block]:
    return [
        Heading(
            f"cdk-nag (AwsSolutions): {len(nag['unacknowledged'])} unacknowledged, "
            f"{len(nag['acknowledged'])} acknowledged",
            3,
        ),
        Table(
            ["construct", "finding", "reason"],
            [[a["path"], a["finding"], a["reason"]] for a in nag["acknowledged"]],
        ),
    ]


def _cfn_lint_blocks(lint: list[dict[str, Any]]) -> list[Block]:
    problems = [row for row in lint if not row["tolerated"]]
    out: list[Block] = [
        Heading(f"cfn-lint: {len(problems)} problem(s), {len(lint) - len(problems)} tolerated", 3)
    ]
    if lint:
        out.append(
            Table(
                ["stack", "rule", "where", "message", "status"],
                [
                    [
                        r["stack"],
                        r["rule"],
                        r["path"],
                        r["message"],
                        "tolerated (aws-cdk-lib)" if r["tolerated"] else "problem",
                    ]
                    for r in lint
                ],
            )
        )
    return out


def _checkov_blocks(checkov: dict[str, Any]) -> list[Block]:
    out: list[Block] = [
        Heading(
            f"checkov {checkov['version']}: {checkov['passed']} passed, {len(checkov['failed'])} failed, "
            f"{len(checkov['skipped'])} skipped with a reason",
            3,
        )
    ]
    if checkov["failed"]:
        out.append(
            Table(
                ["stack", "check", "resource", "what"],
                [
                    [c["stack"], c["id"], f"{c['logicalId']} ({c['type']})", c["name"]]
                    for c in checkov["failed"]
                ],
            )
        )
    out.append(
        Table(
            ["stack", "check", "resource", "why it is accepted"],
            [
                [c["stack"], c["id"], f"{c['logicalId']} ({c['type']})", c["reason"]]
                for c in checkov["skipped"]
            ],
        )
    )
    return out


def _optional_stack_blocks(optional_stacks: list[dict[str, Any]]) -> list[Block]:
    """Whether each optional stack is on, and the reason its template records for it."""
    out: list[Block] = [Heading("Why the optional stacks exist")]
    for row in optional_stacks:
        if not row["on"]:
            out.append(Paragraph("Fine-tune stack: off (`-c fineTune=true` switches it on)."))
        elif row["reason"] is None:
            out.append(
                Paragraph(f"{row['stack']}: on, but its template records no reason (Ladder::FineTuneReason).")
            )
        else:
            reason = row["reason"]
            details = ", ".join(
                f"{key} {reason[key]}" for key in ("rung", "verdictCreatedAt", "expiresAt") if reason.get(key)
            )
            headline = f" — {reason['headline']}" if reason.get("headline") else ""
            out.append(
                Paragraph(
                    f"{row['stack']}: on by {reason.get('kind', '?')}: {reason.get('reason', '')}{headline}"
                    + (f" ({details})" if details else "")
                )
            )
    return out


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(document: list[Block]) -> str:
    lines: list[str] = []
    for block in document:
        if isinstance(block, Heading):
            lines += ["#" * block.level + " " + block.text, ""]
        elif isinstance(block, Paragraph):
            lines += [block.text, ""]
        elif isinstance(block, Diagram):
            lines += ["```mermaid", block.source.rstrip(), "```", ""]
        elif isinstance(block, Bullets):
            lines += [*(f"- {item}" for item in block.items), ""]
        elif block.rows:
            lines.append("| " + " | ".join(block.header) + " |")
            lines.append("|" + "---|" * len(block.header))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            lines.append("")
    return "\n".join(lines)


def _inline(text: str) -> str:
    """Escape, then keep the two Markdown marks the report uses (**bold**, `code`)."""
    escaped = html.escape(text)
    parts = escaped.split("**")
    escaped = "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))
    parts = escaped.split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #1b1b1b; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; width: 100%; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; vertical-align: top; text-align: left; }
th { background: #f2f2f2; } code { background: #f4f4f4; padding: 0 .2rem; }
td { word-break: break-word; } .mermaid { background: #fff; }
.diagram { overflow-x: auto; margin: .5rem 0 1.5rem; }
"""


# Draw every diagram at its natural size (useMaxWidth false: a wide one scrolls, its text is never scaled),
# then measure what a person sees: each label's text box on screen and its font size times the scale the SVG
# is drawn at. The result is written as JSON into a hidden element (#diagram-check) for `make review-check`,
# which reads it from headless Chromium's --dump-dom.
MERMAID_CONFIG = {
    "startOnLoad": False,
    "securityLevel": "strict",
    # Otherwise Mermaid names each drawing after Date.now(): two drawn in the same millisecond (always, under
    # headless Chromium's virtual time) share an id, and the second is drawn into the first's SVG.
    "deterministicIds": True,
    "flowchart": {"useMaxWidth": False},
    "themeVariables": {"fontSize": f"{diagram.FONT_PX}px"},
}
DRAW_JS = """
function ladderScale(element) {
  const graphic = element instanceof SVGGraphicsElement ? element : element.closest('foreignObject, text');
  const m = graphic ? graphic.getScreenCTM() : null;
  return m ? Math.sqrt(Math.abs(m.a * m.d - m.b * m.c)) : 1;
}
function ladderMeasure() {
  const diagrams = [...document.querySelectorAll('.diagram')].map((box) => {
    const svg = box.querySelector('svg');
    const heading = box.previousElementSibling;
    const found = {title: heading ? heading.textContent : '', drawn: !!svg, labels: [],
                   source: box.dataset.source || '', width: svg ? svg.getBoundingClientRect().width : 0,
                   scrolls: box.scrollWidth > box.clientWidth};
    if (!svg) return found;
    const byLabel = new Map();
    const walk = document.createTreeWalker(svg, NodeFilter.SHOW_TEXT);
    for (let text = walk.nextNode(); text; text = walk.nextNode()) {
      const parent = text.parentElement;
      if (!text.data.trim() || parent.closest('style, title, desc')) continue;
      const label = parent.closest('g.node, g.edgeLabel, g.cluster, g.cluster-label') || parent;
      const range = document.createRange();
      range.selectNodeContents(text);
      const r = range.getBoundingClientRect();
      const fontPx = parseFloat(getComputedStyle(parent).fontSize) * ladderScale(parent);
      const kind = label.matches('g.node') ? 'node' : label.matches('g.edgeLabel') ? 'edge' : 'group';
      const entry = byLabel.get(label) || {kind: kind, text: '', fontPx: fontPx,
                                          box: [r.left, r.top, r.right, r.bottom]};
      entry.text = (entry.text + ' ' + text.data.trim()).trim();
      entry.fontPx = Math.min(entry.fontPx, fontPx);
      entry.box = [Math.min(entry.box[0], r.left), Math.min(entry.box[1], r.top),
                   Math.max(entry.box[2], r.right), Math.max(entry.box[3], r.bottom)];
      byLabel.set(label, entry);
    }
    found.labels = [...byLabel.values()].map((e) => ({kind: e.kind, text: e.text,
      fontPx: Math.round(e.fontPx * 100) / 100,
      box: e.box.map((v, i) => Math.round((v + (i % 2 ? window.scrollY : window.scrollX)) * 10) / 10)}));
    return found;
  });
  const boxes = [...document.querySelectorAll('.diagram')].map((b) => b.getBoundingClientRect().bottom);
  const result = {viewportWidth: window.innerWidth, pageHeight: document.documentElement.scrollHeight,
                  diagramsBottom: Math.ceil(Math.max(0, ...boxes) + window.scrollY),
                  errors: window.ladderErrors, diagrams: diagrams};
  const out = document.createElement('pre');
  out.id = 'diagram-check';
  out.hidden = true;
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
}
// Keep each diagram's source: the check counts the boxes it declares against the boxes drawn in its SVG.
document.querySelectorAll('.diagram').forEach((box) => { box.dataset.source = box.textContent; });
mermaid.run({querySelector: '.diagram pre.mermaid'})
  .catch((error) => window.ladderErrors.push('mermaid: ' + (error && error.message || error)))
  .finally(ladderMeasure);
"""


def mermaid_script(mermaid_js: Path = MERMAID_JS) -> str:
    if not mermaid_js.is_file():
        raise SetupError(f"the Mermaid renderer is missing ({mermaid_js}): run `npm ci` (make review does)")
    # A literal </script> inside the inlined bundle would end the script element early.
    return mermaid_js.read_text(encoding="utf-8").replace("</script", "<\\/script")


def html_page(document: list[Block], mermaid_js: Path = MERMAID_JS) -> str:
    body: list[str] = []
    for block in document:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{_inline(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{_inline(block.text)}</p>")
        elif isinstance(block, Diagram):
            body.append(f'<div class="diagram"><pre class="mermaid">{html.escape(block.source)}</pre></div>')
        elif isinstance(block, Bullets):
            body.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in block.items) + "</ul>")
        elif block.rows:
            header = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
            rows = "".join(
                "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in block.rows
            )
            body.append(f"<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Ladder review</title>'
        f"<style>{STYLE}</style><script>{RECORD_ERRORS_JS}</script></head><body>\n"
        + "\n".join(body)
        + f"\n<script>{mermaid_script(mermaid_js)}</script>\n"
        + f"<script>mermaid.initialize({json.dumps(MERMAID_CONFIG)});\n{DRAW_JS}</script>\n"
        + "</body></html>\n"
    )
