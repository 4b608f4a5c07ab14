"""The Bedrock knowledge base, its data source and its service role."""

from __future__ import annotations

import json

import pytest

from stacks.knowledge.vector_store import METADATA_FIELD, TEXT_FIELD, VECTOR_FIELD
from tests.stacks.knowledge.templates import knowledge
from tests.support.synth import Synthesized, only, references, resources


class TestKnowledgeBase:
    def test_uses_titan_v2_and_the_index_fields(self, sandbox: Synthesized) -> None:
        template = knowledge(sandbox)
        _, kb = only(template, "AWS::Bedrock::KnowledgeBase")
        props = kb["Properties"]
        vector_config = props["KnowledgeBaseConfiguration"]["VectorKnowledgeBaseConfiguration"]
        assert "foundation-model/amazon.titan-embed-text-v2:0" in json.dumps(
            vector_config["EmbeddingModelArn"]
        )
        assert (
            vector_config["EmbeddingModelConfiguration"]["BedrockEmbeddingModelConfiguration"]["Dimensions"]
            == 1024
        )
        storage = props["StorageConfiguration"]["OpensearchServerlessConfiguration"]
        _, index = only(template, "AWS::OpenSearchServerless::Index")
        assert storage["VectorIndexName"] == index["Properties"]["IndexName"]
        assert storage["FieldMapping"] == {
            "VectorField": VECTOR_FIELD,
            "TextField": TEXT_FIELD,
            "MetadataField": METADATA_FIELD,
        }

    def test_service_role_is_least_privilege(self, sandbox: Synthesized) -> None:
        template = knowledge(sandbox)
        _, kb = only(template, "AWS::Bedrock::KnowledgeBase")
        role_id = next(iter(references(kb["Properties"]["RoleArn"])))
        role = template["Resources"][role_id]
        trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        policies = [
            p
            for p in resources(template, "AWS::IAM::Policy").values()
            if {"Ref": role_id} in p["Properties"]["Roles"]
        ]
        statements = {s["Sid"]: s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]}
        assert set(statements) == {"EmbedDocuments", "UseVectorCollection", "ListDocuments", "ReadDocuments"}
        assert statements["ListDocuments"]["Condition"] == {"StringLike": {"s3:prefix": ["docs/*"]}}
        assert statements["ReadDocuments"]["Action"] == "s3:GetObject"
        # The collection is named, not referenced: its ARN carries an id that exists only after creation
        use = statements["UseVectorCollection"]
        assert use["Action"] == "aoss:APIAccessAll"
        assert use["Condition"] == {"StringEquals": {"aoss:collection": sandbox.config.collection_name}}
        assert json.dumps(use["Resource"]).endswith(':collection/*"]]}')

    @pytest.mark.parametrize(
        ("strategy", "key", "expected"),
        [
            ("FIXED_SIZE", "FixedSizeChunkingConfiguration", {"MaxTokens": 300, "OverlapPercentage": 20}),
            (
                "SEMANTIC",
                "SemanticChunkingConfiguration",
                {"MaxTokens": 300, "BufferSize": 0, "BreakpointPercentileThreshold": 95},
            ),
            (
                "HIERARCHICAL",
                "HierarchicalChunkingConfiguration",
                {"LevelConfigurations": [{"MaxTokens": 1500}, {"MaxTokens": 300}], "OverlapTokens": 60},
            ),
        ],
    )
    def test_data_source_uses_the_configured_chunking(self, synth, strategy, key, expected) -> None:
        template = knowledge(synth({"chunkingStrategy": strategy}))
        _, source = only(template, "AWS::Bedrock::DataSource")
        chunking = source["Properties"]["VectorIngestionConfiguration"]["ChunkingConfiguration"]
        assert chunking == {"ChunkingStrategy": strategy, key: expected}
        assert source["Properties"]["DataSourceConfiguration"]["S3Configuration"]["InclusionPrefixes"] == [
            "docs/"
        ]

    def test_chunk_sizes_come_from_config(self, synth) -> None:
        template = knowledge(
            synth({"chunkMaxTokens": "512", "chunkOverlapPercentage": "10", "documentsPrefix": "kb/"})
        )
        _, source = only(template, "AWS::Bedrock::DataSource")
        s3_config = source["Properties"]["DataSourceConfiguration"]["S3Configuration"]
        assert s3_config["InclusionPrefixes"] == ["kb/"]
        fixed = source["Properties"]["VectorIngestionConfiguration"]["ChunkingConfiguration"][
            "FixedSizeChunkingConfiguration"
        ]
        assert fixed == {"MaxTokens": 512, "OverlapPercentage": 10}
