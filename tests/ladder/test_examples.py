"""`ladder examples upload | status`: the examples index kept in sync with a chat file, the manifest last.

S3 and S3 Vectors are moto (real state: what the index holds after each upload); Bedrock's InvokeModel is a
botocore Stubber (it checks each request body against what the embedding model is sent) and CloudFormation
the suite's stubbed stacks.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody
from botocore.stub import Stubber
from urllib3 import HTTPResponse

from ladder import cli
from ladder.errors import LadderError
from ladder.examples import store as examples_store
from ladder_core import examples as contract

from .conftest import REGION, Result

DIMENSIONS = 256
MODEL = "amazon.titan-embed-text-v2:0"
DOCUMENTS_BUCKET = "ladder-documents"
VECTOR_BUCKET = "ladder-examples-vectors"
INDEX = "ladder-examples-0a1b2c3d"


def example(number: int, answer: str = "") -> dict[str, Any]:
    return {
        "messages": [
            {"role": "user", "content": f"How do I reset gauge number {number}?"},
            {
                "role": "assistant",
                "content": answer or f"Hold the button on gauge {number} for five seconds.",
            },
        ]
    }


def write(path: Path, records: list[dict[str, Any]], extra: tuple[str, ...] = ()) -> Path:
    path.write_text("\n".join([*(json.dumps(r) for r in records), *extra]) + "\n", encoding="utf-8")
    return path


def vector_for(text: str) -> list[float]:
    """A distinct, deterministic embedding of ``text`` for the stubbed model."""
    return [0.0] * (DIMENSIONS - 1) + [float(len(text))]


class Store:
    """The deployed examples store (moto), the documents bucket and the stubbed embedding model."""

    def __init__(self, stacks: Any) -> None:
        self.stacks = stacks
        self.s3 = boto3.client("s3", region_name=REGION)
        self.s3.create_bucket(Bucket=DOCUMENTS_BUCKET)
        self.vectors = boto3.client("s3vectors", region_name=REGION)
        self.vectors.create_vector_bucket(vectorBucketName=VECTOR_BUCKET)
        self.vectors.create_index(
            vectorBucketName=VECTOR_BUCKET,
            indexName=INDEX,
            dataType="float32",
            dimension=DIMENSIONS,
            distanceMetric="cosine",
            metadataConfiguration={"nonFilterableMetadataKeys": list(contract.NON_FILTERABLE_METADATA_KEYS)},
        )
        self.index_arn = self.vectors.get_index(vectorBucketName=VECTOR_BUCKET, indexName=INDEX)["index"][
            "indexArn"
        ]
        self.runtime = boto3.client("bedrock-runtime", region_name=REGION)
        self.bedrock = Stubber(self.runtime)
        self.bedrock.activate()

    def outputs(self) -> dict[str, str]:
        return {
            "DocumentsBucketName": DOCUMENTS_BUCKET,
            "ExamplesIndexArn": self.index_arn,
            "ExamplesIndexName": INDEX,
            "ExamplesVectorBucketName": VECTOR_BUCKET,
            "EmbeddingModelId": MODEL,
            "EmbeddingDimensions": str(DIMENSIONS),
        }

    def deployed(self) -> None:
        self.stacks.deployed("LadderKnowledge", self.outputs())

    def expect_embedding(self, record: dict[str, Any]) -> None:
        """The model is asked to embed the record's user turns (Titan v2 body) and answers a vector."""
        text = contract.embedding_text(record)
        payload = json.dumps({"embedding": vector_for(text), "inputTextTokenCount": 12}).encode()
        self.bedrock.add_response(
            "invoke_model",
            {"body": StreamingBody(io.BytesIO(payload), len(payload)), "contentType": "application/json"},
            {
                "modelId": MODEL,
                "body": json.dumps({"inputText": text, "dimensions": DIMENSIONS, "normalize": True}),
                "contentType": "application/json",
                "accept": "application/json",
            },
        )

    def keys(self) -> set[str]:
        return {v["key"] for v in self.vectors.list_vectors(indexArn=self.index_arn)["vectors"]}

    def manifest(self) -> dict[str, Any] | None:
        return examples_store.read_manifest(self.s3, DOCUMENTS_BUCKET)

    def manifest_versions(self) -> int:
        listing = self.s3.list_objects_v2(Bucket=DOCUMENTS_BUCKET, Prefix=contract.MANIFEST_KEY)
        return len(listing.get("Contents", []))

    def client_factory(self, session: boto3.session.Session, service: str) -> Any:
        if service == "bedrock-runtime":
            return self.runtime
        return self.stacks.client_factory(session, service)


