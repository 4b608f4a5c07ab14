"""The imported-models function imports from its asset alone and reads its settings there."""

from __future__ import annotations

from pathlib import Path

from tests.lambdas.asset import run_in_asset


def test_function_imports_from_its_aws_asset_layout(tmp_path: Path) -> None:
    # Given the asset as the stack builds it, When Lambda imports imported_models.handler.handler from it
    code = (
        "import imported_models.handler as h, imported_models.settings as s\n"
        "settings = s.load_settings({'MODEL_PARAMETER': '/p', 'KEEP_MODELS': '2'})\n"
        "print(h.handler.__name__, settings.keep_models, h._CONFIG.retries['total_max_attempts'])"
    )
    result = run_in_asset(tmp_path, "imported_models", code)
    # Then it imports with the bundled environment readers and the shared client config
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["handler", "2", "5"]
