"""A request's time budget: DEADLINE_MS capped by what Lambda has left, checked before each stage and
before every attempt (retries included) of an AWS call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from . import constants
from .errors import DeadlineExceeded

# The deadline of the request being served; Lambda runs one request at a time per container.
_CURRENT: ContextVar[Deadline | None] = ContextVar("rag_deadline", default=None)


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

    @contextmanager
    def governing_calls(self) -> Iterator[None]:
        """Makes this the deadline that ``guard_attempts`` hooks check while the block runs."""
        token = _CURRENT.set(self)
        try:
            yield
        finally:
            _CURRENT.reset(token)


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
