"""The evaluation function imports from its asset alone: the engine it bundles is the CLI's, no ladder/."""

from __future__ import annotations

from pathlib import Path

from stacks.rag.evaluation_runner import EVALUATE_SHARED_FILES
from tests.lambdas.asset import run_in_asset

ENVIRON = {
    "BUCKET": "b",
    "RAG_FUNCTION": "f",
    "RAG_TIMEOUT_S": "28",
    "EMBEDDING_MODEL_ID": "amazon.titan-embed-text-v2:0",
    "VECTOR_STORE": "opensearch",
    "RAG_MEMORY_MB": "1024",
}


def test_function_imports_from_its_aws_asset_layout(tmp_path: Path) -> None:
    # Given the asset as the stack builds it, When Lambda imports evaluate.handler.handler from it
    code = (
        "import sys, evaluate.handler as h\n"
        "from ladder_core.evaluation.prices import default_prices\n"
        "settings = h.container_settings()\n"
        "store = default_prices(settings.deployment).deployment.vector_store\n"
        "print(h.handler.__name__, settings.rag_timeout_s, store)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ladder', 'stacks', 'jsonschema')))\n"
    )
    result = run_in_asset(tmp_path, "evaluate", code, shared_files=EVALUATE_SHARED_FILES, environ=ENVIRON)
    # Then it imports with the bundled engine and settings, and nothing from the CLI or the stacks
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["handler 28 opensearch", "[]"]
