"""The ``fewshot`` mode's examples: the manifest of the uploaded set, the examples nearest to a question
(S3 Vectors ``QueryVectors`` on the question's embedding), and their turns as prior Converse messages.

What the store holds is ``ladder_core/examples.py``'s contract, the one ``ladder examples upload`` writes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ladder_core.examples import (
    EXAMPLE_METADATA_KEY,
    MANIFEST_KEY,
    embedding_from_response,
    embedding_request,
)

from . import constants
from .deadline import within_deadline
from .errors import ExamplesNotUploaded, InvalidRequest
from .observability import logger
from .settings import Settings
from .upstream import upstream_call

UPLOAD_HINT = (
    "upload them with `ladder examples upload FILE` (chat records, one JSON object a line), or use mode 'rag'"
)
# S3 answers GetObject of a missing key with 404 NoSuchKey, or with 403 AccessDenied to a caller that may not
# list the bucket; this function may read only the manifest's key, so both mean "no manifest here".
_MISSING_MANIFEST_CODES = frozenset({"NoSuchKey", "404", "NotFound", "AccessDenied", "403"})


def not_enabled(modes: Sequence[str]) -> InvalidRequest:
    """The 400 of a ``fewshot`` request to a deployment without an examples store, naming the modes it has."""
    accepted = ", ".join(f'"{mode}"' for mode in modes if mode != constants.FEWSHOT)
    return InvalidRequest(
        "mode: 'fewshot' is not available: this deployment has no few-shot examples store "
        f"(deployed with fewShot=false); accepted modes: {accepted}"
    )


@dataclass(frozen=True)
class Example:
    """One uploaded example returned for a question: its vector key, similarity and chat turns."""

    key: str
    score: float
    """1 - the cosine distance S3 Vectors returned: 1 for the same direction, 0 for orthogonal."""
    turns: list[dict[str, Any]]
    """The record's user and assistant messages as Converse messages (its system message is left out)."""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.key, "score": self.score}


class ManifestCache:
    """``examples/manifest.json`` of the documents bucket, cached for ``ttl_s``; a missing one as None."""

    def __init__(
        self, s3: Any, bucket: str, ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._ttl_s = ttl_s
        self._clock = clock
        self._cached: tuple[float, dict[str, Any] | None] | None = None

    def get(self) -> dict[str, Any] | None:
        now = self._clock()
        if self._cached is not None and now < self._cached[0]:
            return self._cached[1]
        with upstream_call("examples"):
            manifest = within_deadline("examples", self._read)
        self._cached = (now + self._ttl_s, manifest)
        return manifest

    def _read(self) -> dict[str, Any] | None:
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=MANIFEST_KEY)["Body"].read()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code in _MISSING_MANIFEST_CODES:
                # Logged so that a role that lost s3:GetObject on the manifest can be told from no upload.
                logger.info("no examples manifest", extra={"bucket": self._bucket, "error_code": code})
                return None
            raise
        try:
            manifest = json.loads(body)
        except ValueError:
            logger.warning("examples manifest is not JSON", extra={"key": MANIFEST_KEY})
            return None
        return manifest if isinstance(manifest, dict) and isinstance(manifest.get("sha256"), str) else None


def uploaded_set(manifest: Mapping[str, Any] | None, settings: Settings) -> str:
    """The manifest's ``sha256``; ExamplesNotUploaded when there is none, or it describes another index
    (a redeploy that replaced the index, another embedding model) or an empty set."""
    if manifest is None:
        raise ExamplesNotUploaded(
            f"mode: 'fewshot' has no examples to show: none are uploaded; {UPLOAD_HINT}"
        )
    index_arn = manifest.get("indexArn")
    if (index_arn is not None and index_arn != settings.examples_index_arn) or manifest.get("count") == 0:
        raise ExamplesNotUploaded(
            "mode: 'fewshot' has no examples to show: the uploaded set is empty or belongs to an index this "
            f"deployment no longer uses; {UPLOAD_HINT}"
        )
    return str(manifest["sha256"])


def nearest_examples(
    bedrock_runtime: Any, s3vectors: Any, settings: Settings, question: str
) -> list[Example]:
    """The ``few_shot_k`` examples nearest to ``question``, nearest first: the question embedded as a query
    with the deployment's embedding model (InvokeModel), then ``QueryVectors`` with metadata and distances.
    ExamplesNotUploaded when the index returns none."""
    model_id, dimensions = settings.embedding_model_id, settings.embedding_dimensions
    if model_id is None or dimensions is None or settings.examples_index_arn is None:
        raise ValueError("nearest_examples needs the few-shot settings")
    body = embedding_request(model_id, question, dimensions, purpose="query")

    def embed() -> bytes:
        response = bedrock_runtime.invoke_model(
            modelId=model_id,
            body=json.dumps(body).encode("utf-8"),
            contentType="application/json",
            accept="application/json",
        )
        return bytes(response["body"].read())

    with upstream_call("examples"):
        vector = embedding_from_response(model_id, json.loads(within_deadline("examples", embed)))
        response = within_deadline(
            "examples",
            lambda: s3vectors.query_vectors(
                indexArn=settings.examples_index_arn,
                topK=settings.few_shot_k,
                queryVector={"float32": vector},
                returnMetadata=True,
                returnDistance=True,
            ),
        )
    examples = [example for item in response.get("vectors", []) if (example := _example(item)) is not None]
    if not examples:
        raise ExamplesNotUploaded(
            f"mode: 'fewshot' has no examples to show: the examples index holds none; {UPLOAD_HINT}"
        )
    return examples


def _example(item: Mapping[str, Any]) -> Example | None:
    key = str(item.get("key", ""))
    metadata = item.get("metadata") or {}
    try:
        record = json.loads(metadata[EXAMPLE_METADATA_KEY])
        turns = converse_turns(record["messages"])
    except (KeyError, TypeError, ValueError):
        # Written by something other than `ladder examples upload`: shown to nobody, reported to the operator.
        logger.warning("unusable example in the examples index", extra={"key": key})
        return None
    distance = item.get("distance")
    score = round(1.0 - float(distance), 6) if isinstance(distance, int | float) else 0.0
    return Example(key=key, score=score, turns=turns)


def converse_turns(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A record's user and assistant messages as Converse messages. Converse needs turns that alternate and
    open with the user; an example must also close with the assistant so the question's turn follows it.
    Anything else raises ValueError."""
    turns = [
        {"role": message["role"], "content": [{"text": str(message["content"])}]}
        for message in messages
        if message.get("role") != "system"
    ]
    roles = [turn["role"] for turn in turns]
    expected = ["user", "assistant"] * (len(roles) // 2)
    if not roles or roles != expected:
        raise ValueError("an example's turns must alternate user, assistant and end with the assistant")
    return turns


def prior_turns(examples: Sequence[Example]) -> list[dict[str, Any]]:
    """The examples' turns in the order the model reads them: the nearest example last, next to the
    question it resembles most."""
    return [turn for example in reversed(examples) for turn in example.turns]
