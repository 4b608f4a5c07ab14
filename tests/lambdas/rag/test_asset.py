"""The RAG function imports from its asset alone: its package plus the shared files the stack bundles."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from stacks.rag_api_stack import RAG_SHARED_FILES

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_function_imports_from_its_aws_asset_layout(tmp_path: Path) -> None:
    # Given the asset as the stack builds it: rag/ and the shared files at their repository paths
    shutil.copytree(REPO_ROOT / "lambdas" / "rag", tmp_path / "rag")
    for relative in RAG_SHARED_FILES:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / relative, tmp_path / relative)
    # When Lambda imports the handler string rag.handler.handler from the asset root alone
    code = "import rag.handler as h, rag.constants as c; print(h.handler.__name__, *c.MODES)"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "LAMBDA_TASK_ROOT": str(tmp_path),
        "PYTHONPATH": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    # Then it imports without anything else from the repository, with the API's modes
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["handler", "rag", "prompt", "finetuned"]
