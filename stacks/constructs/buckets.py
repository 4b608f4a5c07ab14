"""S3 buckets with the project's baseline: encrypted, versioned, SSL-only, private, and access-logged in the
profile that keeps its buckets (prod)."""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.checkov import skip_checkov
from stacks.config import LadderConfig
from stacks.nag import acknowledge

NONCURRENT_VERSION_DAYS = 30
ACCESS_LOG_DAYS = 90
INCOMPLETE_UPLOAD_DAYS = 7


def auto_deletes(config: LadderConfig) -> bool:
    """Whether the profile empties and deletes its buckets with the stack (sandbox) or keeps them (prod)."""
    return not config.is_prod


def _removal(config: LadderConfig) -> dict[str, object]:
    if not auto_deletes(config):
        return {"removal_policy": cdk.RemovalPolicy.RETAIN}
    return {"removal_policy": cdk.RemovalPolicy.DESTROY, "auto_delete_objects": True}


def access_logs_bucket(scope: Construct, construct_id: str, *, config: LadderConfig) -> s3.Bucket | None:
    """Destination of server access logs (SSE-S3, as S3 log delivery requires); None where the profile
    auto-deletes its buckets.

    S3 delivers access logs best effort, hours late: a log object landing after stack deletion emptied the
    destination fails its DeleteBucket (BucketNotEmpty, aws/aws-cdk#21776). Without a destination,
    ``data_bucket(logs_bucket=None)`` records why its bucket is not logged.
    """
    if auto_deletes(config):
        return None
    bucket = s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(ACCESS_LOG_DAYS))],
        **_removal(config),  # type: ignore[arg-type]
    )
    acknowledge(
        bucket,
        "AwsSolutions-S1",
        "This bucket is the server-access-log destination; logging it into itself would loop.",
    )
    return bucket


def data_bucket(
    scope: Construct,
    construct_id: str,
    *,
    config: LadderConfig,
    logs_bucket: s3.IBucket | None,
    log_prefix: str,
    encryption_key: kms.IKey | None = None,
    event_bridge: bool = False,
) -> s3.Bucket:
    """A versioned data bucket; SSE-KMS with ``encryption_key`` when given, else SSE-S3.

    ``logs_bucket=None`` turns server access logging off (a sandbox whose log bucket must be destroyable:
    S3 delivers access logs late, into a bucket that stack deletion has just emptied).
    """
    encryption: dict[str, object] = {"encryption": s3.BucketEncryption.S3_MANAGED}
    if encryption_key is not None:
        encryption = {
            "encryption": s3.BucketEncryption.KMS,
            "encryption_key": encryption_key,
            "bucket_key_enabled": True,
        }
    bucket = s3.Bucket(
        scope,
        construct_id,
        versioned=True,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=logs_bucket,
        server_access_logs_prefix=log_prefix if logs_bucket is not None else None,
        lifecycle_rules=[
            s3.LifecycleRule(
                noncurrent_version_expiration=cdk.Duration.days(NONCURRENT_VERSION_DAYS),
                abort_incomplete_multipart_upload_after=cdk.Duration.days(INCOMPLETE_UPLOAD_DAYS),
            )
        ],
        **encryption,  # type: ignore[arg-type]
        **_removal(config),  # type: ignore[arg-type]
    )
    if logs_bucket is None:
        no_logs = (
            "Sandbox profile: no server access logs, because late log delivery would refill an emptied log "
            "bucket and fail stack deletion; CloudTrail still records the API calls."
        )
        acknowledge(bucket, "AwsSolutions-S1", no_logs)
        skip_checkov(cast(cdk.CfnResource, bucket.node.default_child), "CKV_AWS_18", no_logs)
    if event_bridge:
        # Native CloudFormation property instead of the CDK's notifications custom resource (no extra Lambda).
        cfn_bucket = bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                event_bridge_enabled=True
            )
        )
    return bucket
