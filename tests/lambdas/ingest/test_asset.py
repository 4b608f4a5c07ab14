"""Both ingestion functions import from their asset alone and read their settings there."""

from __future__ import annotations

from pathlib import Path

from tests.lambdas.asset import run_in_asset

ENVIRON = {"KNOWLEDGE_BASE_ID": "KB12345678", "DATA_SOURCE_ID": "DS12345678", "LOOKBACK_MINUTES": "30"}


def test_trigger_and_monitor_import_from_their_aws_asset_layout(tmp_path: Path) -> None:
    # Given the asset as the stack builds it, When Lambda imports both handler strings from it alone
    code = (
        "import ingest.handler as h, ingest.monitor as m, ingest.clients as c\n"
        "print(h.handler.__name__, m.handler.__name__, m.SETTINGS.lookback_minutes, "
        "c._BEDROCK_CONFIG.retries['total_max_attempts'])"
    )
    result = run_in_asset(tmp_path, "ingest", code, environ=ENVIRON)
    # Then both import, read their environment with the bundled readers and build the shared client config
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["handler", "handler", "30", "3"]


def test_a_bad_setting_fails_the_cold_start_from_the_asset(tmp_path: Path) -> None:
    result = run_in_asset(
        tmp_path, "ingest", "import ingest.handler", environ={**ENVIRON, "DATA_SOURCE_ID": "x"}
    )
    assert result.returncode != 0
    assert "SettingsError: environment variable DATA_SOURCE_ID is 'x'; accepted: 10 letters or digits" in (
        result.stderr
    )
