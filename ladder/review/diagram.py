"""The architecture as Mermaid flowcharts, derived from the templates: the resources that matter and edges for
data flow (event sources, rule targets, API integrations, references between resources, and IAM grants from a
role to what it may touch).

The page draws an overview of the stacks and the links between them, then one diagram per stack (grouped by
role when it is large), each laid out left to right or top down, whichever fits the page's width: the page
never scales a diagram down, so every label keeps its font size and a drawing too wide scrolls sideways."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ladder.review.model import Assembly, Ref, Stack, short_type

NODE_TYPES = {
    "AWS::S3::Bucket": "bucket",
    "AWS::OpenSearchServerless::Collection": "vector collection",
    "AWS::OpenSearchServerless::Index": "vector index",
    "AWS::S3Vectors::VectorBucket": "vector bucket",
    "AWS::S3Vectors::Index": "vector index",
    "AWS::Bedrock::KnowledgeBase": "knowledge base",
    "AWS::Bedrock::DataSource": "data source",
    "AWS::Bedrock::Guardrail": "guardrail",
    "AWS::Lambda::Function": "function",
    "AWS::ApiGateway::RestApi": "REST API",
    "AWS::SQS::Queue": "queue",
    "AWS::SNS::Topic": "topic",
    "AWS::StepFunctions::StateMachine": "state machine",
    "AWS::Events::Rule": "event rule",
    "AWS::IAM::Role": "role",
    "AWS::WAFv2::WebACL": "WAF ACL",
    "AWS::SSM::Parameter": "parameter",
}
# Properties that only name a resource for bookkeeping (not data flow) and would clutter the picture.
IGNORED_PROPERTIES = {"Tags", "LoggingConfig", "LoggingConfiguration", "Layers", "Code", "Description"}
# Resources that aws-cdk-lib adds for itself (auto-delete handlers, log retention).
CDK_INTERNAL = re.compile(r"^(Custom|LogRetention|AWS679f53fac002430cb0da5b7982bd2287)")
SAFE_ID = re.compile(r"[^A-Za-z0-9_]")

# How every diagram here declares a box: ``  id["label"]``, optionally ``:::class``, alone on its line.
DECLARED_NODE = re.compile(r'^\s*\w+\[".*"\](?::::\w+)?$', re.MULTILINE)

Node = tuple[str, str]
"""(stack name, logical id)."""
Edge = tuple[Node, Node, str]
"""(from, to, label)."""


def _stack_id(stack: str) -> str:
    return SAFE_ID.sub("_", stack)


def node_id(stack: str, logical_id: str) -> str:
    return SAFE_ID.sub("_", f"{stack}_{logical_id}")


def nodes(assembly: Assembly) -> dict[Node, str]:
    """(stack, logical id) -> resource type of every resource drawn."""
    return {
        (stack.name, logical_id): resource["Type"]
        for stack in assembly.stacks
        for logical_id, resource in stack.resources.items()
        if resource["Type"] in NODE_TYPES and not CDK_INTERNAL.match(logical_id)
    }


def edges(assembly: Assembly) -> set[Edge]:
    """(from, to, label) between drawn nodes."""
    drawn = nodes(assembly)
    found: set[Edge] = set()

    def add(source: Ref | Node, target: Ref | Node, label: str) -> None:
        a = (source.stack, source.logical_id) if isinstance(source, Ref) else source
        b = (target.stack, target.logical_id) if isinstance(target, Ref) else target
        if a in drawn and b in drawn and a != b:
            found.add((a, b, label))

    for stack in assembly.stacks:
        for logical_id, resource in stack.resources.items():
            kind = resource["Type"]
            props: dict[str, Any] = resource.get("Properties", {})
            here = (stack.name, logical_id)
            if kind == "AWS::Lambda::EventSourceMapping":
                for source in assembly.refs(stack.name, props.get("EventSourceArn")):
                    for function in assembly.refs(stack.name, props.get("FunctionName")):
                        add(source, function, "event source")
            elif kind == "AWS::Events::Rule":
                for target in props.get("Targets", []):
                    for ref in assembly.refs(stack.name, target.get("Arn")):
                        add(here, ref, "target")
                for ref in assembly.refs(stack.name, props.get("EventPattern")):
                    add(ref, here, "events")
            elif kind == "AWS::ApiGateway::Method":
                for function in assembly.refs(stack.name, props.get("Integration", {}).get("Uri")):
                    for api in assembly.refs(stack.name, props.get("RestApiId")):
                        add(api, function, "integration")
            elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                targets = assembly.refs(stack.name, props.get("PolicyDocument"))
                for role in assembly.refs(stack.name, props.get("Roles", [])):
                    for target in targets:
                        add(role, target, "IAM")
            elif kind == "AWS::WAFv2::WebACLAssociation":
                for acl in assembly.refs(stack.name, props.get("WebACLArn")):
                    for target in assembly.refs(stack.name, props.get("ResourceArn")):
                        stage = assembly.stack(target.stack).resources[target.logical_id]
                        for api in assembly.refs(target.stack, stage.get("Properties", {}).get("RestApiId")):
                            add(acl, api, "protects")
            elif here in drawn:
                for key, value in props.items():
                    if key in IGNORED_PROPERTIES:
                        continue
                    for ref in assembly.refs(stack.name, value):
                        label = "runs as" if kind != "AWS::IAM::Role" and "Role" in key else key
                        add(here, ref, label)
    return found


# What a resource is for, from the construct path: the deepest path segment (then its parents, then the stack
# name) that matches one of these names decides. Construct ids are PascalCase, so the match is case-sensitive.
ROLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ingest", re.compile(r"Ingest|Document|DataSource")),
    ("retrieve", re.compile(r"Vector|KnowledgeBase|Retriev")),
    ("serve", re.compile(r"Rag|Api|Guardrail|WebAcl|Waf")),
    ("train", re.compile(r"Train|FineTune|Pipeline|Model")),
    ("evaluate", re.compile(r"Evaluat")),
    ("operate", re.compile(r"Alarm|Notification|AccessLog|Dashboard")),
)
OTHER_ROLE = "other"
# A stack graph with more nodes than this is drawn in one box per role.
GROUP_ABOVE_NODES = 10

# The layout estimate behind the direction choice, in CSS px of Mermaid's flowchart at FONT_PX (the page
# never scales a diagram, so these are screen pixels). CHAR_PX is the mean advance of a character of the
# labels in Chromium's default sans-serif at FONT_PX; the gaps are Mermaid's nodeSpacing and rankSpacing
# defaults; the padding is what a node box adds around its label.
FONT_PX = 14
CHAR_PX = 7.8
NODE_PADDING_PX = 32
NODE_GAP_PX = 50
RANK_GAP_PX = 50
# The review page's content width at a 1280 px wide viewport (render.STYLE: max-width 1200px).
PAGE_WIDTH_PX = 1200


@dataclass(frozen=True)
class Graph:
    """One diagram of the page: its heading, the direction chosen for it, and its Mermaid source."""

    title: str
    direction: str
    source: str


def role(stack: Stack, logical_id: str) -> str:
    """ingest, retrieve, serve, train, evaluate, operate, or other (see :data:`ROLES`)."""
    segments = [stack.name, *stack.paths.get(logical_id, logical_id).split("/")]
    for segment in reversed(segments):
        for name, pattern in ROLES:
            if pattern.search(segment):
                return name
    return OTHER_ROLE


def _readable(logical_id: str) -> str:
    return re.sub(r"[0-9A-F]{8}$", "", logical_id) or logical_id


def _label_lines(logical_id: str, resource_type: str) -> tuple[str, str]:
    return _readable(logical_id), NODE_TYPES.get(resource_type, short_type(resource_type))


def _label(logical_id: str, resource_type: str) -> str:
    name, kind = _label_lines(logical_id, resource_type)
    return f"{name}<br/><i>{kind}</i>"


def text_width(lines: Iterable[str]) -> float:
    """Estimated rendered width (px) of a label: its longest line, plus the box around it."""
    return max((len(line) for line in lines), default=0) * CHAR_PX + NODE_PADDING_PX


def ranks(names: Iterable[str], links: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Layer of each node in a layered drawing: the longest path to it from a node nothing points at. A
    cycle is broken at the link a depth-first walk finds closing it, as a layered layout must."""
    order = sorted(set(names))
    outgoing: dict[str, list[str]] = {name: [] for name in order}
    for a, b in sorted(set(links)):
        if a in outgoing and b in outgoing and a != b:
            outgoing[a].append(b)
    kept: dict[str, list[str]] = {name: [] for name in order}
    state: dict[str, int] = {}  # 1 while on the walk's path, 2 once finished
    finished: list[str] = []
    for root in order:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            name, index = stack.pop()
            if index < len(outgoing[name]):
                stack.append((name, index + 1))
                target = outgoing[name][index]
                if target not in state:
                    kept[name].append(target)
                    state[target] = 1
                    stack.append((target, 0))
                elif state[target] == 2:
                    kept[name].append(target)
            else:
                state[name] = 2
                finished.append(name)
    layer = dict.fromkeys(order, 0)
    for name in reversed(finished):
        for target in kept[name]:
            layer[target] = max(layer[target], layer[name] + 1)
    return layer


