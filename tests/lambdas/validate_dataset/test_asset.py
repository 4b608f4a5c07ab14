"""The dataset-validation function imports from its asset alone: its package, dataprep and ladder_core."""

from __future__ import annotations

from pathlib import Path

from stacks.fine_tune.pipeline import VALIDATION_SHARED_FILES
from tests.lambdas.asset import run_in_asset


def test_function_imports_from_its_aws_asset_layout(tmp_path: Path) -> None:
    # Given the asset as the stack builds it, When Lambda imports validate_dataset.handler.handler from it
    code = (
        "import validate_dataset.handler as h, validate_dataset.clients as c\n"
        "options, retries = h.SETTINGS.options, c._S3_CONFIG.retries\n"
        "print(h.handler.__name__, h.DatasetRejected.__name__, options.min_examples, "
        "retries['total_max_attempts'])"
    )
    result = run_in_asset(
        tmp_path,
        "validate_dataset",
        code,
        shared_files=VALIDATION_SHARED_FILES,
        environ={"MIN_EXAMPLES": "12"},
    )
    # Then it imports with the bundled dataprep and environment readers, and the shared client config
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["handler", "DatasetRejected", "12", "5"]
