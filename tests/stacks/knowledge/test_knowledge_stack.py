"""Knowledge stack template: found by type and properties, for both profiles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from ladder_core.catalog import idle
from tests.stacks.knowledge.templates import (
    EVENTS,
    bucket_of,
    deleted_before,
    documents_bucket,
    kb_vector_index,
    knowledge,
    knowledge_base_role_policy,
)
from tests.support.synth import Synthesized, comes_before, only, references, resources


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
        if overrides.get("vectorStore") == "s3vectors":
            index_id, index = kb_vector_index(template)
            store_id, _ = bucket_of(template, index)
        else:
            index_id, _ = only(template, "AWS::OpenSearchServerless::Index")
            store_id, _ = only(template, "AWS::OpenSearchServerless::Collection")
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
        # Then every vector bucket and index (the documents' and the examples') goes with the stack, so
        # nothing is left billing storage
        for resource_type in ("AWS::S3Vectors::VectorBucket", "AWS::S3Vectors::Index"):
            found = resources(template, resource_type)
            assert len(found) == 2, (profile, resource_type)
            for resource in found.values():
                assert resource["DeletionPolicy"] == "Delete", (profile, resource_type)
        # and a replacement never collides with an old bucket: their names are generated
        for bucket in resources(template, "AWS::S3Vectors::VectorBucket").values():
            assert "VectorBucketName" not in bucket["Properties"]
        _, documents = documents_bucket(template)
        assert documents["DeletionPolicy"] == ("Retain" if profile == "prod" else "Delete")


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
IDLE_PRICES_USD = {
    "AWS::KMS::Key": idle.KMS_KEY_MONTH.usd,
    "AWS::CloudWatch::Alarm": idle.ALARM_METRIC_MONTH.usd,
    "AWS::CloudWatch::Dashboard": idle.DASHBOARD_MONTH.usd,
    "AWS::WAFv2::WebACL": idle.WAF_WEB_ACL_MONTH.usd,
}


def idle_floor_usd(synthesized: Synthesized) -> float:
    """What the deployed stacks bill per month with no traffic, computed from the templates."""
    total = 0.0
    for template in synthesized.templates.values():
        for resource in template["Resources"].values():
            kind, props = resource["Type"], resource.get("Properties", {})
            total += IDLE_PRICES_USD.get(kind, 0.0)
            if kind == "AWS::WAFv2::WebACL":
                total += idle.WAF_RULE_MONTH.usd * len(props.get("Rules", []))
            if kind == "AWS::OpenSearchServerless::Collection":
                standby = props.get("StandbyReplicas") == "ENABLED"
                ocus = idle.OCU_MIN_WITH_STANDBY if standby else idle.OCU_MIN_WITHOUT_STANDBY
                total += ocus * idle.OCU_HOUR.usd * idle.HOURS_PER_MONTH
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
