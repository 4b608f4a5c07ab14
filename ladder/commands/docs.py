"""``ladder docs upload | status | sync | redrive``: put documents in, see and drive their ingestion."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from .. import docs, hints, knowledge_ops, outputs
from ..aws import ClientFactory, session
from ..console import print_json
from ..errors import EXIT_FAILED, EXIT_INTERRUPTED
from .common import aws_options, command, now


def register(commands: Any) -> None:
    """Add ``docs`` and its subcommands to the root's subparsers."""
    aws = aws_options()
    docs_parser = commands.add_parser(
        "docs",
        help="docs upload DIR | status | sync | redrive: put documents in, see and drive their ingestion",
    )
    docs_commands = docs_parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    upload = command(docs_commands, "upload", cmd_docs_upload, parents=[aws])
    upload.add_argument("folder", type=Path, metavar="DIR", help="folder of documents to upload")
    upload.add_argument("--dry-run", action="store_true", help="list what would be uploaded, upload nothing")
    docs_status = command(docs_commands, "status", cmd_docs_status, parents=[aws])
    docs_status.add_argument("--json", action="store_true", help="print the status as JSON")
    docs_sync = command(docs_commands, "sync", cmd_docs_sync, parents=[aws])
    docs_sync.add_argument("--json", action="store_true", help="print the job as JSON")
    docs_redrive = command(docs_commands, "redrive", cmd_docs_redrive, parents=[aws])
    docs_redrive.add_argument("--no-wait", action="store_true", help="start the move and return at once")
    docs_redrive.add_argument(
        "--json", action="store_true", help="print the outcome as JSON (implies --no-wait)"
    )


def cmd_docs_upload(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Upload every regular, non-hidden file under DIR to the documents bucket; ingestion then starts.

    Files matching a glob pattern in DIR/.ladderignore (one per line) are skipped.
    """
    docs.find_documents(args.folder, "")  # the folder is checked offline, before any AWS call
    aws = session(args)
    knowledge = outputs.read_knowledge(clients(aws, "cloudformation"), args.stack_prefix)
    documents = docs.find_documents(args.folder, knowledge.documents_prefix)
    destination = f"s3://{knowledge.documents_bucket}/{knowledge.documents_prefix}"
    if args.dry_run:
        for document in documents:
            print(f"would upload {document.path} -> s3://{knowledge.documents_bucket}/{document.key}")
        print(f"{len(documents)} documents would be uploaded to {destination}")
        return 0
    count = docs.upload_documents(clients(aws, "s3"), documents, knowledge.documents_bucket)
    print(f"Uploaded {count} documents to {destination}; the knowledge base ingests them shortly.")
    return 0


def cmd_docs_status(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Show whether uploaded documents are searchable: the latest ingestion jobs with their counts,
    every document that failed with Bedrock's reason, and the messages waiting in the ingestion queue
    and its dead-letter queue."""
    aws = session(args)
    ingestion = outputs.read_ingestion(clients(aws, "cloudformation"), args.stack_prefix)
    status = knowledge_ops.docs_status(clients(aws, "bedrock-agent"), clients(aws, "sqs"), ingestion)
    if args.json:
        print_json(status.to_dict())
    else:
        print(status.format())
    return 0


def cmd_docs_sync(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Start one ingestion job now (for changes made outside the bucket's events), or say which is running."""
    aws = session(args)
    ingestion = outputs.read_ingestion(clients(aws, "cloudformation"), args.stack_prefix)
    result = knowledge_ops.sync(
        clients(aws, "bedrock-agent"), ingestion.knowledge_base_id, ingestion.data_source_id
    )
    if args.json:
        print_json(result.to_dict())
    else:
        print(result.format())
    return 0


def cmd_docs_redrive(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Move the dead-letter queue's messages back to the ingestion queue (an SQS message-move task) and
    follow its progress. Safe to repeat: a move already running is reported, not started twice."""
    aws = session(args)
    ingestion = outputs.read_ingestion(clients(aws, "cloudformation"), args.stack_prefix)
    sqs = clients(aws, "sqs")
    result = knowledge_ops.redrive(sqs, ingestion)
    if args.json:
        print_json(result.to_dict())
        return 0
    print(result.format())
    if result.task is None or not result.task.running or args.no_wait:
        return 0
    try:
        final = knowledge_ops.follow_move_task(
            sqs,
            ingestion.dead_letter_queue_url,
            sleep=time.sleep,
            on_change=lambda task: print(f"{now():%H:%M:%S} {task.format()}", flush=True),
        )
    except KeyboardInterrupt:
        again = hints.command("docs", "redrive")
        print(f"\nStopped following; the move continues. Check it with `{again}` again.")
        return EXIT_INTERRUPTED
    return EXIT_FAILED if final is not None and final.status == "FAILED" else 0