@pytest.fixture
def store(aws: None, stacks: Any) -> Iterator[Store]:
    deployed = Store(stacks)
    yield deployed
    deployed.bedrock.assert_no_pending_responses()


@pytest.fixture
def run(store: Store, capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*argv: str) -> Result:
        code = cli.main(list(argv), client_factory=store.client_factory)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def upload(store: Store, run: Any, path: Path, *expected_embeddings: dict[str, Any]) -> Result:
    store.deployed()
    for record in expected_embeddings:
        store.expect_embedding(record)
    return run("examples", "upload", str(path))


def test_upload_writes_every_example_keyed_by_its_content_then_the_manifest(store, run, tmp_path) -> None:
    # Given a clean file of three chat examples and an empty examples store
    records = [example(1), example(2), example(3)]
    path = write(tmp_path / "chats.jsonl", records)

    # When it is uploaded
    result = upload(store, run, path, *records)

    # Then each example is one vector keyed by its content hash, its record in the non-filterable metadata
    assert result.code == 0, result.err
    keys = [contract.vector_key(r) for r in records]
    assert store.keys() == set(keys)
    got = store.vectors.get_vectors(indexArn=store.index_arn, keys=keys[:1], returnMetadata=True)["vectors"]
    assert json.loads(got[0]["metadata"][contract.EXAMPLE_METADATA_KEY]) == records[0]
    # And the manifest describes the set
    manifest = store.manifest()
    assert manifest is not None
    assert manifest["sha256"] == contract.set_sha256(keys)
    assert (manifest["count"], manifest["embeddingModelId"], manifest["embeddingDimensions"]) == (
        3,
        MODEL,
        DIMENSIONS,
    )
    assert manifest["indexArn"] == store.index_arn
    assert manifest["createdAt"].endswith("Z")
    assert "overlap" not in manifest
    assert "3 added, 0 deleted, 0 unchanged" in result.out


def test_uploading_the_same_set_again_writes_nothing(store, run, tmp_path) -> None:
    # Given a set already uploaded
    records = [example(1), example(2)]
    assert upload(store, run, write(tmp_path / "a.jsonl", records), *records).code == 0
    first = store.manifest()

    # When the same examples are uploaded again, in another order (no embedding is expected: the Stubber
    # would fail the run on any InvokeModel call)
    result = upload(store, run, write(tmp_path / "b.jsonl", records[::-1]))

    # Then nothing was written: the index and the manifest (its creation time included) are as they were
    assert result.code == 0, result.err
    assert store.keys() == {contract.vector_key(r) for r in records}
    assert store.manifest() == first
    assert "0 added, 0 deleted, 2 unchanged" in result.out
    assert "unchanged (the same set)" in result.out


def test_a_changed_file_adds_the_new_examples_and_deletes_the_gone_ones(store, run, tmp_path) -> None:
    # Given three uploaded examples
    old = [example(1), example(2), example(3)]
    assert upload(store, run, write(tmp_path / "old.jsonl", old), *old).code == 0

    # When the file keeps the first, changes the second's answer, drops the third and adds a fourth
    changed = example(2, answer="Unplug gauge 2, wait ten seconds, plug it back in.")
    new = [old[0], changed, example(4)]
    result = upload(store, run, write(tmp_path / "new.jsonl", new), changed, example(4))

    # Then the index holds exactly the new file's examples and the manifest says so
    assert result.code == 0, result.err
    assert store.keys() == {contract.vector_key(r) for r in new}
    manifest = store.manifest()
    assert manifest is not None
    assert (manifest["count"], manifest["sha256"]) == (
        3,
        contract.set_sha256(contract.vector_key(r) for r in new),
    )
    assert "2 added, 2 deleted, 1 unchanged" in result.out


