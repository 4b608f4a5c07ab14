"""``ladder data check | render``: check fine-tuning data locally, render it as serving retrieves."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lambdas.rag import constants as rag_constants
from training_jobs import dataprep

from .. import data, outputs
from ..aws import ClientFactory, session
from ..console import error, print_json
from ..errors import EXIT_FAILED, SetupError
from .common import MAX_TOP_K, MIN_TOP_K, add_prep_options, aws_options, command, int_range, prepare_data


def register(commands: Any) -> None:
    """Add ``data`` and its subcommands to the root's subparsers."""
    data_parser = commands.add_parser("data", help="data check FILE: check fine-tuning data locally")
    data_commands = data_parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    check = command(data_commands, "check", cmd_data_check)
    check.add_argument(
        "file", nargs="?", type=Path, metavar="FILE", help="JSON Lines file of chat conversations"
    )
    check.add_argument(
        "--data",
        dest="data_file",
        type=Path,
        metavar="FILE",
        help="the same as FILE, as finetune start and justify take it",
    )
    add_prep_options(check)
    check.add_argument(
        "--base-model",
        metavar="ID|DIR",
        help="a Hugging Face id or a local folder of the model's files: also render every clean record with "
        "its chat template, as the training job does",
    )
    check.add_argument(
        "--eval-set",
        type=Path,
        metavar="EVAL.jsonl",
        help="an evaluation set: fail when any of its questions appears (exactly, or as a near duplicate) "
        "among the clean records' user turns",
    )
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    render = command(data_commands, "render", cmd_data_render, parents=[aws_options()])
    render.add_argument(
        "--qa", type=Path, required=True, metavar="PAIRS", help='JSON Lines of {"question", "answer"}'
    )
    render.add_argument("--out", type=Path, required=True, metavar="FILE", help="chat records to write")
    render.add_argument(
        "--top-k",
        type=int_range(MIN_TOP_K, MAX_TOP_K),
        default=rag_constants.DEFAULT_TOP_K,
        help="passages to retrieve, as the API's topK (default: the API's default, %(default)s)",
    )
    render.add_argument("--json", action="store_true", help="print the manifest as JSON")


def cmd_data_check(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Check a JSON Lines fine-tuning dataset: counts, every rejected line and reason, usable or not.

    With --base-model, every clean record is also rendered with that model's chat template as the training
    job encodes it, and each record the job would stop on is listed by line. With --eval-set, the set's
    questions are compared with the clean records' user turns (normalised exact match, or word 8-gram
    overlap >= 0.5) and each overlapping item is named. Exit 0 when usable, 1 when there are too few clean
    examples, a record the template cannot encode or an evaluation question in the data, 2 when a file (or
    the base model's tokenizer) cannot be read.
    """
    if args.file and args.data_file and args.file != args.data_file:
        raise SetupError(f"two data files given: {args.file} and --data {args.data_file}; pass one")
    args.file = args.file or args.data_file
    if args.file is None:
        raise SetupError("data check needs FILE (or --data FILE), a JSON Lines file of chat conversations")
    prepared = prepare_data(args)
    report = prepared.report
    overlap = None if args.eval_set is None else data.eval_overlap(args.eval_set, prepared)
    template = None
    if args.base_model:
        tokenizer = data.load_tokenizer(args.base_model)
        template = data.check_chat_template(args.file, tokenizer, report, base_model=args.base_model)
    if args.json:
        document = report.to_dict()
        if template is not None:
            document["chat_template"] = template.to_dict()
        if overlap is not None:
            document["evalOverlap"] = overlap.to_dict()
        print_json(document)
    else:
        print(report.format(max_rejections=report.rejected))
        if template is not None:
            print(template.format())
        if overlap is not None:
            print(f"Evaluation set {args.eval_set}: {overlap.describe()}")
    failed = False
    if not report.usable:
        error(str(dataprep.NotEnoughExamplesError(report.clean, report.min_examples)))
        failed = True
    if template is not None and not template.ok:
        error(
            f"{len(template.problems)} records would stop the training job after it started: the chat "
            f"template of {args.base_model} cannot encode them (lines "
            f"{', '.join(str(p.line) for p in template.problems)}); split multi-turn records into "
            "single-turn ones or use another base model"
        )
        failed = True
    if overlap is not None and not overlap.clean:
        error(
            f"{len(overlap.ids)} evaluation question(s) of {args.eval_set} are in {args.file}: a model "
            f"trained on them scores high on its own test; remove them: {', '.join(overlap.ids)}"
        )
        failed = True
    return EXIT_FAILED if failed else 0


def cmd_data_render(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Render fine-tuning records that match serving: retrieve each question's passages through the deployed
    knowledge base with the RAG function's own settings, write the chat with the `finetuned` template.

    A manifest beside FILE (FILE.render.json) records the prompt version and lists the questions that
    retrieved nothing (left out). Exit 1 for an unusable PAIRS file, 2 for a missing stack.
    """
    # The file is checked offline first (the question limit comes from the deployed function, later).
    data.read_pairs(args.qa, max_question_chars=sys.maxsize)
    aws = session(args)
    function_name = outputs.stack_outputs(
        clients(aws, "cloudformation"), args.stack_prefix, outputs.RAG_API_STACK, ("RagFunctionName",)
    )["RagFunctionName"]
    settings = data.function_settings(clients(aws, "lambda"), function_name)
    pairs = data.read_pairs(args.qa, max_question_chars=settings.max_question_chars)
    result = data.render(clients(aws, "bedrock-agent-runtime"), settings, pairs, top_k=args.top_k)
    manifest_path = data.write_render(result, args.out)
    manifest = result.manifest
    if args.json:
        print_json(manifest)
    else:
        print(
            f"Wrote {manifest['written']} of {manifest['pairs']} records to {args.out} "
            f"(prompt {manifest['mode']} version {manifest['promptVersion']}, topK {manifest['topK']}); "
            f"manifest {manifest_path}"
        )
    for item in manifest["noPassages"]:
        error(f"line {item['line']}: retrieved no passages, left out: {item['question'][:80]}")
    return 0
