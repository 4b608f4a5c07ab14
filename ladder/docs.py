"""Uploads a folder of documents into the knowledge base's documents bucket.

The upload itself starts ingestion: the Knowledge stack turns S3 events into ``StartIngestionJob``.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import LadderError, SetupError

IGNORE_FILE = ".ladderignore"
"""Optional file in the uploaded folder: glob patterns (one per line, ``#`` comments) of files to skip."""

CONTENT_TYPES = {
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".pdf": "application/pdf",
    ".csv": "text/csv; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class Document:
    """A file to upload: its path on disk, its key in the bucket and its content type (None: S3's default)."""

    path: Path
    key: str
    content_type: str | None


def find_documents(root: Path, key_prefix: str) -> list[Document]:
    """Every regular, non-hidden file under ``root`` (sorted), keyed ``<key_prefix><relative path>``.

    Hidden files and folders (name starting with ``.``), symbolic links and files matching a pattern
    in ``root/.ladderignore`` are skipped.
    """
    if not root.is_dir():
        raise SetupError(f"{root} is not a folder")
    ignored = _ignore_patterns(root / IGNORE_FILE)
    documents = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if name.startswith(".") or path.is_symlink() or not path.is_file():
                continue
            if any(fnmatch.fnmatchcase(relative, pattern) for pattern in ignored):
                continue
            content_type = CONTENT_TYPES.get(path.suffix.lower())
            documents.append(Document(path=path, key=f"{key_prefix}{relative}", content_type=content_type))
    return documents


def upload_documents(s3: Any, documents: list[Document], bucket: str) -> int:
    """Upload each document to ``bucket`` (multipart for large files); return how many."""
    if not documents:
        raise LadderError("no documents to upload (hidden files and .ladderignore matches are skipped)")
    for document in documents:
        extra = {"ContentType": document.content_type} if document.content_type else {}
        s3.upload_file(str(document.path), bucket, document.key, ExtraArgs=extra)
    return len(documents)


def _ignore_patterns(path: Path) -> list[str]:
    if not path.is_file():
        return []
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]
