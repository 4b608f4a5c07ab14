"""cfn-lint, run in-process on a synthesized template."""

from __future__ import annotations

import json
from typing import Any

from cfnlint.api import ManualArgs, lint

# aws-cdk-lib gives every Lambda function (and its own custom-resource providers) a DependsOn on the
# function's role although the function already references it with Fn::GetAtt; cfn-lint reports that
# duplicate as W3005. It is the only warning tolerated, and only in exactly that shape.
_CDK_ROLE_DEPENDS_ON = "W3005"


def _is_cdk_function_role_dependency(match: Any, template: dict[str, Any]) -> bool:
    if match.rule.id != _CDK_ROLE_DEPENDS_ON:
        return False
    path = list(match.path)
    if len(path) < 3 or path[0] != "Resources" or path[2] != "DependsOn":
        return False
    resource = template["Resources"][path[1]]
    dependency = (
        resource["DependsOn"][path[3]] if isinstance(resource["DependsOn"], list) else resource["DependsOn"]
    )
    return resource["Type"] == "AWS::Lambda::Function" and resource["Properties"].get("Role") == {
        "Fn::GetAtt": [dependency, "Arn"]
    }


def lint_template(template: dict[str, Any], region: str) -> list[str]:
    """Errors and warnings (informational findings are not reported), formatted for an assertion message."""
    matches = lint(json.dumps(template), config=ManualArgs(regions=[region]))
    return [
        f"{m.rule.id} {m.message} at {'/'.join(map(str, m.path))}"
        for m in matches
        if m.rule.id[0] in "EW" and not _is_cdk_function_role_dependency(m, template)
    ]
