"""Step Functions task of the evaluation state machine: plan a run, answer one chunk, summarise.

Handler string in AWS: ``evaluate.handler.handler``. The asset holds ``evaluate/`` and, next to it, the
``ladder_core`` modules of the evaluation engine (the set's format, scoring, ``summary.json``, prices), the
same files ``ladder eval`` uses. Environment: ``BUCKET``, ``RAG_FUNCTION``, ``RAG_TIMEOUT_S``,
``EXAMPLES_MANIFEST_BUCKET``, ``EMBEDDING_MODEL_ID``, ``RERANK_MODEL_ID``, ``VECTOR_STORE``,
``RAG_MEMORY_MB``, ``IMPORTED_MODEL_ARN_PREFIX`` (see settings.py).

Input, by ``action``:
- ``{"action": "plan", "input": <the execution's input>, "executionName": "..."}``: checks the input and
  the staged set, writes ``runs/<runId>/run.json`` and ``evalset.jsonl``; returns ``{"runId", "bucket",
  "prefix", "arms", "candidateModelArn", "chunks": [{"chunk", "start", "stop"}], "chunkCount"}``. A bad
  input or set raises ``InvalidInput``.
- ``{"action": "answer", "runId", "arms", "candidateModelArn", "chunk": {"chunk", "start", "stop"}}``:
  answers the chunk's items in every arm through the RAG function's direct invocation and writes
  ``runs/<runId>/parts/<chunk>.jsonl``; ``RagFunctionUnavailable`` when the function cannot be invoked.
- ``{"action": "summarise", "runId", "chunkCount"}``: writes ``responses.jsonl``, ``scores.jsonl`` and
  ``summary.json`` (and, when a ``finetuned`` arm was answered by an imported model, that model's Custom
  Model Units as ``imported-model.json``, which price the arm); returns ``{"runId", "bucket", "prefix",
  "arms", "summary": {"arms", "differences"}}``.
  ``RunIncomplete`` when a chunk's answers are missing.
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import clients, constants, runs
from .runs import InvalidInput, RagFunctionUnavailable, RunIncomplete
from .settings import Settings, load_settings

__all__ = ["InvalidInput", "RagFunctionUnavailable", "RunIncomplete", "handler"]

logger = Logger()


@functools.cache
def container_settings() -> Settings:
    """The settings, read from the environment once per container (its first invocation); a bad variable
    fails each invocation the same way, naming it, before any AWS call."""
    return load_settings(os.environ)


def run(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Dispatch on ``action``; InvalidInput for an action not known."""
    action = event.get("action") if isinstance(event, dict) else None
    if action == constants.PLAN:
        return runs.plan(clients.s3_client(), settings, event, datetime.now(UTC))
    if action == constants.ANSWER:
        return runs.answer(
            clients.s3_client(), clients.lambda_client(settings.rag_timeout_s), settings, event
        )
    if action == constants.SUMMARISE:
        bedrock = clients.bedrock_client() if settings.imported_model_arn_prefix else None
        return runs.summarise_run(clients.s3_client(), settings, event, bedrock=bedrock)
    raise InvalidInput(f"action {action!r}: expected one of {', '.join(constants.ACTIONS)}")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = run(event, container_settings())
    logger.info(
        "Evaluation step done",
        extra={"action": event.get("action"), "runId": result.get("runId"), "chunk": result.get("chunk")},
    )
    return result
