from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from tests.support.synth import Synthesized, synthesize

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

SynthFn = Callable[..., Synthesized]


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> SynthFn:
    """Synthesize once per distinct set of ``-c`` overrides for the whole session."""
    cache: dict[tuple[tuple[str, Any], ...], Synthesized] = {}

    def run(overrides: Mapping[str, Any] | None = None, **kwargs: Any) -> Synthesized:
        merged = {**(overrides or {}), **kwargs}
        key = tuple(sorted(merged.items()))
        if key not in cache:
            cache[key] = synthesize(tmp_path_factory.mktemp("cdk.out"), merged)
        return cache[key]

    return run


@pytest.fixture(scope="session")
def sandbox(synth: SynthFn) -> Synthesized:
    return synth(COMBINATIONS["sandbox"])


@pytest.fixture(scope="session")
def prod(synth: SynthFn) -> Synthesized:
    return synth(COMBINATIONS["prod"])
