"""`ladder docs upload DIR`: every regular, non-hidden file, keyed under the documents prefix."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from ladder import docs

from .conftest import REGION

SAMPLE_CORPUS = Path(__file__).resolve().parents[2] / "sample_corpus"
KNOWLEDGE_OUTPUTS = {
    "DocumentsBucketName": "ladder-documents",
    "DocumentsPrefix": "docs/",
    "KnowledgeBaseId": "KB12345678",
    "DataSourceId": "DS12345678",
}


@pytest.fixture
def documents_bucket(aws):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=KNOWLEDGE_OUTPUTS["DocumentsBucketName"])
    return s3


def _keys(s3) -> list[str]:
    listing = s3.list_objects_v2(Bucket=KNOWLEDGE_OUTPUTS["DocumentsBucketName"])
    return sorted(item["Key"] for item in listing.get("Contents", []))


def _folder(root: Path) -> Path:
    (root / "policies").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "guide.md").write_text("# Guide\n", encoding="utf-8")
    (root / "notes.txt").write_text("notes\n", encoding="utf-8")
    (root / "policies" / "returns.pdf").write_bytes(b"%PDF-1.7\n")
    (root / "policies" / "prices.csv").write_text("plan,price\n", encoding="utf-8")
    (root / "data.bin").write_bytes(b"\x00\x01")
    (root / ".DS_Store").write_bytes(b"\x00")
    (root / ".git" / "config").write_text("[core]\n", encoding="utf-8")
    (root / "link.md").symlink_to(root / "guide.md")
    return root


def test_upload_puts_every_regular_visible_file_under_the_documents_prefix(
    stacks, run_cli, documents_bucket, tmp_path
):
    # Given a deployed Knowledge stack and a folder with visible, hidden and linked files
    stacks.deployed("LadderKnowledge", KNOWLEDGE_OUTPUTS)
    folder = _folder(tmp_path / "corpus")

    # When the folder is uploaded
    result = run_cli("docs", "upload", str(folder))

    # Then only the regular, visible files are in the bucket, keyed by their relative paths
    assert result.code == 0, result.err
    assert _keys(documents_bucket) == [
        "docs/data.bin",
        "docs/guide.md",
        "docs/notes.txt",
        "docs/policies/prices.csv",
        "docs/policies/returns.pdf",
    ]
    assert "Uploaded 5 documents to s3://ladder-documents/docs/" in result.out


@pytest.mark.parametrize(
    ("key", "content_type"),
    [
        ("docs/guide.md", "text/markdown; charset=utf-8"),
        ("docs/notes.txt", "text/plain; charset=utf-8"),
        ("docs/policies/returns.pdf", "application/pdf"),
        ("docs/policies/prices.csv", "text/csv; charset=utf-8"),
    ],
)
def test_upload_sets_the_content_type_from_the_extension(
    stacks, run_cli, documents_bucket, tmp_path, key, content_type
):
    # Given a deployed Knowledge stack and a folder of documents
    stacks.deployed("LadderKnowledge", KNOWLEDGE_OUTPUTS)
    folder = _folder(tmp_path / "corpus")

    # When the folder is uploaded
    assert run_cli("docs", "upload", str(folder)).code == 0

    # Then each object carries the content type of its extension
    head = documents_bucket.head_object(Bucket=KNOWLEDGE_OUTPUTS["DocumentsBucketName"], Key=key)
    assert head["ContentType"] == content_type


def test_docx_gets_the_word_content_type(tmp_path):
    # Given a Word document
    (tmp_path / "Handbook.DOCX").write_bytes(b"PK\x03\x04")

    # When the documents are listed
    [document] = docs.find_documents(tmp_path, "docs/")

    # Then its content type is Word's, whatever the case of the extension
    assert document.content_type == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )


def test_dry_run_lists_the_documents_and_uploads_nothing(stacks, run_cli, documents_bucket, tmp_path):
    # Given a deployed Knowledge stack
    stacks.deployed("LadderKnowledge", KNOWLEDGE_OUTPUTS)
    folder = _folder(tmp_path / "corpus")

    # When a dry run is asked for
    result = run_cli("docs", "upload", str(folder), "--dry-run")

    # Then the destinations are listed and the bucket stays empty
    assert result.code == 0, result.err
    assert "s3://ladder-documents/docs/policies/returns.pdf" in result.out
    assert "5 documents would be uploaded" in result.out
    assert _keys(documents_bucket) == []


def test_sample_corpus_uploads_every_document_but_not_the_evaluation_questions(
    stacks, run_cli, documents_bucket
):
    # Given the repository's sample corpus, whose .ladderignore lists QUESTIONS.md
    stacks.deployed("LadderKnowledge", KNOWLEDGE_OUTPUTS)

    # When it is uploaded as `make upload-sample` does
    result = run_cli("docs", "upload", str(SAMPLE_CORPUS))

    # Then every document is in the bucket, and the questions with their answers are not
    assert result.code == 0, result.err
    keys = _keys(documents_bucket)
    assert "docs/faq.md" in keys
    assert "docs/handbook/leave.md" in keys
    assert len(keys) >= 5
    assert not any(key.endswith("QUESTIONS.md") or "/." in key for key in keys)


def test_every_sample_file_says_the_company_is_fictional_in_its_first_line():
    # Given every Markdown or text file of the sample corpus, the questions included
    files = sorted(p for p in SAMPLE_CORPUS.rglob("*") if p.suffix in {".md", ".txt"})

    # Then each one's first line marks the company as fictional
    assert len(files) >= 6
    for path in files:
        first_line = path.read_text(encoding="utf-8").splitlines()[0]
        assert "Fictional company" in first_line, path


def test_upload_of_a_missing_folder_exits_2_before_any_aws_call(stacks, run_cli, documents_bucket, tmp_path):
    # Given no stack answer queued: a CloudFormation call would fail the stubber

    # When a folder that does not exist is uploaded
    result = run_cli("docs", "upload", str(tmp_path / "nowhere"))

    # Then the user is told, with exit 2
    assert result.code == 2
    assert "is not a folder" in result.err


def test_upload_without_the_knowledge_stack_says_which_stack_to_deploy(stacks, run_cli, tmp_path):
    # Given no Knowledge stack
    stacks.missing("LadderKnowledge")

    # When a folder is uploaded
    result = run_cli("docs", "upload", str(tmp_path))

    # Then exit 2 with the stack's name
    assert result.code == 2
    assert "stack LadderKnowledge not found" in result.err
