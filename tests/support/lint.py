"""cfn-lint and checkov on synthesized templates, each template scanned once per test session.

The stacks' tests and the review's tests scan the same templates of the same flag combinations: cfn-lint's
and checkov's verdict on a template depends on its content alone, so it is computed once (in whichever
xdist worker asks first) and read back by every other test. The rules are the review's own
(``ladder.review.findings``), so the tests and ``make review`` agree on what a finding is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ladder.review import findings
from ladder.review.model import Assembly, Stack
from tests.support.session_store import content_key, current

# The review's scanners as they are, before the review tests route them through the store.
_review_cfn_lint = findings.cfn_lint
_review_run_checkov = findings.run_checkov


def _template_rows(template: dict[str, Any], region: str) -> list[dict[str, Any]]:
    """The review's cfn-lint rows (errors and warnings, aws-cdk-lib's W3005 shape marked tolerated)."""
    key = content_key(json.dumps(template, sort_keys=True), region)
    return current().once(
        "cfn-lint",
        key,
        lambda _: _review_cfn_lint(Assembly(Path(), [Stack("", template, {}, ())]), region),
    )


def lint_template(template: dict[str, Any], region: str) -> list[str]:
    """Errors and warnings (informational findings are not reported), formatted for an assertion message."""
    return [
        f"{row['rule']} {row['message']} at {row['path']}"
        for row in _template_rows(template, region)
        if not row["tolerated"]
    ]


def stored_cfn_lint(assembly: Assembly, region: str) -> list[dict[str, Any]]:
    """``findings.cfn_lint`` with each template's rows computed once per session."""
    return [
        {**row, "stack": stack.name}
        for stack in assembly.stacks
        for row in _template_rows(stack.template, region)
    ]


def stored_run_checkov(templates: list[Path], checkov: Path = findings.CHECKOV) -> dict[str, Any]:
    """``findings.run_checkov`` run once per session for each set of template files (names and content)."""
    if not checkov.is_file() or not all(template.is_file() for template in templates):
        return _review_run_checkov(templates, checkov)  # its own error, unchanged
    key = content_key(str(checkov.resolve()), *(f"{t.name}\n{t.read_text()}" for t in templates))
    return current().once("checkov", key, lambda _: _review_run_checkov(templates, checkov))
