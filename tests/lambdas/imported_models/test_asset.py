"""The imported-models function imports from its asset alone and reads its settings there."""

from __future__ import annotations

from pathlib import Path

from stacks.fine_tune.pipeline import IMPORTED_MODELS_SHARED_FILES
from tests.lambdas.asset import run_in_asset


def test_function_imports_from_its_aws_asset_layout(tmp_path: Path) -> None:
    # Given the asset as the stack builds it, When Lambda imports imported_models.handler.handler from it
    code = (
        "import imported_models.handler as h, imported_models.settings as s, imported_models.gate as g\n"
        "settings = s.load_settings({'MODEL_PARAMETER': '/p', 'KEEP_MODELS': '2'})\n"
        "print(h.handler.__name__, settings.keep_models, h._CONFIG.retries['total_max_attempts'],\n"
        "      g.promotion.decide({}, {}).promote)"
    )
    result = run_in_asset(tmp_path, "imported_models", code, shared_files=IMPORTED_MODELS_SHARED_FILES)
    # Then it imports with the bundled environment readers, the shared client config and the promotion rules
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["handler", "2", "5", "False"]
