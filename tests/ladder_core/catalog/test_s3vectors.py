"""The S3 Vectors catalog: where it is offered and the API limits, each checked against its source."""

from __future__ import annotations

from importlib import resources

import botocore.session
from cfnlint.helpers import REGIONS
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from ladder_core.catalog import s3vectors


def test_the_regions_are_those_where_cloudformation_can_create_a_vector_bucket() -> None:
    """CloudFormation's per-region resource schemas as cfn-lint ships them: a region offers S3 Vectors to
    this project exactly when its schema list includes ``AWS::S3Vectors::VectorBucket``. A region cfn-lint
    ships no schemas for (it falls back to us-east-1's) proves nothing and is left out."""
    shipped = {
        entry.name.removesuffix(".json")
        for entry in resources.files("cfnlint.data.schemas.providers").iterdir()
        if entry.name.endswith(".json")
    }
    offered = {
        region
        for region in REGIONS
        if region in shipped
        and "AWS::S3Vectors::VectorBucket" in PROVIDER_SCHEMA_MANAGER.get_resource_types(region)
    }
    assert set(s3vectors.S3_VECTORS_REGIONS) == offered
    assert s3vectors.offers_s3_vectors("us-east-1")
    assert not s3vectors.offers_s3_vectors("il-central-1")


def test_the_batch_and_size_limits_are_the_service_models() -> None:
    """botocore's s3vectors service model (2025-07-15), which Amazon S3's "Limitations and restrictions" of
    S3 Vectors states in words: "Vectors per PutVectors API call: Up to 500", "Vectors per DeleteVectors
    API call: Up to 500", "Vectors per GetVectors API call: Up to 100", "Vectors listed per page in a
    ListVectors response: Up to 1,000", "Non-filterable metadata keys per vector index: Up to 10"."""
    model = botocore.session.get_session().get_service_model("s3vectors")

    def member(operation: str, name: str) -> dict[str, int]:
        return dict(model.operation_model(operation).input_shape.members[name].metadata)

    assert member("PutVectors", "vectors")["max"] == s3vectors.PUT_VECTORS_MAX
    assert member("DeleteVectors", "keys")["max"] == s3vectors.DELETE_VECTORS_MAX
    assert member("GetVectors", "keys")["max"] == s3vectors.GET_VECTORS_MAX
    assert member("ListVectors", "maxResults")["max"] == s3vectors.LIST_VECTORS_PAGE_MAX
    key = model.operation_model("PutVectors").input_shape.members["vectors"].member.members["key"]
    assert key.metadata["max"] == s3vectors.KEY_MAX_CHARS
    index = model.operation_model("GetIndex").output_shape.members["index"]
    keys = index.members["metadataConfiguration"].members["nonFilterableMetadataKeys"]
    assert keys.metadata["max"] == s3vectors.NON_FILTERABLE_KEYS_MAX
