"""A request's time budget: DEADLINE_MS capped by what Lambda has left, checked before each stage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import constants
from .errors import DeadlineExceeded


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
