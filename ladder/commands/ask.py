"""``ladder ask``: one question to the deployed RAG API."""

from __future__ import annotations

import argparse
from typing import Any

from ladder_core.api import DEFAULT_MODE, MODES

from .. import api, hints, outputs
from ..aws import ClientFactory, region, session
from ..console import print_json
from ..errors import SetupError
from .common import MAX_TOP_K, MIN_TOP_K, URL_HELP, aws_options, command, int_range


def register(commands: Any) -> None:
    """Add ``ask`` to the root's subparsers."""
    ask = command(commands, "ask", cmd_ask, parents=[aws_options()])
    ask.add_argument("question", nargs="+", help="the question, in quotes")
    ask.add_argument("--url", help=URL_HELP)
    ask.add_argument("--mode", choices=MODES, default=DEFAULT_MODE, help="default: %(default)s")
    ask.add_argument(
        "--top-k",
        type=int_range(MIN_TOP_K, MAX_TOP_K),
        help=f"passages to retrieve, {MIN_TOP_K}-{MAX_TOP_K} (default: the API's)",
    )
    ask.add_argument("--json", action="store_true", help="print the raw response JSON")


def cmd_ask(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Ask the deployed RAG API a question (SigV4-signed POST /ask) and print the answer with its sources."""
    if len(args.question) > 1:
        quoted = hints.command("ask", " ".join(args.question))
        raise SetupError(f"the question must be one argument; quote it: {quoted}")
    aws = session(args)
    ask_url = args.url or outputs.read_rag_api(clients(aws, "cloudformation"), args.stack_prefix).ask_url
    response = api.post_signed_json(
        ask_url,
        api.ask_body(args.question[0], args.mode, args.top_k),
        credentials=aws.get_credentials(),
        region=region(aws),
    )
    if args.json:
        print_json(response)
    else:
        print(api.format_answer(response))
    return 0
