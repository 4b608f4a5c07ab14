"""Flag combinations of the stacks' tests; the synth fixtures themselves live in ``tests/conftest.py``."""

from __future__ import annotations

from pathlib import Path

# The fine-tune stack's own tests switch it on with an explicit override reason, never a verdict file.
FINE_TUNE_ON: dict[str, str] = {
    "fineTune": "true",
    "fineTuneOverride": "Ladder's own template tests exercise the fine-tune stack",
}

# The path the README recommends: -c fineTune=true with a justified verdict from `ladder justify`. The
# crafted verdict is measured with the default generationModelId and expires long after any test run.
JUSTIFIED_VERDICT = Path(__file__).resolve().parent / "fixtures" / "justified-verdict.json"
FINE_TUNE_FROM_VERDICT: dict[str, str] = {"fineTune": "true", "fineTuneVerdict": str(JUSTIFIED_VERDICT)}

# Every flag combination a user can deploy; cfn-lint and cdk-nag run on all of them.
COMBINATIONS: dict[str, dict[str, str]] = {
    "sandbox": {},
    "prod": {"profile": "prod"},
    "sandbox-finetune": {**FINE_TUNE_ON},
    "sandbox-finetune-verdict": {**FINE_TUNE_FROM_VERDICT},
    "prod-finetune": {"profile": "prod", **FINE_TUNE_ON},
    "sandbox-s3vectors": {"vectorStore": "s3vectors"},
    "prod-s3vectors": {"profile": "prod", "vectorStore": "s3vectors"},
    "sandbox-s3vectors-finetune": {"vectorStore": "s3vectors", **FINE_TUNE_ON},
    "sandbox-no-fewshot": {"fewShot": "false"},
    "sandbox-no-drift-watch": {"driftWatchSchedule": ""},
}
