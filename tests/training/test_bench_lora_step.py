"""The GPU benchmark script still runs: its CPU smoke mode on a tiny model."""

from __future__ import annotations

import pytest

from training_jobs.bench_lora_step import main

pytestmark = pytest.mark.training


def test_tiny_mode_reports_throughput_and_mfu(capsys: pytest.CaptureFixture[str]) -> None:
    result = main(["--tiny", "--peak_tflops", "1"])
    out = capsys.readouterr().out
    assert result.tokens_per_second > 0
    assert 0 < result.trainable_params < result.params
    assert result.mfu == pytest.approx(6 * result.params * result.tokens_per_second / 1e12)
    assert "tokens_per_second=" in out
    assert "mfu=" in out
