from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from ladder_core.catalog.logs import LOG_RETENTION_DAYS
from stacks.constructs.log_group import retention


def test_every_catalogued_retention_period_reaches_the_template_as_that_many_days() -> None:
    """CloudWatch Logs API Reference, PutRetentionPolicy: "Possible values are: 1, 3, 5, 7, 14, 30, 60, 90,
    120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, and 3653." The construct maps each
    catalogued number onto the CDK's enum by position, so a gap in either list would shift every later one."""
    # Given one log group for each retention period of the catalog
    stack = cdk.Stack(cdk.App())
    for days in LOG_RETENTION_DAYS:
        logs.LogGroup(stack, f"Keep{days}", retention=retention(days))

    # When the stack is synthesized
    groups = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup")

    # Then each group keeps its events exactly the catalogued number of days
    assert sorted(group["Properties"]["RetentionInDays"] for group in groups.values()) == list(
        LOG_RETENTION_DAYS
    )
