"""Benchmark of the RAG Lambda's overheads, with no network: cold import and warm per-request time.

Run from the repository root:

    .venv/bin/python benchmarks/rag_handler.py --imports 15 --requests 2000

- Cold import: a fresh interpreter imports ``lambdas.rag.handler`` (Powertools, boto3, the function's
  modules), N runs, median. Then the first-invocation cold start (settings, three clients, templates).
- Warm request: ``handler(event, context)`` on a warm container whose Bedrock clients are stubbed with
  botocore's Stubber, so the time is the function's own overhead plus botocore's request building and
  parameter validation (the Stubber's validation included), never Bedrock's latency.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "tests" / "events" / "rag"
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "Ladder",
    "POWERTOOLS_SERVICE_NAME": "ladder-rag",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "KNOWLEDGE_BASE_ID": "KB12345678",
    "MODEL_ID": "us.anthropic.claude-3-5-haiku-20241022-v1:0",
    "GUARDRAIL_ID": "abc123guardrail",
    "GUARDRAIL_VERSION": "1",
}
IMPORT_SNIPPET = (
    "import time; started = time.perf_counter(); import lambdas.rag.handler; "
    "print(time.perf_counter() - started)"
)


class Context:
    function_name = "ladder-rag"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ladder-rag"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def cold_imports(runs: int) -> list[float]:
    env = {**os.environ, **ENVIRONMENT, "PYTHONPATH": str(ROOT)}
    seconds = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_SNIPPET],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        seconds.append(float(out.stdout.strip()))
    return seconds


def warm_requests(requests: int, real_stdout: Any) -> dict[str, list[float]]:
    from botocore.stub import Stubber

    from lambdas.rag import handler

    started = time.perf_counter()
    runtime = handler.get_runtime()
    cold_start_ms = (time.perf_counter() - started) * 1_000
    print(
        f"first-invocation cold start (settings, clients, templates): {cold_start_ms:.1f} ms",
        file=real_stdout,
    )

    retrieve = json.loads((EVENTS / "retrieve_response.json").read_text())
    converse = json.loads((EVENTS / "converse_response.json").read_text())
    event = json.loads((EVENTS / "ask_rag.json").read_text())
    invalid = {**event, "body": json.dumps({"question": "q", "topK": 99})}
    context = Context()
    timings: dict[str, list[float]] = {"rag answer (retrieve + converse)": [], "400 invalid topK": []}
    with Stubber(runtime.clients.agent_runtime) as kb, Stubber(runtime.clients.bedrock_runtime) as model:
        for _ in range(requests + requests // 10):
            kb.add_response("retrieve", retrieve)
            model.add_response("converse", converse)
        for index in range(requests + requests // 10):
            began = time.perf_counter_ns()
            handler.handler(event, context)
            if index >= requests // 10:  # the first tenth warms caches
                timings["rag answer (retrieve + converse)"].append((time.perf_counter_ns() - began) / 1_000)
        for index in range(requests + requests // 10):
            began = time.perf_counter_ns()
            handler.handler(invalid, context)
            if index >= requests // 10:
                timings["400 invalid topK"].append((time.perf_counter_ns() - began) / 1_000)
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--imports", type=int, default=15, help="fresh-interpreter import runs")
    parser.add_argument("--requests", type=int, default=2_000, help="measured warm requests per case")
    args = parser.parse_args(argv)

    imports = cold_imports(args.imports)
    print(
        f"cold import of lambdas.rag.handler: median {statistics.median(imports) * 1_000:.1f} ms "
        f"(min {min(imports) * 1_000:.1f}, max {max(imports) * 1_000:.1f}, n={len(imports)})"
    )

    os.environ.update(ENVIRONMENT)
    sys.path.insert(0, str(ROOT))
    real_stdout = sys.stdout
    # Logs and EMF metrics go to stdout in Lambda; here they are written to a discarded buffer instead.
    sys.stdout = io.StringIO()
    import warnings

    warnings.simplefilter("ignore")
    try:
        timings = warm_requests(args.requests, real_stdout)
    finally:
        sys.stdout = real_stdout
    for case, values in timings.items():
        print(
            f"warm {case}: median {statistics.median(values):.0f} us, p95 {percentile(values, 0.95):.0f} us "
            f"(n={len(values)})"
        )


if __name__ == "__main__":
    main()