def estimated_width(
    direction: str, widths: dict[str, float], links: Iterable[tuple[str, str, float]]
) -> float:
    """Rendered width (px) of a layered drawing, ``LR`` or ``TB``, of nodes of the given widths joined by
    links (from, to, width of the link's label; 0 without one). Mermaid lays a flowchart out with dagre,
    which puts a link's label in a layer of its own between the two layers the link joins."""
    link_list = [(a, b, w) for a, b, w in links if a in widths and b in widths]
    layer = ranks(widths, [(a, b) for a, b, _ in link_list])
    layers = max(layer.values(), default=-1) + 1
    if direction == "LR":
        columns = sum(max(w for n, w in widths.items() if layer[n] == r) for r in range(layers))
        between = sum(
            RANK_GAP_PX + max((w for a, _, w in link_list if layer[a] == r), default=0)
            for r in range(layers - 1)
        )
        return columns + between
    rows: list[list[float]] = [[w for n, w in widths.items() if layer[n] == r] for r in range(layers)]
    rows += [[w for a, _, w in link_list if layer[a] == r and w] for r in range(layers)]
    return max((sum(row) + NODE_GAP_PX * (len(row) - 1) for row in rows if row), default=0)


def choose_direction(widths: dict[str, float], links: Iterable[tuple[str, str, float]]) -> str:
    """``LR`` (data flows left to right) when the drawing fits the page's width, else ``TB`` when that is
    narrower: the page never scales a diagram down, so a drawing wider than the page scrolls sideways."""
    link_list = list(links)
    left_right = estimated_width("LR", widths, link_list)
    if left_right <= PAGE_WIDTH_PX:
        return "LR"
    return "TB" if estimated_width("TB", widths, link_list) < left_right else "LR"


