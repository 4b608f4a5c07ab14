from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ladder.review import build, findings
from ladder.review.findings import CHECKOV
from tests.stacks.conftest import COMBINATIONS
from tests.support.lint import stored_cfn_lint, stored_run_checkov
from tests.support.synth import REPO_ROOT

ReviewFn = Callable[[str], dict[str, Any]]


@pytest.fixture(scope="session")
def checkov() -> Iterator[Path]:
    """checkov from the virtual environment the Makefile creates; missing means setup was skipped.

    While the review tests run, the review scans each template once per session: cfn-lint and checkov
    answer the same for the same template, whichever test or xdist worker asks (tests/support/lint.py).
    """
    path = REPO_ROOT / CHECKOV
    if not path.is_file():
        pytest.fail(f"checkov is not installed at {path}: run `make checkov-venv` (make test does)")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(findings, "cfn_lint", stored_cfn_lint)
        patch.setattr(findings, "run_checkov", stored_run_checkov)
        yield path


@pytest.fixture(scope="session")
def review_of(synth, checkov: Path, tmp_path_factory: pytest.TempPathFactory) -> ReviewFn:
    """The review data of one flag combination (built once per session)."""
    cache: dict[str, dict[str, Any]] = {}
    no_eval_runs = tmp_path_factory.mktemp("no-eval-runs")

    def run(combination: str) -> dict[str, Any]:
        if combination not in cache:
            synthesized = synth(COMBINATIONS[combination])
            cache[combination] = build(synthesized.outdir, eval_runs=no_eval_runs, checkov=checkov)
        return cache[combination]

    return run
