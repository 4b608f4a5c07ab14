"""Sends every item of the set once per arm (``--repeat N``: N times), with bounded concurrency, retries and
resume.

- 429 and 503 are retried; the request waits its ``Retry-After`` (seconds or an HTTP date), else an
  exponential backoff with jitter. A 429 also paces every worker at the rate the API just accepted
  (:class:`Pacer`), so a throttled run settles near the API's limit instead of hammering it.
- Every finished answer (or final error) is appended to ``responses.jsonl`` at once, with its ``repeat``
  (0-based); a rerun with the same folder sends only the (item, arm, repeat) triples that have no ``ok``
  record yet, so nothing is sent twice or lost.
- A network failure or missing credentials stop the whole run with one error (what finished is kept).
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ladder_core.evaluation.evalset import EvalSet
from ladder_core.evaluation.run import Answers, answer_record, ask_body, parse_answers
from ladder_core.scoring import Item

from ..api import ApiError

THROTTLED = 429
RETRY_STATUSES = (THROTTLED, 503)
DEFAULT_CONCURRENCY = 4
MAX_ATTEMPTS = 8
BASE_BACKOFF_S = 0.5
MAX_BACKOFF_S = 60.0
STOP_AFTER_IDENTICAL = 5
"""An arm stops after this many answers in a row ended in the same 4xx (not 429): retrying cannot fix them."""

Task = tuple[Item, str, int]
"""One answer to fetch: the item, the arm and the repeat (0-based)."""

Send = Callable[[dict[str, Any]], dict[str, Any]]
"""Posts one ``/ask`` body and returns the JSON response; raises ApiError (status) or LadderError."""


class Progress(Protocol):
    def advance(self, *, ok: bool) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = MAX_ATTEMPTS
    base_backoff_s: float = BASE_BACKOFF_S
    max_backoff_s: float = MAX_BACKOFF_S

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter for a retry without ``Retry-After``."""
        ceiling = min(self.max_backoff_s, self.base_backoff_s * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class Outcome:
    """How many pairs were sent and how many of them ended in an error; the arms stopped early, each with
    the error that stopped it, and how many pairs were therefore not sent."""

    sent: int
    errors: int
    stopped: dict[str, dict[str, Any]] = field(default_factory=dict)
    not_sent: int = 0


class Pacer:
    """Spaces request starts so the run settles at the rate the API accepts.

    It starts unpaced. A 429 sets the spacing from the answers that were accepted in the last second
    (what the API's throttle let through); each later success narrows it by a little, so a run that
    was throttled early probes its way back up instead of staying slow.
    """

    WINDOW_S = 1.0
    RECOVERY = 0.98

    def __init__(self, stop: threading.Event, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._stop = stop
        self._clock = clock
        self._interval = 0.0
        self._next = 0.0
        self._accepted: deque[float] = deque()

    @property
    def interval(self) -> float:
        return self._interval

    def acquire(self) -> float:
        """Wait for this request's slot; the slot's time (pass it to :meth:`accepted`)."""
        with self._lock:
            slot = max(self._clock(), self._next)
            self._next = slot + self._interval
        self.sleep_until(slot)
        return slot

    def sleep_until(self, when: float) -> None:
        delay = when - self._clock()
        if delay > 0:
            self._stop.wait(delay)

    def accepted(self, started: float) -> None:
        with self._lock:
            self._accepted.append(started)
            self._forget_old()
            self._interval *= self.RECOVERY

    def throttled(self) -> None:
        with self._lock:
            self._forget_old()
            rate = max(1, len(self._accepted))
            self._interval = max(self._interval, self.WINDOW_S / rate)

    def _forget_old(self) -> None:
        now = self._clock()
        while self._accepted and now - self._accepted[0] > self.WINDOW_S:
            self._accepted.popleft()


class Stopped(Exception):
    """The run was interrupted before this pair was sent."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent/bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def read_answers(path: Path) -> Answers:
    """The latest record per (id, arm, repeat) in ``responses.jsonl`` (:func:`parse_answers`); none when
    the file does not exist yet."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as fp:
        return parse_answers(fp)


def read_records(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The latest record per (id, arm) of the first repeat (repeat 0): the one answer per item and arm
    that the judge and the report's answer previews use."""
    return {(item, arm): record for (item, arm, repeat), record in read_answers(path).items() if repeat == 0}


def pending_pairs(
    evalset: EvalSet,
    arms: Iterable[str],
    done: dict[tuple[str, str, int], dict[str, Any]],
    repeats: int = 1,
) -> list[Task]:
    """Every (item, arm, repeat) without an ``ok`` record: repeat by repeat, and within one item by item,
    so a partial run covers every arm and finishes a whole pass over the set before the next repeat."""
    arms = tuple(arms)
    return [
        (item, arm, repeat)
        for repeat in range(repeats)
        for item in evalset.items
        for arm in arms
        if done.get((item.id, arm, repeat), {}).get("status") != "ok"
    ]


class Runner:
    """Sends (item, arm, repeat) tasks with ``concurrency`` workers and appends each result to
    ``responses_path``."""

    def __init__(
        self,
        send: Send,
        responses_path: Path,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._path = responses_path
        self._concurrency = concurrency
        self._policy = policy or RetryPolicy()
        self._clock = clock
        self._stop = threading.Event()
        self.pacer = Pacer(self._stop, clock)
        self._write_lock = threading.Lock()
        self._streaks: dict[str, tuple[tuple[int, str], int]] = {}
        self._stopped: dict[str, dict[str, Any]] = {}

    def run(self, tasks: list[Task], progress: Progress | None = None) -> Outcome:
        """Send every task; KeyboardInterrupt and fatal errors stop new sends and propagate after the
        requests in flight have finished and been written."""
        errors = not_sent = 0
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a", encoding="utf-8") as out, ThreadPoolExecutor(self._concurrency) as pool:
            futures: set[Future[dict[str, Any] | None]] = {
                pool.submit(self._ask, item, arm, repeat, out) for item, arm, repeat in tasks
            }
            try:
                while futures:
                    finished, futures = wait(futures, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in finished:
                        record = future.result()
                        if record is None:
                            not_sent += 1
                            continue
                        errors += record["status"] != "ok"
                        if progress is not None:
                            progress.advance(ok=record["status"] == "ok")
            except BaseException:
                self._stop.set()
                for future in futures:
                    future.cancel()
                raise
        return Outcome(
            sent=len(tasks) - not_sent, errors=errors, stopped=dict(self._stopped), not_sent=not_sent
        )

    def _ask(self, item: Item, arm: str, repeat: int, out: Any) -> dict[str, Any] | None:
        if self._stop.is_set():
            raise Stopped
        if arm in self._stopped:
            return None
        body = ask_body(item.question, arm)
        error: ApiError | None = None
        latency_ms = 0
        attempt = 0
        for attempt in range(1, self._policy.max_attempts + 1):
            if self._stop.is_set():
                raise Stopped
            started = self.pacer.acquire()
            if self._stop.is_set():
                raise Stopped
            try:
                response = self._send(body)
            except ApiError as err:
                latency_ms = round((self._clock() - started) * 1000)
                error = err
                if err.status not in RETRY_STATUSES or attempt == self._policy.max_attempts:
                    break
                if err.status == THROTTLED:
                    self.pacer.throttled()
                delay = parse_retry_after(err.retry_after)
                wait_s = (
                    self._policy.backoff(attempt) if delay is None else min(delay, self._policy.max_backoff_s)
                )
                self.pacer.sleep_until(self._clock() + wait_s)
                continue
            self.pacer.accepted(started)
            latency_ms = round((self._clock() - started) * 1000)
            self._count(arm, None)
            return self._write(out, _record(item, arm, repeat, "ok", attempt, latency_ms, response=response))
        assert error is not None
        failure = {"httpStatus": error.status, "code": error.code, "message": error.api_message}
        self._count(arm, failure)
        return self._write(out, _record(item, arm, repeat, "error", attempt, latency_ms, error=failure))

    def _count(self, arm: str, failure: dict[str, Any] | None) -> None:
        """Track the arm's run of identical client errors; stop the arm when it reaches the limit."""
        with self._write_lock:
            status: int = 0 if failure is None else failure["httpStatus"]
            if failure is None or not 400 <= status < 500 or status == THROTTLED:
                self._streaks.pop(arm, None)
                return
            key = (status, str(failure["code"]))
            previous, count = self._streaks.get(arm, (key, 0))
            count = count + 1 if previous == key else 1
            self._streaks[arm] = (key, count)
            if count >= STOP_AFTER_IDENTICAL and arm not in self._stopped:
                self._stopped[arm] = {**failure, "count": count}

    def _write(self, out: Any, record: dict[str, Any]) -> dict[str, Any]:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._write_lock:
            out.write(line)
            out.flush()
            os.fsync(out.fileno())
        return record


def _record(
    item: Item,
    arm: str,
    repeat: int,
    status: str,
    attempts: int,
    latency_ms: int,
    *,
    response: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return answer_record(
        item.id, arm, repeat, status, attempts, latency_ms, datetime.now(UTC), response=response, error=error
    )
