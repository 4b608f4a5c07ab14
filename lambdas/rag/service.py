"""The question-answering logic: retrieve, prompt, generate under the guardrail, number the citations."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ladder_core.api import public_model_id

from . import constants
from .clients import Clients, create_clients
from .deadline import Deadline
from .fewshot import Example, ManifestCache, nearest_examples, not_enabled, prior_turns, uploaded_set
from .finetuned import (
    ModelArchitectures,
    ParameterCache,
    chat_format_for,
    finetuned_api,
    load_chat_formats,
    resolve_finetuned_model,
)
from .generation import Generation, converse, invoke_with_guardrail
from .observability import logger
from .prompts import Passage, PromptTemplate, fit_grounding_source, load_templates
from .request import AskRequest
from .retrieval import retrieve_passages
from .settings import Settings, load_settings
from .upstream import upstream_call

CHAT_FORMATS = load_chat_formats()


@dataclass(frozen=True)
class Runtime:
    """What a warm container keeps between requests: settings, clients, templates, the parameter cache."""

    settings: Settings
    clients: Clients
    templates: Mapping[str, PromptTemplate]
    parameters: ParameterCache
    clock: Callable[[], float] = time.monotonic
    architectures: ModelArchitectures | None = None
    """Imported models' architectures (finetuned InvokeModel); None: the finetuned template's own format."""
    manifest: ManifestCache | None = None
    """The uploaded examples' manifest (fewshot); None when the deployment has no examples store."""


def create_runtime(environ: Mapping[str, str] = os.environ) -> Runtime:
    """Cold start: validates settings (SettingsError names the variable), creates clients, loads templates."""
    settings = load_settings(environ)
    clients = create_clients(settings)
    return Runtime(
        settings=settings,
        clients=clients,
        templates=load_templates(),
        parameters=ParameterCache(clients.ssm, constants.FINETUNED_PARAMETER_TTL_S),
        architectures=ModelArchitectures(clients.bedrock, constants.FINETUNED_PARAMETER_TTL_S),
        manifest=(
            ManifestCache(clients.s3, settings.examples_manifest_bucket, constants.EXAMPLES_MANIFEST_TTL_S)
            if clients.s3 is not None and settings.examples_manifest_bucket
            else None
        ),
    )


@dataclass(frozen=True)
class Answer:
    """An answer and how it was made; ``citations[n-1]`` is the passage the answer cites as ``[n]``."""

    text: str
    mode: str
    model_id: str
    prompt_version: str
    citations: list[Passage] = field(default_factory=list)
    retrieved: bool = False
    passages_kept: int = 0
    """Passages at or above MIN_RELEVANCE_SCORE, counted even when an intervention drops the citations."""
    generated: bool = False
    intervened: bool = False
    """The guardrail blocked the question or the answer (the answer is its message, without citations)."""
    masked: bool = False
    """The guardrail masked PII in the answer; the answer and its citations stand."""
    truncated: bool = False
    passages_trimmed: int = 0
    """Passages left out so the grounding source fits the contextual grounding check (lowest-ranked)."""
    input_tokens: int = 0
    output_tokens: int = 0
    guardrail_usage: Mapping[str, int] | None = None
    """The guardrail's text units per policy (Bedrock's names); None when no guardrail ran."""
    embedding_tokens: int | None = None
    """Tokens of the query Retrieve embedded (None when nothing was retrieved), measured or estimated:
    ``embedding_tokens_source``."""
    embedding_tokens_source: str | None = None
    retrieve_ms: int = 0
    generate_ms: int = 0
    total_ms: int = 0
    examples: list[Example] | None = None
    """The examples shown as prior turns, nearest first (fewshot only; None in every other mode)."""
    examples_set_sha256: str | None = None
    """The uploaded set's ``sha256`` from its manifest (fewshot only)."""

    @property
    def grounded(self) -> bool:
        return bool(self.citations)

    @property
    def no_context(self) -> bool:
        return self.retrieved and not self.generated

    @property
    def guardrail_action(self) -> str:
        """``INTERVENED`` (blocked), ``MASKED`` (PII masked, answer kept) or ``NONE``."""
        if self.intervened:
            return "INTERVENED"
        return "MASKED" if self.masked else "NONE"

    def to_json(self, *, include_passages: bool = False) -> dict[str, Any]:
        """The 200 response body of ``POST /ask``; ``include_passages`` adds each citation's full ``text``."""
        return {
            "answer": self.text,
            "citations": [
                {
                    "sourceUri": passage.source_uri,
                    "excerpt": _excerpt(passage.text),
                    "score": passage.score,
                    **({"text": passage.text} if include_passages else {}),
                }
                for passage in self.citations
            ],
            "grounded": self.grounded,
            "mode": self.mode,
            "modelId": public_model_id(self.model_id),
            "promptVersion": self.prompt_version,
            "usage": {
                "inputTokens": self.input_tokens,
                "outputTokens": self.output_tokens,
                "guardrail": None if self.guardrail_usage is None else dict(self.guardrail_usage),
                "embeddingTokens": self.embedding_tokens,
                "embeddingTokensSource": self.embedding_tokens_source,
            },
            "latencyMs": {"retrieve": self.retrieve_ms, "generate": self.generate_ms, "total": self.total_ms},
            "guardrail": {"action": self.guardrail_action},
            "truncated": self.truncated,
            "groundingSourceTrimmed": self.passages_trimmed > 0,
            **(
                {
                    "examples": [example.to_json() for example in self.examples],
                    "examplesSetSha256": self.examples_set_sha256,
                }
                if self.examples is not None
                else {}
            ),
        }


