"""Every log group of the app: the profile's retention and removal, and in prod a customer managed key."""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from ladder_core.catalog.logs import LOG_RETENTION_DAYS
from stacks.config import LadderConfig

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


def log_group(
    scope: Construct, construct_id: str, *, config: LadderConfig, name: str | None = None
) -> logs.LogGroup:
    """A log group kept for ``logRetentionDays``; sandbox deletes it with the stack, prod keeps it and
    encrypts it with the stack's customer managed key. ``name`` only where a service fixes the name itself
    (otherwise CloudFormation generates one, so a replacement never collides)."""
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=retention(config.log_retention_days),
        removal_policy=cdk.RemovalPolicy.RETAIN if config.is_prod else cdk.RemovalPolicy.DESTROY,
        encryption_key=logs_key(scope) if config.is_prod else None,
    )


def own_provider_function_logs(stack: cdk.Stack, *, config: LadderConfig) -> None:
    """Give every CDK provider function of ``stack`` (such as the S3 auto-delete handler, a plain
    ``AWS::Lambda::Function`` the CDK adds without a logging configuration) a log group of the stack.

    Without one, Lambda creates ``/aws/lambda/<function name>`` on the first invocation, with no expiry, and
    it outlives the stack. The provider's role carries AWSLambdaBasicExecutionRole, which may write to any
    log group of the account.
    """
    for node in stack.node.find_all():
        if (
            not isinstance(node, cdk.CfnResource)
            or isinstance(node, lambda_.CfnFunction)  # an L2 function: it logs where its construct says
            or node.cfn_resource_type != "AWS::Lambda::Function"
        ):
            continue
        # Beside the function, inside the provider construct that owns it.
        scope = cast(Construct, node.node.scope or stack)
        group = log_group(scope, f"{node.node.id}Logs", config=config)
        node.add_property_override("LoggingConfig.LogGroup", group.log_group_name)
