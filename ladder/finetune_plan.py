"""Size a LoRA fine-tune before any GPU starts: does it fit, how long does it take, what does it cost.

``ladder finetune plan`` is this module; ``ladder finetune plan --table`` prints :func:`markdown_table`,
the table in the README. Standard library only (no torch, no CDK): every figure is arithmetic on the base
model's shape (:class:`ModelShape`) and the instance catalogue (``ladder_core.catalog.training``).

Memory per training process (one per GPU), as ``training_jobs/train.py`` trains with the pinned libraries:

- weights: bf16 (2 bytes per parameter), fp32 (4) on a GPU without bf16 (T4). ``lora`` holds them all in
  every process; ``qlora`` holds the decoder layers' linear weights in 4-bit NF4 with double quantization
  (:data:`NF4_BYTES_PER_PARAM`) and the rest (embeddings, lm_head, norms, biases) unquantized, because
  bitsandbytes does not quantize them; ``fsdp-lora`` shards the weights across every GPU of every instance
  and holds :data:`FSDP_GATHERED_LAYERS` decoder layers unsharded at a time (the one computed and the one
  FSDP2 prefetches) plus the whole lm_head, which TRL's fused LM head gathers from its shards.
- LoRA states: rank ``lora_r`` on every linear layer of the decoder, trained with AdamW:
  :data:`LORA_BYTES_PER_TRAINABLE_PARAM` per trainable parameter where PEFT keeps them in fp32, and
  :data:`QLORA_BYTES_PER_TRAINABLE_PARAM` for ``qlora``, whose adapters TRL casts to bf16 (sharded too
  under ``fsdp-lora``).
- activations with gradient checkpointing, at ``max_seq_length`` (the worst batch): each layer's input, plus
  one layer's working set while it is recomputed and back-propagated
  (:data:`LAYER_WORKING_SET_HIDDEN` x hidden + :data:`LAYER_WORKING_SET_INTERMEDIATE` x intermediate
  values per token; a rough figure).
- the LM head and loss: TRL 1.16's SFTTrainer computes the loss with a fused, chunked LM head that never
  builds the (tokens x vocabulary) logits: it projects :data:`LM_HEAD_TOKEN_TILE` tokens x
  :data:`LM_HEAD_VOCAB_TILE` vocabulary entries at a time and accumulates the hidden states' gradient in
  fp32 (``trl/kernels/chunked_logprob.py``).
- a fixed CUDA context and allocator overhead; only :data:`USABLE_GPU_MEMORY_FRACTION` of the memory the
  GPU reports (``nvidia-smi``'s MiB, less than the marketing GB) is used.

Host memory: ``lora`` processes each load the whole base on the CPU before moving it to their GPU, all of an
instance's processes at once; ``qlora`` and ``fsdp-lora`` merge on instance 1's CPU, which holds one copy
of the base (the adapter is merged into it in place), and ``fsdp-lora`` also loads the base there first.

Speed is an assumed model-FLOPs utilisation (:data:`MODEL_FLOPS_UTILISATION` per strategy, times
:data:`GPU_UTILISATION` per GPU) of the GPU's dense peak at :data:`FLOPS_PER_PARAM_PER_TOKEN` FLOPs per
parameter per token (LoRA with checkpointing: forward, activation gradients, recompute; frozen weights get no
weight gradients), with :data:`MULTI_INSTANCE_SCALING` when there are several instances. Billable time adds
fixed minutes to the training: start-up (:data:`STARTUP_MINUTES`), the base weights' download, the merge and
the merged model's upload (at :data:`TRANSFER_MB_PER_S`). These are estimates to choose an instance by, not
measurements (nothing here was measured on a GPU): the first run's logs say the truth.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ladder_core.catalog import training
from ladder_core.catalog.training import INSTANCES, MAX_INSTANCE_COUNT, TrainingInstance, min_gpus
from training_jobs import dataprep, job_contract

from .errors import EXIT_SETUP, LadderError

GIB = 1024**3
BF16_BYTES = 2
FP32_BYTES = 4
NF4_BYTES_PER_PARAM = 0.53
"""4-bit NF4 weights (0.5 byte) plus the double-quantized block constants (bitsandbytes, block size 64)."""
LORA_BYTES_PER_TRAINABLE_PARAM = 16
"""fp32 adapter weight 4 + its gradient 4 + AdamW's two moments 8 (``lora``, ``fsdp-lora``)."""
QLORA_BYTES_PER_TRAINABLE_PARAM = 8
"""``qlora``: TRL's SFTTrainer casts the adapters of a quantized model to bf16 (QLoRA paper's recipe), so
weight 2 + gradient 2 + AdamW's two moments 4 (torch keeps them in the parameter's dtype)."""
LM_HEAD_TOKEN_TILE = 4096
"""Tokens per projection tile of TRL's fused LM head (``TOKEN_CHUNK_SIZE``,
trl/kernels/chunked_logprob.py)."""
LM_HEAD_VOCAB_TILE = 32768
"""Vocabulary entries per tile (``_CHUNKED_LOGPROB_CHUNK_SIZE``, trl/trainer/utils.py)."""
LM_HEAD_TILE_COPIES = 2
"""ASSUMED: the projection tile and one tile-sized temporary of its softmax or gradient at a time."""
LAYER_WORKING_SET_HIDDEN = 16
LAYER_WORKING_SET_INTERMEDIATE = 4
"""Values per token one decoder layer holds while recomputed and back-propagated: attention inputs and
outputs, LoRA dropout copies and residuals (≈ 16 x hidden), the MLP's gate, up, activation and product
(4 x intermediate). Flash/SDPA attention keeps no sequence x sequence matrix."""
FSDP_GATHERED_LAYERS = 2
"""Decoder layers FSDP2 holds unsharded at once: the one computed and the one it prefetches."""
CUDA_OVERHEAD_GIB = 1.5
"""CUDA context, cuBLAS workspaces and allocator fragmentation, per process."""
USABLE_GPU_MEMORY_FRACTION = 0.90
"""A plan that needs more than this share of a GPU's memory is too close to an out-of-memory error."""
USABLE_HOST_MEMORY_FRACTION = 0.90
"""Of the host memory, what loading and merging may use (the OS and the training process keep the rest)."""
MERGE_BASE_COPIES = 1
"""qlora and fsdp-lora merge on instance 1's CPU: one copy of the base, into which the adapter is merged in
place (``merge_and_unload``) and which is then saved shard by shard."""
HOST_MERGE_STRATEGIES = ("qlora", "fsdp-lora")