def test_a_shorter_file_only_deletes(store, run, tmp_path) -> None:
    old = [example(1), example(2), example(3)]
    assert upload(store, run, write(tmp_path / "old.jsonl", old), *old).code == 0

    result = upload(store, run, write(tmp_path / "new.jsonl", old[:1]))

    assert result.code == 0, result.err
    assert store.keys() == {contract.vector_key(old[0])}
    assert store.manifest()["count"] == 1  # type: ignore[index]


def test_a_file_with_bad_lines_is_reported_as_data_check_reports_it_and_nothing_is_sent(
    store, run, tmp_path
) -> None:
    # Given a file with one good example, a line that is not JSON and a conversation ending with the user
    path = write(
        tmp_path / "chats.jsonl",
        [example(1)],
        ("{not json", json.dumps({"messages": [{"role": "user", "content": "Hi"}]})),
    )

    # When it is uploaded (no stack is described, no model called: neither stub has a response queued)
    result = run("examples", "upload", str(path))

    # Then the command fails with data check's report of each bad line, and the store is untouched
    assert result.code == 1
    assert "nothing was sent" in result.err
    assert "line 2: invalid_json" in result.err
    assert "line 3: role_order" in result.err
    assert store.keys() == set() and store.manifest() is None


def test_an_example_over_the_vector_metadata_limit_is_refused_by_line(store, run, tmp_path) -> None:
    """Amazon S3 User Guide, S3 Vectors "Limitations and restrictions": "Total metadata per vector: Up to
    40 KB (filterable + non-filterable)"; the example text is the vector's metadata."""
    # Given a record of 15,000 three-byte characters: within data check's 16,000-character limit, but
    # about 45 KB as UTF-8 text
    long_answer = "漢" * 14_900
    path = write(tmp_path / "chats.jsonl", [example(1), example(2, answer=long_answer)])

    result = run("examples", "upload", str(path))

    assert result.code == 1
    assert "line 2 (" in result.err and "40960 bytes" in result.err
    assert store.keys() == set()


def test_examples_that_overlap_the_eval_set_are_refused_by_name(store, run, tmp_path) -> None:
    # Given an evaluation set one of whose questions is the user turn of the second example
    records = [example(1), example(2), example(3)]
    path = write(tmp_path / "chats.jsonl", records)
    evalset = tmp_path / "eval.jsonl"
    evalset.write_text(
        json.dumps({"id": "gauge-2", "question": "How do I reset gauge number 2?"})
        + "\n"
        + json.dumps({"id": "leave", "question": "How many days of annual leave do I get?"})
        + "\n",
        encoding="utf-8",
    )

    # When the file is uploaded against it
    result = run("examples", "upload", str(path), "--eval-set", str(evalset))

    # Then it is refused, naming the example's line and the evaluation item, and nothing is sent
    assert result.code == 1
    assert "line 2: evaluation item(s) gauge-2" in result.err
    assert "nothing was sent" in result.err
    assert store.keys() == set() and store.manifest() is None


def test_a_clean_overlap_check_is_recorded_in_the_manifest(store, run, tmp_path) -> None:
    records = [example(1)]
    path = write(tmp_path / "chats.jsonl", records)
    evalset = tmp_path / "eval.jsonl"
    evalset.write_text(json.dumps({"id": "leave", "question": "How much annual leave?"}) + "\n")
    store.deployed()
    store.expect_embedding(records[0])

    result = run("examples", "upload", str(path), "--eval-set", str(evalset))

    assert result.code == 0, result.err
    assert store.manifest()["overlap"] == {  # type: ignore[index]
        "evalSetSha256": hashlib.sha256(evalset.read_bytes()).hexdigest(),
        "exact": 0,
        "near": 0,
        "ids": [],
    }


