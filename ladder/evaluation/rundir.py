"""The run folder: what a run was (``run.json``), a copy of its set, and the names of its files.

``responses.jsonl`` is the only file the runner appends to; ``scores.jsonl``, ``summary.json``,
``report.md`` and ``charts/`` are derived from it (and from the judge's results) and rewritten whole.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import SetupError
from .evalset import EvalSet, load_set

DEFAULT_ROOT = Path("eval-runs")
RUN = "run.json"
SET_COPY = "evalset.jsonl"
RESPONSES = "responses.jsonl"
SCORES = "scores.jsonl"
SUMMARY = "summary.json"
REPORT = "report.md"
CHARTS = "charts"
JUDGE_JOBS = "judge-jobs.json"
JUDGE_SCORES = "judge-scores.jsonl"
SHA_PREFIX_CHARS = 8


@dataclass(frozen=True)
class RunInfo:
    """``run.json``: the run's id (its folder name), when it began, where it sent, the set and the arms."""

    id: str
    createdAt: str
    url: str
    arms: list[str]
    evalSet: dict[str, Any]
    """path, sha256 and items of the set; the camelCase names are the file's keys."""


def default_folder(evalset: EvalSet, now: datetime, root: Path = DEFAULT_ROOT) -> Path:
    """``eval-runs/<UTC timestamp>-<first 8 of the set's sha256>``."""
    return root / f"{now:%Y%m%dT%H%M%SZ}-{evalset.sha256[:SHA_PREFIX_CHARS]}"


def start(folder: Path, evalset: EvalSet, *, url: str, arms: list[str], now: datetime) -> RunInfo:
    """Create the folder, or continue the run in it: SetupError when it holds a run of another set."""
    existing = folder / RUN
    if existing.exists():
        info = load_info(folder)
        if info.evalSet.get("sha256") != evalset.sha256:
            raise SetupError(
                f"{folder} holds a run of another evaluation set ({info.evalSet.get('path')}); "
                "pass a new --out, or the same set to continue that run"
            )
        merged = info.arms + [arm for arm in arms if arm not in info.arms]
        info = RunInfo(info.id, info.createdAt, url, merged, info.evalSet)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(evalset.path, folder / SET_COPY)
        info = RunInfo(
            id=folder.name,
            createdAt=now.isoformat(timespec="seconds"),
            url=url,
            arms=list(arms),
            evalSet={"path": str(evalset.path), "sha256": evalset.sha256, "items": len(evalset.items)},
        )
    (folder / RUN).write_text(json.dumps(asdict(info), indent=2) + "\n", encoding="utf-8")
    return info


def load_info(folder: Path) -> RunInfo:
    """The run's ``run.json``; SetupError when the folder is not a run folder."""
    try:
        data = json.loads((folder / RUN).read_text(encoding="utf-8"))
        return RunInfo(**{key: data[key] for key in ("id", "createdAt", "url", "arms", "evalSet")})
    except (OSError, ValueError, KeyError, TypeError):
        raise SetupError(f"{folder} is not an evaluation run folder (no readable {RUN})") from None


def load_run_set(folder: Path) -> EvalSet:
    """The set the run was made with (the copy in the folder)."""
    return load_set(folder / SET_COPY)