MODEL_FLOPS_UTILISATION: dict[str, float] = {"lora": 0.35, "qlora": 0.20, "fsdp-lora": 0.30}
"""ASSUMED share of the GPU's dense peak a run achieves: qlora pays for dequantizing every weight on every
pass, fsdp-lora for gathering the shards."""
GPU_UTILISATION: dict[str, float] = {
    training.T4.name: 0.8,
    training.A10G.name: 1.0,
    training.L4.name: 0.6,
    training.L40S.name: 0.7,
    training.A100_40.name: 1.0,
    training.A100_80.name: 1.0,
    training.H100.name: 0.75,
    training.H200.name: 0.8,
}
"""ASSUMED factor on :data:`MODEL_FLOPS_UTILISATION` per GPU (nothing measured): the L4 (72 W) does not hold
the boost clock its datasheet peak assumes under a training load; on the L40S, H100 and H200 the peak is so
high that LoRA's rank-16 products and the memory-bound operations (norms, activations, dequantizing) take a
larger share of the step than on an A10G or A100; the T4 trains in fp32."""
FLOPS_PER_PARAM_PER_TOKEN = 6
MULTI_INSTANCE_SCALING = 0.90
"""ASSUMED efficiency of each instance when there are several (gradients cross the network)."""
STARTUP_MINUTES = 5.0
"""ASSUMED billable start-up: the training image and the data channels downloaded, the process started."""
TRANSFER_MB_PER_S = 200.0
"""ASSUMED rate (MB/s) of the base weights' download (Hub or S3 channel), of reading and writing them in the
merge, and of the merged model's upload to S3 (uncompressed)."""
SPOT_SAVING = 0.70
"""ASSUMED managed-spot saving on the on-demand price (SageMaker says "up to 90%"; it varies by type,
region and hour)."""

CHARS_PER_TOKEN = 4
"""A data file's tokens are estimated as content characters / 4 (English text with a Llama or Qwen
tokenizer), capped at max_seq_length per conversation; the chat template's few tokens are not counted."""
TYPICAL_CONVERSATIONS = 2_000
TYPICAL_TOKENS_PER_CONVERSATION = 1_000

LORA_RANK = int(job_contract.DEFAULT_HYPERPARAMETERS["lora_r"])
BATCH_SIZE = int(job_contract.DEFAULT_HYPERPARAMETERS["per_device_train_batch_size"])
DEFAULT_MAX_SEQ_LENGTH = int(job_contract.DEFAULT_HYPERPARAMETERS["max_seq_length"])
DEFAULT_EPOCHS = int(job_contract.DEFAULT_HYPERPARAMETERS["epochs"])
DEFAULT_STRATEGY = job_contract.DEFAULT_STRATEGY

TABLE_MODELS: dict[str, str] = {
    "1B": "meta-llama/Llama-3.2-1B-Instruct",
    "3B": "meta-llama/Llama-3.2-3B-Instruct",
    "8B": "meta-llama/Llama-3.1-8B-Instruct",
    "14B": "Qwen/Qwen2.5-14B-Instruct",
    "32B": "Qwen/Qwen2.5-32B-Instruct",
    "70B": "meta-llama/Llama-3.3-70B-Instruct",
}
TABLE_INSTANCE_COUNTS = (1, 2)
TABLE_COMMAND = ".venv/bin/ladder finetune plan --table"
"""How the README says to regenerate the table: the form its setup steps leave ladder in (not a hint, so not
the form this process was started with: the README must not change with it)."""
EMPTY = "| | | | |"
"""The empty cells of a table row that has no instance."""


