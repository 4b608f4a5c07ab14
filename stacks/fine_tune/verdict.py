"""The verdict file (``ladder-verdict.json``) and the gate on ``-c fineTune=true``.

``ladder justify`` writes the verdict from measured numbers; synth with ``fineTune=true`` reads it here and
refuses unless the verdict justifies fine-tuning, has not expired and was measured with the configured
``generationModelId`` - or an override reason (``-c fineTuneOverride=...``) is given. Standard library
only: the CLI imports this module to write and validate the same shape, and stacks never import ``ladder``.

The verdict file is a public contract; its keys are exactly::

    {"rung": "none"|"prompt"|"rag"|"fewshot"|"finetune", "fineTuneJustified": bool, "reasons": [str, ...],
     "evalRun": {"dir", "id", "evalSetSha256", "items"}, "generationModelId": str,
     "targets": {...}, "arms": {...the eval summary's arms...}, "data": {...counts...}|null,
     "createdAt": ISO-8601, "expiresAt": ISO-8601}

Schema version 2 (``"schemaVersion": 2``) adds, as new keys only: ``schemaVersion``, ``rules`` (each
rule's number, name, outcome, detail and its evidence: intervals, p-values) and ``data.evalOverlap``. A
verdict without ``schemaVersion`` is version 1 and still valid. Schema version 3 adds the rung
``"fewshot"`` (the operator's examples in the prompt meet the targets) and rule 8 ("Few-shot suffices",
last in ``rules``); versions 1 and 2 stay valid.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ladder_core.metrics import CORRECTNESS, FORMAT_COMPLIANCE
from ladder_core.tags import tag_value as tag_value
from ladder_core.timestamps import format_utc, parse_utc
from stacks.config import ConfigError, LadderConfig

RUNGS = ("none", "prompt", "rag", "fewshot", "finetune")
VERDICT_KEYS = (
    "rung",
    "fineTuneJustified",
    "reasons",
    "evalRun",
    "generationModelId",
    "targets",
    "arms",
    "data",
    "createdAt",
    "expiresAt",
)
OPTIONAL_KEYS = ("schemaVersion", "rules")
"""Keys added by schema version 2; a version-1 verdict lacks them."""
SCHEMA_VERSION = 3
FEWSHOT_SCHEMA_VERSION = 3
"""The version that added the rung ``fewshot``: an older verdict naming it was not written by justify."""
EVAL_RUN_KEYS = ("dir", "id", "evalSetSha256", "items")
REASON_METADATA_KEY = "Ladder::FineTuneReason"
"""Template Metadata key under which the fine-tune stack records why it exists (read by reviews)."""
REASON_TAG_KEY = "ladder:fine-tune-reason"
HEADLINE_METRICS = (CORRECTNESS.summary_key, FORMAT_COMPLIANCE.summary_key)
REASONS_IN_REFUSAL = 3

REPO_ROOT = Path(__file__).resolve().parents[2]
"""A relative ``fineTuneVerdict`` path is resolved against the repository root (where ``cdk.json`` and
``app.py`` are), so the result never depends on the directory synth or the tests run from."""


class VerdictError(ValueError):
    """The verdict file cannot be read or does not have the contract's shape; the message says why."""


class FineTuneRefused(ConfigError):
    """Synth with ``fineTune=true`` has neither a justified verdict nor an override (exit 2, no traceback)."""


@dataclass(frozen=True)
class Verdict:
    """The fields of a verdict the gate decides on, plus the raw document for the record."""

    rung: str
    fine_tune_justified: bool
    reasons: tuple[str, ...]
    generation_model_id: str
    created_at: datetime
    expires_at: datetime
    document: Mapping[str, Any]

    def headline(self) -> dict[str, Any]:
        """The numbers a reviewer needs: eval items, the set's hash and each arm's headline metrics."""
        run = self.document.get("evalRun") or {}
        arms = self.document.get("arms") or {}
        return {
            "evalItems": run.get("items"),
            "evalSetSha256": run.get("evalSetSha256"),
            "arms": {
                arm: {metric: (values or {}).get(metric) for metric in HEADLINE_METRICS}
                for arm, values in sorted(arms.items())
            },
        }


