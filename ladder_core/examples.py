"""The examples store's contract: what ``ladder examples upload`` writes and what a reader of the store
relies on. Standard library only, so the CLI and a Lambda function share one copy.

- Each example is one chat record (``{"messages": [...]}``, as ``ladder data check`` accepts it) stored as
  one vector in the examples index (S3 Vectors). Its **key** is :func:`vector_key`, the SHA-256 of the
  record's canonical JSON, so the same example always has the same key and re-uploading it writes nothing.
- The vector is the embedding of the record's user turns (:func:`embedding_text`), made with the deployed
  embedding model and dimension (:func:`embedding_request`, :func:`embedding_from_response`).
- Its metadata holds the record itself as compact JSON under :data:`EXAMPLE_METADATA_KEY`, a
  non-filterable key of the index, so one query returns the whole example.
- The manifest, ``examples/manifest.json`` in the documents bucket (:data:`MANIFEST_KEY`), describes the
  set the index holds: ``sha256`` (:func:`set_sha256`), ``count``, ``createdAt``, ``embeddingModelId``,
  ``embeddingDimensions``, ``indexArn`` and, when the upload was checked against an evaluation set,
  ``overlap: {"evalSetSha256", "exact", "near", "ids"}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

MANIFEST_KEY = "examples/manifest.json"
"""Where the manifest lives in the documents bucket (outside any documents prefix the config accepts)."""
EXAMPLE_METADATA_KEY = "example"
"""Non-filterable metadata key holding the example's chat record as compact JSON text."""
NON_FILTERABLE_METADATA_KEYS = (EXAMPLE_METADATA_KEY,)
"""The examples index's non-filterable metadata keys."""
TITAN_V2 = "amazon.titan-embed-text-v2:0"
TITAN_V1 = "amazon.titan-embed-text-v1"
COHERE_MODELS = ("cohere.embed-english-v3", "cohere.embed-multilingual-v3")
COHERE_INPUT_TYPES = {"document": "search_document", "query": "search_query"}
"""Cohere Embed v3 embeds what is stored (``search_document``) and what searches it (``search_query``)
differently; the examples are stored, a question searches them."""


def canonical_json(record: dict[str, Any]) -> str:
    """The record as compact JSON with sorted keys and unescaped text: the same record, the same string."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def vector_key(record: dict[str, Any]) -> str:
    """The example's vector key: the SHA-256 (hex) of its canonical JSON."""
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()


def set_sha256(keys: Iterable[str]) -> str:
    """The SHA-256 of a set of examples: of their keys, sorted, one per line. Independent of file order."""
    return hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()


def embedding_text(record: dict[str, Any]) -> str:
    """What is embedded for an example: its user turns, in order, separated by a blank line."""
    return "\n\n".join(message["content"] for message in record["messages"] if message.get("role") == "user")


def embedding_request(
    model_id: str, text: str, dimensions: int, *, purpose: str = "document"
) -> dict[str, Any]:
    """The InvokeModel body that embeds ``text`` with ``model_id`` at ``dimensions``.

    ``purpose`` is ``document`` (an example being stored) or ``query`` (a question searching them); only
    Cohere's models embed the two differently.
    """
    if model_id == TITAN_V2:
        return {"inputText": text, "dimensions": dimensions, "normalize": True}
    if model_id == TITAN_V1:
        return {"inputText": text}
    if model_id in COHERE_MODELS:
        # A text longer than the model accepts is cut at its end rather than refused.
        return {"texts": [text], "input_type": COHERE_INPUT_TYPES[purpose], "truncate": "END"}
    raise ValueError(f"no embedding request shape for {model_id}")


def embedding_from_response(model_id: str, payload: dict[str, Any]) -> list[float]:
    """The vector in an InvokeModel answer of ``model_id``: Titan's ``embedding``, Cohere's first of
    ``embeddings``."""
    if model_id in COHERE_MODELS:
        return [float(value) for value in payload["embeddings"][0]]
    return [float(value) for value in payload["embedding"]]


def metadata(record: dict[str, Any]) -> dict[str, str]:
    """The example's vector metadata: the record as compact JSON under :data:`EXAMPLE_METADATA_KEY`."""
    return {EXAMPLE_METADATA_KEY: canonical_json(record)}


def metadata_bytes(record: dict[str, Any]) -> int:
    """Size of :func:`metadata` as S3 Vectors counts it, approximated by its UTF-8 JSON encoding."""
    return len(json.dumps(metadata(record), ensure_ascii=False).encode("utf-8"))
