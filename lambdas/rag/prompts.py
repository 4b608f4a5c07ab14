"""Prompt templates (one file per mode under ``prompts/``) and how passages and questions fill them.

A template file has sections, each opened by a line such as ``[[system]]``:

- ``[[system]]``: instructions, sent as the Converse system prompt.
- ``[[user]]``: the user turn; ``{{passages}}`` and ``{{question}}`` mark where the retrieved passages
  and the question go. With Converse they become guardContent blocks (qualifiers grounding_source and
  query) so the guardrail's grounding check and prompt-attack filter see them; the text around them
  is sent as plain text.
- ``[[invoke_model]]`` (finetuned only): the raw prompt for InvokeModel, with ``{{system}}`` and
  ``{{user}}`` marking where the two sections above go, in the chat format the model was trained on.
  Chat formats depend on exact whitespace, so in this section line breaks in the file are ignored and
  a literal ``\\n`` stands for a newline.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import constants

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
PASSAGES = "{{passages}}"
QUESTION = "{{question}}"
SYSTEM = "{{system}}"
USER = "{{user}}"
_SECTION = re.compile(r"^\[\[([a-z_]+)\]\]\s*$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"(\{\{passages\}\}|\{\{question\}\})")
# Chat-format control sequences (Llama's <|eot_id|> and kin) must not arrive from user text or documents.
_CONTROL_SEQUENCE = re.compile(r"<\|")


@dataclass(frozen=True)
class Passage:
    """A retrieved passage given to the model; its position in the list is its citation number - 1."""

    text: str
    source_uri: str
    score: float


@dataclass(frozen=True)
class PromptTemplate:
    """One mode's template, with ``version`` the first hex digits of the file's sha256."""

    mode: str
    version: str
    system: str
    user: str
    invoke_model: str | None = None

    def converse_messages(self, question: str, passages: Sequence[Passage]) -> dict[str, Any]:
        """``system`` and ``messages`` for Converse: passages and question in guardContent blocks."""
        content: list[dict[str, Any]] = []
        for segment in _PLACEHOLDER.split(self.user):
            if segment == PASSAGES:
                content.append(_guard(render_passages(passages), "grounding_source"))
            elif segment == QUESTION:
                content.append(_guard(question, question_qualifier(question, passages)))
            elif segment.strip():
                content.append({"text": segment.strip()})
        return {"system": [{"text": self.system}], "messages": [{"role": "user", "content": content}]}

    def user_text(self, question: str, passages: Sequence[Passage]) -> str:
        """The user turn as one text, chat control sequences defused in the inputs: what InvokeModel
        sends, and what ``ladder data render`` writes into fine-tuning records so training sees it too."""
        return self.user.replace(PASSAGES, _defuse(render_passages(passages))).replace(
            QUESTION, _defuse(question)
        )

    def invoke_model_prompt(self, question: str, passages: Sequence[Passage]) -> str:
        """The raw prompt text for InvokeModel, with chat control sequences defused in the inputs."""
        if self.invoke_model is None:
            raise ValueError(f"the {self.mode} template has no [[invoke_model]] section")
        return self.invoke_model.replace(SYSTEM, self.system).replace(
            USER, self.user_text(question, passages)
        )


def question_qualifier(question: str, passages: Sequence[Passage]) -> str:
    """``query`` feeds the contextual grounding check, which needs passages and accepts at most
    GROUNDING_QUERY_MAX_CHARS; otherwise the question is plain guarded content (every other filter,
    prompt attack included, still sees it)."""
    if passages and len(question) <= constants.GROUNDING_QUERY_MAX_CHARS:
        return "query"
    return "guard_content"


def render_passages(passages: Sequence[Passage]) -> str:
    """Passages delimited as data, numbered from 1; markup inside them is escaped so none can close one."""
    lines = ["<passages>"]
    for number, passage in enumerate(passages, start=1):
        source = html.escape(passage.source_uri, quote=True)
        lines.append(f'<passage id="{number}" source="{source}">')
        lines.append(html.escape(passage.text, quote=False))
        lines.append("</passage>")
    lines.append("</passages>")
    return "\n".join(lines)


@dataclass(frozen=True)
class GroundingSource:
    """The passages the model and the contextual grounding check get, and how many were left out."""

    passages: list[Passage]
    trimmed: int = 0
    """Passages left out (lowest-ranked first), plus one if the first passage's text had to be cut."""


def fit_grounding_source(passages: Sequence[Passage]) -> GroundingSource:
    """The highest-ranked passages whose rendering fits the contextual grounding check's limit on the
    grounding source (GROUNDING_SOURCE_MAX_CHARS): the lowest-ranked go first. A first passage that alone
    is too long keeps the start of its text, so a question never loses all of its context."""
    limit = constants.GROUNDING_SOURCE_MAX_CHARS
    kept = list(passages)
    while kept and len(render_passages(kept)) > limit:
        kept.pop()
    if kept or not passages:
        return GroundingSource(kept, len(passages) - len(kept))
    # Escaping makes the rendering longer than the text by an amount that depends on the text, so the
    # longest prefix that fits is found by bisection.
    first = passages[0]
    low, high = 0, len(first.text)
    while low < high:
        middle = (low + high + 1) // 2
        if len(render_passages([replace(first, text=first.text[:middle])])) <= limit:
            low = middle
        else:
            high = middle - 1
    return GroundingSource([replace(first, text=first.text[:low])], len(passages))


def _guard(text: str, qualifier: str) -> dict[str, Any]:
    return {"guardContent": {"text": {"text": text, "qualifiers": [qualifier]}}}


def _defuse(text: str) -> str:
    return _CONTROL_SEQUENCE.sub("< |", text)


def load_templates(directory: Path = PROMPTS_DIR) -> dict[str, PromptTemplate]:
    """Reads ``<mode>.txt`` for every mode; raises ValueError when a template lacks what its mode needs."""
    return {mode: _load(directory / f"{mode}.txt", mode) for mode in constants.MODES}


def _load(path: Path, mode: str) -> PromptTemplate:
    raw = path.read_bytes()
    sections = _sections(raw.decode("utf-8"), path)
    system, user = sections.get("system", ""), sections.get("user", "")
    if not system:
        raise ValueError(f"{path}: needs a non-empty [[system]] section")
    wants_passages = mode != "prompt"
    if user.count(QUESTION) != 1 or user.count(PASSAGES) != (1 if wants_passages else 0):
        expected = (
            f"{PASSAGES} and {QUESTION} once each" if wants_passages else f"{QUESTION} once, no passages"
        )
        raise ValueError(f"{path}: the [[user]] section needs {expected}")
    invoke_model = sections.get("invoke_model")
    if invoke_model is not None:
        invoke_model = "".join(invoke_model.splitlines()).replace("\\n", "\n")
    if mode == "finetuned" and (
        invoke_model is None or SYSTEM not in invoke_model or USER not in invoke_model
    ):
        raise ValueError(f"{path}: needs an [[invoke_model]] section with {SYSTEM} and {USER}")
    version = hashlib.sha256(raw).hexdigest()[: constants.PROMPT_VERSION_HEX_CHARS]
    return PromptTemplate(mode=mode, version=version, system=system, user=user, invoke_model=invoke_model)


def _sections(text: str, path: Path) -> dict[str, str]:
    parts = _SECTION.split(text)
    if parts[0].strip():
        raise ValueError(f"{path}: text before the first [[section]] line")
    names, bodies = parts[1::2], parts[2::2]
    return {name: body.strip("\n") for name, body in zip(names, bodies, strict=True)}
