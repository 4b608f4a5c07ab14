"""The RAG function imports from its asset alone: its package plus the shared files the stack bundles."""

from __future__ import annotations

from pathlib import Path

from stacks.rag_api_stack import RAG_SHARED_FILES
from tests.lambdas.asset import run_in_asset


def test_function_imports_from_its_aws_asset_layout(tmp_path: Path) -> None:
    # Given the asset as the stack builds it: rag/ and the shared files at their repository paths
    # When Lambda imports the handler string rag.handler.handler from the asset root alone
    code = "import rag.handler as h, rag.constants as c; print(h.handler.__name__, *c.MODES)"
    result = run_in_asset(tmp_path, "rag", code, shared_files=RAG_SHARED_FILES)
    # Then it imports without anything else from the repository (the fewshot mode imports
    # ladder_core/examples.py), with the API's modes
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["handler", "rag", "prompt", "finetuned", "fewshot"]
