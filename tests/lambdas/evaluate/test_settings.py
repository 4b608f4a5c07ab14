"""The evaluation function's settings: every variable read, a bad one named."""

from __future__ import annotations

import pytest

from lambdas.evaluate.settings import SettingsError, load_settings

ENVIRON = {
    "BUCKET": "b",
    "RAG_FUNCTION": "f",
    "RAG_TIMEOUT_S": "28",
    "EMBEDDING_MODEL_ID": "amazon.titan-embed-text-v2:0",
    "RERANK_MODEL_ID": "",
    "VECTOR_STORE": "s3vectors",
    "RAG_MEMORY_MB": "512",
}


def test_settings_carry_the_deployment_the_costs_depend_on() -> None:
    settings = load_settings(ENVIRON)
    assert (settings.bucket, settings.rag_function, settings.rag_timeout_s) == ("b", "f", 28)
    assert settings.deployment.vector_store == "s3vectors" and settings.deployment.memory_mb == 512
    assert settings.deployment.rerank_model_id == ""
    assert settings.examples_manifest_bucket is None
    assert load_settings({**ENVIRON, "EXAMPLES_MANIFEST_BUCKET": "docs"}).examples_manifest_bucket == "docs"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("BUCKET", ""), ("RAG_TIMEOUT_S", "0"), ("VECTOR_STORE", "pinecone"), ("RAG_MEMORY_MB", "lots")],
)
def test_a_bad_variable_is_named(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"environment variable {variable} is"):
        load_settings({**ENVIRON, variable: value})
