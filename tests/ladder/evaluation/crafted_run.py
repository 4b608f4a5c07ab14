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