def answer_question(
    request: AskRequest, runtime: Runtime, deadline: Deadline, *, candidate_model_arn: str | None = None
) -> Answer:
    """Answers one validated request within ``deadline``; raises ApiError for anything the caller must see.
    ``candidate_model_arn`` (mode ``finetuned`` only, checked by the caller) answers with that imported model
    instead of the published one."""
    with deadline.governing_calls():
        return _answer(request, runtime, deadline, candidate_model_arn)


def _answer(
    request: AskRequest, runtime: Runtime, deadline: Deadline, candidate_model_arn: str | None = None
) -> Answer:
    settings, clock = runtime.settings, runtime.clock
    started = clock()
    template = runtime.templates[request.mode]
    model_id = request.model_id or settings.model_id
    if request.mode == constants.FINETUNED:
        model_id = resolve_finetuned_model(
            runtime.parameters, settings.finetuned_model_parameter, candidate_model_arn
        )
    examples_set: str | None = None
    if request.mode == constants.FEWSHOT:
        if runtime.manifest is None or runtime.clients.s3vectors is None:
            raise not_enabled(constants.MODES)
        # The manifest is read first (cached): without an uploaded set the request ends with 409 before
        # any paid call.
        deadline.require("examples", constants.EXAMPLES_MIN_REMAINING_MS)
        examples_set = uploaded_set(runtime.manifest.get(), settings)

    passages: list[Passage] = []
    retrieve_ms = 0
    if request.mode != "prompt":
        deadline.require("retrieve", constants.RETRIEVE_MIN_REMAINING_MS)
        retrieve_started = clock()
        with upstream_call("retrieve"):
            passages = retrieve_passages(
                runtime.clients.agent_runtime,
                settings,
                question=request.question,
                top_k=request.top_k,
                retrieval_filter=request.retrieval_filter,
            )
        retrieve_ms = _elapsed_ms(retrieve_started, clock)
        if not passages:
            return Answer(
                text=constants.NO_CONTEXT_ANSWER,
                mode=request.mode,
                model_id=model_id,
                prompt_version=template.version,
                retrieved=True,
                embedding_tokens=estimate_tokens(request.question),
                embedding_tokens_source=constants.EMBEDDING_TOKENS_ESTIMATED,
                retrieve_ms=retrieve_ms,
                total_ms=_elapsed_ms(started, clock),
                examples=None if examples_set is None else [],
                examples_set_sha256=examples_set,
            )

    examples: list[Example] | None = None
    if examples_set is not None:
        # After Retrieve, so a question the documents cannot answer costs no embedding or query; the time
        # both take counts in retrieve_ms.
        deadline.require("examples", constants.EXAMPLES_MIN_REMAINING_MS)
        examples_started = clock()
        examples = nearest_examples(
            runtime.clients.bedrock_runtime, runtime.clients.s3vectors, settings, request.question
        )
        retrieve_ms += _elapsed_ms(examples_started, clock)

    passages_kept = len(passages)
    grounding = fit_grounding_source(passages)
    if grounding.trimmed:
        logger.warning(
            "grounding source trimmed",
            extra={"passages": passages_kept, "passages_trimmed": grounding.trimmed},
        )
    passages = grounding.passages
    deadline.require("generate", constants.GENERATE_MIN_REMAINING_MS)
    generate_started = clock()
    generation = _generate(request, runtime, deadline, model_id, template, passages, examples or [])
    generate_ms = _elapsed_ms(generate_started, clock)
    retrieved = request.mode != "prompt"
    return Answer(
        text=generation.text,
        mode=request.mode,
        model_id=model_id,
        prompt_version=template.version,
        # A block replaces the answer, so no passage supports what is returned; a mask keeps the answer.
        citations=[] if generation.intervened else passages,
        retrieved=retrieved,
        passages_kept=passages_kept,
        generated=True,
        intervened=generation.intervened,
        masked=generation.masked,
        truncated=generation.truncated and not generation.intervened,
        passages_trimmed=grounding.trimmed,
        input_tokens=generation.input_tokens,
        output_tokens=generation.output_tokens,
        guardrail_usage=generation.guardrail_usage,
        # The question is embedded once by Retrieve and, in the fewshot mode, once more to find the examples.
        embedding_tokens=estimate_tokens(request.question) * (2 if examples is not None else 1)
        if retrieved
        else None,
        embedding_tokens_source=constants.EMBEDDING_TOKENS_ESTIMATED if retrieved else None,
        retrieve_ms=retrieve_ms,
        generate_ms=generate_ms,
        total_ms=_elapsed_ms(started, clock),
        examples=examples,
        examples_set_sha256=examples_set,
    )


