"""Tag values every Ladder tag writer shares (the stacks' reason tag, the promotion gate's model tags).

Bedrock's ``Tag`` value: "Length Constraints: Minimum length of 0. Maximum length of 256. Pattern:
``([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)``" (Amazon Bedrock API Reference, Tag); other services accept no more than
ASCII, so only ASCII letters and digits are kept.
"""

from __future__ import annotations

PIPELINE_TAG = "ladder:pipeline"
"""Tag the fine-tune pipeline's import step puts on each imported model, valued with the state machine's
name: what the housekeeping function may delete and ``ladder finetune promote`` may publish."""
TAG_VALUE_MAX_CHARS = 256
TAG_VALUE_PUNCTUATION = " _.:/=+-@"


def tag_value(text: str) -> str:
    """``text`` fit for a tag value: ASCII letters, digits, spaces and ``_ . : / = + - @`` only (anything
    else becomes a space, runs of spaces one), at most 256 characters."""
    kept = "".join(c if (c.isascii() and c.isalnum()) or c in TAG_VALUE_PUNCTUATION else " " for c in text)
    return " ".join(kept.split())[:TAG_VALUE_MAX_CHARS].strip()
