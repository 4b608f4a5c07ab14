"""The few-shot rung's examples: :mod:`~ladder.examples.records` reads and checks a file offline,
:mod:`~ladder.examples.store` syncs the deployed examples index with it and keeps the manifest."""

from __future__ import annotations

from .records import Example, InvalidExamplesError, read_examples, refuse_overlap
from .store import ExamplesStatus, SyncResult, status, sync

__all__ = [
    "Example",
    "ExamplesStatus",
    "InvalidExamplesError",
    "SyncResult",
    "read_examples",
    "refuse_overlap",
    "status",
    "sync",
]
