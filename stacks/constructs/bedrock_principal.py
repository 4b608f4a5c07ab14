"""The Bedrock service principal, trusted only when it acts for one kind of this account's resources."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam


def bedrock_service_principal(resource_type: str) -> iam.ServicePrincipal:
    """``bedrock.amazonaws.com`` with confused-deputy conditions: this account, and a source ARN of the given
    resource type (``knowledge-base``, ``evaluation-job``, ``model-import-job``) in this region."""
    source_arn = f"arn:{cdk.Aws.PARTITION}:bedrock:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:{resource_type}/*"
    return iam.ServicePrincipal(
        "bedrock.amazonaws.com",
        conditions={
            "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
            "ArnLike": {"aws:SourceArn": source_arn},
        },
    )
