"""Names and limits of the imported-models housekeeping function."""

from __future__ import annotations

from ladder_core.promotion import PROMOTION_TAG as PROMOTION_TAG
from ladder_core.promotion import REJECTED as REJECTED
from ladder_core.tags import PIPELINE_TAG as PIPELINE_TAG

QUOTA_SERVICE_CODE = "bedrock"
QUOTA_CODE = "L-45B04988"
"""Amazon Bedrock's "Imported models per account" in Service Quotas (Bedrock endpoints and quotas, AWS
General Reference: default 3 per supported Region). Read by code: ListServiceQuotas omits quotas with no
applied value."""
GATE_ACTION = "gate"
"""Decide on an evaluated candidate (lambdas/imported_models/gate.py); its input carries more keys."""
ACTIONS = ("ensure_capacity", "prune", GATE_ACTION)
