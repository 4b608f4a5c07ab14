"""Knowledge stack template: found by type and properties, for both profiles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from stacks.knowledge.vector_store import INDEX_NAME, METADATA_FIELD, TEXT_FIELD, VECTOR_FIELD
from tests.support.synth import Synthesized, comes_before, only, references, resources


def knowledge(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.template("Knowledge")


def documents_bucket(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    found = [
        (k, v)
        for k, v in resources(template, "AWS::S3::Bucket").items()
        if "LoggingConfiguration" in v["Properties"]
    ]
    assert len(found) == 1
    return found[0]


def access_policy_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The data access policy as JSON; intrinsic parts (role ARNs) become their JSON text."""
    _, policy = only(template, "AWS::OpenSearchServerless::AccessPolicy")
    raw = policy["Properties"]["Policy"]
    parts = raw["Fn::Join"][1]
    intrinsics = [p for p in parts if not isinstance(p, str)]
    text = "".join(p if isinstance(p, str) else f"@intrinsic{intrinsics.index(p)}@" for p in parts)
    statements = json.loads(text)
    for statement in statements:
        statement["Principal"] = [
            json.dumps(intrinsics[int(p[len("@intrinsic") : -1])]) if p.startswith("@intrinsic") else p
            for p in statement["Principal"]
        ]
    return statements


