"""The architecture split into an overview and one diagram per stack: which resources each diagram draws, the
arrows between stacks, grouping by role and the layout direction; on small hand-written templates and on
the real synthesized app."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from ladder.review import diagram, model, render
from tests.review.test_review_parts import _minimal_review
from tests.stacks.conftest import COMBINATIONS
from tests.stacks.rag.templates import rag_function
from tests.support.synth import only

NODE = re.compile(r'^\s+(\w+)\["(.*)"\](:::outside)?$')
SUBGRAPH = re.compile(r'^\s+subgraph (\w+)\["(.*)"\]$')
ARROW = re.compile(r'^\s+(\w+) -->\|"(.*)"\| (\w+)$')


def declared(source: str) -> dict[str, dict[str, Any]]:
    """Node id -> its label, the title of the box it is drawn in ('' for none) and whether it is dashed."""
    found: dict[str, dict[str, Any]] = {}
    box = ""
    for line in source.splitlines():
        if subgraph := SUBGRAPH.match(line):
            box = subgraph.group(2)
        elif line.strip() == "end":
            box = ""
        elif node := NODE.match(line):
            found[node.group(1)] = {"label": node.group(2), "box": box, "outside": bool(node.group(3))}
    return found


def arrows(source: str) -> list[tuple[str, str, str]]:
    return [(m.group(1), m.group(2), m.group(3)) for line in source.splitlines() if (m := ARROW.match(line))]


def _stack(
    name: str, resources: dict[str, Any], paths: dict[str, str], outputs: dict | None = None
) -> model.Stack:
    template = {"Resources": resources, "Outputs": outputs or {}}
    return model.Stack(name, template, {k: f"{name}/{v}" for k, v in paths.items()}, ())


def _two_stacks(tmp_path: Path) -> model.Assembly:
    """A data stack exporting its knowledge base, an API stack whose function and role import it, and a
    third stack nothing links to."""
    data = _stack(
        "Data",
        {
            "Docs": {"Type": "AWS::S3::Bucket"},
            "Kb": {"Type": "AWS::Bedrock::KnowledgeBase"},
        },
        {"Docs": "DocumentsBucket/Resource", "Kb": "KnowledgeBase/Resource"},
        {"KbArn": {"Value": {"Fn::GetAtt": ["Kb", "KnowledgeBaseArn"]}, "Export": {"Name": "Data:KbArn"}}},
    )
    kb_arn = {"Fn::ImportValue": "Data:KbArn"}
    api = _stack(
        "Api",
        {
            "FnRole": {"Type": "AWS::IAM::Role"},
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Role": {"Fn::GetAtt": ["FnRole", "Arn"]}, "Environment": {"KB": kb_arn}},
            },
            "Policy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "Roles": [{"Ref": "FnRole"}],
                    "PolicyDocument": {"Statement": [{"Action": "bedrock:Retrieve", "Resource": kb_arn}]},
                },
            },
            "Rest": {"Type": "AWS::ApiGateway::RestApi"},
        },
        {"FnRole": "RagFunction/Role/Resource", "Fn": "RagFunction/Function/Resource", "Rest": "RagApi/Api"},
    )
    lonely = _stack("Lonely", {"Topic": {"Type": "AWS::SNS::Topic"}}, {"Topic": "Alarms/Topic/Resource"})
    return model.Assembly(tmp_path, [data, api, lonely])


def test_each_stack_draws_its_own_resources_and_dashes_those_of_other_stacks_it_links_to(tmp_path) -> None:
    # Given an API stack whose function and role reach the data stack's knowledge base
    graphs = {graph.title: graph for graph in diagram.graphs(_two_stacks(tmp_path))}
    # Then the page draws the overview first, then one diagram per stack
    assert list(graphs) == ["Overview", "Data", "Api", "Lonely"]
    api = declared(graphs["Api"].source)
    # The API diagram draws its own resources plainly and the knowledge base dashed, in a box naming its stack
    assert {n for n, d in api.items() if not d["outside"]} == {"Api_FnRole", "Api_Fn", "Api_Rest"}
    assert api["Data_Kb"] == {"label": "Kb<br/><i>knowledge base</i>", "box": "in Data", "outside": True}
    assert ("Api_Fn", "Environment", "Data_Kb") in arrows(graphs["Api"].source)
    assert ("Api_FnRole", "IAM", "Data_Kb") in arrows(graphs["Api"].source)
    # The data diagram shows who reaches into it, and nothing of the API stack that does not
    data = declared(graphs["Data"].source)
    assert {n for n, d in data.items() if d["outside"]} == {"Api_Fn", "Api_FnRole"}
    assert "Api_Rest" not in data
    # A stack nothing links to is drawn alone, with no dashed box
    assert declared(graphs["Lonely"].source) == {
        "Lonely_Topic": {"label": "Topic<br/><i>topic</i>", "box": "", "outside": False}
    }
    assert "classDef outside" not in graphs["Lonely"].source


def test_overview_draws_one_arrow_per_pair_of_stacks_naming_what_it_reaches_and_how(tmp_path) -> None:
    overview = diagram.overview(_two_stacks(tmp_path))
    boxes = declared(overview.source)
    assert set(boxes) == {"Data", "Api", "Lonely"}
    assert boxes["Data"]["label"] == "Data<br/><i>2 resources drawn: ingest, retrieve</i>"
    # Two links (the function's environment, the role's grant) make one arrow that names both
    assert arrows(overview.source) == [("Api", "Kb: Environment, IAM", "Data")]
    assert overview.source.startswith(f"flowchart {overview.direction}\n")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Ingestion/StartIngestion/Role/Resource", "ingest"),
        ("KnowledgeBase/DocumentsDataSource", "ingest"),  # the deepest segment decides
        ("KnowledgeBaseRole/Resource", "retrieve"),
        ("S3Vectors/VectorIndex", "retrieve"),
        ("RagApi/Api/CloudWatchRole/Resource", "serve"),
        ("RagApi/WebAcl", "serve"),
        ("Pipeline/StateMachine/Resource", "train"),
        ("Evaluation/EvaluationRole/Resource", "evaluate"),
        ("Evaluation/AccessLogsBucket/Resource", "operate"),
        ("Alarms/Topic/Resource", "operate"),
        ("Something/Resource", "other"),
    ],
)
def test_a_resource_takes_the_role_its_construct_path_names(path: str, expected: str) -> None:
    stack = _stack("Stack", {"R": {"Type": "AWS::S3::Bucket"}}, {"R": path})
    assert diagram.role(stack, "R") == expected


def test_a_stack_named_for_a_role_gives_it_to_resources_whose_path_names_none() -> None:
    stack = _stack("LadderFineTune", {"R": {"Type": "AWS::S3::Bucket"}}, {"R": "ArtifactsBucket/Resource"})
    assert diagram.role(stack, "R") == "train"


def test_only_a_large_stack_is_drawn_in_one_box_per_role(tmp_path) -> None:
    def stack_of(count: int) -> model.Stack:
        resources = {f"Q{i}": {"Type": "AWS::SQS::Queue"} for i in range(count)}
        paths = {f"Q{i}": ("Ingestion" if i % 2 else "Alarms") + f"/Q{i}" for i in range(count)}
        return _stack("S", resources, paths)

    small = diagram.stack_graph(model.Assembly(tmp_path, [stack_of(diagram.GROUP_ABOVE_NODES)]), "S")
    assert {d["box"] for d in declared(small.source).values()} == {""}
    large = diagram.stack_graph(model.Assembly(tmp_path, [stack_of(diagram.GROUP_ABOVE_NODES + 1)]), "S")
    boxes = {n: d["box"] for n, d in declared(large.source).items()}
    assert boxes["S_Q1"] == "ingest" and boxes["S_Q2"] == "operate"
    assert set(boxes.values()) == {"ingest", "operate"}


def test_a_long_chain_is_drawn_top_down_and_a_wide_fan_left_to_right() -> None:
    width = 200.0
    chain = {f"n{i}": width for i in range(12)}
    chain_links = [(f"n{i}", f"n{i + 1}", 0.0) for i in range(11)]
    # Twelve boxes in a row are wider than the page; one above the other are one box wide
    assert diagram.estimated_width("LR", chain, chain_links) > diagram.PAGE_WIDTH_PX
    assert diagram.estimated_width("TB", chain, chain_links) == width
    assert diagram.choose_direction(chain, chain_links) == "TB"
    fan = {f"n{i}": width for i in range(12)}
    fan_links = [("n0", f"n{i}", 0.0) for i in range(1, 12)]
    assert diagram.estimated_width("LR", fan, fan_links) == 2 * width + diagram.RANK_GAP_PX
    assert diagram.choose_direction(fan, fan_links) == "LR"


def test_a_graph_that_fits_either_way_reads_left_to_right_and_one_that_fits_neither_takes_the_narrower() -> (
    None
):
    small = {"a": 100.0, "b": 100.0, "c": 100.0}
    assert diagram.choose_direction(small, [("a", "b", 0.0), ("a", "c", 0.0)]) == "LR"
    # Six layers of six boxes with labelled links: 2350 px left to right, 1750 px top down
    grid = {f"n{r}_{c}": 250.0 for r in range(6) for c in range(6)}
    links = [(f"n{r}_{c}", f"n{r + 1}_{c}", 120.0) for r in range(5) for c in range(6)]
    assert diagram.estimated_width("LR", grid, links) == 2350.0
    assert diagram.estimated_width("TB", grid, links) == 1750.0
    assert diagram.choose_direction(grid, links) == "TB"
    # Four layers of ten wide boxes: 1750 px left to right, 4450 px top down
    wide = {f"n{r}_{c}": 400.0 for r in range(4) for c in range(10)}
    wide_links = [(f"n{r}_{c}", f"n{r + 1}_{c}", 0.0) for r in range(3) for c in range(10)]
    assert diagram.estimated_width("LR", wide, wide_links) == 1750.0
    assert diagram.estimated_width("TB", wide, wide_links) == 4450.0
    assert diagram.choose_direction(wide, wide_links) == "LR"


def test_a_link_label_widens_the_gap_between_layers_left_to_right() -> None:
    widths = {"a": 100.0, "b": 100.0}
    bare = diagram.estimated_width("LR", widths, [("a", "b", 0.0)])
    labelled = diagram.estimated_width("LR", widths, [("a", "b", 150.0)])
    assert labelled - bare == 150.0


def test_layers_of_a_cycle_are_finite_and_a_chain_is_one_layer_per_node() -> None:
    assert diagram.ranks(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")]) == {"a": 0, "b": 1, "c": 2}
    assert diagram.ranks(["a", "b", "c", "d"], [("a", "c"), ("b", "c"), ("c", "d")]) == {
        "a": 0,
        "b": 0,
        "c": 1,
        "d": 2,
    }


@pytest.mark.synth
def test_the_real_app_is_split_into_an_overview_and_one_diagram_per_stack(synth) -> None:
    # Given the app with the fine-tune stack on, synthesized with real aws-cdk-lib
    synthesized = synth(COMBINATIONS["sandbox-finetune"])
    assembly = model.load(synthesized.outdir)
    graphs = {graph.title: graph for graph in diagram.graphs(assembly)}
    stacks = [stack.name for stack in assembly.stacks]
    assert list(graphs) == ["Overview", *stacks]
    # Then every drawn resource is drawn plainly in its own stack's diagram, and only there
    own = {
        node_id: title
        for title in stacks
        for node_id, found in declared(graphs[title].source).items()
        if not found["outside"]
    }
    assert sorted(own) == sorted(diagram.node_id(*key) for key in diagram.nodes(assembly))
    assert all(node_id.startswith(diagram.node_id(title, "")) for node_id, title in own.items())
    for graph in graphs.values():
        assert graph.source.startswith(f"flowchart {graph.direction}\n")
        assert graph.direction in ("LR", "TB")
    (knowledge,) = [s for s in stacks if s.endswith("Knowledge")]
    (rag_api,) = [s for s in stacks if s.endswith("RagApi")]
    (fine_tune,) = [s for s in stacks if s.endswith("FineTune")]
    kb_id, _ = only(synthesized.template("Knowledge"), "AWS::Bedrock::KnowledgeBase")
    documents_id, _ = only(synthesized.template("Knowledge"), "AWS::Bedrock::DataSource")
    function_id, _ = rag_function(synthesized.template("RagApi"))
    machine_id, _ = only(synthesized.template("FineTune"), "AWS::StepFunctions::StateMachine")
    # The knowledge stack is large: grouped by role, ingestion apart from retrieval
    knowledge_nodes = declared(graphs[knowledge].source)
    assert knowledge_nodes[diagram.node_id(knowledge, kb_id)]["box"] == "retrieve"
    assert knowledge_nodes[diagram.node_id(knowledge, documents_id)]["box"] == "ingest"
    assert declared(graphs[fine_tune].source)[diagram.node_id(fine_tune, machine_id)]["box"] == "train"
    # The RAG API's diagram draws the knowledge base it queries, dashed, in a box naming the other stack
    reached = declared(graphs[rag_api].source)[diagram.node_id(knowledge, kb_id)]
    assert reached["outside"] and reached["box"] == f"in {knowledge}"
    assert (
        diagram.node_id(rag_api, function_id),
        "Environment",
        diagram.node_id(knowledge, kb_id),
    ) in arrows(graphs[rag_api].source)
    # The overview: one arrow from the RAG API to the knowledge stack naming the knowledge base
    (arrow,) = arrows(graphs["Overview"].source)
    assert arrow[0] == rag_api and arrow[2] == knowledge
    assert "KnowledgeBase: " in arrow[1] and "IAM" in arrow[1]
    assert fine_tune in declared(graphs["Overview"].source)


def test_the_report_has_one_titled_diagram_per_graph_in_markdown_and_html(tmp_path) -> None:
    # Given the diagrams of an assembly in the review data
    graphs = diagram.graphs(_two_stacks(tmp_path))
    review = _minimal_review() | {"diagrams": [dataclasses.asdict(graph) for graph in graphs]}
    document = render.blocks(review)
    markdown = render.markdown(document)
    # Then REVIEW.md holds one Mermaid block per diagram, each under its own heading
    assert markdown.count("```mermaid\n") == len(graphs)
    for graph in graphs:
        assert f"### {graph.title}\n\n```mermaid\n{graph.source}```" in markdown
    # And the page draws each at its natural size inside a box that scrolls sideways
    fake_js = tmp_path / "mermaid.min.js"
    fake_js.write_text("")
    page = render.html_page(document, fake_js)
    assert page.count('<div class="diagram"><pre class="mermaid">flowchart') == len(graphs)
    assert render.MERMAID_CONFIG["flowchart"] == {"useMaxWidth": False}, "a diagram is never scaled down"
    # Ids from Date.now() collide for diagrams drawn in one millisecond: one SVG would receive both drawings
    assert render.MERMAID_CONFIG["deterministicIds"] is True
    assert ".diagram { overflow-x: auto;" in page
