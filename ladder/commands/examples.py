"""``ladder examples upload | status``: the few-shot rung's examples in the deployed examples store."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ladder_core.examples import MANIFEST_KEY

from .. import examples, hints, outputs
from ..aws import ClientFactory, session
from ..console import error, print_json
from ..errors import EXIT_INTERRUPTED
from ..evaluation.evalset import load_set
from .common import aws_options, command, now


def register(commands: Any) -> None:
    """Add ``examples`` and its subcommands to the root's subparsers."""
    aws = aws_options()
    parser = commands.add_parser(
        "examples", help="examples upload FILE | status: the chat examples a few-shot prompt shows"
    )
    subcommands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    upload = command(subcommands, "upload", cmd_examples_upload, parents=[aws])
    upload.add_argument(
        "file", type=Path, metavar="FILE", help="JSON Lines chat records, as fine-tuning takes them"
    )
    upload.add_argument(
        "--eval-set",
        type=Path,
        metavar="EVAL",
        help="evaluation set (JSON Lines) the examples must not overlap; recorded in the manifest",
    )
    upload.add_argument("--json", action="store_true", help="print what was done and the manifest as JSON")
    status = command(subcommands, "status", cmd_examples_status, parents=[aws])
    status.add_argument("--json", action="store_true", help="print the status as JSON")


def cmd_examples_upload(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Sync the examples store with FILE: new examples written, gone ones deleted, the manifest last.

    Each record's user turns are embedded with the deployment's embedding model and written to the
    examples index; examples no longer in FILE are deleted after that; examples/manifest.json in the
    documents bucket is written last.

    FILE is checked first as `ladder data check` checks it (every rejected line is reported; nothing is sent
    until the file is clean). With --eval-set, an example that holds an evaluation question (exactly or
    nearly) is refused by name. Uploading the same file again writes nothing. Exit 1 for a file that is not
    uploaded, 130 after Ctrl-C (the old set stays as it was).
    """
    found = examples.read_examples(args.file)
    overlap = evalset = None
    if args.eval_set is not None:
        evalset = load_set(args.eval_set)
        overlap = examples.refuse_overlap(args.file, found, evalset)
    aws = session(args)
    store = outputs.read_examples(clients(aws, "cloudformation"), args.stack_prefix)
    try:
        result = examples.sync(
            clients(aws, "s3vectors"),
            clients(aws, "bedrock-runtime"),
            clients(aws, "s3"),
            store,
            found,
            created_at=now(),
            overlap=overlap,
            eval_set_sha256=evalset.sha256 if evalset is not None else None,
        )
    except KeyboardInterrupt:
        error("\nStopped: nothing of this upload was kept; the examples store holds the previous set.")
        return EXIT_INTERRUPTED
    if args.json:
        print_json(result.to_dict())
        return 0
    manifest = result.manifest
    where = f"s3://{store.documents_bucket}/{MANIFEST_KEY}"
    print(
        f"{len(found)} examples in {args.file}: {result.added} added, {result.deleted} deleted, "
        f"{result.unchanged} unchanged; set sha256 {manifest['sha256'][:12]}"
    )
    if overlap is not None:
        print(f"Overlap with {args.eval_set}: {overlap.describe()}")
    print(f"Manifest {where} " + ("written." if result.manifest_written else "unchanged (the same set)."))
    return 0


def cmd_examples_status(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Show the uploaded examples' manifest and how many vectors the examples index holds.

    Says when the two disagree (a failed upload, a redeploy, another embedding model): uploading the file
    again fixes it."""
    aws = session(args)
    store = outputs.read_examples(clients(aws, "cloudformation"), args.stack_prefix)
    state = examples.status(clients(aws, "s3vectors"), clients(aws, "s3"), store)
    if args.json:
        print_json(state.to_dict())
        return 0
    print(
        f"Examples index {store.index_name} (vector bucket {store.vector_bucket_name}): "
        f"{state.vector_count} vectors"
    )
    manifest = state.manifest
    if manifest is None:
        upload = hints.command("examples", "upload")
        print(f"No examples uploaded yet (no {MANIFEST_KEY}): `{upload} FILE` uploads them.")
        return 0
    print(
        f"Manifest: {manifest.get('count')} examples, set sha256 {manifest.get('sha256')}, "
        f"created {manifest.get('createdAt')}, embedded with {manifest.get('embeddingModelId')}"
    )
    checked = manifest.get("overlap")
    if checked:
        print(
            f"Overlap check against evaluation set sha256 {checked.get('evalSetSha256')}: "
            f"{checked.get('exact')} exact, {checked.get('near')} near"
        )
    else:
        print("No overlap check recorded: upload with --eval-set EVAL.jsonl to record one.")
    for problem in state.problems:
        print(f"Warning: {problem}; upload the file again.")
    return 0