def test_a_failure_part_way_leaves_the_old_set_and_its_manifest(store, run, tmp_path, monkeypatch) -> None:
    # Given an uploaded set, and vectors written one per PutVectors call (so a failure comes after a write)
    old = [example(1), example(2)]
    assert upload(store, run, write(tmp_path / "old.jsonl", old), *old).code == 0
    manifest = store.manifest()
    monkeypatch.setattr(examples_store, "PUT_VECTORS_MAX", 1)

    # When a new file's first example is written and the model then fails on the second
    new = [example(3), example(4)]
    store.deployed()
    store.expect_embedding(new[0])
    store.bedrock.add_client_error(
        "invoke_model", service_error_code="ModelTimeoutException", http_status_code=408
    )
    result = run("examples", "upload", str(write(tmp_path / "new.jsonl", new)))

    # Then the command fails, the index holds exactly the old set (the written example was taken back),
    # and the manifest is the old one
    assert result.code == 1
    assert "ModelTimeoutException" in result.err
    assert store.keys() == {contract.vector_key(r) for r in old}
    assert store.manifest() == manifest
    assert store.manifest_versions() == 1


def test_ctrl_c_part_way_keeps_the_old_set_and_exits_130(store, run, tmp_path, monkeypatch) -> None:
    old = [example(1)]
    assert upload(store, run, write(tmp_path / "old.jsonl", old), *old).code == 0
    manifest = store.manifest()
    monkeypatch.setattr(examples_store, "PUT_VECTORS_MAX", 1)
    real_embed = examples_store.embed
    calls: list[str] = []

    def embed_then_stop(*args: Any) -> list[float]:
        calls.append(args[-1])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_embed(*args)

    monkeypatch.setattr(examples_store, "embed", embed_then_stop)
    store.deployed()
    store.expect_embedding(example(5))

    result = run("examples", "upload", str(write(tmp_path / "new.jsonl", [example(5), example(6)])))

    assert result.code == 130
    assert "previous set" in result.err
    assert store.keys() == {contract.vector_key(old[0])}
    assert store.manifest() == manifest


def test_a_throttled_embedding_is_retried(store, tmp_path, capsys) -> None:
    """botocore's standard retry mode (ladder_core.aws_clients) retries ThrottlingException; the CLI's
    client is used here, and the HTTP layer answers its first attempt with a 429."""
    store.bedrock.deactivate()
    runtime = cli.create_client(boto3.session.Session(region_name=REGION), "bedrock-runtime")
    record = example(1)
    attempts: list[int] = []

    def answer(**_: Any) -> AWSResponse:
        attempts.append(1)
        if len(attempts) == 1:
            status, headers = 429, {"x-amzn-ErrorType": "ThrottlingException"}
            body = json.dumps({"message": "Too many requests, please wait before trying again."}).encode()
        else:
            status, headers = 200, {"Content-Type": "application/json"}
            body = json.dumps({"embedding": vector_for("x"), "inputTextTokenCount": 3}).encode()
        raw = HTTPResponse(body=io.BytesIO(body), status=status, preload_content=False)
        return AWSResponse(f"https://bedrock-runtime.{REGION}.amazonaws.com", status, headers, raw)

    runtime.meta.events.register_first("before-send.bedrock-runtime.InvokeModel", answer)
    store.deployed()

    def factory(session: boto3.session.Session, service: str) -> Any:
        return runtime if service == "bedrock-runtime" else store.client_factory(session, service)

    code = cli.main(
        ["examples", "upload", str(write(tmp_path / "c.jsonl", [record]))], client_factory=factory
    )

    assert code == 0, capsys.readouterr().err
    assert len(attempts) == 2
    assert store.keys() == {contract.vector_key(record)}


def test_status_before_any_upload_says_how_to_upload(store, run) -> None:
    store.deployed()
    result = run("examples", "status")
    assert result.code == 0, result.err
    assert "0 vectors" in result.out
    assert "No examples uploaded yet" in result.out and "examples upload" in result.out