@dataclass(frozen=True)
class FineTuneReason:
    """Why the fine-tune stack exists; ``to_metadata()`` is the ``Ladder::FineTuneReason`` value."""

    kind: str
    """``verdict`` or ``override``."""
    reason: str
    rung: str | None = None
    verdict_created_at: str | None = None
    expires_at: str | None = None
    headline: Mapping[str, Any] | None = None

    def to_metadata(self) -> dict[str, Any]:
        """The template Metadata value. CloudFormation metadata holds strings, integers, booleans, objects
        and arrays but no floats (cfn-lint E4002), so every measured rate is written as its decimal
        string ("0.62")."""
        return {
            "kind": self.kind,
            "reason": self.reason,
            "rung": self.rung,
            "verdictCreatedAt": self.verdict_created_at,
            "expiresAt": self.expires_at,
            "headline": _metadata_value(dict(self.headline)) if self.headline is not None else None,
        }

    def summary(self) -> str:
        """One line for the stack description and the tag."""
        if self.kind == "override":
            return f"override: {self.reason}"
        return f"verdict {self.rung} of {self.verdict_created_at}, expires {self.expires_at}: {self.reason}"


def _metadata_value(value: Any) -> Any:
    """``value`` with every float (at any depth) replaced by its shortest decimal string."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping):
        return {key: _metadata_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_metadata_value(item) for item in value]
    return value


def parse_time(value: Any, key: str) -> datetime:
    """An ISO-8601 timestamp with a UTC offset (:func:`ladder_core.timestamps.parse_utc`); VerdictError
    naming ``key`` otherwise."""
    try:
        return parse_utc(value)
    except ValueError as err:
        raise VerdictError(f"{key} {err}") from None


format_time = format_utc


def validate(document: Any) -> Verdict:
    """Checks a verdict document against the contract; VerdictError lists every problem found."""
    if not isinstance(document, dict):
        raise VerdictError("a verdict must be a JSON object")
    problems = [f"missing key {key!r}" for key in VERDICT_KEYS if key not in document]
    problems += [
        f"unknown key {key!r}" for key in document if key not in VERDICT_KEYS and key not in OPTIONAL_KEYS
    ]
    if problems:
        raise VerdictError("; ".join(problems))
    if document["rung"] not in RUNGS:
        problems.append(f"rung must be one of {', '.join(RUNGS)}, got {document['rung']!r}")
    if not isinstance(document["fineTuneJustified"], bool):
        problems.append("fineTuneJustified must be true or false")
    reasons = document["reasons"]
    if not isinstance(reasons, list) or not reasons or not all(isinstance(r, str) for r in reasons):
        problems.append("reasons must be a non-empty list of strings")
    run = document["evalRun"]
    if not isinstance(run, dict) or any(key not in run for key in EVAL_RUN_KEYS):
        problems.append(f"evalRun must be an object with {', '.join(EVAL_RUN_KEYS)}")
    if not isinstance(document["generationModelId"], str) or not document["generationModelId"]:
        problems.append("generationModelId must be a non-empty string")
    for key in ("targets", "arms"):
        if not isinstance(document[key], dict):
            problems.append(f"{key} must be an object")
    version = document.get("schemaVersion", 1)
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
        problems.append(f"schemaVersion must be a whole number from 1 to {SCHEMA_VERSION}, got {version!r}")
    elif document["rung"] == "fewshot" and version < FEWSHOT_SCHEMA_VERSION:
        problems.append(
            f"rung 'fewshot' needs schemaVersion {FEWSHOT_SCHEMA_VERSION} or later, got {version}"
        )
    rules = document.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        problems.append("rules must be a list of objects")
    if document["data"] is not None and not isinstance(document["data"], dict):
        problems.append("data must be an object or null")
    if document["fineTuneJustified"] is True and document["rung"] != "finetune":
        problems.append("fineTuneJustified can be true only with rung 'finetune'")
    times: dict[str, datetime] = {}
    for key in ("createdAt", "expiresAt"):
        try:
            times[key] = parse_time(document[key], key)
        except VerdictError as err:
            problems.append(str(err))
    if len(times) == 2 and times["expiresAt"] <= times["createdAt"]:
        problems.append("expiresAt must be after createdAt")
    if problems:
        raise VerdictError("; ".join(problems))
    return Verdict(
        rung=document["rung"],
        fine_tune_justified=document["fineTuneJustified"],
        reasons=tuple(reasons),
        generation_model_id=document["generationModelId"],
        created_at=times["createdAt"],
        expires_at=times["expiresAt"],
        document=document,
    )


def dumps(document: Mapping[str, Any]) -> str:
    """The verdict as written to disk: validated first, stable key order, no NaN."""
    validate(dict(document))
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def load(path: Path) -> Verdict:
    """Reads and validates the verdict at ``path``; FileNotFoundError when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as err:  # unreadable is not the same as absent
        raise VerdictError(f"cannot read it: {err}") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except ValueError as err:
        raise VerdictError(f"not valid JSON: {err}") from None
    return validate(document)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def resolve_path(configured: str, root: Path = REPO_ROOT) -> Path:
    path = Path(configured).expanduser()
    return path if path.is_absolute() else root / path


