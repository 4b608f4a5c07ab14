"""Physical names: a setting that forces a replacement renames the replaced resources, and only those."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.stacks.knowledge.templates import knowledge
from tests.support.synth import only, resources

AOSS_NAME = re.compile(r"^[a-z][a-z0-9-]{2,31}$")


def physical_names(template: dict[str, Any]) -> dict[str, str]:
    names = {
        "collection": only(template, "AWS::OpenSearchServerless::Collection")[1]["Properties"]["Name"],
        "index": only(template, "AWS::OpenSearchServerless::Index")[1]["Properties"]["IndexName"],
        "access policy": only(template, "AWS::OpenSearchServerless::AccessPolicy")[1]["Properties"]["Name"],
        "knowledge base": only(template, "AWS::Bedrock::KnowledgeBase")[1]["Properties"]["Name"],
        "data source": only(template, "AWS::Bedrock::DataSource")[1]["Properties"]["Name"],
    }
    for policy in resources(template, "AWS::OpenSearchServerless::SecurityPolicy").values():
        names[f"{policy['Properties']['Type']} policy"] = policy["Properties"]["Name"]
    return names


class TestReplacementNames:
    """A setting that forces replacement must change the replaced resources' names, and only theirs."""

    @pytest.mark.parametrize(
        ("change", "renamed"),
        [
            # a new data source needs an empty index: the replaced one RETAINs its vectors
            ({"chunkMaxTokens": "512"}, {"index", "knowledge base", "data source"}),
            ({"chunkingStrategy": "SEMANTIC"}, {"index", "knowledge base", "data source"}),
            ({"embeddingDimensions": "512"}, {"index", "knowledge base", "data source"}),
            (
                {"embeddingModelId": "cohere.embed-english-v3"},
                {"index", "knowledge base", "data source"},
            ),
            (
                {"standbyReplicas": "true"},
                {
                    "collection",
                    "encryption policy",
                    "network policy",
                    "access policy",
                    "knowledge base",
                    "data source",
                },
            ),
        ],
    )
    def test_names_change_with_the_inputs_that_replace_them(self, synth, change, renamed) -> None:
        # Given the default configuration and one changed setting
        before = physical_names(knowledge(synth()))
        after = physical_names(knowledge(synth(change)))
        # Then exactly the resources CloudFormation replaces get new names (no "already exists")
        assert {kind for kind in before if before[kind] != after[kind]} == renamed

    def test_settings_that_update_in_place_keep_every_name(self, synth) -> None:
        # A chunking setting the configured strategy ignores, and an in-place data source change
        before = physical_names(knowledge(synth()))
        assert physical_names(knowledge(synth({"semanticMaxTokens": "500"}))) == before
        assert physical_names(knowledge(synth({"profile": "prod", "standbyReplicas": "false"}))) == before

    @pytest.mark.parametrize("prefix", ["Ladder", "Abcdefghijklmnop"])
    def test_opensearch_names_respect_the_service_limits(self, synth, prefix: str) -> None:
        names = physical_names(knowledge(synth({"stackPrefix": prefix})))
        for kind in ("collection", "encryption policy", "network policy", "access policy"):
            assert AOSS_NAME.match(names[kind]), (kind, names[kind])

    def test_collection_carries_no_tags_while_the_stack_tags_everything_else(self, synth) -> None:
        # Given the stack-wide tags (a tag change on a collection replaces it)
        template = knowledge(synth({"profile": "prod"}))
        _, collection = only(template, "AWS::OpenSearchServerless::Collection")
        assert "Tags" not in collection["Properties"]
        _, kb = only(template, "AWS::Bedrock::KnowledgeBase")
        assert kb["Properties"]["Tags"] == {"ladder:profile": "prod", "project": "ladder"}
