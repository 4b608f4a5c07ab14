from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ladder.review import build
from ladder.review.findings import CHECKOV
from tests.stacks.conftest import COMBINATIONS
from tests.support.synth import REPO_ROOT

ReviewFn = Callable[[str], dict[str, Any]]


@pytest.fixture(scope="session")
def checkov() -> Path:
    """checkov from the virtual environment the Makefile creates; missing means setup was skipped."""
    path = REPO_ROOT / CHECKOV
    if not path.is_file():
        pytest.fail(f"checkov is not installed at {path}: run `make checkov-venv` (make test does)")
    return path


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
