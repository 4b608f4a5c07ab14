from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .loopback import LoopbackApi, serve


@pytest.fixture
def loopback() -> Iterator[LoopbackApi]:
    with serve(LoopbackApi()) as api:
        yield api


def write_set(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def items(count: int) -> list[dict[str, Any]]:
    return [
        {"id": f"q{n}", "question": f"Question number {n}?", "mustInclude": ["27 days"]} for n in range(count)
    ]
