"""A progress bar (rich) on a terminal only: items done, errors and ETA; nothing when piped."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn


class BarProgress:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task
        self._errors = 0

    def advance(self, *, ok: bool) -> None:
        self._errors += not ok
        self._progress.update(self._task, advance=1, errors=self._errors)


@contextmanager
def progress_bar(total: int, stream: IO[str] | None = None) -> Iterator[BarProgress | None]:
    """Yield a progress reporter on a TTY, else None (the caller prints a summary line instead)."""
    stream = stream or sys.stderr
    if not total or not stream.isatty():
        yield None
        return
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[errors]} errors"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=stream), transient=False) as progress:
        task = progress.add_task("answers", total=total, errors=0)
        yield BarProgress(progress, task)
