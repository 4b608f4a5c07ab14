"""The promotion gate: decide on the evaluated candidate with the staged verdict, tag the model with its
numbers, and say whether the pipeline publishes it.

The decision itself is :func:`ladder_core.promotion.decide` (bundled with this function), the same code
``ladder finetune start`` uses to pick the arm the candidate must beat.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ladder_core import promotion

SUMMARY_FILE = "summary.json"


class GateInputError(ValueError):
    """The gate's input lacks what it needs (Step Functions error name): nothing is published."""


def evaluate_gate(s3: Any, bedrock: Any, event: Mapping[str, Any]) -> dict[str, Any]:
    """Read the staged verdict, decide on the evaluation's summary, tag the model; the decision with
    ``runId`` and ``summary`` (where the candidate's full summary is kept)."""
    model_arn, verdict, evaluation = event.get("modelArn"), event.get("verdict"), event.get("evaluation")
    if (
        not isinstance(model_arn, str)
        or not isinstance(verdict, Mapping)
        or not isinstance(evaluation, Mapping)
        or not isinstance(verdict.get("bucket"), str)
        or not isinstance(verdict.get("key"), str)
    ):
        raise GateInputError(
            "expected {'modelArn': str, 'verdict': {'bucket', 'key'}, 'evaluation': the evaluation state "
            f"machine's output}}, got keys {sorted(event)}"
        )
    document = json.loads(s3.get_object(Bucket=verdict["bucket"], Key=verdict["key"])["Body"].read())
    summary = evaluation.get("summary")
    result = promotion.decide(summary if isinstance(summary, Mapping) else {}, document)
    bedrock.tag_resource(resourceARN=model_arn, tags=promotion.model_tags(result))
    kept = f"s3://{evaluation.get('bucket')}/{evaluation.get('prefix')}{SUMMARY_FILE}"
    return {**result.to_json(), "gate": "measured", "runId": evaluation.get("runId"), "summary": kept}
