"""What every Ladder state machine needs beyond aws-cdk-lib's defaults."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct


def ladder_state_machine(
    scope: Construct,
    construct_id: str,
    *,
    comment: str,
    definition: sfn.IChainable,
    timeout: cdk.Duration,
    log_group: logs.ILogGroup,
    name: str | None = None,
) -> sfn.StateMachine:
    """A standard state machine as every Ladder workflow has it: a hard timeout, X-Ray tracing, every event
    logged without the execution data (the payloads carry questions and answers), and created only once its
    role's policy exists (:func:`depend_on_policy_only`). ``name``: a fixed name others find it by."""
    machine = sfn.StateMachine(
        scope,
        construct_id,
        state_machine_name=name,
        comment=comment,
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
    )
    depend_on_policy_only(machine)
    return machine


def depend_on_policy_only(state_machine: sfn.StateMachine) -> None:
    """The state machine must wait for its role's policy (Step Functions checks the logging permissions on
    creation); aws-cdk-lib's DependsOn on the role itself repeats the RoleArn reference (cfn-lint W3005)."""
    policy = state_machine.role.node.find_child("DefaultPolicy").node.default_child
    resource = state_machine.node.default_child
    assert isinstance(resource, cdk.CfnResource) and isinstance(policy, cdk.CfnResource)
    resource.add_override("DependsOn", [cdk.Stack.of(state_machine).get_logical_id(policy)])
