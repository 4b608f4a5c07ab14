"""What the RAG API promises its callers and the evaluation scores against: the request modes, the
fixed answer when retrieval finds nothing relevant, and how a model ARN is returned.

The RAG function bundles this module with its asset (``lambdas/rag/constants.py`` re-exports it); the CLI
and the scoring rules import it, so the API and whoever reads its answers cannot drift apart.
"""

from __future__ import annotations

PROMPT = "prompt"
"""No retrieval: the ladder's first rung and the baseline of an evaluation."""
RAG = "rag"
FINETUNED = "finetuned"
FEWSHOT = "fewshot"
"""Retrieval as in ``rag`` plus the operator's uploaded examples nearest to the question as prior turns."""
MODES = (RAG, PROMPT, FINETUNED, FEWSHOT)
DEFAULT_MODE = RAG

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
