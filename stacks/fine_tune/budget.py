"""A monthly AWS Budgets cost budget for fine-tuning, with actual and forecast alerts."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.config import LadderConfig
from stacks.constructs.alarm_topic import AlarmTopic

BUDGETED_SERVICES = ("Amazon SageMaker", "Amazon Bedrock")
"""Cost filter (the SERVICE dimension, names as Cost Explorer shows them): the GPU training jobs bill under
Amazon SageMaker; the imported model's inference (Custom Model Import, per model unit in 5-minute windows) and
its storage bill under Amazon Bedrock. A service filter works from the first day, unlike a cost-allocation
tag, which the account owner must activate before Budgets can see it. It errs on the side of alerting: other
SageMaker and Bedrock spend in the account (the RAG API's model calls among it) counts too."""
ACTUAL_ALERT_PERCENT = 80
FORECAST_ALERT_PERCENT = 100


class FineTuneBudget(Construct):
    """Alerts go to the alarm e-mail when one is configured, else to the notification topic (whose policy
    and key policy then admit AWS Budgets)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: LadderConfig, notifications: AlarmTopic
    ) -> None:
        super().__init__(scope, construct_id)
        if config.alarm_email:
            subscriber = budgets.CfnBudget.SubscriberProperty(
                subscription_type="EMAIL", address=config.alarm_email
            )
        else:
            self._admit_budgets(notifications)
            subscriber = budgets.CfnBudget.SubscriberProperty(
                subscription_type="SNS", address=notifications.topic.topic_arn
            )

        def alert(
            notification_type: str, percent: int
        ) -> budgets.CfnBudget.NotificationWithSubscribersProperty:
            return budgets.CfnBudget.NotificationWithSubscribersProperty(
                notification=budgets.CfnBudget.NotificationProperty(
                    notification_type=notification_type,
                    comparison_operator="GREATER_THAN",
                    threshold=percent,
                    threshold_type="PERCENTAGE",
                ),
                subscribers=[subscriber],
            )

        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(
                    amount=config.fine_tune_monthly_budget_usd, unit="USD"
                ),
                # FilterExpression, not the CostFilters that the Budgets API marks deprecated; values of one
                # dimension match any of them.
                filter_expression=budgets.CfnBudget.ExpressionProperty(
                    dimensions=budgets.CfnBudget.ExpressionDimensionValuesProperty(
                        key="SERVICE", values=list(BUDGETED_SERVICES)
                    )
                ),
            ),
            notifications_with_subscribers=[
                alert("ACTUAL", ACTUAL_ALERT_PERCENT),
                alert("FORECASTED", FORECAST_ALERT_PERCENT),
            ],
        )

    @staticmethod
    def _admit_budgets(notifications: AlarmTopic) -> None:
        principal = iam.ServicePrincipal("budgets.amazonaws.com")
        budgets_arn = f"arn:{cdk.Aws.PARTITION}:budgets::{cdk.Aws.ACCOUNT_ID}:*"
        notifications.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BudgetsPublish",
                principals=[principal],
                actions=["sns:Publish"],
                resources=[notifications.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": budgets_arn},
                },
            )
        )
        notifications.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[principal],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
            )
        )