class TestDocumentsBucket:
    def test_is_encrypted_versioned_private_and_logged(self, sandbox: Synthesized) -> None:
        # Given the sandbox templates, when the documents bucket is inspected
        template = knowledge(sandbox)
        _, bucket = documents_bucket(template)
        props = bucket["Properties"]
        # Then it carries the baseline
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        log_target = props["LoggingConfiguration"]["DestinationBucketName"]
        assert references(log_target) <= set(resources(template, "AWS::S3::Bucket"))
        assert props["NotificationConfiguration"] == {
            "EventBridgeConfiguration": {"EventBridgeEnabled": True}
        }
        rules = props["LifecycleConfiguration"]["Rules"]
        assert any("NoncurrentVersionExpiration" in r for r in rules)

    def test_denies_requests_without_tls(self, sandbox: Synthesized) -> None:
        template = knowledge(sandbox)
        bucket_id, _ = documents_bucket(template)
        policies = [
            p
            for p in resources(template, "AWS::S3::BucketPolicy").values()
            if references(p["Properties"]["Bucket"]) == {bucket_id}
        ]
        statements = policies[0]["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )

    @pytest.mark.parametrize(
        ("profile", "policy", "auto_delete"), [("sandbox", "Delete", 2), ("prod", "Retain", 0)]
    )
    def test_removal_follows_the_profile(self, synth, profile: str, policy: str, auto_delete: int) -> None:
        # Given a profile, when synthesized
        template = knowledge(synth({"profile": "prod"} if profile == "prod" else {}))
        # Then buckets and the collection are destroyed (sandbox) or retained (prod)
        for bucket in resources(template, "AWS::S3::Bucket").values():
            assert bucket["DeletionPolicy"] == policy
        _, collection = only(template, "AWS::OpenSearchServerless::Collection")
        assert collection["DeletionPolicy"] == policy
        assert len(resources(template, "Custom::S3AutoDeleteObjects")) == auto_delete


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
        template = knowledge(synth(overrides))
        Template.from_json(template).has_resource_properties(
            "AWS::OpenSearchServerless::Collection",
            {"Type": "VECTORSEARCH", "StandbyReplicas": expected, "Name": "ladder-vectors"},
        )

    def test_encryption_and_network_policies_cover_the_collection(self, sandbox: Synthesized) -> None:
        template = knowledge(sandbox)
        policies = {
            p["Properties"]["Type"]: json.loads(p["Properties"]["Policy"])
            for p in resources(template, "AWS::OpenSearchServerless::SecurityPolicy").values()
        }
        assert set(policies) == {"encryption", "network"}
        assert policies["encryption"]["Rules"] == [
            {"ResourceType": "collection", "Resource": ["collection/ladder-vectors"]}
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
        assert props["IndexName"] == INDEX_NAME
        assert props["Settings"]["Index"]["Knn"] is True
        fields = props["Mappings"]["Properties"]
        vector = fields[VECTOR_FIELD]
        assert vector["Type"] == "knn_vector"
        assert vector["Dimension"] == int(dimensions)
        assert vector["Method"]["Engine"] == "faiss" and vector["Method"]["Name"] == "hnsw"
        assert fields[TEXT_FIELD]["Type"] == "text"
        assert fields[METADATA_FIELD] == {"Type": "text", "Index": False}


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
        assert storage["VectorIndexName"] == INDEX_NAME
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
        assert statements["UseVectorCollection"]["Resource"] == {
            "Fn::GetAtt": [next(iter(resources(template, "AWS::OpenSearchServerless::Collection"))), "Arn"]
        }

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


class TestDeployOrder:
    @pytest.mark.parametrize("profile", ["sandbox", "prod"])
    def test_policies_collection_index_kb_data_source(self, synth, profile: str) -> None:
        # Given the template's DependsOn / Ref / GetAtt graph
        template = knowledge(synth({"profile": profile}))
        ids = {
            t: next(iter(resources(template, t)))
            for t in (
                "AWS::OpenSearchServerless::Collection",
                "AWS::OpenSearchServerless::AccessPolicy",
                "AWS::OpenSearchServerless::Index",
                "AWS::Bedrock::KnowledgeBase",
                "AWS::Bedrock::DataSource",
            )
        }
        policies = list(resources(template, "AWS::OpenSearchServerless::SecurityPolicy"))
        collection, access = (
            ids["AWS::OpenSearchServerless::Collection"],
            ids["AWS::OpenSearchServerless::AccessPolicy"],
        )
        index, kb, source = (
            ids["AWS::OpenSearchServerless::Index"],
            ids["AWS::Bedrock::KnowledgeBase"],
            ids["AWS::Bedrock::DataSource"],
        )
        # Then encryption + network policies precede the collection
        for policy in policies:
            assert comes_before(template, policy, collection)
        # and access policy -> index -> knowledge base -> data source
        assert comes_before(template, access, index)
        assert comes_before(template, collection, index)
        assert comes_before(template, index, kb)
        assert comes_before(template, kb, source)
        # and the KB role's permissions exist before the knowledge base
        kb_policy = next(
            k for k, p in resources(template, "AWS::IAM::Policy").items() if "ServiceRolePolicy" in k
        )
        assert comes_before(template, kb_policy, kb)
        # and the access policy is created alongside the collection (minutes), so it has propagated before
        # the index and the knowledge base use it: no wait is needed
        assert not comes_before(template, collection, access)
        # and nothing makes the collection wait on the index (no cycle)
        assert not comes_before(template, index, collection)


class TestIngestion:
    def test_rule_sends_document_changes_under_the_prefix_to_the_queue(self, sandbox: Synthesized) -> None:
        template = knowledge(sandbox)
        bucket_id, _ = documents_bucket(template)
        rules = [
            r for r in resources(template, "AWS::Events::Rule").values() if "EventPattern" in r["Properties"]
        ]
        assert len(rules) == 1
        pattern = rules[0]["Properties"]["EventPattern"]
        assert pattern["source"] == ["aws.s3"]
        assert set(pattern["detail-type"]) == {"Object Created", "Object Deleted"}
        assert pattern["detail"]["object"] == {"key": [{"prefix": "docs/"}]}
        assert references(pattern["detail"]["bucket"]) == {bucket_id}
        target_ids = references(rules[0]["Properties"]["Targets"])
        assert target_ids <= set(resources(template, "AWS::SQS::Queue"))

    def test_queue_retries_then_parks_in_a_dead_letter_queue(self, sandbox: Synthesized) -> None:
        template = knowledge(sandbox)
        queues = resources(template, "AWS::SQS::Queue")
        main = [q for q in queues.values() if "RedrivePolicy" in q["Properties"]]
        assert len(main) == 1 and len(queues) == 2
        redrive = main[0]["Properties"]["RedrivePolicy"]
        assert redrive["maxReceiveCount"] >= 10
        for queue in queues.values():
            assert queue["Properties"]["SqsManagedSseEnabled"] is True

    def test_function_consumes_batches_and_reports_item_failures(self, sandbox: Synthesized) -> None:
        Template.from_json(knowledge(sandbox)).has_resource_properties(
            "AWS::Lambda::EventSourceMapping",
            {
                "BatchSize": 500,
                "MaximumBatchingWindowInSeconds": 120,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "ScalingConfig": {"MaximumConcurrency": 2},
            },
        )

    def test_functions_are_python314_arm64_with_powertools_and_tracing(self, sandbox: Synthesized) -> None:
        template = knowledge(sandbox)
        functions = [
            f
            for f in resources(template, "AWS::Lambda::Function").values()
            if "Handler" in f["Properties"] and f["Properties"]["Handler"].startswith("ingest.")
        ]
        assert {f["Properties"]["Handler"] for f in functions} == {
            "ingest.handler.handler",
            "ingest.monitor.handler",
        }
        for function in functions:
            props = function["Properties"]
            assert props["Runtime"] == "python3.14" and props["Architectures"] == ["arm64"]
            assert props["TracingConfig"] == {"Mode": "Active"}
            assert len(props["Layers"]) == 1
            env = props["Environment"]["Variables"]
            assert {"KNOWLEDGE_BASE_ID", "DATA_SOURCE_ID", "POWERTOOLS_SERVICE_NAME"} <= set(env)

    def test_failures_are_alarmed(self, sandbox: Synthesized) -> None:
        template = knowledge(sandbox)
        alarms = resources(template, "AWS::CloudWatch::Alarm").values()
        metric_names = {a["Properties"].get("MetricName") for a in alarms}
        assert {
            "ApproximateNumberOfMessagesVisible",
            "IngestionJobsFailed",
            "IngestionDocumentsFailed",
            "Errors",
        } <= metric_names
        topic_id, _ = only(template, "AWS::SNS::Topic")
        for alarm in alarms:
            assert references(alarm["Properties"]["AlarmActions"]) == {topic_id}

    def test_monitor_runs_on_a_schedule(self, sandbox: Synthesized) -> None:
        Template.from_json(knowledge(sandbox)).has_resource_properties(
            "AWS::Events::Rule", {"ScheduleExpression": "rate(15 minutes)", "State": "ENABLED"}
        )

    def test_alarm_email_subscribes_when_given(self, synth) -> None:
        template = knowledge(synth({"alarmEmail": "ops@example.com"}))
        Template.from_json(template).has_resource_properties(
            "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
        )
        assert not resources(knowledge(synth()), "AWS::SNS::Subscription")


def test_outputs_name_what_users_need(sandbox: Synthesized) -> None:
    outputs = knowledge(sandbox)["Outputs"]
    assert {"DocumentsBucketName", "KnowledgeBaseId", "DataSourceId", "CollectionEndpoint"} <= set(outputs)
    assert outputs["CollectionEndpoint"]["Value"] == {
        "Fn::GetAtt": [
            Match.any_value()
            and next(iter(resources(knowledge(sandbox), "AWS::OpenSearchServerless::Collection"))),
            "CollectionEndpoint",
        ]
    }