def fine_tune_reason(config: LadderConfig, *, now: datetime, root: Path = REPO_ROOT) -> FineTuneReason:
    """Why synth may build the fine-tune stack; FineTuneRefused (a ConfigError) when it may not.

    An override reason wins and the verdict is then not read: an override says "go on without a verdict".
    """
    if config.fine_tune_override:
        return FineTuneReason(kind="override", reason=config.fine_tune_override)
    path = resolve_path(config.fine_tune_verdict, root)
    try:
        verdict = load(path)
    except FileNotFoundError:
        raise FineTuneRefused(_refusal(_measure(config), f"There is no verdict file at {path}.")) from None
    except VerdictError as err:
        raise FineTuneRefused(
            _refusal(_measure(config), f"The verdict file {path} is not usable: {err}.")
        ) from None
    first = _first_reasons(verdict)
    if not verdict.fine_tune_justified:
        problem = f"The verdict {path} (rung '{verdict.rung}') does not justify fine-tuning: {first}"
        raise FineTuneRefused(_refusal(_unjustified_fix(verdict, config), problem))
    if now.astimezone(UTC) >= verdict.expires_at:
        problem = (
            f"The verdict {path} expired at {format_time(verdict.expires_at)}; base models keep improving, "
            "so the decision must be measured again."
        )
        raise FineTuneRefused(_refusal(f"measure again: {_measure(config)}", problem))
    if verdict.generation_model_id != config.generation_model_id:
        problem = (
            f"The verdict {path} was measured with generationModelId {verdict.generation_model_id}, "
            f"but this deployment uses {config.generation_model_id}."
        )
        fix = (
            f"measure the model you deploy: {_measure(config)} against a deployment of "
            f"{config.generation_model_id}, or deploy -c generationModelId={verdict.generation_model_id}"
        )
        raise FineTuneRefused(_refusal(fix, problem))
    return FineTuneReason(
        kind="verdict",
        reason=verdict.reasons[0],
        rung=verdict.rung,
        verdict_created_at=format_time(verdict.created_at),
        expires_at=format_time(verdict.expires_at),
        headline=verdict.headline(),
    )


def _first_reasons(verdict: Verdict) -> str:
    return " ".join(reason.rstrip(".") + "." for reason in verdict.reasons[:REASONS_IN_REFUSAL])


def _refusal(fix: str, problem: str) -> str:
    """A short paragraph: the fix that applies first, then what was found, then the override."""
    return "\n".join(
        [
            f"Refusing -c fineTune=true. To fix: {fix}.",
            problem,
            "Fine-tuning is switched on only when measured numbers justify it. To deploy it anyway, say why: "
            '-c fineTuneOverride="<reason, at least 20 characters>" (recorded in the template and the nag '
            "report).",
        ]
    )


def _measure(config: LadderConfig) -> str:
    return (
        "deploy without fine-tuning, run `ladder eval run --set EVAL.jsonl`, then "
        f"`ladder justify RUN_DIR --out {config.fine_tune_verdict}`"
    )


def _unjustified_fix(verdict: Verdict, config: LadderConfig) -> str:
    """What would change this verdict: enough training data, a finished measurement, or nothing (another
    rung is the answer)."""
    run_dir = (verdict.document.get("evalRun") or {}).get("dir") or "RUN_DIR"
    data = verdict.document.get("data")
    justify = f"ladder justify {run_dir} --out {config.fine_tune_verdict}"
    if isinstance(data, dict) and data.get("usable") is False:
        path = data.get("path")
        return (
            f"add {data.get('missing')} more clean examples to {path} (it has {data.get('clean')} of the "
            f"{data.get('minExamples')} needed), then rerun `{justify} --data {path}`"
        )
    if data is None and verdict.reasons and verdict.reasons[0].startswith("Behaviour gap"):
        return (
            f"rerun `{justify} --data CHATS.jsonl` with at least {config.fine_tune_min_examples} clean "
            "examples (`ladder data check CHATS.jsonl` counts them)"
        )
    if verdict.rung == "none":
        return f"finish the measurement (`ladder eval run --out {run_dir}`), then rerun `{justify}`"
    return f"deploy without -c fineTune=true: the measured rung is '{verdict.rung}'"
