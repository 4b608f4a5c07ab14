"""Knowledge stack template: found by type and properties, for both profiles."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from stacks.knowledge.vector_store import METADATA_FIELD, TEXT_FIELD, VECTOR_FIELD
from tests.support.synth import Synthesized, comes_before, only, references, resources

EVENTS = Path(__file__).resolve().parents[2] / "events" / "ingest"


def knowledge(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.template("Knowledge")


def documents_bucket(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The bucket that sends its events to EventBridge (the access-log bucket, in prod, does not)."""
    found = [
        (k, v)
        for k, v in resources(template, "AWS::S3::Bucket").items()
        if "NotificationConfiguration" in v["Properties"]
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
    def test_is_encrypted_versioned_private_and_logged(self, prod: Synthesized) -> None:
        # Given the prod templates, when the documents bucket is inspected
        template = knowledge(prod)
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

    def test_sandbox_has_no_access_log_bucket_that_late_log_delivery_could_refill(
        self, sandbox: Synthesized
    ) -> None:
        # Given the sandbox template: the documents bucket is the only bucket and logs nowhere
        template = knowledge(sandbox)
        (_, bucket), *others = resources(template, "AWS::S3::Bucket").items()
        assert others == []
        assert "LoggingConfiguration" not in bucket["Properties"]
        # Then stack deletion empties one bucket, which nothing writes to afterwards
        assert len(resources(template, "Custom::S3AutoDeleteObjects")) == 1

    @pytest.mark.parametrize(("profile", "policy"), [("sandbox", "Delete"), ("prod", "Retain")])
    def test_buckets_follow_the_profile_and_the_opensearch_vector_side_is_always_destroyed(
        self, synth, profile: str, policy: str
    ) -> None:
        # Given a profile, when synthesized
        template = knowledge(synth({"profile": "prod"} if profile == "prod" else {}))
        # Then the buckets (the documents: the source of truth) are destroyed (sandbox) or retained (prod)
        for bucket in resources(template, "AWS::S3::Bucket").values():
            assert bucket["DeletionPolicy"] == policy
        # and the whole OpenSearch side goes with the stack, so nothing is left billing or holding a name
        for resource_type in (
            "AWS::OpenSearchServerless::Collection",
            "AWS::OpenSearchServerless::Index",
            "AWS::OpenSearchServerless::SecurityPolicy",
            "AWS::OpenSearchServerless::AccessPolicy",
        ):
            for resource in resources(template, resource_type).values():
                assert resource.get("DeletionPolicy", "Delete") == "Delete", resource_type


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
        # and both the access policy and the role's policy are created alongside the collection (minutes),
        # so they have propagated before the index and the knowledge base use them: no wait is needed
        assert not comes_before(template, collection, access)
        assert not comes_before(template, collection, kb_policy)
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


def knowledge_base_role_policy(template: dict[str, Any]) -> str:
    return next(k for k in resources(template, "AWS::IAM::Policy") if "ServiceRolePolicy" in k)


def full_sync(template: dict[str, Any]) -> dict[str, Any]:
    _, sync = only(template, "Custom::AWS")
    return sync


def deleted_before(template: dict[str, Any], first: str, then: str) -> bool:
    """CloudFormation deletes in reverse dependency order: a dependant goes before what it depends on."""
    return comes_before(template, then, first)


class TestTeardown:
    @pytest.mark.parametrize(
        "overrides",
        [
            {},
            {"profile": "prod"},
            {"vectorStore": "s3vectors"},
            {"vectorStore": "s3vectors", "profile": "prod"},
        ],
    )
    def test_data_source_keeps_its_vectors_and_is_deleted_before_everything_it_reads(
        self, synth, overrides
    ) -> None:
        # Given any store and profile
        template = knowledge(synth(overrides))
        source_id, source = only(template, "AWS::Bedrock::DataSource")
        # Then Bedrock never purges vectors during stack deletion (the purge that fails when the store or the
        # documents are already gone, leaving a billing store behind)
        assert source["Properties"]["DataDeletionPolicy"] == "RETAIN"
        # and the deletion order, from the template graph, removes the data source first
        kb_id, _ = only(template, "AWS::Bedrock::KnowledgeBase")
        bucket_id, _ = documents_bucket(template)
        index_type = (
            "AWS::S3Vectors::Index"
            if overrides.get("vectorStore") == "s3vectors"
            else "AWS::OpenSearchServerless::Index"
        )
        store_type = (
            "AWS::S3Vectors::VectorBucket"
            if overrides.get("vectorStore") == "s3vectors"
            else "AWS::OpenSearchServerless::Collection"
        )
        index_id, _ = only(template, index_type)
        store_id, _ = only(template, store_type)
        for later in (kb_id, index_id, store_id, bucket_id, knowledge_base_role_policy(template)):
            assert deleted_before(template, source_id, later), later
        # and the store outlives its index and the knowledge base
        assert deleted_before(template, kb_id, index_id)
        assert deleted_before(template, index_id, store_id)

    @pytest.mark.parametrize("profile", ["sandbox", "prod"])
    def test_s3_vectors_are_derived_data_destroyed_in_every_profile(self, synth, profile: str) -> None:
        """S3 User Guide, "Deleting a vector index": "You can delete vector indexes even when the indexes
        contain vectors"; "Deleting an empty vector bucket": "To delete a vector bucket, you must first delete
        all the vector indexes within the bucket" (the template deletes the index first: TestTeardown)."""
        # Given either profile: the documents bucket is the source of truth (kept in prod)
        template = knowledge(synth({"vectorStore": "s3vectors", "profile": profile}))
        # Then the vector bucket and index go with the stack, so nothing is left billing storage
        for resource_type in ("AWS::S3Vectors::VectorBucket", "AWS::S3Vectors::Index"):
            _, resource = only(template, resource_type)
            assert resource["DeletionPolicy"] == "Delete", (profile, resource_type)
        # and a replacement never collides with the old bucket: its name is generated
        _, bucket = only(template, "AWS::S3Vectors::VectorBucket")
        assert "VectorBucketName" not in bucket["Properties"]
        _, documents = documents_bucket(template)
        assert documents["DeletionPolicy"] == ("Retain" if profile == "prod" else "Delete")


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


class TestFullSyncOfNewDataSource:
    def test_every_new_data_source_gets_one_ingestion_job(self, sandbox: Synthesized) -> None:
        # Given the custom resource that the deploy runs
        template = knowledge(sandbox)
        source_id, _ = only(template, "AWS::Bedrock::DataSource")
        kb_id, _ = only(template, "AWS::Bedrock::KnowledgeBase")
        sync = full_sync(template)
        for phase in ("Create", "Update"):
            call = sync["Properties"][phase]
            # Then on the first deploy and whenever the data source id changes, it starts a job on it
            text = "".join(part for part in call["Fn::Join"][1] if isinstance(part, str))
            assert '"service":"bedrock-agent"' in text and '"action":"StartIngestionJob"' in text
            # a job already running on the new data source syncs it as well: not a failed deploy
            assert '"ignoreErrorCodesMatching":"^ConflictException$"' in text
            assert {"Fn::GetAtt": [source_id, "DataSourceId"]} in call["Fn::Join"][1]
            assert {"Fn::GetAtt": [kb_id, "KnowledgeBaseId"]} in call["Fn::Join"][1]
        # and nothing on stack deletion
        assert "Delete" not in sync["Properties"]
        # and only after the data source exists
        sync_id = next(k for k, v in template["Resources"].items() if v is sync)
        assert comes_before(template, source_id, sync_id)

    def test_may_only_start_ingestion_jobs_on_this_knowledge_base(self, sandbox: Synthesized) -> None:
        template = knowledge(sandbox)
        kb_id, _ = only(template, "AWS::Bedrock::KnowledgeBase")
        sync = full_sync(template)
        policy_ids = [d for d in sync.get("DependsOn", []) if d in resources(template, "AWS::IAM::Policy")]
        assert len(policy_ids) == 1
        statements = template["Resources"][policy_ids[0]]["Properties"]["PolicyDocument"]["Statement"]
        assert statements == [
            {
                "Action": "bedrock:StartIngestionJob",
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [kb_id, "KnowledgeBaseArn"]},
            }
        ]


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
        bucket_id, _ = only(template, "AWS::S3Vectors::VectorBucket")
        _, index = only(template, "AWS::S3Vectors::Index")
        props = index["Properties"]
        assert props["Dimension"] == int(dimensions)
        assert (props["DistanceMetric"], props["DataType"]) == ("cosine", "float32")
        assert props["MetadataConfiguration"] == {
            "NonFilterableMetadataKeys": ["AMAZON_BEDROCK_TEXT", "AMAZON_BEDROCK_METADATA"]
        }
        assert references(props["VectorBucketArn"]) == {bucket_id}

    def test_bucket_uses_sse_s3_by_default_and_the_configured_kms_key(self, synth) -> None:
        _, bucket = only(knowledge(synth(S3_VECTORS)), "AWS::S3Vectors::VectorBucket")
        assert bucket["Properties"]["EncryptionConfiguration"] == {"SseType": "AES256"}
        template = knowledge(synth({**S3_VECTORS, "vectorKmsKeyArn": KEY_ARN}))
        _, bucket = only(template, "AWS::S3Vectors::VectorBucket")
        assert bucket["Properties"]["EncryptionConfiguration"] == {"SseType": "aws:kms", "KmsKeyArn": KEY_ARN}

    @pytest.mark.parametrize("kms", [False, True])
    def test_knowledge_base_role_gets_only_the_index_actions_bedrock_needs(self, synth, kms: bool) -> None:
        overrides = {**S3_VECTORS, **({"vectorKmsKeyArn": KEY_ARN} if kms else {})}
        template = knowledge(synth(overrides))
        index_id, _ = only(template, "AWS::S3Vectors::Index")
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
        index_id, _ = only(template, "AWS::S3Vectors::Index")
        bucket_id, _ = only(template, "AWS::S3Vectors::VectorBucket")
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
            _, index = only(knowledge(synth({**S3_VECTORS, **overrides})), "AWS::S3Vectors::Index")
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


