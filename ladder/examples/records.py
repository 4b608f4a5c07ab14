"""Reading an examples file: ``ladder data check``'s validation, the store's size limit and the overlap
check against an evaluation set, all before anything is sent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder_core import examples as contract
from ladder_core.catalog.s3vectors import METADATA_MAX_BYTES
from ladder_core.evaluation.evalset import EvalSet
from ladder_core.overlap import Overlap, find_overlap, user_turns

from ..data import check_file, prep_options
from ..errors import LadderError, SetupError

MIN_EXAMPLES = 1
"""A few-shot prompt can show as few examples as there are; one clean example is enough to upload."""


@dataclass(frozen=True)
class Example:
    """One clean chat record of the file: its line, the record as validated and its vector key."""

    line: int
    record: dict[str, Any]
    key: str


class InvalidExamplesError(LadderError):
    """The file has lines ``ladder data check`` rejects, or records the store cannot hold; nothing sent."""


def read_examples(path: Path) -> list[Example]:
    """Every record of JSON Lines file ``path`` in file order, once each line passed ``ladder data check``'s
    checks (the same report otherwise) and fits the store's metadata limit; InvalidExamplesError if not."""
    report = check_file(path, prep_options(min_examples=MIN_EXAMPLES, eval_fraction=0.0))
    if report.rejected or not report.usable:
        raise InvalidExamplesError(
            f"{path}: not uploaded, nothing was sent; fix the lines `ladder data check` rejects:\n"
            + report.format(max_rejections=report.rejected)
        )
    rejected = {rejection.line for rejection in report.rejections}
    found: list[Example] = []
    try:
        with path.open("rb") as fp:
            for number, raw in enumerate(fp, start=1):
                if not raw.strip() or number in rejected:
                    continue
                messages = json.loads(raw.decode("utf-8-sig"))["messages"]
                record = {"messages": [{"role": m["role"], "content": m["content"]} for m in messages]}
                found.append(Example(line=number, record=record, key=contract.vector_key(record)))
    except OSError as err:
        raise SetupError(f"cannot read {path}: {err.strerror or err}") from None
    too_big = [e for e in found if contract.metadata_bytes(e.record) > METADATA_MAX_BYTES]
    if too_big:
        raise InvalidExamplesError(
            f"{path}: not uploaded, nothing was sent; S3 Vectors keeps at most {METADATA_MAX_BYTES} bytes of "
            "metadata per vector and these examples are longer as JSON text: "
            + ", ".join(f"line {e.line} ({contract.metadata_bytes(e.record)} bytes)" for e in too_big)
            + "; shorten or split them"
        )
    return found


def overlap_with(examples: list[Example], evalset: EvalSet) -> Overlap:
    """The evaluation questions found among the examples' user turns (``ladder_core.overlap``'s rules)."""
    questions = [(item.id, item.question) for item in evalset.items]
    return find_overlap(questions, (turn for e in examples for turn in user_turns(e.record)))


def overlapping_examples(examples: list[Example], evalset: EvalSet) -> dict[int, tuple[str, ...]]:
    """For each example that overlaps the evaluation set, by line: the evaluation item ids it contains."""
    questions = [(item.id, item.question) for item in evalset.items]
    found: dict[int, tuple[str, ...]] = {}
    for example in examples:
        overlap = find_overlap(questions, user_turns(example.record))
        if not overlap.clean:
            found[example.line] = overlap.ids
    return found


def refuse_overlap(path: Path, examples: list[Example], evalset: EvalSet) -> Overlap:
    """The (clean) overlap check, or InvalidExamplesError naming every example that holds an evaluation
    question: an example shown in the prompt that is the question itself answers it for the model."""
    overlap = overlap_with(examples, evalset)
    if overlap.clean:
        return overlap
    lines = [
        f"  line {line}: evaluation item(s) {', '.join(ids)}"
        for line, ids in overlapping_examples(examples, evalset).items()
    ]
    raise InvalidExamplesError(
        f"{path}: not uploaded, nothing was sent; {overlap.describe()}\n"
        f"Examples that hold evaluation questions (remove them, or the items from {evalset.path}):\n"
        + "\n".join(lines)
    )
