"""RAG API stack: the fewshot mode's configuration and permissions, exactly the examples store and no more."""

from __future__ import annotations

import json
from typing import Any

from lambdas.rag.settings import load_settings
from tests.stacks.rag.templates import rag, rag_function, role_statements
from tests.support.synth import Synthesized

FEW_SHOT_SIDS = ("QueryExamplesIndex", "ReadExamplesManifest", "EmbedQuestionForExamples")


def _environment(template: dict[str, Any]) -> dict[str, Any]:
    return rag_function(template)[1]["Properties"]["Environment"]["Variables"]


def test_function_is_told_the_examples_index_manifest_bucket_k_and_embedding(synth) -> None:
    # Given a deployment with a non-default fewShotK
    synthesized = synth({"fewShotK": "6"})
    env = _environment(rag(synthesized))
    # Then the function reads the knowledge stack's examples index and documents bucket
    assert "ExamplesVectors" in json.dumps(env["EXAMPLES_INDEX_ARN"])
    assert "DocumentsBucket" in json.dumps(env["EXAMPLES_MANIFEST_BUCKET"])
    assert env["FEW_SHOT_K"] == "6"
    assert env["EMBEDDING_MODEL_ID"] == "amazon.titan-embed-text-v2:0"
    assert env["EMBEDDING_DIMENSIONS"] == "1024"
    # And the function's settings accept them once CloudFormation fills in the references
    placeholders = {
        "KNOWLEDGE_BASE_ID": "KB12345678",
        "GUARDRAIL_ID": "gr12345678",
        "GUARDRAIL_VERSION": "1",
        "EXAMPLES_INDEX_ARN": "arn:aws:s3vectors:us-east-1:123456789012:bucket/b/index/ladder-examples-1",
        "EXAMPLES_MANIFEST_BUCKET": "ladder-documents",
    }
    settings = load_settings({k: v if isinstance(v, str) else placeholders[k] for k, v in env.items()})
    assert settings.few_shot and settings.few_shot_k == 6


def test_without_the_store_the_function_has_no_fewshot_settings_or_access(synth) -> None:
    # Given -c fewShot=false
    template = rag(synth({"fewShot": "false"}))
    env = _environment(template)
    # Then the function's examples index is empty (its fewshot mode answers 400) and the role has no access
    assert env["EXAMPLES_INDEX_ARN"] == "" and env["EXAMPLES_MANIFEST_BUCKET"] == ""
    statements = role_statements(template, rag_function(template)[1])
    assert not set(FEW_SHOT_SIDS) & set(statements)
    placeholders = {"KNOWLEDGE_BASE_ID": "KB12345678", "GUARDRAIL_ID": "gr12345678", "GUARDRAIL_VERSION": "1"}
    settings = load_settings({k: v if isinstance(v, str) else placeholders[k] for k, v in env.items()})
    assert not settings.few_shot


def test_role_may_query_only_the_examples_index_and_read_only_the_manifest(sandbox: Synthesized) -> None:
    """botocore's s3vectors model, QueryVectors: "To use queryTexts, a metadata filter, or returnMetadata set
    to true with this operation, you must have both the s3vectors:QueryVectors and s3vectors:GetVectors
    permissions." The function asks with returnMetadata true (the example travels in the metadata)."""
    template = rag(sandbox)
    statements = role_statements(template, rag_function(template)[1])
    query = statements["QueryExamplesIndex"]
    assert sorted(query["Action"]) == ["s3vectors:GetVectors", "s3vectors:QueryVectors"]
    # the examples index's ARN itself, from the knowledge stack: no bucket-wide or * resource
    assert "ExamplesVectorsVectorIndex" in json.dumps(query["Resource"])
    assert "IndexArn" in json.dumps(query["Resource"])
    manifest = statements["ReadExamplesManifest"]
    assert manifest["Action"] == "s3:GetObject"
    parts = manifest["Resource"]["Fn::Join"][1]
    assert parts[-1] == "/examples/manifest.json"
    assert "DocumentsBucket" in json.dumps(parts[-2])
    embed = statements["EmbedQuestionForExamples"]
    assert embed["Action"] == "bedrock:InvokeModel"
    assert json.dumps(embed["Resource"]).endswith('::foundation-model/amazon.titan-embed-text-v2:0"]]}')
    # No other statement grants anything on S3 Vectors or S3
    others = [s for sid, s in statements.items() if sid not in FEW_SHOT_SIDS]
    assert not [s for s in others if any(a.startswith(("s3vectors:", "s3:")) for a in _actions(s))]


def test_a_customer_managed_vector_key_is_usable_for_decrypting_only(synth) -> None:
    # Given S3 vectors encrypted with the operator's key
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    template = rag(synth({"vectorStore": "s3vectors", "vectorKmsKeyArn": key}))
    statements = role_statements(template, rag_function(template)[1])
    # Then the function may decrypt with that key, and nothing else with it
    assert statements["DecryptExamplesIndex"]["Action"] == "kms:Decrypt"
    assert statements["DecryptExamplesIndex"]["Resource"] == key


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)
