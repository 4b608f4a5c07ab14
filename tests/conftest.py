"""Settings shared by every test: no AWS account, no network, quiet jsii; one synth cache per session."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.session_store import SessionStore, opened, session_root

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


@pytest.fixture(scope="session", autouse=True)
def session_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SessionStore]:
    """Results computed once per session and shared by every xdist worker (tests/support/session_store.py)."""
    with opened(SessionStore(session_root(request.config, tmp_path_factory))) as store:
        yield store


@pytest.fixture(scope="session")
def synth(session_store: SessionStore, tmp_path_factory: pytest.TempPathFactory) -> SynthFn:
    """Synthesize once per distinct set of ``-c`` overrides for the whole session (every test package and
    every xdist worker)."""
    from tests.support.synth import synthesize  # the CDK loads only for tests that synthesize

    cache: dict[tuple[tuple[str, Any], ...], Synthesized] = {}

    def run(overrides: Mapping[str, Any] | None = None, **kwargs: Any) -> Synthesized:
        merged = {**(overrides or {}), **kwargs}
        key = tuple(sorted(merged.items()))
        if key not in cache:
            stored = session_store.once("synth", repr(key), lambda work: synthesize(work / "cdk.out", merged))
            # Tests write into the assembly folder (nag-report.md, review/): each worker reads and writes
            # its own copy, never the stored one another worker may be copying.
            outdir = tmp_path_factory.mktemp("cdk.out")
            shutil.copytree(stored.outdir, outdir, dirs_exist_ok=True)
            cache[key] = dataclasses.replace(stored, outdir=outdir)
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


def _cost_rank(item: pytest.Item) -> int:
    """0: trains a model; 1: synthesizes (the fixture directly or through another); 2: the rest."""
    if item.get_closest_marker("training"):
        return 0
    if item.get_closest_marker("synth") or "synth" in getattr(item, "fixturenames", ()):
        return 1
    return 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order modules heaviest first (training, then synth, then the rest), each module's tests kept together
    and in their own order.

    `make test` hands whole modules (and test classes) to its xdist workers in this order (``--dist loadscope
    --no-loadscope-reorder``): the slow ones start first and the many quick ones fill the end, so the
    workers finish at about the same time. A module's rank comes from what its tests use, so a new module is
    placed without anyone listing it.
    """
    ranks: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        ranks[module] = min(ranks.get(module, 2), _cost_rank(item))
    items.sort(key=lambda item: ranks[item.nodeid.split("::", 1)[0]])
