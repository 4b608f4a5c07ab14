"""The project's default context with some keys changed, parsed as synth parses it."""

from __future__ import annotations

from stacks.config import LadderConfig, from_context
from tests.support.synth import default_context


def config_with(**overrides: object) -> LadderConfig:
    context = default_context()
    context.update(overrides)
    return from_context(context)
