"""The attributes of Lambda's context object that Powertools and the handlers read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    remaining_ms: int
    function_version: str = "$LATEST"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms
