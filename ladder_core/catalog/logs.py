"""CloudWatch Logs facts: the retention periods a log group accepts.

Source: CloudWatch Logs API Reference, PutRetentionPolicy, ``retentionInDays``: "Possible values are: 1, 3,
5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, and 3653."
"""

from __future__ import annotations

LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
"""Every retention period, in days, that CloudWatch Logs accepts (never-expire is the absence of one)."""
