"""Names and limits of the evaluation function, and how many items one ``answer`` run may take.

A chunk is sized so that its answers finish inside the function's time limit even when every answer takes
as long as it possibly can: each attempt waits at most :data:`CONNECT_TIMEOUT_S`, then the RAG function's
own timeout plus :data:`INVOKE_OVERHEAD_S`; an answer makes at most :data:`MAX_ATTEMPTS` attempts with the
backoffs between them, and :data:`THREADS` answers run at once. :func:`items_per_chunk` is that
arithmetic; the state machine's Map runs one chunk per iteration.
"""

from __future__ import annotations

# The evaluations bucket's layout is the CLI's too (ladder_core.evaluation.run, bundled with the function).
from ladder_core.evaluation.run import PURPOSES as PURPOSES
from ladder_core.evaluation.run import RUNS_PREFIX as RUNS_PREFIX
from ladder_core.evaluation.run import STAGED_PREFIX as STAGED_PREFIX

PLAN, ANSWER, SUMMARISE = "plan", "answer", "summarise"
ACTIONS = (PLAN, ANSWER, SUMMARISE)

PARTS_FOLDER = "parts/"
"""``runs/<runId>/parts/<chunk>.jsonl``: one chunk's ``responses.jsonl`` records, joined by ``summarise``."""
RUN_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
"""A run id given in the input: a safe S3 key segment."""

FUNCTION_TIMEOUT_S = 900
"""The function's timeout: Lambda's maximum ("up to a maximum value of 900 seconds (15 minutes)")."""
MEMORY_MB = 512
SAFETY_MARGIN_S = 60
"""Kept free in every ``answer`` run: the cold start, reading the set, writing the part file."""
THREADS = 4
"""Answers in flight per ``answer`` run (the CLI's default concurrency)."""
MAP_MAX_CONCURRENCY = 2
"""Chunks answered at once: with :data:`THREADS`, at most 8 RAG invocations in flight, so an evaluation
never takes more than a small share of the RAG function's concurrency and Bedrock's token quota from the
people using the API."""
MAX_CHUNKS = 1000
"""Chunks per run. An inline Map adds each iteration's events (about seven, more with retries) to the
execution's history, which Step Functions caps at 25,000 entries ("Use the Map state in Inline mode if your
workflow's execution history won't exceed 25,000 entries"): 1,000 chunks stay well inside it."""
MAX_ATTEMPTS = 3
"""Sends per answer, the first included; only throttling (429, Lambda's TooManyRequestsException) and 503
are retried."""
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 8.0
INVOKE_OVERHEAD_S = 5
"""What one Invoke may add to the RAG function's own timeout (the call itself, a cold start's init is
counted in the function's timeout); also the read timeout's margin over it."""
CONNECT_TIMEOUT_S = 5
S3_MAX_ATTEMPTS = 5
MAX_ARMS = 16
"""Arms per run; every arm is another full pass of paid model calls."""


def backoff_ceiling(attempt: int) -> float:
    """The longest wait after the ``attempt``-th send (1-based) before the next one."""
    return float(min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (attempt - 1)))


def worst_answer_s(rag_timeout_s: int) -> float:
    """The longest one answer can take: every attempt taking the whole connect timeout and then running to
    the RAG function's timeout plus the Invoke overhead, and the longest backoff between attempts."""
    sends = MAX_ATTEMPTS * (CONNECT_TIMEOUT_S + rag_timeout_s + INVOKE_OVERHEAD_S)
    return sends + sum(backoff_ceiling(attempt) for attempt in range(1, MAX_ATTEMPTS))


def answers_per_chunk(rag_timeout_s: int) -> int:
    """How many answers one ``answer`` run finishes in its time limit at worst: :data:`THREADS` at a time,
    each thread taking answers one after another."""
    rounds = int((FUNCTION_TIMEOUT_S - SAFETY_MARGIN_S) // worst_answer_s(rag_timeout_s))
    return THREADS * rounds


def items_per_chunk(rag_timeout_s: int, arms: int) -> int:
    """Items per chunk: each item is answered once per arm. ValueError when not even one item fits."""
    items = answers_per_chunk(rag_timeout_s) // arms
    if items < 1:
        raise ValueError(
            f"{arms} arms do not fit one function run ({answers_per_chunk(rag_timeout_s)} answers at most)"
        )
    return items
