"""The few-shot examples store: an S3 vector bucket and index in the knowledge stack, behind -c fewShot."""

from __future__ import annotations

import pytest

from ladder_core import examples as contract
from ladder_core.catalog import idle
from tests.stacks.knowledge.templates import bucket_of, examples_index, kb_vector_index, knowledge
from tests.stacks.knowledge.test_knowledge_stack import idle_floor_usd
from tests.support.synth import references, resources

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
EXAMPLE_OUTPUTS = {
    "ExamplesIndexArn",
    "ExamplesIndexName",
    "ExamplesVectorBucketName",
    "EmbeddingModelId",
    "EmbeddingDimensions",
}


@pytest.mark.parametrize("store", ["opensearch", "s3vectors"])
@pytest.mark.parametrize("dimensions", ["1024", "256"])
def test_the_examples_index_is_cosine_with_the_embedding_dimension_and_the_text_non_filterable(
    synth, store: str, dimensions: str
) -> None:
    """AWS::S3Vectors::Index (CloudFormation Template Reference): ``MetadataConfiguration`` is
    ``{"NonFilterableMetadataKeys": [String, ...]}``, "1 to 10 non-filterable metadata keys"; such keys
    "can be retrieved but can't be searched, queried, or filtered"."""
    # Given either document store (the examples store does not depend on it)
    template = knowledge(synth({"vectorStore": store, "embeddingDimensions": dimensions}))
    index_id, index = examples_index(template)
    props = index["Properties"]
    # Then the examples get their own S3 vector index shaped for the deployment's embedding
    assert (props["DataType"], props["DistanceMetric"], props["Dimension"]) == (
        "float32",
        "cosine",
        int(dimensions),
    )
    assert props["MetadataConfiguration"] == {
        "NonFilterableMetadataKeys": list(contract.NON_FILTERABLE_METADATA_KEYS)
    }
    assert props["IndexName"].startswith("ladder-examples-")
    # in its own bucket, encrypted with the service key by default
    _, bucket = bucket_of(template, index)
    assert bucket["Properties"]["EncryptionConfiguration"] == {"SseType": "AES256"}
    # and the CLI finds it by name
    outputs = template["Outputs"]
    assert set(outputs) >= EXAMPLE_OUTPUTS
    assert references(outputs["ExamplesIndexArn"]["Value"]) == {index_id}
    assert outputs["ExamplesIndexName"]["Value"] == props["IndexName"]
    assert outputs["EmbeddingDimensions"]["Value"] == dimensions
    # The bucket's name is the ARN's second "/"-separated part (arn:...:bucket/<name>/index/<index>)
    assert outputs["ExamplesVectorBucketName"]["Value"] == {
        "Fn::Select": [1, {"Fn::Split": ["/", {"Fn::GetAtt": [index_id, "IndexArn"]}]}]
    }


def test_the_examples_bucket_uses_the_vector_key_as_the_document_store_does(synth) -> None:
    template = knowledge(synth({"vectorStore": "s3vectors", "vectorKmsKeyArn": KEY_ARN}))
    _, examples_bucket = bucket_of(template, examples_index(template)[1])
    _, documents_bucket = bucket_of(template, kb_vector_index(template)[1])
    expected = {"SseType": "aws:kms", "KmsKeyArn": KEY_ARN}
    assert examples_bucket["Properties"]["EncryptionConfiguration"] == expected
    assert documents_bucket["Properties"]["EncryptionConfiguration"] == expected


@pytest.mark.parametrize(("store", "left"), [("opensearch", 0), ("s3vectors", 1)])
def test_few_shot_off_leaves_the_store_and_its_outputs_out(synth, store: str, left: int) -> None:
    template = knowledge(synth({"vectorStore": store, "fewShot": "false"}))
    # Only the documents' own S3 vector index (with s3vectors) remains
    assert len(resources(template, "AWS::S3Vectors::Index")) == left
    assert len(resources(template, "AWS::S3Vectors::VectorBucket")) == left
    assert not EXAMPLE_OUTPUTS & set(template["Outputs"])


def test_the_index_name_follows_the_embedding_only(synth) -> None:
    def name(overrides: dict[str, str]) -> str:
        return str(examples_index(knowledge(synth(overrides)))[1]["Properties"]["IndexName"])

    assert name({}) != name({"embeddingDimensions": "512"})
    assert name({}) == name({"chunkMaxTokens": "512"})
    assert name({}) == name({"profile": "prod"})


def test_nothing_grants_the_examples_index_yet(synth) -> None:
    # The upload runs under the operator's own credentials (README: the permissions it needs); no role of
    # the stacks reaches the examples index.
    synthesized = synth({})
    index_id, _ = examples_index(knowledge(synthesized))
    for template in synthesized.templates.values():
        for policy in resources(template, "AWS::IAM::Policy").values():
            assert index_id not in references(policy["Properties"]["PolicyDocument"])


@pytest.mark.parametrize("store", ["opensearch", "s3vectors"])
def test_the_examples_store_adds_nothing_to_the_idle_floor(synth, store: str) -> None:
    """Amazon S3 pricing, Vectors (the source ``ladder_core.catalog.idle`` names): storage per logical
    GB-month, writes per GB, queries per call and data processed; no hourly or fixed charge, so an idle
    store costs only what it stores (``idle.STORAGE_PRICES``, outside the floor)."""
    with_store = synth({"vectorStore": store})
    without = synth({"vectorStore": store, "fewShot": "false"})
    kinds = {
        resource["Type"]
        for resource in knowledge(with_store)["Resources"].values()
        if resource["Type"].startswith("AWS::S3Vectors::")
    }
    assert kinds and kinds <= set(idle.NO_IDLE_PRICE)
    assert idle_floor_usd(with_store) == idle_floor_usd(without)