def _edge_label_width(label: str) -> float:
    return len(label) * CHAR_PX + 8 if label else 0.0


def stack_graph(assembly: Assembly, stack_name: str) -> Graph:
    """The resources of one stack, in one box per role when there are many, with the resources of other
    stacks it links to (or that link to it) drawn dashed in a box per stack."""
    drawn = nodes(assembly)
    own = {key: kind for key, kind in drawn.items() if key[0] == stack_name}
    links = sorted(e for e in edges(assembly) if e[0][0] == stack_name or e[1][0] == stack_name)
    outside = {key: drawn[key] for a, b, _ in links for key in (a, b) if key[0] != stack_name}
    widths = {
        node_id(*key): text_width(_label_lines(key[1], kind)) for key, kind in {**own, **outside}.items()
    }
    direction = choose_direction(
        widths, [(node_id(*a), node_id(*b), _edge_label_width(label)) for a, b, label in links]
    )
    stack = assembly.stack(stack_name)
    groups: dict[str, list[Node]] = {}
    for key in own:
        groups.setdefault(role(stack, key[1]) if len(own) > GROUP_ABOVE_NODES else "", []).append(key)
    lines = [f"flowchart {direction}"]
    for group, members in sorted(groups.items()):
        indent = "  "
        if group:
            lines.append(f'  subgraph {_stack_id(stack_name)}__{group}["{group}"]')
            indent = "    "
        lines += [f'{indent}{node_id(*key)}["{_label(key[1], own[key])}"]' for key in members]
        if group:
            lines.append("  end")
    for other in sorted({key[0] for key in outside}):
        lines.append(f'  subgraph {_stack_id(other)}__outside["in {other}"]')
        lines += [
            f'    {node_id(*key)}["{_label(key[1], kind)}"]:::outside'
            for key, kind in sorted(outside.items())
            if key[0] == other
        ]
        lines.append("  end")
    lines += [f'  {node_id(*a)} -->|"{label}"| {node_id(*b)}' for a, b, label in links]
    if outside:
        lines.append("  classDef outside stroke-dasharray: 5 4")
    return Graph(stack_name, direction, "\n".join(lines) + "\n")


