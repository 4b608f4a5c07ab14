"""What the RAG API promises its callers and the evaluation scores against: the request modes, the
fixed answer when retrieval finds nothing relevant, and how a model ARN is returned.

The RAG function bundles this module with its asset (``lambdas/rag/constants.py`` re-exports it); the CLI
and the scoring rules import it, so the API and whoever reads its answers cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

PROMPT = "prompt"
"""No retrieval: the ladder's first rung and the baseline of an evaluation."""
RAG = "rag"
FINETUNED = "finetuned"
FEWSHOT = "fewshot"
"""Retrieval as in ``rag`` plus the operator's uploaded examples nearest to the question as prior turns."""
MODES = (RAG, PROMPT, FINETUNED, FEWSHOT)
DEFAULT_MODE = RAG
ARM_SEPARATOR = "@"
MODEL_MODES = (PROMPT, RAG, FEWSHOT)
"""The modes that may name another generation model: ``finetuned`` answers with its own model."""


@dataclass(frozen=True)
class Arm:
    """An evaluation arm: a mode, answered by the configured generation model or by ``model_id``."""

    mode: str
    model_id: str | None = None

    @property
    def name(self) -> str:
        """The arm as written: ``rag`` or ``rag@us.amazon.nova-pro-v1:0``; run folders key arms by it."""
        return self.mode if self.model_id is None else f"{self.mode}{ARM_SEPARATOR}{self.model_id}"


def parse_arm(text: str) -> Arm:
    """``MODE`` or ``MODE@MODEL_ID`` (the model id itself may contain ``:``); ValueError names the forms
    accepted."""
    mode, separator, model_id = text.strip().partition(ARM_SEPARATOR)
    accepted = (
        f"an arm is MODE or MODE{ARM_SEPARATOR}MODEL_ID, MODE one of {', '.join(MODES)}; "
        f"only {', '.join(MODEL_MODES)} may name a model"
    )
    if mode not in MODES:
        raise ValueError(f"{text!r}: unknown mode {mode!r}; {accepted}")
    if not separator:
        return Arm(mode)
    if mode not in MODEL_MODES:
        raise ValueError(f"{text!r}: the {mode} arm answers with its own model; {accepted}")
    if not model_id or any(character.isspace() for character in model_id):
        raise ValueError(f"{text!r}: the model id after {ARM_SEPARATOR!r} is empty or has spaces; {accepted}")
    return Arm(mode, model_id)


NO_CONTEXT_ANSWER = (
    "I could not find the answer to that question in the documents, so I cannot answer it from them."
)
"""The answer the API gives instead of calling the model when no passage is relevant enough."""


def public_model_id(model_id: str) -> str:
    """A model id fit to return: an ARN loses its partition, region and account (``imported-model/abc``)."""
    if model_id.startswith("arn:"):
        parts = model_id.split(":", 5)
        return parts[5] if len(parts) == 6 else "redacted"
    return model_id


INCLUDE_PASSAGES = "passages"
"""The ``include`` value that makes the API return each citation's full passage as ``text``."""
