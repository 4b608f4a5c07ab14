"""The few-shot rung's examples: :mod:`~ladder.examples.records` reads and checks a file offline,
:mod:`~ladder.examples.store` syncs the deployed examples index with it and keeps the manifest."""

from __future__ import annotations

from .records import Example, InvalidExamplesError, read_examples, refuse_overlap
from .store import (
    EXAMPLES_UPLOAD,
    ExamplesStatus,
    SyncResult,
    manifest_problem,
    read_manifest,
    status,
    sync,
)

__all__ = [
    "EXAMPLES_UPLOAD",
    "Example",
    "ExamplesStatus",
    "InvalidExamplesError",
    "SyncResult",
    "manifest_problem",
    "read_examples",
    "read_manifest",
    "refuse_overlap",
    "status",
    "sync",
]
