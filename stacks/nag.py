"""cdk-nag acknowledgements: every one names the exact finding and a specific reason."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding (``AwsSolutions-IAM5[Resource::*]``) on ``construct`` and below."""
    if len(reason) < 40:
        raise ValueError(f"acknowledgement of {finding} needs a specific reason, got {reason!r}")
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))


def resource_finding(rule: str, resource: IConstruct, suffix: str = "", attribute: str = "Arn") -> str:
    """The finding id cdk-nag reports for a wildcard built on a resource attribute in this stack, e.g.
    ``AwsSolutions-IAM5[Resource::<DocumentsBucket9EC9DEB9.Arn>/docs/*]`` for
    ``resource_finding("AwsSolutions-IAM5", bucket, "/docs/*")`` (an L2 construct stands for its L1)."""
    element = resource.node.default_child or resource
    logical_id = cdk.Stack.of(resource).get_logical_id(element)  # type: ignore[arg-type]
    return f"{rule}[Resource::<{logical_id}.{attribute}>{suffix}]"
