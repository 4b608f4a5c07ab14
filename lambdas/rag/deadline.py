"""A request's time budget: DEADLINE_MS capped by what Lambda has left, checked before each stage and
before every attempt (retries included) of an AWS call, and bounding how long the caller waits for a call
that is already running."""

from __future__ import annotations

import concurrent.futures
import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from . import constants
from .errors import DeadlineExceeded

# The deadline of the request being served; Lambda runs one request at a time per container.
_CURRENT: ContextVar[Deadline | None] = ContextVar("rag_deadline", default=None)
# Runs AWS calls so the request can stop waiting for one at its deadline. A call given up on finishes (or
# fails its next attempt on the expired deadline) in the background and its result is dropped.
_CALLS = concurrent.futures.ThreadPoolExecutor(
    max_workers=constants.BOUNDED_CALL_WORKERS, thread_name_prefix="rag-call"
)
T = TypeVar("T")


@dataclass(frozen=True)
class Deadline:
    """When the request must be done, on ``clock`` (seconds, monotonic)."""

    clock: Callable[[], float]
    expires_at: float

    @classmethod
    def start(cls, clock: Callable[[], float], budget_ms: int, lambda_remaining_ms: int | None) -> Deadline:
        if lambda_remaining_ms is not None:
            budget_ms = min(budget_ms, lambda_remaining_ms - constants.LAMBDA_SAFETY_MARGIN_MS)
        return cls(clock=clock, expires_at=clock() + budget_ms / 1_000)

    def remaining_ms(self) -> int:
        return int((self.expires_at - self.clock()) * 1_000)

    def require(self, stage: str, needed_ms: int) -> None:
        """Raises DeadlineExceeded when less than ``needed_ms`` remain before ``stage`` starts."""
        if self.remaining_ms() < needed_ms:
            raise DeadlineExceeded(
                f"The request ran out of time before the {stage} step; try again, or ask a shorter question",
                retry_after_s=constants.RETRY_AFTER_DEADLINE_S,
            )

    def run(self, stage: str, call: Callable[[], T]) -> T:
        """Runs ``call`` (an AWS call) but waits for it only until the deadline, whatever the service does:
        a response that trickles in never trips the client's read timeout, so that timeout alone cannot
        bound a call. Raises DeadlineExceeded when the time is up; exceptions of ``call`` propagate."""
        future = _CALLS.submit(contextvars.copy_context().run, call)
        try:
            return future.result(timeout=max(0.0, self.remaining_ms() / 1_000))
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise DeadlineExceeded(
                f"The {stage} step did not finish in the time left; try again, or ask a shorter question",
                retry_after_s=constants.RETRY_AFTER_DEADLINE_S,
            ) from None

    @contextmanager
    def governing_calls(self) -> Iterator[None]:
        """Makes this the deadline that ``guard_attempts`` hooks check while the block runs."""
        token = _CURRENT.set(self)
        try:
            yield
        finally:
            _CURRENT.reset(token)


def within_deadline(stage: str, call: Callable[[], T]) -> T:
    """``call`` bounded by the deadline of the request being served (unbounded outside a request)."""
    deadline = _CURRENT.get()
    return call() if deadline is None else deadline.run(stage, call)


def guard_attempts(client: Any, operations: dict[str, tuple[str, int]]) -> None:
    """Checks the current deadline before each HTTP attempt of ``operations`` (name -> stage, needed ms).

    botocore's standard retries would otherwise start a new attempt (up to connect + read timeout long)
    after the deadline has passed, and Lambda's own timeout would end the request without an answer.
    """
    service = client.meta.service_model.service_id.hyphenize()
    for operation, (stage, needed_ms) in operations.items():
        client.meta.events.register(
            f"before-send.{service}.{operation}",
            _attempt_check(stage, needed_ms),
            unique_id=f"rag-deadline-{service}-{operation}",
        )


def _attempt_check(stage: str, needed_ms: int) -> Callable[..., None]:
    def check(**_: Any) -> None:
        deadline = _CURRENT.get()
        if deadline is not None:
            deadline.require(stage, needed_ms)

    return check
