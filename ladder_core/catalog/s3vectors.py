"""Amazon S3 Vectors facts: where it is offered and the API limits that callers batch and size by.

Regions: the regions whose CloudFormation resource schemas include ``AWS::S3Vectors::VectorBucket``, as
cfn-lint (1.58) ships them from CloudFormation's published registry (a test keeps this table equal to that
data). Limits: Amazon S3 User Guide, "Limitations and restrictions" of S3 Vectors
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-limitations.html).
"""

from __future__ import annotations

S3_VECTORS_LIMITS_URL = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-limitations.html"

S3_VECTORS_REGIONS: tuple[str, ...] = (
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-isoe-west-1",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eusc-de-east-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isob-west-1",
    "us-isof-east-1",
    "us-isof-south-1",
    "us-west-1",
    "us-west-2",
)
"""Regions where CloudFormation can create an S3 vector bucket and index."""

PUT_VECTORS_MAX = 500
"""Vectors per PutVectors call."""
DELETE_VECTORS_MAX = 500
"""Keys per DeleteVectors call."""
GET_VECTORS_MAX = 100
"""Keys per GetVectors call."""
LIST_VECTORS_PAGE_MAX = 1000
"""Vectors listed per ListVectors page."""
METADATA_MAX_BYTES = 40 * 1024
"""Total metadata per vector, filterable and non-filterable together (40 KB)."""
NON_FILTERABLE_KEYS_MAX = 10
"""Non-filterable metadata keys per vector index."""
KEY_MAX_CHARS = 1024
"""Length of a vector key (the API model's ``VectorKey``: 1 to 1,024)."""


def offers_s3_vectors(region: str) -> bool:
    """Whether S3 Vectors (bucket and index) can be created in ``region``."""
    return region in S3_VECTORS_REGIONS
