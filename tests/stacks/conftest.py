"""Flag combinations of the stacks' tests; the synth fixtures themselves live in ``tests/conftest.py``."""

from __future__ import annotations

# The fine-tune stack's own tests switch it on with an explicit override reason, never a verdict file.
FINE_TUNE_ON: dict[str, str] = {
    "fineTune": "true",
    "fineTuneOverride": "Ladder's own template tests exercise the fine-tune stack",
}

# Every flag combination a user can deploy; cfn-lint and cdk-nag run on all of them.
COMBINATIONS: dict[str, dict[str, str]] = {
    "sandbox": {},
    "prod": {"profile": "prod"},
    "sandbox-finetune": {**FINE_TUNE_ON},
    "prod-finetune": {"profile": "prod", **FINE_TUNE_ON},
    "sandbox-s3vectors": {"vectorStore": "s3vectors"},
    "prod-s3vectors": {"profile": "prod", "vectorStore": "s3vectors"},
    "sandbox-s3vectors-finetune": {"vectorStore": "s3vectors", **FINE_TUNE_ON},
}
