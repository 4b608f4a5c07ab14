"""Finds the fine-tuned model's ARN, which the fine-tune stack publishes in an SSM parameter."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from . import constants
from .errors import FineTunedModelUnavailable
from .upstream import upstream_call

_NOT_ENABLED = (
    "mode: 'finetuned' is not available: fine-tuning is not enabled in this deployment; "
    "use mode 'rag' or 'prompt'"
)
_NOT_PUBLISHED = (
    "mode: 'finetuned' is not available yet: no fine-tuned model has been published; "
    "use mode 'rag' or 'prompt'"
)


class ParameterCache:
    """SSM String parameters cached for ``ttl_s``; a missing parameter is cached as None."""

    def __init__(self, ssm: Any, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ssm = ssm
        self._ttl_s = ttl_s
        self._clock = clock
        self._values: dict[str, tuple[float, str | None]] = {}

    def get(self, name: str) -> str | None:
        now = self._clock()
        cached = self._values.get(name)
        if cached is not None and now < cached[0]:
            return cached[1]
        try:
            with upstream_call("parameter"):
                try:
                    value: str | None = self._ssm.get_parameter(Name=name)["Parameter"]["Value"]
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "ParameterNotFound":
                        raise
                    value = None
        except Exception:
            # A stale ARN still names a model that worked; prefer it to failing the request.
            if cached is not None:
                return cached[1]
            raise
        self._values[name] = (now + self._ttl_s, value)
        return value


def resolve_finetuned_model(cache: ParameterCache, parameter_name: str | None) -> str:
    """The imported model's ARN; FineTunedModelUnavailable when none is deployed or published."""
    if parameter_name is None:
        raise FineTunedModelUnavailable(_NOT_ENABLED)
    value = cache.get(parameter_name)
    if value is None or value.strip() in ("", constants.FINETUNED_PLACEHOLDER_VALUE):
        raise FineTunedModelUnavailable(_NOT_PUBLISHED)
    return value.strip()
