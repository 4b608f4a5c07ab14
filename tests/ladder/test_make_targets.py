"""The make targets a new user meets first, run as a user would (prerequisites marked as built with
``-o`` so nothing is installed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILT = ("-o", ".venv/.cli-installed", "-o", ".venv/.review-installed", "-o", "node_modules/.installed")


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *BUILT, "-o", ".venv-checkov/.installed", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_context_without_dash_c_is_caught_with_the_fix():
    result = make("-n", "synth", "CONTEXT=profile=prod vectorStore=s3vectors")

    assert result.returncode == 2
    assert 'each setting needs -c, as in CONTEXT="-c profile=prod -c vectorStore=s3vectors"' in result.stderr
    assert "cdk synth" not in result.stdout


def test_context_with_dash_c_passes_to_cdk():
    result = make("-n", "synth", "CONTEXT=-c profile=prod")

    assert result.returncode == 0, result.stderr
    assert "cdk synth --quiet -c profile=prod" in result.stdout


def test_review_against_a_missing_file_fails_before_the_synth():
    result = make("review", "AGAINST=nosuch.json")

    assert result.returncode == 2
    assert "AGAINST=nosuch.json: no such file" in result.stderr
    assert "synth" not in result.stdout


def test_make_cli_says_how_to_put_ladder_on_the_path():
    result = make("cli")

    assert result.returncode == 0, result.stderr
    assert "source .venv/bin/activate" in result.stdout


def test_eval_check_needs_a_run_folder_and_passes_the_arms_on():
    missing = make("eval-check")
    assert missing.returncode == 2
    assert "make eval-check RUN=eval-runs/<run>: name the run folder" in missing.stderr
    planned = make("-n", "eval-check", "RUN=eval-runs/nightly", "FAIL=rag", "PASS=fewshot")
    assert planned.returncode == 0, planned.stderr
    command = 'python -m ladder.evaluation.check "eval-runs/nightly" --fail "rag" --pass "fewshot"'
    assert command in planned.stdout
