"""SNS topic that CloudWatch alarms (and pipelines) publish to, encrypted with a key they may use."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.config import LadderConfig

AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD


class AlarmTopic(Construct):
    """A KMS-encrypted, SSL-only topic; CloudWatch cannot publish to topics under the AWS-managed SNS key,
    so the topic has its own key whose policy admits CloudWatch."""

    def __init__(self, scope: Construct, construct_id: str, *, config: LadderConfig, purpose: str) -> None:
        super().__init__(scope, construct_id)
        removal = cdk.RemovalPolicy.RETAIN if config.is_prod else cdk.RemovalPolicy.DESTROY
        self.key = kms.Key(
            self,
            "Key",
            description=f"Ladder {purpose} notifications",
            enable_key_rotation=True,
            removal_policy=removal,
            pending_window=cdk.Duration.days(7),
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
            )
        )
        self.topic = sns.Topic(
            self, "Topic", display_name=f"Ladder {purpose}", master_key=self.key, enforce_ssl=True
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.action = cw_actions.SnsAction(self.topic)

    def watch(self, alarm: cloudwatch.Alarm) -> cloudwatch.Alarm:
        alarm.add_alarm_action(self.action)
        return alarm

    def alarm(
        self,
        scope: Construct,
        construct_id: str,
        metric: cloudwatch.Metric | cloudwatch.MathExpression,
        description: str,
        *,
        threshold: float = 1,
        evaluation_periods: int = 1,
        comparison: cloudwatch.ComparisonOperator = AT_LEAST,
    ) -> cloudwatch.Alarm:
        """An alarm on ``metric`` that notifies this topic; no data counts as OK (idle is healthy)."""
        return self.watch(
            metric.create_alarm(
                scope,
                construct_id,
                alarm_description=description,
                threshold=threshold,
                evaluation_periods=evaluation_periods,
                comparison_operator=comparison,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )
