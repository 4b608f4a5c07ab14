"""``ladder data check``: the fine-tuning pipeline's own validation of a chat file, run locally, the base
model's chat template tried on every clean record as the training job encodes it, and the contamination
check of an evaluation set against the clean records' user turns (:mod:`ladder_core.overlap`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder_core.overlap import Overlap, find_overlap, user_turns
from training_jobs import dataprep

from ..errors import SetupError
from ..evaluation.evalset import load_set


def prep_options(*, min_examples: int | None, eval_fraction: float | None) -> dataprep.PrepOptions:
    """dataprep's options, its defaults for what is not given; SetupError naming a bad value."""
    defaults = dataprep.PrepOptions()
    try:
        return dataprep.PrepOptions(
            min_examples=defaults.min_examples if min_examples is None else min_examples,
            eval_fraction=defaults.eval_fraction if eval_fraction is None else eval_fraction,
        )
    except ValueError as err:
        raise SetupError(str(err)) from None


def check_file(path: Path, options: dataprep.PrepOptions) -> dataprep.Report:
    """The report of every line of JSON Lines file ``path``; SetupError when it cannot be read."""
    return check_records(path, options).report


def check_records(path: Path, options: dataprep.PrepOptions) -> dataprep.Prepared:
    """The clean records of JSON Lines file ``path`` and the report of every line; SetupError when it
    cannot be read.

    The file is read as bytes, so each line is decoded on its own: a line that is not valid text is
    reported as rejected, with its number, instead of stopping the whole check.
    """
    try:
        with path.open("rb") as fp:
            return dataprep.prepare(fp, options)
    except OSError as err:
        raise SetupError(f"cannot read {path}: {err.strerror or err}") from None


def eval_overlap(eval_set: Path, prepared: dataprep.Prepared) -> Overlap:
    """Which questions of evaluation set ``eval_set`` (checked as ``ladder eval run`` checks it) appear,
    exactly or nearly, among the user turns of the records training would use (the clean ones)."""
    questions = [(item.id, item.question) for item in load_set(eval_set).items]
    turns = [turn for record in (*prepared.train, *prepared.eval) for turn in user_turns(record)]
    return find_overlap(questions, turns)


@dataclass(frozen=True)
class TemplateProblem:
    """A clean record the base model's chat template cannot train on: its line and why."""

    line: int
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "detail": self.detail}


@dataclass(frozen=True)
class TemplateCheck:
    """Every clean record rendered with the base model's chat template, as the training job encodes it."""

    base_model: str
    checked: int
    problems: tuple[TemplateProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "base_model": self.base_model,
            "checked": self.checked,
            "ok": self.ok,
            "problems": [problem.to_dict() for problem in self.problems],
        }

    def format(self) -> str:
        head = (
            f"Chat template of {self.base_model}: {self.checked} clean records rendered, "
            f"{len(self.problems)} the training job cannot encode"
        )
        return "\n".join([head, *(f"  line {p.line}: {p.detail}" for p in self.problems)])


def load_tokenizer(base_model: str) -> Any:
    """The tokenizer (and chat template) of ``base_model``: a local folder, or a Hugging Face id whose
    tokenizer files are downloaded. SetupError when it cannot be loaded or has no chat template."""
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise SetupError(
            "--base-model needs the transformers package (training_jobs/requirements.txt); install the "
            "development requirements"
        ) from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(base_model)
    except (OSError, ValueError) as err:
        raise SetupError(
            f"--base-model {base_model}: cannot load its tokenizer ({err}); pass a folder holding the "
            "model's tokenizer files or a Hugging Face id"
        ) from None
    if not tokenizer.chat_template:
        raise SetupError(
            f"--base-model {base_model}: its tokenizer has no chat template; use an instruct model"
        )
    return tokenizer


def check_chat_template(
    path: Path, tokenizer: Any, report: dataprep.Report, *, base_model: str
) -> TemplateCheck:
    """Renders every record ``report`` kept clean with ``tokenizer``'s chat template, as ``train.py``'s
    :func:`~training_jobs.train.encode_conversation` does once the job has started, and lists the records
    it would stop on (a template that renders an earlier turn differently once later turns follow, such as
    Qwen3's, which drops the think block of every assistant turn before the last question)."""
    from jinja2 import TemplateError

    from training_jobs.train import ChatTemplateError, encode_conversation

    rejected = {rejection.line for rejection in report.rejections}
    problems: list[TemplateProblem] = []
    checked = 0
    try:
        with path.open("rb") as fp:
            for number, raw in enumerate(fp, start=1):
                if not raw.strip() or number in rejected:
                    continue
                messages = json.loads(raw.decode("utf-8-sig"))["messages"]
                checked += 1
                try:
                    encode_conversation(tokenizer, messages)
                except ChatTemplateError as err:
                    problems.append(TemplateProblem(number, str(err)))
                except TemplateError as err:
                    problems.append(TemplateProblem(number, f"the chat template refuses it: {err}"))
    except OSError as err:
        raise SetupError(f"cannot read {path}: {err.strerror or err}") from None
    return TemplateCheck(base_model=base_model, checked=checked, problems=tuple(problems))
