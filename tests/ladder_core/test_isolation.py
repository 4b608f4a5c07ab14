"""ladder_core stays importable everywhere: importing any of its modules loads no CDK, no AWS SDK and no
other third-party package, and nothing from the layers that import it."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import ladder_core

REPO_ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = (
    "aws_cdk",
    "constructs",
    "cdk_nag",
    "boto3",
    "botocore",
    "jsonschema",
    "ladder",
    "stacks",
    "lambdas",
)


def _modules() -> list[str]:
    return ["ladder_core"] + [
        info.name for info in pkgutil.walk_packages(ladder_core.__path__, prefix="ladder_core.")
    ]


def test_importing_every_module_loads_nothing_forbidden() -> None:
    # Subpackages are walked too: the evaluation engine the evaluation function bundles is among them.
    assert {"ladder_core.evaluation.summary", "ladder_core.catalog.bedrock"} <= set(_modules())
    # A fresh interpreter: this test process has loaded the CDK and boto3 already.
    script = (
        "import importlib, sys\n"
        f"for name in {_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print('\\n'.join(bad))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"ladder_core imported: {done.stdout.split()}"
