"""What every Ladder state machine needs beyond aws-cdk-lib's defaults."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_stepfunctions as sfn


def depend_on_policy_only(state_machine: sfn.StateMachine) -> None:
    """The state machine must wait for its role's policy (Step Functions checks the logging permissions on
    creation); aws-cdk-lib's DependsOn on the role itself repeats the RoleArn reference (cfn-lint W3005)."""
    policy = state_machine.role.node.find_child("DefaultPolicy").node.default_child
    resource = state_machine.node.default_child
    assert isinstance(resource, cdk.CfnResource) and isinstance(policy, cdk.CfnResource)
    resource.add_override("DependsOn", [cdk.Stack.of(state_machine).get_logical_id(policy)])
