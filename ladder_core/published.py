"""The published fine-tuned model: what its SSM parameter (``fineTuneModelParameter``) may hold.

The pipeline writes the imported model's ARN on each publish; no stack owns the parameter, so before the
first publish it does not exist (earlier fine-tune stacks created it holding :data:`NO_MODEL_VALUE`).
Every reader (the RAG function, the drift watch, the pipeline's housekeeping, the CLI) reads it by
:func:`model_arn`. Standard library only: :func:`read_published` takes a boto3 SSM client.
"""

from __future__ import annotations

from typing import Any

NO_MODEL_VALUE = "none"
"""The value that says no model is published."""


def model_arn(value: str | None) -> str | None:
    """The published model's ARN in a parameter ``value``; None for no value, :data:`NO_MODEL_VALUE` or
    anything that is not an ARN (nothing the pipeline writes)."""
    text = (value or "").strip()
    return text if text.startswith("arn:") else None


def read_published(ssm: Any, name: str) -> str | None:
    """The published model's ARN in parameter ``name`` (:func:`model_arn`); None while the parameter does not
    exist. Other errors propagate."""
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
    return model_arn(str(value))
