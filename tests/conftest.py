"""Settings shared by every test: no AWS account, no network, quiet jsii; one synth cache per session."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.support.synth import Synthesized

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_DEPRECATED", "quiet")
# Nothing here may reach AWS: fake credentials make any accidental real call fail fast instead of
# picking up a developer's profile.
for key, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ[key] = value
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("CDK_DEFAULT_ACCOUNT", None)


SynthFn = Callable[..., "Synthesized"]


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> SynthFn:
    """Synthesize once per distinct set of ``-c`` overrides for the whole session (every test package)."""
    from tests.support.synth import synthesize  # the CDK loads only for tests that synthesize

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
    from tests.stacks.conftest import COMBINATIONS

    return synth(COMBINATIONS["sandbox"])


@pytest.fixture(scope="session")
def prod(synth: SynthFn) -> Synthesized:
    from tests.stacks.conftest import COMBINATIONS

    return synth(COMBINATIONS["prod"])
