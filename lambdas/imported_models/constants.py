"""Names and limits of the imported-models housekeeping function."""

from __future__ import annotations

PIPELINE_TAG = "ladder:pipeline"
"""Tag the import step puts on each model, valued with the state machine's name."""
QUOTA_SERVICE_CODE = "bedrock"
QUOTA_NAME_PATTERN = r"imported models"
"""How the Custom Model Import quota is found among Bedrock's quotas (codes are not documented)."""
ACTIONS = ("ensure_capacity", "prune")
AWS_MAX_ATTEMPTS = 5
