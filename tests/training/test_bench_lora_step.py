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


def test_tiny_qlora_mode_trains_on_4_bit_weights_and_counts_the_full_model() -> None:
    lora = main(["--tiny", "--peak_tflops", "1"])
    qlora = main(["--tiny", "--peak_tflops", "1", "--strategy", "qlora"])
    # Then the same parameters are counted (MFU compares the same work) and the adapter is trained
    assert qlora.strategy == "qlora" and lora.strategy == "lora"
    assert qlora.params == lora.params
    assert 0 < qlora.trainable_params < qlora.params
    assert qlora.tokens_per_second > 0
