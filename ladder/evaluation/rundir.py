"""The local run folder: starting or continuing one, and reading it back. Its shape (file names,
``run.json``) is ``ladder_core.evaluation.run``'s, shared with the evaluation function's runs in S3.

``responses.jsonl`` is the only file the runner appends to; ``scores.jsonl``, ``summary.json``,
``report.md`` and ``charts/`` are derived from it (and from the judge's results) and rewritten whole.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ladder_core.evaluation.evalset import EvalSet
from ladder_core.evaluation.run import RESPONSES, RUN, SCORES, SET_COPY, SUMMARY, RunInfo

from ..errors import SetupError
from .evalset import load_set

DEFAULT_ROOT = Path("eval-runs")
__all__ = ["RESPONSES", "RUN", "SCORES", "SET_COPY", "SUMMARY", "RunInfo"]
REPORT = "report.md"
CHARTS = "charts"
JUDGE_JOBS = "judge-jobs.json"
JUDGE_SCORES = "judge-scores.jsonl"
SHA_PREFIX_CHARS = 8
MAX_REPEAT = 10
"""``--repeat`` at most: every repeat is another full pass of paid model calls."""


def default_folder(evalset: EvalSet, now: datetime, root: Path = DEFAULT_ROOT) -> Path:
    """``eval-runs/<UTC timestamp>-<first 8 of the set's sha256>``."""
    return root / f"{now:%Y%m%dT%H%M%SZ}-{evalset.sha256[:SHA_PREFIX_CHARS]}"


def start(
    folder: Path,
    evalset: EvalSet,
    *,
    url: str,
    arms: list[str],
    now: datetime,
    judge: str | None = None,
    style: str | None = None,
    repeat: int = 1,
    examples: dict[str, Any] | None = None,
) -> RunInfo:
    """Create the folder, or continue the run in it.

    A run is continued only with its own settings: SetupError, naming both values, when the set, the URL
    or the arms differ from ``run.json`` (the caller reads them from there with :func:`existing`). A
    judge may be added to a run that had none, and repeats to a run (``repeat`` above the run's: the
    missing repeats are sent), never taken away (the answers of those repeats exist).
    """
    info = existing(folder)
    if info is not None:
        given = replace(
            info, url=url, arms=list(arms), judge=judge, style=style, repeat=repeat, examples=examples
        )
        problems = contradictions(info, given, evalset)
        if problems:
            raise SetupError(
                f"{folder} holds a run with other settings: {'; '.join(problems)}. Continue it without "
                "those options (it keeps its own), or pass a new --out for a new run"
            )
        info = replace(info, judge=judge, style=style, repeat=repeat, examples=info.examples or examples)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(evalset.path, folder / SET_COPY)
        info = RunInfo(
            id=folder.name,
            createdAt=now.isoformat(timespec="seconds"),
            url=url,
            arms=list(arms),
            evalSet={"path": str(evalset.path), "sha256": evalset.sha256, "items": len(evalset.items)},
            judge=judge,
            style=style,
            repeat=repeat,
            examples=examples,
        )
    (folder / RUN).write_text(info.to_json(), encoding="utf-8")
    return info


def existing(folder: Path | None) -> RunInfo | None:
    """The run already in ``folder`` (None when there is none yet); SetupError when ``folder`` is a file
    or its ``run.json`` is unreadable."""
    if folder is None or not folder.exists():
        return None
    if not folder.is_dir():
        raise SetupError(f"--out {folder}: not a folder")
    if not (folder / RUN).exists():
        return None
    return load_info(folder)


def contradictions(saved: RunInfo, given: RunInfo, evalset: EvalSet) -> list[str]:
    """What ``given`` changes in a saved run, each as "option value vs the run's value"."""
    problems = []
    if saved.evalSet.get("sha256") != evalset.sha256:
        problems.append(
            f"--set {evalset.path} is another evaluation set than the run's ({saved.evalSet.get('path')})"
        )
    if given.url != saved.url:
        problems.append(f"--url {given.url} vs the run's {saved.url}")
    if given.arms != saved.arms:
        problems.append(f"--arms {','.join(given.arms)} vs the run's {','.join(saved.arms)}")
    if saved.judge is not None and given.judge != saved.judge:
        problems.append(f"--judge {given.judge or '(none)'} vs the run's {saved.judge}")
    if saved.style is not None and (given.style is None or Path(given.style) != Path(saved.style)):
        problems.append(f"--style {given.style or '(none)'} vs the run's {saved.style}")
    old_set, new_set = (saved.examples or {}).get("sha256"), (given.examples or {}).get("sha256")
    if old_set and new_set and old_set != new_set:
        problems.append(
            f"the examples store now holds another set of examples ({new_set[:12]}) than the run's fewshot "
            f"arm was measured with ({old_set[:12]})"
        )
    if given.repeat < saved.repeat:
        problems.append(
            f"--repeat {given.repeat} vs the run's {saved.repeat} (repeats can be added to a run, not "
            "taken away)"
        )
    return problems


def load_info(folder: Path) -> RunInfo:
    """The run's ``run.json``; SetupError when the folder is not a run folder."""
    try:
        return RunInfo.from_json(json.loads((folder / RUN).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        raise SetupError(f"{folder} is not an evaluation run folder (no readable {RUN})") from None


def load_run_set(folder: Path) -> EvalSet:
    """The set the run was made with (the copy in the folder)."""
    return load_set(folder / SET_COPY)