def _generate(
    request: AskRequest,
    runtime: Runtime,
    deadline: Deadline,
    model_id: str,
    template: PromptTemplate,
    passages: list[Passage],
    examples: list[Example],
) -> Generation:
    arguments: dict[str, Any] = {
        "model_id": model_id,
        "template": template,
        "question": request.question,
        "passages": passages,
    }
    client, settings = runtime.clients.bedrock_runtime, runtime.settings
    if (
        request.mode == "finetuned"
        and finetuned_api(settings.finetuned_model_api, runtime.architectures, model_id) == "invoke_model"
    ):
        chat_format = None
        if runtime.architectures is not None:
            chat_format = chat_format_for(runtime.architectures.get(model_id), CHAT_FORMATS)
        return invoke_with_guardrail(
            client, settings, deadline=deadline, chat_format=chat_format, **arguments
        )
    # fewshot asks a foundation model (MODEL_ID or an allowed modelId) through Converse, which takes the
    # same request for every model: a fine-tuned model is served without examples, so the examples never
    # need an InvokeModel chat format.
    return converse(client, settings, prior_turns=prior_turns(examples), **arguments)


def estimate_tokens(text: str) -> int:
    """Tokens of ``text`` estimated at ESTIMATED_CHARS_PER_TOKEN characters each, rounded up: Retrieve does
    not report the tokens the knowledge base's embedding model read from the query."""
    return max(1, math.ceil(len(text) / constants.ESTIMATED_CHARS_PER_TOKEN))


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= constants.EXCERPT_MAX_CHARS:
        return text
    return text[: constants.EXCERPT_MAX_CHARS - 1].rstrip() + "…"


def _elapsed_ms(started: float, clock: Callable[[], float]) -> int:
    return max(0, round((clock() - started) * 1_000))
