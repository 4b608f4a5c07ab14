"""Syncing the examples index with a file, and the manifest that describes what it holds.

Every function takes the boto3 clients it calls (``s3vectors``, ``bedrock-runtime``, ``s3``), so a test
passes a moto or Stubber'd one; they retry throttling as every CLI client does (``ladder_core.aws_clients``:
standard mode, exponential backoff with jitter). Nothing here prints except the progress bar.

A sync never leaves a half-written set answering: it lists what the index holds, writes the new examples
first (in batches of the API's limit), deletes the examples no longer in the file only after every new one
is written, and writes the manifest last. A failure while writing deletes whatever the index holds beyond
the old set, and leaves the old set and its manifest as they were.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ladder_core import examples as contract
from ladder_core.catalog.s3vectors import DELETE_VECTORS_MAX, LIST_VECTORS_PAGE_MAX, PUT_VECTORS_MAX
from ladder_core.overlap import Overlap

from .. import hints
from ..errors import LadderError
from ..evaluation.progress import progress_bar
from ..outputs import ExamplesOutputs
from .records import Example

MANIFEST_CONTENT_TYPE = "application/json"
EXAMPLES_UPLOAD = ("examples", "upload", "FILE", "--eval-set", "SET")
"""The command that uploads examples checked against an evaluation set (words after ``ladder``)."""
NOT_FOUND_CODES = ("NoSuchKey", "404")
ACCESS_DENIED = "AccessDenied"


@dataclass(frozen=True)
class SyncResult:
    """What a sync did: examples written, deleted and left as they were, and whether the manifest changed."""

    added: int
    deleted: int
    unchanged: int
    manifest: dict[str, Any]
    manifest_written: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "manifestWritten": self.manifest_written,
            "manifest": self.manifest,
        }


def batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in consecutive lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def stored_keys(s3vectors: Any, index_arn: str) -> set[str]:
    """Every vector key the index holds (ListVectors, every page)."""
    pages = s3vectors.get_paginator("list_vectors").paginate(
        indexArn=index_arn, PaginationConfig={"PageSize": LIST_VECTORS_PAGE_MAX}
    )
    return {vector["key"] for page in pages for vector in page.get("vectors", [])}


def embed(bedrock_runtime: Any, model_id: str, dimensions: int, text: str) -> list[float]:
    """The embedding of ``text`` as an example to store (InvokeModel with ``model_id``'s body shape)."""
    body = contract.embedding_request(model_id, text, dimensions, purpose="document")
    response = bedrock_runtime.invoke_model(
        modelId=model_id, body=json.dumps(body), contentType="application/json", accept="application/json"
    )
    return contract.embedding_from_response(model_id, json.loads(response["body"].read()))


def put_examples(
    s3vectors: Any,
    bedrock_runtime: Any,
    store: ExamplesOutputs,
    examples: list[Example],
    *,
    on_embedded: Callable[[], None] = lambda: None,
) -> None:
    """Embed and write ``examples``, a batch (one PutVectors call) at a time."""
    for batch in batches(examples, PUT_VECTORS_MAX):
        vectors = []
        for example in batch:
            text = contract.embedding_text(example.record)
            data = embed(bedrock_runtime, store.embedding_model_id, store.embedding_dimensions, text)
            vectors.append(
                {"key": example.key, "data": {"float32": data}, "metadata": contract.metadata(example.record)}
            )
            on_embedded()
        s3vectors.put_vectors(indexArn=store.index_arn, vectors=vectors)


def delete_keys(s3vectors: Any, index_arn: str, keys: Iterable[str]) -> None:
    """Delete ``keys`` from the index, a batch at a time."""
    for batch in batches(sorted(keys), DELETE_VECTORS_MAX):
        s3vectors.delete_vectors(indexArn=index_arn, keys=batch)


def read_manifest(s3: Any, bucket: str) -> dict[str, Any] | None:
    """The manifest of the uploaded set, or None when no set has been uploaded."""
    try:
        body = s3.get_object(Bucket=bucket, Key=contract.MANIFEST_KEY)["Body"].read()
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code")
        if code in NOT_FOUND_CODES:
            return None
        if code == ACCESS_DENIED:
            raise LadderError(
                f"cannot read s3://{bucket}/{contract.MANIFEST_KEY}: access denied. `ladder examples` needs "
                "s3:GetObject on it and s3:ListBucket on the bucket (without s3:ListBucket, S3 answers a "
                "manifest that does not exist yet with 403, not 404)"
            ) from None
        raise
    manifest: dict[str, Any] = json.loads(body)
    return manifest


def build_manifest(
    examples: list[Example],
    store: ExamplesOutputs,
    *,
    created_at: datetime,
    overlap: Overlap | None,
    eval_set_sha256: str | None,
) -> dict[str, Any]:
    """The manifest of ``examples`` in ``store`` (``ladder_core.examples`` documents its keys)."""
    manifest: dict[str, Any] = {
        "sha256": contract.set_sha256(e.key for e in examples),
        "count": len(examples),
        "createdAt": created_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "embeddingModelId": store.embedding_model_id,
        "embeddingDimensions": store.embedding_dimensions,
        "indexArn": store.index_arn,
    }
    if overlap is not None and eval_set_sha256 is not None:
        manifest["overlap"] = {"evalSetSha256": eval_set_sha256, **overlap.to_dict()}
    return manifest


def same_set(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    """Whether ``old`` describes what ``new`` does (only its creation time may differ)."""
    if old is None:
        return False
    return {k: v for k, v in old.items() if k != "createdAt"} == {
        k: v for k, v in new.items() if k != "createdAt"
    }


def sync(
    s3vectors: Any,
    bedrock_runtime: Any,
    s3: Any,
    store: ExamplesOutputs,
    examples: list[Example],
    *,
    created_at: datetime,
    overlap: Overlap | None = None,
    eval_set_sha256: str | None = None,
) -> SyncResult:
    """Make the index hold exactly ``examples``: new ones written, ones no longer in the file deleted, then
    the manifest; an unchanged file writes nothing at all."""
    present = stored_keys(s3vectors, store.index_arn)
    wanted = {example.key for example in examples}
    new = [example for example in examples if example.key not in present]
    gone = present - wanted
    manifest = build_manifest(
        examples, store, created_at=created_at, overlap=overlap, eval_set_sha256=eval_set_sha256
    )
    old_manifest = read_manifest(s3, store.documents_bucket)
    try:
        with progress_bar(len(new), unit="examples embedded") as bar:
            advance = (lambda: bar.advance(ok=True)) if bar is not None else (lambda: None)
            put_examples(s3vectors, bedrock_runtime, store, new, on_embedded=advance)
    except BaseException as err:
        # Ctrl-C or an error part way: the old set stays as it was. Whatever the index holds now beyond it
        # was written by this run (a failed batch included), so it is taken back.
        try:
            delete_keys(s3vectors, store.index_arn, stored_keys(s3vectors, store.index_arn) - present)
        except Exception as cleanup:
            err.add_note(
                f"taking back what this upload wrote failed too ({cleanup}); the next upload deletes it"
            )
        raise
    delete_keys(s3vectors, store.index_arn, gone)
    changed = not same_set(old_manifest, manifest)
    if changed:
        s3.put_object(
            Bucket=store.documents_bucket,
            Key=contract.MANIFEST_KEY,
            Body=json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"),
            ContentType=MANIFEST_CONTENT_TYPE,
        )
    else:
        manifest = old_manifest or manifest
    return SyncResult(
        added=len(new),
        deleted=len(gone),
        unchanged=len(examples) - len(new),
        manifest=manifest,
        manifest_written=changed,
    )


@dataclass(frozen=True)
class ExamplesStatus:
    """What ``ladder examples status`` reports: the manifest (None before any upload) and the index."""

    manifest: dict[str, Any] | None
    vector_count: int
    index_sha256: str
    """:func:`ladder_core.examples.set_sha256` of the keys the index holds."""
    store: ExamplesOutputs

    @property
    def problems(self) -> list[str]:
        """Ways the manifest and the deployed index disagree (each means: upload the file again)."""
        if self.manifest is None:
            return []
        found = []
        if self.manifest.get("count") != self.vector_count:
            found.append(
                f"the manifest lists {self.manifest.get('count')} examples but the index holds "
                f"{self.vector_count} vectors"
            )
        elif self.manifest.get("sha256") != self.index_sha256:
            found.append("the index holds another set of examples than the manifest describes")
        if self.manifest.get("embeddingModelId") != self.store.embedding_model_id:
            found.append(
                f"the examples were embedded with {self.manifest.get('embeddingModelId')}, the deployment "
                f"embeds with {self.store.embedding_model_id}"
            )
        if self.manifest.get("indexArn", self.store.index_arn) != self.store.index_arn:
            found.append("the manifest describes another index than the deployed one (a deploy replaced it)")
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "vectorCount": self.vector_count,
            "indexSha256": self.index_sha256,
            "indexArn": self.store.index_arn,
            "problems": self.problems,
        }


def status(s3vectors: Any, s3: Any, store: ExamplesOutputs) -> ExamplesStatus:
    """The manifest, and the number and set of vectors the index holds."""
    keys = stored_keys(s3vectors, store.index_arn)
    return ExamplesStatus(
        manifest=read_manifest(s3, store.documents_bucket),
        vector_count=len(keys),
        index_sha256=contract.set_sha256(keys),
        store=store,
    )


def manifest_problem(examples: Mapping[str, Any] | None, eval_set_sha256: str) -> str | None:
    """Why a ``fewshot`` arm measured with these examples does not count (``ladder justify`` leaves it out),
    from the manifest a run recorded (``run.examples``); None when its overlap check is clean against the
    run's own evaluation set (same ``evalSetSha256``, no exact or near match)."""
    if not examples:
        return "the run recorded no examples manifest (run.examples), so nothing shows which examples it used"
    overlap = examples.get("overlap")
    if not isinstance(overlap, Mapping):
        return (
            "its examples were uploaded without an overlap check against an evaluation set "
            f"(upload them with `{hints.command(*EXAMPLES_UPLOAD)}`)"
        )
    if overlap.get("evalSetSha256") != eval_set_sha256:
        return (
            "its examples were checked against another evaluation set "
            f"(sha256 {str(overlap.get('evalSetSha256'))[:12]}, the run's is "
            f"{eval_set_sha256[:12]}); upload them again with --eval-set naming the run's set"
        )
    exact, near = overlap.get("exact"), overlap.get("near")
    if exact != 0 or near != 0:
        return (
            f"its examples contain evaluation questions ({exact} exact, {near} near: "
            f"{', '.join(map(str, overlap.get('ids') or []))}), so the arm was shown its own test"
        )
    return None
