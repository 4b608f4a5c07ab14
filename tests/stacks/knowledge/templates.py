"""Reading the knowledge stack's template: the resources several test modules look for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def kb_vector_index(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The S3 vector index the knowledge base stores in (the examples store has its own)."""
    _, kb = only(template, "AWS::Bedrock::KnowledgeBase")
    (index_id,) = references(kb["Properties"]["StorageConfiguration"])
    return index_id, template["Resources"][index_id]


def examples_index(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The few-shot examples' S3 vector index: the one the knowledge base does not store in."""
    _, kb = only(template, "AWS::Bedrock::KnowledgeBase")
    found = [
        (k, v)
        for k, v in resources(template, "AWS::S3Vectors::Index").items()
        if k not in references(kb["Properties"]["StorageConfiguration"])
    ]
    assert len(found) == 1, f"expected one examples index, found {len(found)}"
    return found[0]


def bucket_of(template: dict[str, Any], index: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The vector bucket an S3 vector index lives in."""
    (bucket_id,) = references(index["Properties"]["VectorBucketArn"])
    return bucket_id, template["Resources"][bucket_id]


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


def knowledge_base_role_policy(template: dict[str, Any]) -> str:
    return next(k for k in resources(template, "AWS::IAM::Policy") if "ServiceRolePolicy" in k)


def full_sync(template: dict[str, Any]) -> dict[str, Any]:
    _, sync = only(template, "Custom::AWS")
    return sync


def deleted_before(template: dict[str, Any], first: str, then: str) -> bool:
    """CloudFormation deletes in reverse dependency order: a dependant goes before what it depends on."""
    return comes_before(template, then, first)
