"""Imports a function from its asset layout alone, as Lambda does: the package and its bundled files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from stacks.lambda_code import bundled_files

REPO_ROOT = Path(__file__).resolve().parents[2]

# The development install maps the repository's packages (training_jobs, lambdas, ...) onto the import path
# from anywhere; dropping its finder leaves only what the asset holds, plus installed distributions.
_WITHOUT_REPOSITORY = (
    "import sys\n"
    "sys.meta_path[:] = [\n"
    "    f for f in sys.meta_path if not getattr(f, '__module__', '').startswith('__editable_')\n"
    "]\n"
)


def run_in_asset(
    tmp_path: Path,
    name: str,
    code: str,
    *,
    shared_files: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Lays out ``lambdas/<name>`` and its bundled files as the stack builds the asset, then runs ``code``
    with the asset root as the only source of project code."""
    shutil.copytree(REPO_ROOT / "lambdas" / name, tmp_path / name)
    for relative in bundled_files(shared_files):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / relative, tmp_path / relative)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "LAMBDA_TASK_ROOT": str(tmp_path),
        "PYTHONPATH": str(tmp_path),
        **(environ or {}),
    }
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_REPOSITORY + code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
