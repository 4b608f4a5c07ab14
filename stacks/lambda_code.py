"""Lambda code assets built without Docker.

Each function lives in ``lambdas/<name>/`` as a package; the asset root holds that package (plus any shared
project modules it declares), so the handler string is ``<name>.handler.handler``.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = REPO_ROOT / "lambdas"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "README.md")
RUNTIME_SHARED_FILES = ("ladder_core/__init__.py", "ladder_core/aws_clients.py", "ladder_core/environment.py")
"""What every function imports from ladder_core: its boto3 client configuration and environment readers."""


@jsii.implements(cdk.ILocalBundling)
class _CopyBundler:
    """Copies the function package and shared modules into the asset folder (pure Python, no Docker)."""

    def __init__(self, name: str, shared_files: Sequence[str]) -> None:
        self._name = name
        self._shared_files = tuple(shared_files)

    def try_bundle(self, output_dir: str, *, image: cdk.DockerImage, **_: object) -> bool:
        out = Path(output_dir)
        shutil.copytree(LAMBDAS_DIR / self._name, out / self._name, ignore=_IGNORE, dirs_exist_ok=True)
        for relative in self._shared_files:
            target = out / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / relative, target)
        return True


def bundled_files(shared_files: Sequence[str] = ()) -> tuple[str, ...]:
    """The repo-relative files an asset carries besides its package: every function's runtime files, then
    ``shared_files``, each once."""
    return tuple(dict.fromkeys((*RUNTIME_SHARED_FILES, *shared_files)))


def function_code(name: str, *, shared_files: Sequence[str] = ()) -> lambda_.Code:
    """Asset for ``lambdas/<name>``; ``shared_files`` and the runtime files are copied at their repo-relative
    paths."""
    if not (LAMBDAS_DIR / name / "handler.py").is_file():
        raise FileNotFoundError(f"lambdas/{name}/handler.py does not exist")
    return lambda_.Code.from_asset(
        str(LAMBDAS_DIR / name),
        asset_hash_type=cdk.AssetHashType.OUTPUT,
        bundling=cdk.BundlingOptions(
            # Never pulled: local bundling always succeeds, so Docker is not needed.
            image=cdk.DockerImage.from_registry("local-bundling-only"),
            local=_CopyBundler(name, bundled_files(shared_files)),
        ),
    )


def handler_path(name: str, module: str = "handler") -> str:
    return f"{name}.{module}.handler"
