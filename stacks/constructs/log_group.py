"""Every log group of the app: the profile's retention and removal, and in prod a customer managed key."""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config import LOG_RETENTION_DAYS, LadderConfig

LOGS_KEY_ID = "LogsKey"


def retention(days: int) -> logs.RetentionDays:
    """CloudWatch Logs retention enum for a validated number of days (see LOG_RETENTION_DAYS)."""
    return dict(zip(LOG_RETENTION_DAYS, logs.RetentionDays, strict=False))[days]


def logs_key(scope: Construct) -> kms.IKey:
    """The stack's one key for its log groups (prod). CloudWatch Logs may use it only for this account's log
    groups in this region (the encryption-context condition AWS documents for log group keys)."""
    stack = cdk.Stack.of(scope)
    existing = stack.node.try_find_child(LOGS_KEY_ID)
    if existing is not None:
        return cast(kms.IKey, existing)
    key = kms.Key(
        stack,
        LOGS_KEY_ID,
        description="Ladder log groups (prod)",
        enable_key_rotation=True,
        # Retained log groups stay readable only while their key exists.
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{cdk.Aws.REGION}.amazonaws.com")],
            actions=[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            resources=["*"],  # in a key policy "*" means this key
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:log-group:*"
                    )
                }
            },
        )
    )
    return key


def log_group(scope: Construct, construct_id: str, *, config: LadderConfig) -> logs.LogGroup:
    """A log group kept for ``logRetentionDays``; sandbox deletes it with the stack, prod keeps it and
    encrypts it with the stack's customer managed key."""
    return logs.LogGroup(
        scope,
        construct_id,
        retention=retention(config.log_retention_days),
        removal_policy=cdk.RemovalPolicy.RETAIN if config.is_prod else cdk.RemovalPolicy.DESTROY,
        encryption_key=logs_key(scope) if config.is_prod else None,
    )
