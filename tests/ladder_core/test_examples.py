"""The examples store's contract: keys from content, the set's hash, what is embedded and how."""

from __future__ import annotations

import json

import pytest

from ladder_core import examples
from ladder_core.catalog.bedrock import EMBEDDING_MODELS
from ladder_core.catalog.s3vectors import KEY_MAX_CHARS, NON_FILTERABLE_KEYS_MAX

RECORD = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Wie setze ich Messgerät 3 zurück?"},
        {"role": "assistant", "content": "Knopf fünf Sekunden halten."},
        {"role": "user", "content": "Und danach?"},
        {"role": "assistant", "content": "Warten, bis es blinkt."},
    ]
}


def test_the_key_follows_the_content_and_fits_the_api() -> None:
    same = json.loads(json.dumps(RECORD))
    changed = json.loads(json.dumps(RECORD))
    changed["messages"][2]["content"] = "Knopf zehn Sekunden halten."
    assert examples.vector_key(same) == examples.vector_key(RECORD)
    assert examples.vector_key(changed) != examples.vector_key(RECORD)
    assert len(examples.vector_key(RECORD)) <= KEY_MAX_CHARS


def test_the_set_hash_ignores_order_and_changes_with_membership() -> None:
    assert examples.set_sha256(["b", "a"]) == examples.set_sha256(["a", "b"])
    assert examples.set_sha256(["a", "b"]) != examples.set_sha256(["a"])


def test_the_user_turns_are_embedded_and_the_whole_record_is_the_metadata() -> None:
    assert examples.embedding_text(RECORD) == "Wie setze ich Messgerät 3 zurück?\n\nUnd danach?"
    metadata = examples.metadata(RECORD)
    assert list(metadata) == list(examples.NON_FILTERABLE_METADATA_KEYS)
    assert json.loads(metadata[examples.EXAMPLE_METADATA_KEY]) == RECORD
    # The text is stored unescaped, so the byte count is what S3 Vectors counts.
    assert "Messgerät" in metadata[examples.EXAMPLE_METADATA_KEY]
    assert len(examples.NON_FILTERABLE_METADATA_KEYS) <= NON_FILTERABLE_KEYS_MAX


def test_titan_v2_is_asked_for_the_configured_dimension_normalised() -> None:
    """Amazon Bedrock user guide, "Amazon Titan Embeddings G1 - Text", V2 request: ``{"inputText": string,
    "dimensions": int, "normalize": boolean}``; V2 response: "embedding - An array that represents the
    embedding vector", "inputTextTokenCount - The number of tokens in the input"."""
    body = examples.embedding_request("amazon.titan-embed-text-v2:0", "hi", 512)
    assert body == {"inputText": "hi", "dimensions": 512, "normalize": True}
    vector = examples.embedding_from_response(
        "amazon.titan-embed-text-v2:0", {"embedding": [0.5, 1], "inputTextTokenCount": 1}
    )
    assert vector == [0.5, 1.0]


def test_titan_v1_takes_only_the_text() -> None:
    """Same page, G1 request: "The only available field is inputText"; G1 response ``{"embedding": [...],
    "inputTextTokenCount": int}``."""
    assert examples.embedding_request("amazon.titan-embed-text-v1", "hi", 1536) == {"inputText": "hi"}


def test_cohere_embeds_stored_examples_as_documents_and_questions_as_queries() -> None:
    """Amazon Bedrock user guide, "Cohere Embed v3": request ``{"input_type": "search_document|
    search_query|...", "texts": [string], "truncate": "NONE|START|END"}``; "embed your corpus with the
    search_document type and embedded queries with search_query type"."""
    model = "cohere.embed-english-v3"
    stored = examples.embedding_request(model, "hi", 1024, purpose="document")
    asked = examples.embedding_request(model, "hi", 1024, purpose="query")
    assert stored == {"texts": ["hi"], "input_type": "search_document", "truncate": "END"}
    assert asked["input_type"] == "search_query"
    assert examples.embedding_from_response(model, {"embeddings": [[0.25, 0.5]], "id": "x"}) == [0.25, 0.5]


@pytest.mark.parametrize("model", sorted(EMBEDDING_MODELS))
def test_every_embedding_model_a_deployment_can_have_has_a_request_shape(model: str) -> None:
    assert examples.embedding_request(model, "text", EMBEDDING_MODELS[model][-1])


def test_the_manifest_key_is_outside_the_default_documents_prefix() -> None:
    assert examples.MANIFEST_KEY == "examples/manifest.json"
    assert not examples.MANIFEST_KEY.startswith("docs/")
