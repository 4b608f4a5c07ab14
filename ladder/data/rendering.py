"""``ladder data render``: chat records whose prompt is the one the RAG function serves in ``finetuned``
mode, built with the function's own retrieval and template code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder_core.api import FINETUNED
from lambdas.rag import prompts, retrieval
from lambdas.rag import settings as rag_settings
from training_jobs import dataprep

from ..errors import LadderError, SetupError

RENDER_MODE = FINETUNED
"""Records are rendered with the template the RAG function serves in this mode."""
QA_KEYS = frozenset({"question", "answer"})
MANIFEST_SUFFIX = ".render.json"


@dataclass(frozen=True)
class QaPair:
    """One approved answer in the house style, with the 1-based line it came from."""

    line: int
    question: str
    answer: str


@dataclass(frozen=True)
class RenderResult:
    """What ``render`` wrote: the chat records, and the manifest that records how they were made."""

    records: list[dict[str, Any]]
    manifest: dict[str, Any]


def read_pairs(path: Path, *, max_question_chars: int) -> list[QaPair]:
    """Every ``{"question", "answer"}`` line of ``path``; LadderError (exit 1) naming every bad line."""
    try:
        raw_lines = path.read_bytes().splitlines()
    except OSError as err:
        raise SetupError(f"cannot read {path}: {err.strerror or err}") from None
    pairs: list[QaPair] = []
    problems: list[str] = []
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            problems.append(f"line {number}: not valid JSON ({err})")
            continue
        if not isinstance(item, dict) or set(item) != QA_KEYS:
            problems.append(f'line {number}: expected an object with exactly "question" and "answer"')
            continue
        question, answer = item["question"], item["answer"]
        if not isinstance(question, str) or not question.strip():
            problems.append(f"line {number}: question must be a non-empty string")
        elif len(question) > max_question_chars:
            problems.append(
                f"line {number}: question has {len(question)} characters; the API accepts at most "
                f"{max_question_chars}"
            )
        elif not isinstance(answer, str) or not answer.strip():
            problems.append(f"line {number}: answer must be a non-empty string")
        else:
            pairs.append(QaPair(line=number, question=question, answer=answer))
    if problems:
        raise LadderError(
            f"{path}: {len(problems)} unusable lines, nothing retrieved:\n  " + "\n  ".join(problems)
        )
    if not pairs:
        raise LadderError(f"{path}: no question/answer pairs")
    return pairs


def function_settings(lambda_client: Any, function_name: str) -> rag_settings.Settings:
    """The deployed RAG function's own settings (its environment), parsed by its own code."""
    configuration = lambda_client.get_function_configuration(FunctionName=function_name)
    variables = configuration.get("Environment", {}).get("Variables", {})
    try:
        return rag_settings.load_settings(variables)
    except rag_settings.SettingsError as err:
        raise SetupError(f"function {function_name}: {err}; redeploy it with `make deploy`") from None


def render(
    agent_runtime: Any,
    settings: rag_settings.Settings,
    pairs: list[QaPair],
    *,
    top_k: int,
    template: prompts.PromptTemplate | None = None,
) -> RenderResult:
    """Retrieves each question's passages as the function does and renders the ``finetuned`` template.

    A question that retrieves nothing is left out and listed: the function answers it without the
    model (its no-context answer), so a record with an empty passages block would teach the model a
    prompt it never gets.
    """
    template = template or prompts.load_templates()[RENDER_MODE]
    records: list[dict[str, Any]] = []
    empty: list[dict[str, Any]] = []
    for pair in pairs:
        passages = retrieval.retrieve_passages(
            agent_runtime, settings, question=pair.question, top_k=top_k, retrieval_filter=None
        )
        if not passages:
            empty.append({"line": pair.line, "question": pair.question})
            continue
        records.append(
            {
                "messages": [
                    {"role": "system", "content": template.system},
                    {"role": "user", "content": template.user_text(pair.question, passages)},
                    {"role": "assistant", "content": pair.answer},
                ]
            }
        )
    manifest = {
        "mode": RENDER_MODE,
        "promptVersion": template.version,
        "knowledgeBaseId": settings.knowledge_base_id,
        "topK": top_k,
        "searchType": settings.search_type,
        "rerankModelArn": settings.rerank_model_arn,
        "minRelevanceScore": settings.min_relevance_score,
        "pairs": len(pairs),
        "written": len(records),
        "noPassages": empty,
    }
    return RenderResult(records=records, manifest=manifest)


def write_render(result: RenderResult, out: Path) -> Path:
    """Writes the records to ``out`` and the manifest beside it (``<out>.render.json``); returns its path."""
    manifest_path = out.with_name(out.name + MANIFEST_SUFFIX)
    try:
        with out.open("w", encoding="utf-8") as fp:
            dataprep.write_jsonl(result.records, fp)
        manifest_path.write_text(json.dumps(result.manifest, indent=2, ensure_ascii=False) + "\n")
    except OSError as err:
        raise LadderError(f"cannot write {err.filename or out}: {err.strerror or err}") from None
    return manifest_path