def overview(assembly: Assembly) -> Graph:
    """One box per stack, naming the roles of what it holds, and one arrow per pair of stacks that one
    links to the other, naming the resources it reaches and how."""
    drawn = nodes(assembly)
    reached: dict[tuple[str, str], dict[str, set[str]]] = {}
    for a, b, label in edges(assembly):
        if a[0] != b[0]:
            reached.setdefault((a[0], b[0]), {}).setdefault(_readable(b[1]), set()).add(label)

    widths: dict[str, float] = {}
    lines: list[str] = []
    for stack in assembly.stacks:
        roles = sorted({role(stack, logical_id) for name, logical_id in drawn if name == stack.name})
        summary = f"{sum(1 for name, _ in drawn if name == stack.name)} resources drawn: {', '.join(roles)}"
        widths[_stack_id(stack.name)] = text_width([stack.name, summary])
        lines.append(f'  {_stack_id(stack.name)}["{stack.name}<br/><i>{summary}</i>"]')
    links = []
    for (source, target), reaches in sorted(reached.items()):
        parts = [f"{name}: {', '.join(sorted(kinds))}" for name, kinds in sorted(reaches.items())]
        links.append((_stack_id(source), _stack_id(target), max(_edge_label_width(p) for p in parts)))
        lines.append(f'  {_stack_id(source)} -->|"{"<br/>".join(parts)}"| {_stack_id(target)}')
    direction = choose_direction(widths, links)
    return Graph("Overview", direction, "\n".join([f"flowchart {direction}", *lines]) + "\n")


def graphs(assembly: Assembly) -> list[Graph]:
    """What the review page draws: the overview of the stacks, then one diagram per stack."""
    return [overview(assembly), *(stack_graph(assembly, stack.name) for stack in assembly.stacks)]


def mermaid(assembly: Assembly) -> str:
    """Mermaid flowchart source of the whole app in one drawing (review.json's ``diagram``)."""
    drawn = nodes(assembly)
    lines = ["flowchart LR"]
    for stack in assembly.stacks:
        lines.append(f'  subgraph {_stack_id(stack.name)}["{stack.name}"]')
        for (stack_name, logical_id), kind in drawn.items():
            if stack_name == stack.name:
                lines.append(f'    {node_id(stack_name, logical_id)}["{_label(logical_id, kind)}"]')
        lines.append("  end")
    for a, b, label in sorted(edges(assembly)):
        lines.append(f'  {node_id(*a)} -->|"{label}"| {node_id(*b)}')
    return "\n".join(lines) + "\n"
