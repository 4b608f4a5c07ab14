"""A bad configuration stops synth of the whole app with the message, not a traceback."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from stacks.application import build_app
from stacks.config import ConfigError
from tests.support.synth import default_context


def test_a_bad_context_value_fails_synth_with_the_message(tmp_path) -> None:
    # Given `-c fineTune=yes` on the command line
    context = default_context()
    context["fineTune"] = "yes"
    app = cdk.App(context=context, outdir=str(tmp_path))
    # When the app is built, then synth stops with the message
    with pytest.raises(ConfigError, match=r"-c fineTune=yes is invalid: expected a boolean: true or false"):
        build_app(app)


def test_app_reports_a_bad_value_without_a_traceback() -> None:
    # Given the CDK CLI's way of passing context (-c fineTune=yes on top of cdk.json)
    import json
    import os
    import subprocess
    import sys

    from tests.support.synth import REPO_ROOT

    context = default_context()
    context["fineTune"] = "yes"
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": "/nonexistent-never-written"}
    # When the app runs, then it exits 2 with the message and no stack trace
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "-c fineTune=yes is invalid: expected a boolean: true or false" in result.stderr
    assert "Traceback" not in result.stderr
