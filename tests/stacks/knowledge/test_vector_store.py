"""The vector store: the OpenSearch Serverless collection and index, or the S3 vector bucket and index."""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk.assertions import Template

from stacks.knowledge.vector_store import METADATA_FIELD, TEXT_FIELD, VECTOR_FIELD
from tests.stacks.knowledge.templates import (
    access_policy_statements,
    bucket_of,
    kb_vector_index,
    knowledge,
    knowledge_base_role_policy,
)
from tests.support.synth import Synthesized, comes_before, only, references, resources


class TestVectorStore:
    @pytest.mark.parametrize(
        ("overrides", "expected"),
        [
            ({}, "DISABLED"),
            ({"profile": "prod"}, "ENABLED"),
            ({"standbyReplicas": "true"}, "ENABLED"),
            ({"profile": "prod", "standbyReplicas": "false"}, "DISABLED"),
        ],
    )
    def test_collection_is_vector_search_with_replicas_from_profile(self, synth, overrides, expected) -> None:
        synthesized = synth(overrides)
        Template.from_json(knowledge(synthesized)).has_resource_properties(
            "AWS::OpenSearchServerless::Collection",
            {"Type": "VECTORSEARCH", "StandbyReplicas": expected, "Name": synthesized.config.collection_name},
        )

    def test_encryption_and_network_policies_cover_the_collection(self, sandbox: Synthesized) -> None:
        template = knowledge(sandbox)
        name = sandbox.config.collection_name
        policies = {
            p["Properties"]["Type"]: json.loads(p["Properties"]["Policy"])
            for p in resources(template, "AWS::OpenSearchServerless::SecurityPolicy").values()
        }
        assert set(policies) == {"encryption", "network"}
        assert policies["encryption"]["Rules"] == [
            {"ResourceType": "collection", "Resource": [f"collection/{name}"]}
        ]
        assert policies["encryption"]["AWSOwnedKey"] is True
        network_rules = policies["network"][0]["Rules"]
        assert [r["ResourceType"] for r in network_rules] == ["collection"], "no dashboard access"

    def test_data_access_policy_names_exactly_the_kb_role_and_the_deploy_role(
        self, sandbox: Synthesized
    ) -> None:
        template = knowledge(sandbox)
        statements = access_policy_statements(template)
        principals = [p for s in statements for p in s["Principal"]]
        assert len(principals) == 2
        kb_role_id = next(
            k
            for k, r in resources(template, "AWS::IAM::Role").items()
            if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
            == {"Service": "bedrock.amazonaws.com"}
        )
        assert any(kb_role_id in p for p in principals)
        assert any("cfn-exec-role" in p for p in principals)
        assert not any(":root" in p for p in principals)

    def test_kb_role_cannot_create_or_delete_the_index(self, sandbox: Synthesized) -> None:
        statements = access_policy_statements(knowledge(sandbox))
        kb = next(s for s in statements if "Knowledge Base" in s["Description"])
        permissions = {p for rule in kb["Rules"] for p in rule["Permission"]}
        assert "aoss:CreateIndex" not in permissions and "aoss:DeleteIndex" not in permissions
        assert {"aoss:ReadDocument", "aoss:WriteDocument"} <= permissions

    def test_an_explicit_deploy_role_replaces_the_bootstrap_role(self, synth) -> None:
        arn = "arn:aws:iam::123456789012:role/pipeline-deploy"
        statements = access_policy_statements(knowledge(synth({"deployRoleArn": arn})))
        principals = [p for s in statements for p in s["Principal"]]
        assert arn in principals
        assert not any("cfn-exec-role" in p for p in principals)

    @pytest.mark.parametrize("dimensions", ["1024", "512"])
    def test_index_is_faiss_hnsw_with_the_embedding_dimension(self, synth, dimensions: str) -> None:
        template = knowledge(synth({"embeddingDimensions": dimensions}))
        _, index = only(template, "AWS::OpenSearchServerless::Index")
        props = index["Properties"]
        assert props["IndexName"].startswith("ladder-kb-")
        assert props["Settings"]["Index"]["Knn"] is True
        fields = props["Mappings"]["Properties"]
        vector = fields[VECTOR_FIELD]
        assert vector["Type"] == "knn_vector"
        assert vector["Dimension"] == int(dimensions)
        assert vector["Method"]["Engine"] == "faiss" and vector["Method"]["Name"] == "hnsw"
        assert fields[TEXT_FIELD]["Type"] == "text"
        assert fields[METADATA_FIELD] == {"Type": "text", "Index": False}


S3_VECTORS = {"vectorStore": "s3vectors"}


KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