class PlanInputError(LadderError):
    """Input the planner cannot use (unknown model or instance, unreadable file, value out of range):
    exit 2, like a usage error."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=EXIT_SETUP)


@dataclass(frozen=True)
class ModelShape:
    """What sizing needs of a dense decoder-only causal LM (the fields of its config.json)."""

    name: str
    params: int
    layers: int
    hidden: int
    intermediate: int
    vocab: int
    heads: int
    kv_heads: int
    tied_embeddings: bool
    head_dim: int | None = None
    """Only where config.json sets it apart from hidden / heads."""

    @property
    def head_size(self) -> int:
        return self.head_dim or self.hidden // self.heads

    @property
    def embedding_params(self) -> int:
        """Input embeddings plus an untied lm_head."""
        return self.vocab * self.hidden * (1 if self.tied_embeddings else 2)

    @property
    def layer_linear_params(self) -> int:
        """Weights of one decoder layer's linear layers: q, k, v, o, gate, up, down (what 4-bit holds)."""
        attention = self.hidden * self.head_size * (2 * self.heads + 2 * self.kv_heads)
        return attention + 3 * self.hidden * self.intermediate

    @property
    def layer_params(self) -> int:
        """Everything in one decoder layer (linear weights, biases, norms): what FSDP gathers at a time."""
        return (self.params - self.embedding_params - self.hidden) // self.layers

    @property
    def lora_params(self) -> int:
        """Trainable parameters of rank-``LORA_RANK`` adapters on every linear layer of the decoder."""
        q_out = self.heads * self.head_size
        kv_out = self.kv_heads * self.head_size
        per_layer = (
            (self.hidden + q_out)
            + 2 * (self.hidden + kv_out)
            + (q_out + self.hidden)
            + 2 * (self.hidden + self.intermediate)
            + (self.intermediate + self.hidden)
        )
        return LORA_RANK * per_layer * self.layers


def _shape(
    name: str,
    params: int,
    layers: int,
    hidden: int,
    intermediate: int,
    vocab: int,
    heads: int,
    kv_heads: int,
    *,
    tied: bool,
) -> tuple[str, ModelShape]:
    return name, ModelShape(name, params, layers, hidden, intermediate, vocab, heads, kv_heads, tied)


MODELS: dict[str, ModelShape] = dict(
    [
        _shape("meta-llama/Llama-3.2-1B-Instruct", 1_235_814_400, 16, 2048, 8192, 128256, 32, 8, tied=True),
        _shape("meta-llama/Llama-3.2-3B-Instruct", 3_212_749_824, 28, 3072, 8192, 128256, 24, 8, tied=True),
        _shape("meta-llama/Llama-3.1-8B-Instruct", 8_030_261_248, 32, 4096, 14336, 128256, 32, 8, tied=False),
        _shape(
            "meta-llama/Llama-3.3-70B-Instruct", 70_553_706_496, 80, 8192, 28672, 128256, 64, 8, tied=False
        ),
        _shape("Qwen/Qwen2.5-0.5B-Instruct", 494_032_768, 24, 896, 4864, 151936, 14, 2, tied=True),
        _shape("Qwen/Qwen2.5-1.5B-Instruct", 1_543_714_304, 28, 1536, 8960, 151936, 12, 2, tied=True),
        _shape("Qwen/Qwen2.5-7B-Instruct", 7_615_616_512, 28, 3584, 18944, 152064, 28, 4, tied=False),
        _shape("Qwen/Qwen2.5-14B-Instruct", 14_770_033_664, 48, 5120, 13824, 152064, 40, 8, tied=False),
        _shape("Qwen/Qwen2.5-32B-Instruct", 32_763_876_352, 64, 5120, 27648, 152064, 40, 8, tied=False),
        _shape("Qwen/Qwen2.5-72B-Instruct", 72_706_203_648, 80, 8192, 29568, 152064, 64, 8, tied=False),
        _shape(
            "mistralai/Mistral-7B-Instruct-v0.3", 7_248_023_552, 32, 4096, 14336, 32768, 32, 8, tied=False
        ),
    ]
)
"""Base models by Hugging Face id, offline. Shapes are those of each model's config.json on the Hub
(num_hidden_layers, hidden_size, intermediate_size, vocab_size, num_attention_heads, num_key_value_heads,
tie_word_embeddings), written down from the published files; ``params`` is the parameter count the Hub
reports for the safetensors weights. A test recomputes every count from the shape (:func:`count_params`)."""


def count_params(config: dict[str, Any]) -> int:
    """Parameters of a dense Llama/Qwen2/Mistral-style model from its config.json: embeddings, an untied
    lm_head, per layer q/k/v/o (with biases where ``attention_bias``, which Qwen2 always has), the gated MLP
    and two RMSNorms, and the final norm."""
    shape = _config_shape(config, name="config.json", params=0)
    per_layer = shape.layer_linear_params + 2 * shape.hidden
    if _attention_bias(config):
        per_layer += shape.head_size * (shape.heads + 2 * shape.kv_heads)
    return shape.layers * per_layer + shape.embedding_params + shape.hidden


def shape_from_config(config: dict[str, Any], *, name: str) -> ModelShape:
    """The :class:`ModelShape` of a Hugging Face config.json (parsed), its parameters counted from it."""
    architectures = config.get("architectures") or []
    if architectures and architectures[0] not in job_contract.TRAINABLE_ARCHITECTURES:
        raise PlanInputError(
            f"{name}: {architectures[0]} is not an architecture train.py fine-tunes; "
            f"accepted: {', '.join(sorted(job_contract.TRAINABLE_ARCHITECTURES))}"
        )
    if config.get("num_local_experts") or config.get("num_experts"):
        raise PlanInputError(f"{name}: a mixture-of-experts model; this planner sizes dense models only")
    return _config_shape(config, name=name, params=count_params(config))