def test_status_prints_the_manifest_and_the_vector_count_and_flags_a_mismatch(store, run, tmp_path) -> None:
    records = [example(1), example(2)]
    assert upload(store, run, write(tmp_path / "a.jsonl", records), *records).code == 0

    store.deployed()
    result = run("examples", "status", "--json")
    status = json.loads(result.out)
    assert (status["vectorCount"], status["manifest"]["count"], status["problems"]) == (2, 2, [])

    # When the index holds as many vectors but another set (a manifest write that failed), status says so
    store.vectors.delete_vectors(indexArn=store.index_arn, keys=[contract.vector_key(records[0])])
    other = example(9)
    store.vectors.put_vectors(
        indexArn=store.index_arn,
        vectors=[{"key": contract.vector_key(other), "data": {"float32": vector_for("x")}}],
    )
    store.deployed()
    result = run("examples", "status")
    assert "the index holds another set of examples than the manifest describes" in result.out
    store.vectors.delete_vectors(indexArn=store.index_arn, keys=[contract.vector_key(other)])

    # When a vector disappears behind the manifest's back, status says so
    store.deployed()
    result = run("examples", "status")
    assert f"Examples index {INDEX} (vector bucket {VECTOR_BUCKET}): 1 vectors" in result.out
    assert "the manifest lists 2 examples but the index holds 1 vectors" in result.out


def test_a_stack_without_the_examples_store_is_a_setup_error(store, run, tmp_path) -> None:
    store.stacks.deployed("LadderKnowledge", {"DocumentsBucketName": DOCUMENTS_BUCKET})
    result = run("examples", "upload", str(write(tmp_path / "a.jsonl", [example(1)])))
    assert result.code == 2
    assert "no examples store" in result.err and "fewShot=true" in result.err


def test_a_manifest_read_denied_says_which_permissions_it_needs() -> None:
    """Amazon S3 API reference, GetObject: "If you don't have the s3:ListBucket permission, Amazon S3
    returns an HTTP status code 403 Access Denied error" for a key that does not exist."""
    s3 = boto3.client("s3", region_name=REGION)
    with Stubber(s3) as stub:
        stub.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(LadderError) as raised:
            examples_store.read_manifest(s3, DOCUMENTS_BUCKET)
    assert "s3:ListBucket" in str(raised.value) and contract.MANIFEST_KEY in str(raised.value)


INDEX_ARN = f"arn:aws:s3vectors:{REGION}:123456789012:bucket/{VECTOR_BUCKET}/index/{INDEX}"


def test_every_page_of_the_index_listing_is_read() -> None:
    """S3 Vectors ListVectors: up to 1,000 vectors a page, "nextToken" for the next (moto does not page, so
    a Stubber plays two pages)."""
    s3vectors = boto3.client("s3vectors", region_name=REGION)
    with Stubber(s3vectors) as stub:
        stub.add_response(
            "list_vectors",
            {"vectors": [{"key": "a"}], "nextToken": "page-2"},
            {"indexArn": INDEX_ARN, "maxResults": 1000},
        )
        stub.add_response(
            "list_vectors",
            {"vectors": [{"key": "b"}]},
            {"indexArn": INDEX_ARN, "maxResults": 1000, "nextToken": "page-2"},
        )
        assert examples_store.stored_keys(s3vectors, INDEX_ARN) == {"a", "b"}
        stub.assert_no_pending_responses()


def test_deletions_go_in_batches_of_the_api_limit() -> None:
    """Amazon S3 User Guide, S3 Vectors "Limitations and restrictions": "Vectors per DeleteVectors API call:
    Up to 500"."""
    keys = [f"{n:04d}" for n in range(501)]
    s3vectors = boto3.client("s3vectors", region_name=REGION)
    with Stubber(s3vectors) as stub:
        stub.add_response("delete_vectors", {}, {"indexArn": INDEX_ARN, "keys": keys[:500]})
        stub.add_response("delete_vectors", {}, {"indexArn": INDEX_ARN, "keys": keys[500:]})
        examples_store.delete_keys(s3vectors, INDEX_ARN, reversed(keys))
        stub.assert_no_pending_responses()
