"""The fine-tuned model: its ARN (published by the fine-tune pipeline in an SSM parameter) and, for the
InvokeModel path, the chat format and response shape of its architecture."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ladder_core.published import model_arn

from .errors import FineTunedModelUnavailable
from .prompts import Passage, PromptTemplate
from .upstream import upstream_call

_NOT_ENABLED = (
    "mode: 'finetuned' is not available: fine-tuning is not enabled in this deployment; "
    "use mode 'rag' or 'prompt'"
)
_NOT_PUBLISHED = (
    "mode: 'finetuned' is not available yet: no fine-tuned model has been published; "
    "use mode 'rag' or 'prompt'"
)


class ParameterCache:
    """SSM String parameters cached for ``ttl_s``; a missing parameter is cached as None."""

    def __init__(self, ssm: Any, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ssm = ssm
        self._ttl_s = ttl_s
        self._clock = clock
        self._values: dict[str, tuple[float, str | None]] = {}

    def get(self, name: str) -> str | None:
        now = self._clock()
        cached = self._values.get(name)
        if cached is not None and now < cached[0]:
            return cached[1]
        try:
            with upstream_call("parameter"):
                try:
                    value: str | None = self._ssm.get_parameter(Name=name)["Parameter"]["Value"]
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "ParameterNotFound":
                        raise
                    value = None
        except Exception:
            # A stale ARN still names a model that worked; prefer it to failing the request.
            if cached is not None:
                return cached[1]
            raise
        self._values[name] = (now + self._ttl_s, value)
        return value


def resolve_finetuned_model(
    cache: ParameterCache, parameter_name: str | None, candidate: str | None = None
) -> str:
    """The imported model's ARN: ``candidate`` (a model under evaluation, named by a direct invocation)
    when given, else the published one; FineTunedModelUnavailable when fine-tuning is not deployed (the
    role may invoke no imported model then) or no model is published."""
    if parameter_name is None:
        raise FineTunedModelUnavailable(_NOT_ENABLED)
    if candidate is not None:
        return candidate
    published = model_arn(cache.get(parameter_name))
    if published is None:
        raise FineTunedModelUnavailable(_NOT_PUBLISHED)
    return published


# --- InvokeModel for imported models: one chat format per architecture family --------------------------

CHAT_FORMATS_DIR = Path(__file__).resolve().parent / "prompts" / "invoke_model"
ARCHITECTURE_FAMILIES: dict[str, str] = {
    "LLAMA": "llama3",
    "MLLAMA": "llama3",
    "QWEN": "chatml",
    "MISTRAL": "mistral",
    "MIXTRAL": "mistral",
}
"""Custom Model Import's ``modelArchitecture`` (its leading letters, e.g. LLAMA3 -> LLAMA, QWEN2 -> QWEN)
-> the file under ``prompts/invoke_model/`` that holds the family's chat format."""
ARCHITECTURE_VERSIONS: dict[str, str] = {"QWEN3": "qwen3"}
"""Architectures whose format differs from their family's, by the leading letters and digits
(QWEN3, QWEN3_MOE -> QWEN3): Qwen3 answers after an empty think block."""
DEFAULT_CHAT_FORMAT = "llama3"
"""Used when the architecture is not known (no control-plane client): the format of the default base model."""
_MAX_TOKENS_FIELD = {"llama3": "max_gen_len"}
_FAMILY_PREFIX = re.compile(r"[A-Z]+")
_VERSION_PREFIX = re.compile(r"[A-Z]+[0-9]*")
# Mistral's turn markers are plain text, not <|...|> sequences: defuse them in user text and documents too.
_MISTRAL_MARKERS = re.compile(r"\[(/?INST)\]")


@dataclass(frozen=True)
class ChatFormat:
    """How one family's raw prompt is wrapped (``{{system}}`` / ``{{user}}``) and how InvokeModel is asked."""

    name: str
    wrapper: str

    @property
    def max_tokens_field(self) -> str:
        return _MAX_TOKENS_FIELD.get(self.name, "max_tokens")

    def prompt(self, template: PromptTemplate, question: str, passages: Sequence[Passage]) -> str:
        """The template's system and user turns in this format, control sequences defused in the inputs."""
        if self.name == "mistral":
            question = _MISTRAL_MARKERS.sub(r"[ \1]", question)
            passages = [dataclasses.replace(p, text=_MISTRAL_MARKERS.sub(r"[ \1]", p.text)) for p in passages]
        return dataclasses.replace(template, invoke_model=self.wrapper).invoke_model_prompt(
            question, passages
        )

    def request_body(self, prompt: str, *, max_tokens: int, temperature: float) -> dict[str, Any]:
        return {"prompt": prompt, self.max_tokens_field: max_tokens, "temperature": temperature}


def template_chat_format(template: PromptTemplate) -> ChatFormat:
    """The template's own ``[[invoke_model]]`` section (Llama 3's format): used when the architecture of the
    published model is not looked up."""
    return ChatFormat(name=DEFAULT_CHAT_FORMAT, wrapper=template.invoke_model or "")