def load_model(base_model: str) -> ModelShape:
    """The catalogued model of that Hugging Face id, else the shape of DIR/config.json; PlanInputError."""
    if base_model in MODELS:
        return MODELS[base_model]
    folder = Path(base_model)
    if folder.is_dir():
        path = folder / "config.json"
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except OSError as err:
            raise PlanInputError(f"cannot read {path}: {err.strerror or err}") from None
        except (ValueError, UnicodeDecodeError) as err:
            raise PlanInputError(f"{path} is not valid JSON: {err}") from None
        if not isinstance(config, dict):
            raise PlanInputError(f"{path} is not a JSON object")
        return shape_from_config(config, name=str(folder))
    raise PlanInputError(
        f"unknown base model {base_model!r}: known ids are {', '.join(MODELS)}; "
        "or pass a local directory holding the model's Hugging Face config.json"
    )


def load_instance(name: str) -> TrainingInstance:
    """The catalogued training instance ``name``; PlanInputError naming the known ones."""
    try:
        return training.instance(name)
    except KeyError as err:
        raise PlanInputError(str(err.args[0])) from None


def _config_shape(config: dict[str, Any], *, name: str, params: int) -> ModelShape:
    def whole(key: str, default: int | None = None) -> int:
        value = config.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise PlanInputError(f"{name}: {key} must be a whole number >= 1, got {value!r}")
        return value

    heads = whole("num_attention_heads")
    head_dim = config.get("head_dim")
    return ModelShape(
        name=name,
        params=params,
        layers=whole("num_hidden_layers"),
        hidden=whole("hidden_size"),
        intermediate=whole("intermediate_size"),
        vocab=whole("vocab_size"),
        heads=heads,
        kv_heads=whole("num_key_value_heads", heads),
        tied_embeddings=bool(config.get("tie_word_embeddings", False)),
        head_dim=whole("head_dim") if head_dim is not None else None,
    )


def _attention_bias(config: dict[str, Any]) -> bool:
    return bool(config.get("attention_bias", config.get("model_type") == "qwen2"))


@dataclass(frozen=True)
class Tokens:
    """Training tokens per epoch and where the figure comes from."""

    tokens: int
    source: str
    conversations: int | None = None


def typical_tokens() -> Tokens:
    """The typical run the README table prices."""
    return Tokens(
        TYPICAL_CONVERSATIONS * TYPICAL_TOKENS_PER_CONVERSATION,
        f"typical run: {TYPICAL_CONVERSATIONS:,} conversations x {TYPICAL_TOKENS_PER_CONVERSATION:,} tokens",
        TYPICAL_CONVERSATIONS,
    )


def explicit_tokens(count: int) -> Tokens:
    if count < 1:
        raise PlanInputError(f"--tokens must be a whole number >= 1, got {count}")
    return Tokens(count, "--tokens")


def tokens_from_conversations(conversations: Iterable[dict[str, Any]], *, max_seq_length: int) -> int:
    """Estimated training tokens of chat records: content characters / 4, capped at max_seq_length each."""
    total = 0
    for record in conversations:
        chars = sum(len(message["content"]) for message in record["messages"])
        total += min(math.ceil(chars / CHARS_PER_TOKEN), max_seq_length)
    return total


def tokens_from_file(path: Path, *, max_seq_length: int) -> Tokens:
    """Tokens of the training split of a chat JSON Lines file, after the pipeline's own checks (rejected
    lines and the held-out evaluation share do not train)."""
    try:
        with path.open("rb") as fp:
            prepared = dataprep.prepare(fp)
    except OSError as err:
        raise PlanInputError(f"cannot read {path}: {err.strerror or err}") from None
    if not prepared.train:
        raise PlanInputError(f"{path}: no clean conversations to train on ({prepared.report.summary()})")
    tokens = tokens_from_conversations(prepared.train, max_seq_length=max_seq_length)
    return Tokens(
        tokens,
        f"{path}: {len(prepared.train):,} training conversations, characters / {CHARS_PER_TOKEN}",
        len(prepared.train),
    )


@dataclass(frozen=True)
class Memory:
    """GiB per training process (one per GPU)."""

    weights: float
    lora_states: float
    activations: float
    logits: float
    overhead: float

    @property
    def total(self) -> float:
        return self.weights + self.lora_states + self.activations + self.logits + self.overhead

    def largest(self) -> str:
        parts = {"weights": self.weights, "activations": self.activations, "logits": self.logits}
        return max(parts, key=lambda part: parts[part])

    def to_dict(self) -> dict[str, float]:
        return {
            **{key: round(value, 3) for key, value in asdict(self).items()},
            "total": round(self.total, 3),
        }


