"""Progress of a run: a bar (rich) on a terminal, with elapsed and remaining time; elsewhere (a pipe, a CI
log) one plain line every :data:`LINE_EVERY` answers and at the end."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

LINE_EVERY = 10


class BarProgress:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task
        self._errors = 0

    def advance(self, *, ok: bool) -> None:
        self._errors += not ok
        self._progress.update(self._task, advance=1, errors=self._errors)


class LineProgress:
    """``answers 10/90, 1 errors, elapsed 0:00:12, remaining about 0:01:36`` every ``every`` answers."""

    def __init__(
        self,
        total: int,
        stream: IO[str],
        every: int = LINE_EVERY,
        clock: Callable[[], float] = time.monotonic,
        unit: str = "answers",
    ) -> None:
        self._total, self._stream, self._every, self._clock = total, stream, every, clock
        self._unit = unit
        self._started = clock()
        self._done = self._errors = 0

    def advance(self, *, ok: bool) -> None:
        self._done += 1
        self._errors += not ok
        if self._done % self._every == 0 or self._done == self._total:
            elapsed = self._clock() - self._started
            remaining = elapsed / self._done * (self._total - self._done)
            print(
                f"{self._unit} {self._done}/{self._total}, {self._errors} errors, elapsed {_clock(elapsed)}, "
                f"remaining about {_clock(remaining)}",
                file=self._stream,
                flush=True,
            )


@contextmanager
def progress_bar(
    total: int, stream: IO[str] | None = None, *, unit: str = "answers"
) -> Iterator[BarProgress | LineProgress | None]:
    """A bar on a TTY, plain lines elsewhere; None when there is nothing to send. ``unit`` names what is
    counted (``answers`` for an evaluation, ``examples`` for an upload)."""
    stream = stream or sys.stderr
    if not total:
        yield None
        return
    if not stream.isatty():
        yield LineProgress(total, stream, unit=unit)
        return
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[errors]} errors"),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("remaining"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=stream), transient=False) as progress:
        task = progress.add_task(unit, total=total, errors=0)
        yield BarProgress(progress, task)


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