class TestS3Vectors:
    def test_no_opensearch_resource_exists(self, synth) -> None:
        template = knowledge(synth(S3_VECTORS))
        assert not [
            r for r in template["Resources"].values() if r["Type"].startswith("AWS::OpenSearchServerless")
        ]
        assert "CollectionEndpoint" not in template["Outputs"]
        assert "VectorIndexArn" in template["Outputs"]

    @pytest.mark.parametrize("dimensions", ["1024", "256"])
    def test_index_is_cosine_float32_with_bedrock_keys_non_filterable(self, synth, dimensions: str) -> None:
        template = knowledge(synth({**S3_VECTORS, "embeddingDimensions": dimensions}))
        _, index = kb_vector_index(template)
        bucket_id, _ = bucket_of(template, index)
        props = index["Properties"]
        assert props["Dimension"] == int(dimensions)
        assert (props["DistanceMetric"], props["DataType"]) == ("cosine", "float32")
        assert props["MetadataConfiguration"] == {
            "NonFilterableMetadataKeys": ["AMAZON_BEDROCK_TEXT", "AMAZON_BEDROCK_METADATA"]
        }
        assert references(props["VectorBucketArn"]) == {bucket_id}

    def test_bucket_uses_sse_s3_by_default_and_the_configured_kms_key(self, synth) -> None:
        template = knowledge(synth(S3_VECTORS))
        _, bucket = bucket_of(template, kb_vector_index(template)[1])
        assert bucket["Properties"]["EncryptionConfiguration"] == {"SseType": "AES256"}
        template = knowledge(synth({**S3_VECTORS, "vectorKmsKeyArn": KEY_ARN}))
        _, bucket = bucket_of(template, kb_vector_index(template)[1])
        assert bucket["Properties"]["EncryptionConfiguration"] == {"SseType": "aws:kms", "KmsKeyArn": KEY_ARN}

    @pytest.mark.parametrize("kms", [False, True])
    def test_knowledge_base_role_gets_only_the_index_actions_bedrock_needs(self, synth, kms: bool) -> None:
        overrides = {**S3_VECTORS, **({"vectorKmsKeyArn": KEY_ARN} if kms else {})}
        template = knowledge(synth(overrides))
        index_id, _ = kb_vector_index(template)
        policy = template["Resources"][knowledge_base_role_policy(template)]
        statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
        expected = {"EmbedDocuments", "UseVectorIndex", "ListDocuments", "ReadDocuments"}
        assert set(statements) == expected | ({"UseVectorKey"} if kms else set())
        use = statements["UseVectorIndex"]
        assert sorted(use["Action"]) == [
            "s3vectors:DeleteVectors",
            "s3vectors:GetIndex",
            "s3vectors:GetVectors",
            "s3vectors:PutVectors",
            "s3vectors:QueryVectors",
        ]
        assert use["Resource"] == {"Fn::GetAtt": [index_id, "IndexArn"]}
        if kms:
            assert statements["UseVectorKey"]["Resource"] == KEY_ARN

    def test_knowledge_base_stores_in_the_index_after_it_and_the_role_exist(self, synth) -> None:
        template = knowledge(synth(S3_VECTORS))
        index_id, index = kb_vector_index(template)
        bucket_id, _ = bucket_of(template, index)
        kb_id, kb = only(template, "AWS::Bedrock::KnowledgeBase")
        source_id, _ = only(template, "AWS::Bedrock::DataSource")
        storage = kb["Properties"]["StorageConfiguration"]
        assert storage == {
            "Type": "S3_VECTORS",
            "S3VectorsConfiguration": {"IndexArn": {"Fn::GetAtt": [index_id, "IndexArn"]}},
        }
        assert comes_before(template, bucket_id, index_id)
        assert comes_before(template, index_id, kb_id)
        assert comes_before(template, knowledge_base_role_policy(template), kb_id)
        assert comes_before(template, kb_id, source_id)

    def test_index_name_changes_with_the_embedding_and_the_chunking_only(self, synth) -> None:
        def name(overrides: dict[str, str]) -> str:
            _, index = kb_vector_index(knowledge(synth({**S3_VECTORS, **overrides})))
            return index["Properties"]["IndexName"]

        assert name({}) != name({"embeddingDimensions": "512"})
        assert name({}) != name({"chunkMaxTokens": "512"})
        assert name({}) == name({"profile": "prod"})


class TestVectorStoreConfig:
    def config(self, **overrides: str):
        from stacks.config import from_context
        from tests.support.synth import default_context

        return from_context({**default_context(), **overrides})

    def test_search_type_follows_the_store_unless_set(self) -> None:
        assert self.config().search_type == "HYBRID"
        assert self.config(vectorStore="s3vectors").search_type == "SEMANTIC"
        assert self.config(searchType="SEMANTIC").search_type == "SEMANTIC"

    def test_hybrid_search_on_s3_vectors_fails_naming_both_keys(self) -> None:
        from stacks.config import ConfigError

        with pytest.raises(ConfigError) as error:
            self.config(vectorStore="s3vectors", searchType="HYBRID")
        message = str(error.value)
        assert "searchType=HYBRID" in message and "vectorStore=s3vectors" in message

    @pytest.mark.parametrize(
        ("overrides", "named"),
        [
            ({"vectorStore": "pinecone"}, "-c vectorStore=pinecone is invalid: expected one of: opensearch"),
            ({"vectorKmsKeyArn": "alias/mine", "vectorStore": "s3vectors"}, "-c vectorKmsKeyArn=alias/mine"),
            ({"vectorKmsKeyArn": KEY_ARN}, "vectorKmsKeyArn applies only to -c vectorStore=s3vectors"),
        ],
    )
    def test_bad_vector_store_settings_fail_with_the_key(self, overrides, named: str) -> None:
        from stacks.config import ConfigError

        with pytest.raises(ConfigError, match=re.escape(named)):
            self.config(**overrides)