@dataclass(frozen=True)
class Plan:
    """One sized run: memory per GPU, whether it fits, how long it takes and what it costs."""

    base_model: str
    params: int
    lora_params: int
    instance_type: str
    instance_count: int
    gpu: str
    gpus_per_instance: int
    strategy: str
    precision: str
    max_seq_length: int
    epochs: int
    tokens: Tokens
    memory: Memory
    gpu_memory_gib: float
    available_gib: float
    host_memory_gib: int
    merge_host_gib: float | None
    """Host memory the merge needs on instance 1 (qlora and fsdp-lora); None where it merges on the GPU."""
    host_need_gib: float
    """Host memory the busiest instance needs at once (loading the base, or merging)."""
    host_need: str
    """What that host memory is for."""
    fits: bool
    reason: str | None
    tokens_per_second_per_instance: float
    tokens_per_second: float
    hours: float
    """Hours of training."""
    fixed_hours: float
    """Billable hours besides training: start-up, weights download, merge, upload."""
    usd_per_hour: float | None
    on_demand_usd: float | None
    spot_usd: float | None

    @property
    def world_size(self) -> int:
        return self.gpus_per_instance * self.instance_count

    @property
    def billable_hours(self) -> float:
        """What every instance is billed for: training and the fixed hours."""
        return self.hours + self.fixed_hours

    def to_dict(self) -> dict[str, Any]:
        return {
            "base_model": self.base_model,
            "params": self.params,
            "lora_params": self.lora_params,
            "instance_type": self.instance_type,
            "instance_count": self.instance_count,
            "gpu": self.gpu,
            "gpus_per_instance": self.gpus_per_instance,
            "world_size": self.world_size,
            "strategy": self.strategy,
            "precision": self.precision,
            "max_seq_length": self.max_seq_length,
            "per_device_train_batch_size": BATCH_SIZE,
            "epochs": self.epochs,
            "tokens": asdict(self.tokens),
            "memory_per_gpu_gib": self.memory.to_dict(),
            "gpu_memory_gib": self.gpu_memory_gib,
            "available_gib": round(self.available_gib, 3),
            "host_memory_gib": self.host_memory_gib,
            "merge_host_gib": None if self.merge_host_gib is None else round(self.merge_host_gib, 3),
            "host_need_gib": round(self.host_need_gib, 3),
            "host_need": self.host_need,
            "fits": self.fits,
            "reason": self.reason,
            "tokens_per_second_per_instance": round(self.tokens_per_second_per_instance, 1),
            "tokens_per_second": round(self.tokens_per_second, 1),
            "hours": round(self.hours, 4),
            "fixed_hours": round(self.fixed_hours, 4),
            "billable_hours": round(self.billable_hours, 4),
            "usd_per_hour": self.usd_per_hour,
            "on_demand_usd": _round_usd(self.on_demand_usd),
            "spot_usd": _round_usd(self.spot_usd),
            "assumptions": assumptions(),
        }

    def format(self) -> str:
        """The plan as a person reads it."""
        memory = self.memory
        lines = [
            f"{self.base_model} ({self.params / 1e9:.2f}B params), {self.strategy}, {self.precision}",
            f"{self.instance_type} x {self.instance_count}: {self.gpus_per_instance} x {self.gpu} "
            f"{self.gpu_memory_gib:.2f} GiB each; {self.world_size} training "
            f"process{'es' if self.world_size > 1 else ''}",
            f"Memory per GPU (max_seq_length {self.max_seq_length}, batch {BATCH_SIZE}):",
            f"  weights      {memory.weights:8.2f} GiB{_weights_note(self.strategy)}",
            f"  LoRA states  {memory.lora_states:8.2f} GiB  "
            f"({self.lora_params / 1e6:.1f}M trainable, r {LORA_RANK})",
            f"  activations  {memory.activations:8.2f} GiB  (gradient checkpointing)",
            f"  LM head      {memory.logits:8.2f} GiB  (TRL's fused, chunked loss: no full logits)",
            f"  overhead     {memory.overhead:8.2f} GiB  (CUDA context, allocator)",
            f"  total        {memory.total:8.2f} GiB of {self.available_gib:.2f} usable "
            f"({USABLE_GPU_MEMORY_FRACTION:.0%} of {self.gpu_memory_gib:.2f} GiB as the GPU reports it)",
            f"Host memory: {self.host_need_gib:.1f} GiB of {self.host_memory_gib} GiB ({self.host_need})",
            f"Data: {self.tokens.tokens:,} tokens per epoch ({self.tokens.source}), {self.epochs} epochs",
            f"Speed: {self.tokens_per_second_per_instance:,.0f} tokens/s per instance, "
            f"{self.tokens_per_second:,.0f} tokens/s in all (assumed)",
            f"Time: {self.hours:.2f} hours of training + {self.fixed_hours:.2f} fixed (start-up, download, "
            f"merge, upload) = {self.billable_hours:.2f} billable hours per instance",
        ]
        if self.on_demand_usd is None or self.spot_usd is None:
            lines.append(
                f"Cost: unknown, no catalogued price for {self.instance_type}; pass --usd-per-hour "
                "(from the SageMaker pricing page, Training, On-Demand)"
            )
        else:
            lines.append(
                f"Cost: ${self.on_demand_usd:,.2f} on demand "
                f"(${self.usd_per_hour}/h x {self.instance_count}), "
                f"${self.spot_usd:,.2f} spot (assumed {SPOT_SAVING:.0%} saving)"
            )
        lines.append(assumptions())
        lines.append("Fits: yes" if self.fits else f"Fits: NO. {self.reason}")
        return "\n".join(lines)


