"""Runs the rules on a run folder (and optional training data) and writes the verdict file."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ladder_core.evaluation.summary import describe_causes
from ladder_core.overlap import Overlap
from ladder_core.stats import CONFIDENCE, DEFAULT_RESAMPLES, DEFAULT_SEED
from stacks.fine_tune import verdict
from training_jobs import dataprep

from .. import data, hints
from ..errors import LadderError
from .economics import CLEARLY_CHEAPER, FineTuneEconomics
from .rules import DEFAULT_VALID_DAYS, MAX_CORRECTNESS_DROP, Decision, Inputs, Targets, decide
from .runs import EvalRun, UnusableRunError, read_run

DEFAULT_OUT = Path("ladder-verdict.json")


@dataclass(frozen=True)
class JustifyOptions:
    eval_dir: Path
    out: Path = DEFAULT_OUT
    data: Path | None = None
    queries_per_day: int | None = None
    targets: Targets = field(default_factory=Targets)
    min_examples: int | None = None
    valid_days: int = DEFAULT_VALID_DAYS
    resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED
    economics: FineTuneEconomics = field(default_factory=FineTuneEconomics)


@dataclass(frozen=True)
class JustifyResult:
    document: dict[str, Any]
    decision: Decision
    path: Path


def run_justify(options: JustifyOptions, *, now: datetime) -> JustifyResult:
    """Reads the run (SetupError when missing, exit 2; UnusableRunError when malformed, exit 1), checks
    ``--data`` with ``ladder data check``'s rules, decides, and writes the verdict."""
    run = read_run(options.eval_dir)
    if run.generation_model_id is None:
        causes = "; ".join(
            f"{arm.name}: {describe_causes(list(arm.error_causes))}"
            for arm in run.arms.values()
            if arm.error_causes
        )
        raise UnusableRunError(
            f"{run.dir}: no answer came back, so there is nothing to decide on"
            + (f" ({causes})" if causes else "")
            + ". Fix the cause, then retry the answers with: "
            + hints.command("eval", "run", "--out", str(run.dir))
        )
    report = None
    overlap: Overlap | None = None
    overlap_problem = None
    if options.data is not None:
        prep = data.prep_options(min_examples=options.min_examples, eval_fraction=None)
        prepared = data.check_records(options.data, prep)
        report = prepared.report
        if run.set_copy.is_file():
            overlap = data.eval_overlap(run.set_copy, prepared)
        else:
            overlap_problem = (
                f"the run folder has no {run.set_copy.name} (the copy of its evaluation set), so the data "
                "cannot be checked for evaluation questions"
            )
    decision = decide(
        Inputs(
            run=run,
            targets=options.targets,
            data=report,
            queries_per_day=options.queries_per_day,
            valid_days=options.valid_days,
            resamples=options.resamples,
            seed=options.seed,
            economics=options.economics,
            overlap=overlap,
            overlap_problem=overlap_problem,
        )
    )
    document = build_verdict(options, run, decision, report, now=now, overlap=overlap)
    _write_atomically(options.out, verdict.dumps(document))
    return JustifyResult(document=document, decision=decision, path=options.out)


def build_verdict(
    options: JustifyOptions,
    run: EvalRun,
    decision: Decision,
    report: dataprep.Report | None,
    *,
    now: datetime,
    overlap: Overlap | None = None,
) -> dict[str, Any]:
    """The verdict document, keys exactly as the contract (``stacks/fine_tune/verdict.py``) names them."""
    return {
        "schemaVersion": verdict.SCHEMA_VERSION,
        "rung": decision.rung,
        "fineTuneJustified": decision.fine_tune_justified,
        "reasons": decision.reasons,
        "evalRun": {
            "dir": run.dir.as_posix(),
            "id": run.id,
            "evalSetSha256": run.eval_set_sha256,
            "items": run.eval_set_items,
        },
        "generationModelId": run.generation_model_id,
        "targets": {
            **options.targets.to_json(),
            "maxCorrectnessDrop": MAX_CORRECTNESS_DROP,
            "scaleSavingMin": CLEARLY_CHEAPER,
            "queriesPerDay": options.queries_per_day,
            "bootstrap": {"resamples": options.resamples, "seed": options.seed, "confidence": CONFIDENCE},
        },
        "arms": dict(run.raw_arms),
        "data": None if report is None else _data_counts(options.data, report, overlap),
        "createdAt": verdict.format_time(now),
        "expiresAt": verdict.format_time(now + timedelta(days=options.valid_days)),
        "rules": [rule.to_dict() for rule in decision.rules],
    }


def _data_counts(path: Path | None, report: dataprep.Report, overlap: Overlap | None) -> dict[str, Any]:
    """``ladder data check``'s counts and ``evalOverlap`` (null when the run had no copy of its set)."""
    return {
        "path": None if path is None else path.as_posix(),
        "usable": report.usable,
        "minExamples": report.min_examples,
        "missing": report.missing,
        "read": report.read,
        "clean": report.clean,
        "rejected": report.rejected,
        "train": report.train,
        "eval": report.eval,
        "evalOverlap": None if overlap is None else overlap.to_dict(),
    }


def format_result(result: JustifyResult) -> str:
    """The human-readable table of rules with their numbers, the verdict and its reasons."""
    document, decision = result.document, result.decision
    run, targets = document["evalRun"], document["targets"]
    width = max(len(rule.name) for rule in decision.rules)
    lines = [
        f"Evaluation run {run['id']}: {run['items']} items (eval set {str(run['evalSetSha256'])[:12]}), "
        f"generation model {document['generationModelId']}",
        f"Targets: correctness >= {targets['correctness']:.2f}, format compliance >= "
        f"{targets['formatCompliance']:.2f} (by the 95% interval's lower bound), at least "
        f"{targets['minItems']} scored items, {targets['minDisagreements']} disagreeing items to compare",
        "",
        f"  #  {'rule':<{width}}  {'outcome':<9}  numbers",
        *(
            f"  {rule.number}  {rule.name:<{width}}  {rule.outcome:<9}  {rule.detail}"
            for rule in decision.rules
        ),
        "",
        f"Verdict: rung {decision.rung}; fine-tuning "
        + ("JUSTIFIED" if decision.fine_tune_justified else "not justified")
        + f" (expires {document['expiresAt']})",
        *(f"  - {conclusion}" for conclusion in decision.conclusions),
    ]
    if decision.assumptions:
        lines += ["Assumptions of the scale case:", *(f"  - {text}" for text in decision.assumptions)]
    lines.append(f"Wrote {result.path}")
    return "\n".join(lines)


def _write_atomically(path: Path, text: str) -> None:
    """Writes through a temporary file in the same folder, so a crash never leaves half a verdict."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as fp:
            fp.write(text)
        os.replace(temporary, path)
    except OSError as err:
        raise LadderError(f"cannot write the verdict to {path}: {err.strerror or err}") from None