class TestLifecycleExpirations:
    def test_rule_ignores_lifecycle_expirations_and_keeps_real_changes(self, sandbox: Synthesized) -> None:
        import boto3
        from moto import mock_aws

        # Given the synthesized rule's pattern, installed in a mocked EventBridge that targets a queue
        template = knowledge(sandbox)
        rule = next(
            r for r in resources(template, "AWS::Events::Rule").values() if "EventPattern" in r["Properties"]
        )
        pattern = rule["Properties"]["EventPattern"]
        pattern["detail"]["bucket"]["name"] = ["documents"]
        base = json.loads((EVENTS / "eventbridge_object_deleted.json").read_text())
        created = json.loads((EVENTS / "eventbridge_object_created.json").read_text())

        def event(source: dict[str, Any], key: str, reason: str) -> dict[str, Any]:
            detail = {**source["detail"], "bucket": {"name": "documents"}, "reason": reason}
            detail["object"] = {**detail["object"], "key": key}
            return {"Source": "aws.s3", "DetailType": source["detail-type"], "Detail": json.dumps(detail)}

        with mock_aws():
            bus = boto3.client("events", region_name="us-east-1")
            sqs = boto3.client("sqs", region_name="us-east-1")
            url = sqs.create_queue(QueueName="ingest")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            bus.put_rule(Name="documents", EventPattern=json.dumps(pattern))
            bus.put_targets(Rule="documents", Targets=[{"Id": "queue", "Arn": arn}])
            # When S3 reports a lifecycle expiration, a user's delete and a user's upload
            bus.put_events(
                Entries=[
                    event(base, "docs/old.pdf", "Lifecycle Expiration"),
                    event(base, "docs/removed.pdf", "DeleteObject"),
                    event(created, "docs/new.pdf", "PutObject"),
                    event(created, "elsewhere/new.pdf", "PutObject"),
                ]
            )
            received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        # Then only the user's changes under the prefix reach the ingestion queue
        keys = sorted(json.loads(m["Body"])["detail"]["object"]["key"] for m in received)
        assert keys == ["docs/new.pdf", "docs/removed.pdf"]