def estimate(
    model: ModelShape,
    instance: TrainingInstance,
    *,
    instance_count: int = 1,
    strategy: str = DEFAULT_STRATEGY,
    max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
    epochs: int = DEFAULT_EPOCHS,
    tokens: Tokens | None = None,
    usd_per_hour: float | None = None,
) -> Plan:
    """Size one run of ``model`` on ``instance_count`` x ``instance`` (``usd_per_hour`` overrides the
    catalogue's price). A plan is always returned; ``fits`` says whether it can run, ``reason`` why not."""
    _check_inputs(instance_count, strategy, max_seq_length, epochs, usd_per_hour)
    data = tokens or typical_tokens()
    world = instance.gpus * instance_count
    weight_bytes = BF16_BYTES if instance.gpu.bf16 else FP32_BYTES
    memory = _memory(model, strategy, world, weight_bytes, max_seq_length)
    available = instance.gpu.memory_gib * USABLE_GPU_MEMORY_FRACTION
    base_gib = model.params * weight_bytes / GIB
    merge = base_gib * MERGE_BASE_COPIES if strategy in HOST_MERGE_STRATEGIES else None
    host_need_gib, host_need = _host_need(strategy, instance, base_gib)

    problems: list[str] = []
    if world < min_gpus(strategy):
        problems.append(
            f"fsdp-lora shards the weights across GPUs and {instance.name} x {instance_count} has one GPU: "
            "use --instance-count 2 or more, an instance type with several GPUs, or --strategy lora / qlora"
        )
    if memory.total > available:
        problems.append(
            f"needs {memory.total:.1f} GiB per GPU, {available:.1f} usable of {instance.gpu.memory_gib:.2f} "
            f"({instance.gpu.name}); the largest part is the {memory.largest()} "
            f"({getattr(memory, memory.largest()):.1f} GiB). Try {_advice(strategy, memory.largest())}"
        )
    if host_need_gib > instance.memory_gib * USABLE_HOST_MEMORY_FRACTION:
        problems.append(_host_problem(instance, host_need_gib, host_need))

    flops_per_token = FLOPS_PER_PARAM_PER_TOKEN * model.params
    utilisation = MODEL_FLOPS_UTILISATION[strategy] * GPU_UTILISATION[instance.gpu.name]
    per_gpu = instance.gpu.peak_tflops * 1e12 * utilisation / flops_per_token
    per_instance = per_gpu * instance.gpus
    scaling = MULTI_INSTANCE_SCALING if instance_count > 1 else 1.0
    overall = per_instance * instance_count * scaling
    hours = data.tokens * epochs / overall / 3600
    fixed_hours = fixed_billable_hours(model, strategy, weight_bytes)
    price = usd_per_hour if usd_per_hour is not None else instance.usd_per_hour
    on_demand = None if price is None else (hours + fixed_hours) * instance_count * price
    return Plan(
        base_model=model.name,
        params=model.params,
        lora_params=model.lora_params,
        instance_type=instance.name,
        instance_count=instance_count,
        gpu=instance.gpu.name,
        gpus_per_instance=instance.gpus,
        strategy=strategy,
        precision="bf16" if instance.gpu.bf16 else "fp32",
        max_seq_length=max_seq_length,
        epochs=epochs,
        tokens=data,
        memory=memory,
        gpu_memory_gib=instance.gpu.memory_gib,
        available_gib=available,
        host_memory_gib=instance.memory_gib,
        merge_host_gib=merge,
        host_need_gib=host_need_gib,
        host_need=host_need,
        fits=not problems,
        reason="; ".join(problems) or None,
        tokens_per_second_per_instance=per_instance,
        tokens_per_second=overall,
        hours=hours,
        fixed_hours=fixed_hours,
        usd_per_hour=price,
        on_demand_usd=on_demand,
        spot_usd=None if on_demand is None else on_demand * (1 - SPOT_SAVING),
    )


def fixed_billable_hours(model: ModelShape, strategy: str, weight_bytes: int) -> float:
    """Billable hours that do not depend on the data: start-up, the base weights' download (bf16 on the Hub
    and in S3), the merge (``qlora`` and ``fsdp-lora`` read the base again and write the merged model;
    ``lora`` only writes it) and the merged model's upload to S3."""
    stored_mb = model.params * BF16_BYTES / 1e6
    merged_mb = model.params * weight_bytes / 1e6
    merge_mb = merged_mb + (stored_mb if strategy in HOST_MERGE_STRATEGIES else 0)
    seconds = STARTUP_MINUTES * 60 + (stored_mb + merge_mb + merged_mb) / TRANSFER_MB_PER_S
    return seconds / 3600


def plan(
    base_model: str,
    instance_type: str,
    *,
    instance_count: int = 1,
    strategy: str = DEFAULT_STRATEGY,
    max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
    epochs: int = DEFAULT_EPOCHS,
    data: Path | None = None,
    tokens: int | None = None,
    usd_per_hour: float | None = None,
) -> Plan:
    """:func:`estimate` from names: a model id or directory, an instance type, a data file or a token count
    (else the typical run)."""
    model = load_model(base_model)
    instance = load_instance(instance_type)
    if data is not None and tokens is not None:
        raise PlanInputError("pass --data FILE or --tokens N, not both")
    if data is not None:
        counted = tokens_from_file(data, max_seq_length=max_seq_length)
    elif tokens is not None:
        counted = explicit_tokens(tokens)
    else:
        counted = typical_tokens()
    return estimate(
        model,
        instance,
        instance_count=instance_count,
        strategy=strategy,
        max_seq_length=max_seq_length,
        epochs=epochs,
        tokens=counted,
        usd_per_hour=usd_per_hour,
    )


