"""A run folder written the way ``ladder eval run`` writes one, from answers given per (item, arm), scored by
the real summary code: what the report tests read."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ladder.evaluation import rundir
from ladder.evaluation.summary import write_scores
from ladder.pricing.models import load_prices

MODEL = "us.amazon.nova-lite-v1:0"
Answer = Callable[[dict[str, Any], str], dict[str, Any] | None]
"""(item, arm) -> the API's response, or ``{"error": {...}}`` for a failed request, or None: not sent."""


def response(answer: str, sources: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "answer": answer,
        "citations": [{"sourceUri": f"s3://docs/{s}", "excerpt": f"passage of {s}"} for s in sources],
        "mode": "rag",
        "modelId": MODEL,
        "usage": {"inputTokens": 1000, "outputTokens": 100},
    }


def write_run(folder: Path, items: list[dict[str, Any]], arms: list[str], answer: Answer) -> dict[str, Any]:
    """The run folder with its scores and summary; the summary."""
    folder.mkdir(parents=True)
    (folder / rundir.SET_COPY).write_text(
        "".join(json.dumps(item) + "\n" for item in items), encoding="utf-8"
    )
    info = {
        "id": folder.name,
        "createdAt": "2026-12-01T10:00:00+00:00",
        "url": "https://api.example/prod/ask",
        "arms": arms,
        "evalSet": {"path": "set.jsonl", "sha256": "ab" * 32, "items": len(items)},
    }
    (folder / rundir.RUN).write_text(json.dumps(info), encoding="utf-8")
    with (folder / rundir.RESPONSES).open("w", encoding="utf-8") as out:
        for item in items:
            for arm in arms:
                given = answer(item, arm)
                if given is None:
                    continue
                failed = "error" in given
                record = {
                    "id": item["id"],
                    "arm": arm,
                    "status": "error" if failed else "ok",
                    "attempts": 1,
                    "latencyMs": 900,
                    "at": "2026-12-01T10:00:01+00:00",
                    "response": None if failed else given,
                    "error": given["error"] if failed else None,
                }
                out.write(json.dumps(record) + "\n")
    return write_scores(folder, load_prices())


HOSTILE = (
    '<img data-injected src="x" onerror="document.body.setAttribute(\'data-injected\', 1)">'
    "</script><script>document.body.setAttribute('data-injected', 1)</script><!-- & \u2028"
)
"""An answer that would become markup (and run) if the page did not escape it."""

ITEMS = [
    {
        "id": "leave",
        "question": "How much leave?",
        "mustInclude": ["27 days"],
        "sources": ["leave.md"],
        "tags": ["handbook"],
    },
    {"id": "pension", "question": "Pension match?", "mustInclude": ["5 percent"], "tags": ["benefits"]},
    {"id": "shares", "question": "Share price?", "answerable": False, "tags": ["finance"]},
    {
        "id": "short",
        "question": "Leave, in three words at most?",
        "mustInclude": ["27 days"],
        "format": {"maxWords": 3},
        "tags": ["handbook"],
    },
    {"id": "cite", "question": "Is remote work allowed?", "mustInclude": ["yes"]},
    {"id": "both", "question": "Parking?", "mustInclude": ["level 2"]},
    {"id": "err", "question": "Travel budget?", "mustInclude": ["500 EUR"]},
    {
        "id": "hostile",
        "question": "<b>Bold</b> & <script>alert(1)</script>?",
        "mustInclude": ["27 days"],
        "tags": ["<i>tag</i>"],
    },
    {"id": "unsent", "question": "Dress code?", "mustInclude": ["casual"]},
]
ARMS = ["prompt", "fewshot", "rag"]
RAG_FAILED_FEWSHOT_PASSED = ["leave", "shares", "short", "cite", "err", "hostile"]
"""The items of :func:`three_arms` where ``rag`` fails and ``fewshot`` passes, in the set's order."""

_GOOD = {
    "leave": "You get 27 days [1].",
    "pension": "The match is 5 percent.",
    "shares": "I don't know.",
    "short": "27 days.",
    "cite": "Yes [1].",
    "both": "No idea where to park, sorry: the lot is closed.",
    "err": "Up to 500 EUR per trip.",
    "hostile": "27 days",
    "unsent": "Casual.",
}
_RAG = {
    "leave": "I could not find that in the documents.",
    "pension": "The match is 5 percent.",
    "shares": "The price is 5 EUR.",
    "short": "You get 27 days of leave each year [1].",
    "cite": "Yes [4].",
    "both": "Level 3.",
    "hostile": HOSTILE,
}


def three_answers(item: dict[str, Any], arm: str) -> dict[str, Any] | None:
    """``prompt`` declines everything; ``fewshot`` answers well but for ``pension`` and ``both``; ``rag``
    fails in a different way on each item of :data:`RAG_FAILED_FEWSHOT_PASSED`."""
    key = item["id"]
    if arm == "prompt":
        return response("I don't know.")
    if arm == "fewshot":
        return response("No." if key in ("pension", "both") else _GOOD[key], ("leave.md",))
    if key == "err":
        return {"error": {"httpStatus": 503, "code": "ServiceUnavailable", "message": "try again"}}
    if key == "unsent":
        return None
    return response(_RAG[key], ("leave.md",))


def three_arms(folder: Path) -> dict[str, Any]:
    """The crafted run of :data:`ITEMS` x :data:`ARMS`; its summary."""
    return write_run(folder, ITEMS, ARMS, three_answers)
