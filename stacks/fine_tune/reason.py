"""Records on the fine-tune stack why it exists: template metadata, the stack description and a tag."""

from __future__ import annotations

import aws_cdk as cdk

from stacks.fine_tune.verdict import REASON_METADATA_KEY, REASON_TAG_KEY, FineTuneReason, tag_value

DESCRIPTION_MAX_BYTES = 1024
"""CloudFormation's limit on a template's Description."""


def record_reason(stack: cdk.Stack, reason: FineTuneReason) -> None:
    """Metadata ``Ladder::FineTuneReason`` (the whole record), the reason appended to the description
    (what the console shows first) and the ``ladder:fine-tune-reason`` tag (sanitised, 256 chars)."""
    stack.add_metadata(REASON_METADATA_KEY, reason.to_metadata())
    description = f"{stack.template_options.description or ''} (why: {reason.summary()})".strip()
    stack.template_options.description = _truncate_utf8(description, DESCRIPTION_MAX_BYTES)
    cdk.Tags.of(stack).add(REASON_TAG_KEY, tag_value(reason.summary()))


def _truncate_utf8(text: str, max_bytes: int) -> str:
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    ending = "...)"
    cut = text.encode("utf-8")[: max_bytes - len(ending)].decode("utf-8", errors="ignore")
    return cut.rstrip() + ending