def _check_inputs(
    instance_count: int, strategy: str, max_seq_length: int, epochs: int, usd_per_hour: float | None
) -> None:
    if strategy not in job_contract.STRATEGIES:
        raise PlanInputError(
            f"strategy must be one of {', '.join(job_contract.STRATEGIES)}, got {strategy!r}"
        )
    if not 1 <= instance_count <= MAX_INSTANCE_COUNT:
        raise PlanInputError(f"instance count must be from 1 to {MAX_INSTANCE_COUNT}, got {instance_count}")
    if max_seq_length < 1 or epochs < 1:
        raise PlanInputError(f"max_seq_length and epochs must be >= 1, got {max_seq_length} and {epochs}")
    if usd_per_hour is not None and not (math.isfinite(usd_per_hour) and usd_per_hour > 0):
        raise PlanInputError(f"--usd-per-hour must be a price above 0, got {usd_per_hour}")


def _memory(model: ModelShape, strategy: str, world: int, weight_bytes: int, max_seq_length: int) -> Memory:
    lm_head = model.vocab * model.hidden
    if strategy == "qlora":
        quantized = model.layers * model.layer_linear_params
        weights = quantized * NF4_BYTES_PER_PARAM + (model.params - quantized) * weight_bytes
    elif strategy == "fsdp-lora":
        gathered = FSDP_GATHERED_LAYERS * model.layer_params + lm_head
        weights = (model.params / world + gathered) * weight_bytes
    else:
        weights = model.params * weight_bytes
    per_param = QLORA_BYTES_PER_TRAINABLE_PARAM if strategy == "qlora" else LORA_BYTES_PER_TRAINABLE_PARAM
    lora = model.lora_params * per_param / (world if strategy == "fsdp-lora" else 1)
    tokens = BATCH_SIZE * max_seq_length
    checkpoints = model.layers * tokens * model.hidden * weight_bytes
    working_set = (
        tokens
        * (LAYER_WORKING_SET_HIDDEN * model.hidden + LAYER_WORKING_SET_INTERMEDIATE * model.intermediate)
        * weight_bytes
    )
    return Memory(
        weights=weights / GIB,
        lora_states=lora / GIB,
        activations=(checkpoints + working_set) / GIB,
        logits=lm_head_bytes(model, tokens, weight_bytes) / GIB,
        overhead=CUDA_OVERHEAD_GIB,
    )


def lm_head_bytes(model: ModelShape, tokens: int, weight_bytes: int) -> float:
    """TRL's fused LM head: tile-sized projections (tokens x vocabulary entries, in the compute dtype) and the
    hidden states' gradient accumulated in fp32; the full logits are never built."""
    tile = min(tokens, LM_HEAD_TOKEN_TILE) * min(model.vocab, LM_HEAD_VOCAB_TILE) * weight_bytes
    return LM_HEAD_TILE_COPIES * tile + tokens * model.hidden * FP32_BYTES


def _weights_note(strategy: str) -> str:
    if strategy == "fsdp-lora":
        return f"  (a shard, {FSDP_GATHERED_LAYERS} gathered layers and the whole lm_head)"
    if strategy == "qlora":
        return "  (decoder linear layers in 4-bit NF4, the rest unquantized)"
    return ""


def _host_need(strategy: str, instance: TrainingInstance, base_gib: float) -> tuple[float, str]:
    if strategy == "lora":
        who = f"each of {instance.gpus} processes" if instance.gpus > 1 else "the training process"
        return base_gib * instance.gpus, f"{who} loading the base on the CPU before moving it to its GPU"
    if strategy == "qlora":
        return base_gib * MERGE_BASE_COPIES, "the merge on instance 1's CPU, one copy of the base"
    return (
        base_gib * MERGE_BASE_COPIES,
        "loading the base on instance 1 before sharding it, then the merge there: one copy at a time",
    )


def _advice(strategy: str, largest: str) -> str:
    shorter = "a shorter --max-seq-length (activations and logits grow with it)"
    bigger = "a GPU with more memory"
    if largest != "weights":
        return f"{shorter}, or {bigger}"
    if strategy == "lora":
        return (
            "--strategy qlora (4-bit base weights), --strategy fsdp-lora (weights sharded over every GPU), "
            f"or {bigger}"
        )
    if strategy == "qlora":
        return f"--strategy fsdp-lora on several GPUs, or {bigger}"
    return f"more instances (--instance-count) or an instance type with more GPUs, or {bigger}"


def _host_problem(instance: TrainingInstance, need_gib: float, need: str) -> str:
    roomier = sorted(
        (
            other
            for other in INSTANCES.values()
            if other.gpu == instance.gpu
            and other.gpus == instance.gpus
            and other.memory_gib * USABLE_HOST_MEMORY_FRACTION >= need_gib
        ),
        key=lambda other: (other.memory_gib, other.name),
    )
    hint = f" such as {roomier[0].name} ({roomier[0].memory_gib} GiB)" if roomier else ""
    return (
        f"host memory: {need} needs {need_gib:.1f} GiB, more than {USABLE_HOST_MEMORY_FRACTION:.0%} of "
        f"{instance.name}'s {instance.memory_gib} GiB; pick a size with more host memory{hint}"
    )


