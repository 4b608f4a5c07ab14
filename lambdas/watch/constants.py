"""Names and limits of the drift watch function."""

from __future__ import annotations

ACTIONS = ("arms", "report")
PURPOSE = "watch"
"""The evaluation state machine's ``purpose`` for a scheduled run (its runs are ``<time>-watch``)."""
METRICS_PER_CALL = 1000
"""PutMetricData (CloudWatch API Reference): "Each request is also limited to no more than 1000 different
metrics"."""
SUBJECT_MAX_CHARS = 99
"""SNS Publish: "Subjects must be UTF-8 text with no line breaks or control characters, and less than 100
characters long"."""
