"""Benchmark of ``ladder eval``'s runner against an API that throttles: 120 requests (40 items x 3 arms)
to a loopback ``POST /ask`` that accepts 5 requests per second, like the RAG API's default stage throttle,
and answers the rest with 429 and ``Retry-After: 1``. Reports the wall time beside the throttle floor
(120 / 5 = 24 s): a runner that honours the throttle well finishes a little above the floor.

Run from the repository root (no AWS account, no network: SigV4 with fake keys to 127.0.0.1):

    .venv/bin/python benchmarks/eval_throttled.py --items 40 --rate 5 --concurrency 4
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ARMS = ("prompt", "rag", "finetuned")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--rate", type=int, default=5, help="requests per second the API accepts")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    # Fake keys: the loopback API checks nothing, but the requests are signed as the CLI signs them.
    fake_keys = {"AWS_ACCESS_KEY_ID": "benchmark", "AWS_SECRET_ACCESS_KEY": "benchmark"}
    os.environ.update({**fake_keys, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
    import botocore.session

    from ladder import api
    from ladder.evaluation.evalset import Item
    from ladder.evaluation.runner import Runner, read_records
    from tests.ladder.evaluation.loopback import LoopbackApi, serve

    credentials = botocore.session.get_session().get_credentials()
    pairs = [(Item(id=f"q{n}", question=f"Question {n}?"), arm, 0) for n in range(args.items) for arm in ARMS]
    floor_s = len(pairs) / args.rate
    with (
        serve(LoopbackApi(rate_per_second=args.rate, retry_after="1")) as loop,
        tempfile.TemporaryDirectory() as tmp,
    ):

        def send(body: dict[str, Any]) -> dict[str, Any]:
            return api.post_signed_json(loop.url, body, credentials=credentials, region="us-east-1")

        out = Path(tmp) / "responses.jsonl"
        started = time.monotonic()
        outcome = Runner(send, out, concurrency=args.concurrency).run(pairs)
        wall_s = time.monotonic() - started
        kept = len(read_records(out))
    shape = f"{args.items} items x {len(ARMS)} arms"
    print(f"requests           {len(pairs)} ({shape}), concurrency {args.concurrency}")
    print(f"throttle           {args.rate} rps -> floor {floor_s:.1f} s")
    print(f"wall time          {wall_s:.1f} s ({wall_s / floor_s:.2f} x floor)")
    print(f"answers kept       {kept}, errors {outcome.errors}")
    print(f"429s received      {loop.throttled} (each retried after Retry-After)")
    return 0 if kept == len(pairs) and not outcome.errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