def _round_usd(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def assumptions() -> str:
    """The assumptions every plan rests on, in one paragraph (the README prints it under the table)."""
    utilisation = ", ".join(f"{name} {share:.2f}" for name, share in MODEL_FLOPS_UTILISATION.items())
    per_gpu = ", ".join(
        f"{name.removeprefix('NVIDIA ')} x{factor:g}" for name, factor in GPU_UTILISATION.items()
    )
    return (
        f"Assumed: batch {BATCH_SIZE} per GPU at max_seq_length {DEFAULT_MAX_SEQ_LENGTH} with gradient "
        f"checkpointing, LoRA r {LORA_RANK} on every linear layer ({LORA_BYTES_PER_TRAINABLE_PARAM} bytes "
        f"per trainable parameter with AdamW, {QLORA_BYTES_PER_TRAINABLE_PARAM} for qlora's bf16 adapters), "
        f"TRL's fused LM head ({LM_HEAD_TOKEN_TILE} x {LM_HEAD_VOCAB_TILE} tiles, no full logits), fsdp-lora "
        f"holding {FSDP_GATHERED_LAYERS} layers and the lm_head unsharded, {CUDA_OVERHEAD_GIB:g} GiB CUDA "
        "overhead, "
        f"{USABLE_GPU_MEMORY_FRACTION:.0%} of the GPU memory the driver reports usable, one copy of the base "
        f"in host memory for the merge (one per process while lora loads); model-FLOPs utilisation "
        f"{utilisation} of the dense peak at {FLOPS_PER_PARAM_PER_TOKEN} x params FLOPs per token, times "
        f"{per_gpu} per GPU; {MULTI_INSTANCE_SCALING:.0%} scaling efficiency across instances; "
        f"{STARTUP_MINUTES:g} minutes of start-up and {TRANSFER_MB_PER_S:g} MB/s for the weights' download, "
        f"the merge and the upload, billed on every instance; spot {SPOT_SAVING:.0%} below on demand. "
        "Nothing here was measured on a GPU."
    )


def candidates(model: ModelShape, *, strategy: str, tokens: Tokens | None = None) -> list[Plan]:
    """Plans of every catalogue instance x 1 or 2 instances (priced or not)."""
    return [
        estimate(model, instance, instance_count=count, strategy=strategy, tokens=tokens)
        for instance in INSTANCES.values()
        for count in TABLE_INSTANCE_COUNTS
    ]


def cheapest(model: ModelShape, *, strategy: str, tokens: Tokens | None = None) -> Plan | None:
    """The fitting plan with the lowest on-demand cost over every priced catalogue instance x 1 or 2."""
    fitting = [
        candidate
        for candidate in candidates(model, strategy=strategy, tokens=tokens)
        if candidate.fits and candidate.on_demand_usd is not None
    ]
    if not fitting:
        return None
    return min(fitting, key=lambda p: (p.on_demand_usd or 0.0, p.hours, p.instance_type, p.instance_count))


def unpriced_fits(model: ModelShape, *, strategy: str, tokens: Tokens | None = None) -> list[Plan]:
    """The fitting plans on unpriced instances with the fewest instances, in catalogue order."""
    fitting = [
        candidate
        for candidate in candidates(model, strategy=strategy, tokens=tokens)
        if candidate.fits and candidate.on_demand_usd is None
    ]
    fewest = min((candidate.instance_count for candidate in fitting), default=0)
    return [candidate for candidate in fitting if candidate.instance_count == fewest]


def markdown_table() -> str:
    """The README's sizing table: per base-model size and strategy, the cheapest catalogued instance type
    and count (1 or 2) that fits the typical run, with its memory, billable hours and cost; where only
    unpriced instances fit, the smallest of them."""
    data = typical_tokens()
    rows = [
        "| base model | strategy | cheapest that fits | GiB per GPU (of total) | billable hours | on demand "
        "| spot |",
        "|---|---|---|---|---|---|---|",
    ]
    for size, model_id in TABLE_MODELS.items():
        model = MODELS[model_id]
        for strategy in job_contract.STRATEGIES:
            label = f"{size} `{model_id}`"
            best = cheapest(model, strategy=strategy, tokens=data)
            if best is None:
                unpriced = unpriced_fits(model, strategy=strategy, tokens=data)
                if not unpriced:
                    rows.append(f"| {label} | {strategy} | does not fit on the catalogued instances {EMPTY}")
                    continue
                names = ", ".join(plan.instance_type for plan in unpriced)
                first = unpriced[0]
                rows.append(
                    f"| {label} | {strategy} | fits on {names} x {first.instance_count}, no price: pass "
                    f"--usd-per-hour | {first.memory.total:.1f} of {first.gpu_memory_gib:.1f} "
                    f"| {first.billable_hours:.2f} | | |"
                )
                continue
            rows.append(
                f"| {label} | {strategy} | {best.instance_type} x {best.instance_count} "
                f"| {best.memory.total:.1f} of {best.gpu_memory_gib:.1f} | {best.billable_hours:.2f} "
                f"| ${best.on_demand_usd:,.2f} | ${best.spot_usd:,.2f} |"
            )
    footer = (
        f"Typical run: {TYPICAL_CONVERSATIONS:,} conversations x {TYPICAL_TOKENS_PER_CONVERSATION:,} tokens, "
        f"{DEFAULT_EPOCHS} epochs; candidates are the catalogue instances x "
        f"{' or '.join(map(str, TABLE_INSTANCE_COUNTS))}. {assumptions()} Prices: SageMaker training "
        f"on demand, us-east-1, as of {training.PRICES_AS_OF}, from {training.PRICES_SOURCE}, with the "
        f"corrections listed in ladder_core/catalog/training.py; p4de, p5, p5e and p5en have no catalogued "
        f"price. Regenerate with `{TABLE_COMMAND}`."
    )
    return "\n".join([*rows, "", footer]) + "\n"