def load_chat_formats(directory: Path = CHAT_FORMATS_DIR) -> dict[str, ChatFormat]:
    """Every ``<name>.txt``: ``#`` lines are comments, line breaks are ignored, a literal ``\\n`` is a
    newline."""
    formats = {}
    for path in sorted(directory.glob("*.txt")):
        lines = [line for line in path.read_text("utf-8").splitlines() if not line.startswith("#")]
        wrapper = "".join(lines).replace("\\n", "\n")
        if wrapper.count("{{system}}") != 1 or wrapper.count("{{user}}") != 1:
            raise ValueError(f"{path}: needs {{{{system}}}} and {{{{user}}}} once each")
        formats[path.stem] = ChatFormat(name=path.stem, wrapper=wrapper)
    return formats


def chat_format_for(architecture: str | None, formats: Mapping[str, ChatFormat]) -> ChatFormat:
    """The chat format of an imported model's architecture; FineTunedModelUnavailable for one without."""
    if architecture is None:
        return formats[DEFAULT_CHAT_FORMAT]
    name = architecture.upper()
    version = _VERSION_PREFIX.match(name)
    match = _FAMILY_PREFIX.match(name)
    family = ARCHITECTURE_VERSIONS.get(version.group(0) if version else "") or ARCHITECTURE_FAMILIES.get(
        match.group(0) if match else ""
    )
    if family is None:
        raise FineTunedModelUnavailable(
            f"mode: 'finetuned' is not available: the published model's architecture ({architecture}) has no "
            "InvokeModel prompt format here; use mode 'rag', or deploy with fineTunedModelApi=converse where "
            "Bedrock serves Converse for the model"
        )
    return formats[family]


@dataclass(frozen=True)
class ImportedModel:
    """What ``GetImportedModel`` says about an imported model that the RAG function needs."""

    architecture: str
    """``modelArchitecture``: picks the InvokeModel chat format."""
    instruct_supported: bool
    """``instructSupported`` ("Specifies if the imported model supports converse"); absent reads as True,
    so a response without it keeps the configured API."""


class ModelArchitectures:
    """``GetImportedModel``'s answer per model ARN, cached for ``ttl_s`` (it never changes for one ARN; the
    TTL only bounds memory of models no longer published)."""

    def __init__(self, bedrock: Any, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._bedrock = bedrock
        self._ttl_s = ttl_s
        self._clock = clock
        self._values: dict[str, tuple[float, ImportedModel]] = {}

    def get(self, model_arn: str) -> str:
        """The model's ``modelArchitecture``."""
        return self.describe(model_arn).architecture

    def describe(self, model_arn: str) -> ImportedModel:
        """The model's architecture and whether it supports Converse."""
        now = self._clock()
        cached = self._values.get(model_arn)
        if cached is not None and now < cached[0]:
            return cached[1]
        with upstream_call("parameter"):
            response = self._bedrock.get_imported_model(modelIdentifier=model_arn)
        model = ImportedModel(
            architecture=str(response["modelArchitecture"]),
            instruct_supported=bool(response.get("instructSupported", True)),
        )
        self._values = {arn: v for arn, v in self._values.items() if now < v[0]}
        self._values[model_arn] = (now + self._ttl_s, model)
        return model


def finetuned_api(configured: str, architectures: ModelArchitectures | None, model_arn: str) -> str:
    """The API to ask the published model with: the configured one, except that Converse falls back to
    ``invoke_model`` when Bedrock says the imported model does not support it (Custom Model Import has no
    Converse for some architectures, e.g. Qwen2.5, Qwen2-VL / Qwen2.5-VL and GPT-OSS)."""
    if configured != "converse" or architectures is None:
        return configured
    return "converse" if architectures.describe(model_arn).instruct_supported else "invoke_model"


@dataclass(frozen=True)
class InvokeModelOutput:
    text: str
    stop_reason: str
    input_tokens: int
    output_tokens: int


def parse_invoke_model_output(raw: bytes) -> InvokeModelOutput:
    """Reads the three response bodies imported models answer InvokeModel with: Llama's ``{"generation",
    "prompt_token_count", "generation_token_count", "stop_reason"}``, Mistral's ``{"outputs": [{"text",
    "stop_reason"}]}`` and the OpenAI completion shape ``{"choices": [{"text", "finish_reason"}], "usage":
    {"prompt_tokens", "completion_tokens"}}``. Anything else raises ValueError (the caller's 503)."""
    payload = json.loads(raw)
    if not isinstance(payload, dict):
        raise ValueError("the body is not a JSON object")
    if "generation" in payload:
        text, stop = payload["generation"], payload.get("stop_reason")
        tokens = (payload.get("prompt_token_count"), payload.get("generation_token_count"))
    elif isinstance(payload.get("outputs"), list) and payload["outputs"]:
        first = payload["outputs"][0]
        text, stop, tokens = first.get("text"), first.get("stop_reason"), (None, None)
    elif isinstance(payload.get("choices"), list) and payload["choices"]:
        first, usage = payload["choices"][0], payload.get("usage") or {}
        text, stop = first.get("text"), first.get("finish_reason")
        tokens = (usage.get("prompt_tokens"), usage.get("completion_tokens"))
    else:
        raise ValueError(f"unknown body shape with keys {sorted(payload)[:5]}")
    if not isinstance(text, str):
        raise ValueError("the generated text is not a string")
    return InvokeModelOutput(
        text=text.strip(),
        stop_reason=str(stop or "end_turn"),
        input_tokens=int(tokens[0] or 0),
        output_tokens=int(tokens[1] or 0),
    )
