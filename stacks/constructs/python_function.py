"""A Python Lambda function the way every Ladder function is built."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ladder_core.catalog.powertools import POWERTOOLS_LAYER_PARAMETER
from stacks.config import LadderConfig
from stacks.constructs.log_group import log_group
from stacks.lambda_code import function_code, handler_path
from stacks.nag import acknowledge

METRICS_NAMESPACE = "Ladder"
RUNTIME = lambda_.Runtime.PYTHON_3_14


def powertools_layer(scope: Construct, version: str) -> lambda_.ILayerVersion:
    """The AWS-published Powertools layer, one reference per stack, its ARN resolved from SSM at deploy."""
    stack = cdk.Stack.of(scope)
    existing = stack.node.try_find_child("PowertoolsLayer")
    if existing is not None:
        return existing  # type: ignore[return-value]
    arn = ssm.StringParameter.value_for_string_parameter(
        stack, POWERTOOLS_LAYER_PARAMETER.format(version=version)
    )
    return lambda_.LayerVersion.from_layer_version_arn(stack, "PowertoolsLayer", arn)


class PythonFunction(Construct):
    """python3.14 on arm64 with the Powertools layer, X-Ray, its own log group and a role without managed
    policies (logs are granted on its log group only)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: LadderConfig,
        name: str,
        service: str,
        description: str,
        module: str = "handler",
        environment: Mapping[str, str] | None = None,
        memory_mb: int = 256,
        timeout: cdk.Duration | None = None,
        reserved_concurrency: int | None = None,
        shared_files: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = log_group(self, "Logs", config=config)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Ladder {service} function ({module})",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            code=function_code(name, shared_files=shared_files),
            handler=handler_path(name, module),
            role=self.role,
            log_group=self.log_group,
            memory_size=memory_mb,
            timeout=timeout or cdk.Duration.seconds(30),
            reserved_concurrent_executions=reserved_concurrency or None,
            tracing=lambda_.Tracing.ACTIVE,
            layers=[powertools_layer(self, config.powertools_version)],
            environment={
                "POWERTOOLS_SERVICE_NAME": service,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **(environment or {}),
            },
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; the statement "
            "holds only those two actions.",
        )