# us-east-1 list prices per month (730 hours), as the README's cost floor states them.
OCU_MONTH_USD = 0.24 * 730
IDLE_PRICES_USD = {
    "AWS::KMS::Key": 1.0,
    "AWS::CloudWatch::Alarm": 0.10,
    "AWS::CloudWatch::Dashboard": 3.0,
    "AWS::WAFv2::WebACL": 5.0,
}


def idle_floor_usd(synthesized: Synthesized) -> float:
    """What the deployed stacks bill per month with no traffic, computed from the templates."""
    total = 0.0
    for template in synthesized.templates.values():
        for resource in template["Resources"].values():
            kind, props = resource["Type"], resource.get("Properties", {})
            total += IDLE_PRICES_USD.get(kind, 0.0)
            if kind == "AWS::WAFv2::WebACL":
                total += 1.0 * len(props.get("Rules", []))
            if kind == "AWS::OpenSearchServerless::Collection":
                # indexing + search, 0.5 OCU each at the minimum; standby replicas double both
                total += OCU_MONTH_USD * (2 if props.get("StandbyReplicas") == "ENABLED" else 1)
    return round(total, 2)


@pytest.mark.parametrize(
    ("overrides", "low", "high"),
    [
        ({}, 175.0, 190.0),
        ({"profile": "prod"}, 350.0, 370.0),
        ({"vectorStore": "s3vectors"}, 0.0, 10.0),
        ({"vectorStore": "s3vectors", "profile": "prod"}, 0.0, 20.0),
    ],
)
def test_idle_floor_per_store_and_profile(synth, overrides, low: float, high: float) -> None:
    # Given each store and profile, the idle floor computed from what the templates deploy
    floor = idle_floor_usd(synth(overrides))
    # Then OpenSearch costs its OCU floor and the S3 Vectors sandbox stays under $10 a month
    assert low <= floor < high, floor
