"""Results computed once per test session and shared by every pytest-xdist worker, through files.

`make test` runs the suite on two workers (pytest-xdist). A synth, a cfn-lint pass or a checkov run costs
seconds, and both workers often need the same one: the first to ask computes it under a file lock while the
other waits, then both read the stored result. The store lives in the session's temporary folder (the
controller's ``basetemp``, which its workers' folders are inside), so every session starts empty: nothing is
reused from an earlier run.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")

_current: SessionStore | None = None


def session_root(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder shared by the whole session: the controller's basetemp under xdist, else basetemp."""
    basetemp = tmp_path_factory.getbasetemp()
    # An xdist worker's basetemp is the controller's basetemp / its worker id (gw0, gw1, ...).
    return basetemp.parent if hasattr(config, "workerinput") else basetemp


def content_key(*parts: str) -> str:
    """A short key for values too long to be a file name (templates, argument lists)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:24]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SessionStore:
    """``once(namespace, key, compute)`` runs ``compute`` at most once per session and key, in any worker.

    ``compute`` gets an empty folder of its own (kept for the session) and returns a picklable value, which
    every later caller reads back from disk. A ``compute`` that raises stores nothing: the next caller tries
    again (and, being deterministic, raises the same error).
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def once(self, namespace: str, key: str, compute: Callable[[Path], T]) -> T:
        folder = self.root / "session-store" / namespace / content_key(key)
        folder.mkdir(parents=True, exist_ok=True)
        result = folder / "result.pickle"
        with _locked(folder / "lock"):
            if result.is_file():
                return pickle.loads(result.read_bytes())  # type: ignore[no-any-return]
            work = folder / "work"
            shutil.rmtree(work, ignore_errors=True)  # what a failed attempt left behind
            work.mkdir()
            value = compute(work)
            staged = folder / f"result.pickle.{os.getpid()}"
            staged.write_bytes(pickle.dumps(value))
            staged.replace(result)
            return value


def current() -> SessionStore:
    """The running session's store, for helpers that tests call without a fixture (``lint_template``)."""
    if _current is None:
        raise RuntimeError("no test session store: tests/conftest.py opens one for every session")
    return _current


@contextmanager
def opened(store: SessionStore) -> Iterator[SessionStore]:
    """Make ``store`` the session's current one while the block runs."""
    global _current
    previous, _current = _current, store
    try:
        yield store
    finally:
        _current = previous
