"""LoRA supervised fine-tuning of a causal language model on chat data; SageMaker entry point.

Runs the same way on a laptop (CPU, fp32) and in a SageMaker GPU job (bf16, gradient checkpointing)::

    python training_jobs/train.py \\
        --model_id Qwen/Qwen2.5-0.5B-Instruct \\
        --train_dir data/prepared/train --eval_dir data/prepared/eval \\
        --output_model_dir out/model --checkpoint_dir out/checkpoints \\
        --max_steps 20 --eval_steps 10 --save_steps 10

(``ladder data check chats.jsonl`` or ``training_jobs.dataprep`` writes ``train.jsonl`` and ``eval.jsonl``.)
On several GPUs SageMaker's toolkit starts it once per GPU, as ``torchrun --nproc_per_node N train.py ...``
does; ``--strategy`` chooses ``lora`` (full weights per process), ``qlora`` (4-bit NF4 base weights) or
``fsdp-lora`` (weights sharded over every GPU).

In SageMaker the training toolkit passes the job's HyperParameters as ``--name value`` arguments and the
paths come from its environment: ``SM_CHANNEL_TRAIN`` (train.jsonl), ``SM_CHANNEL_EVAL`` (eval.jsonl),
``SM_CHANNEL_MODEL`` (optional staged base-model weights; otherwise ``--model_id`` is downloaded from the
Hugging Face Hub), ``SM_MODEL_DIR`` (the merged model, uploaded as the job's model artifact) and
``SM_OUTPUT_DATA_DIR``. Checkpoints go to ``CHECKPOINT_DIR`` or ``/opt/ml/checkpoints``, which SageMaker
syncs to S3, so a managed-spot job that is interrupted resumes from its latest complete checkpoint.

The loss is computed on assistant tokens only: the script renders each conversation with the tokenizer's
chat template and labels every other token -100 (see :func:`encode_conversation`), which works with any
prefix-stable template, with or without ``{% generation %}`` markers. Metrics are printed one per line as
``name=value;`` (see ``job_contract.METRIC_DEFINITIONS``). At the end the adapter is merged into the base
weights and the full model is saved in the Hugging Face layout Bedrock Custom Model Import reads.
"""

from __future__ import annotations

import gc
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if __package__:
    from . import job_contract as contract
else:  # run as a script (python training_jobs/train.py, SageMaker's /opt/ml/code/train.py)
    import job_contract as contract  # type: ignore[no-redef]

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

IGNORE_INDEX = -100
"""Label of tokens that do not count towards the loss (PyTorch cross-entropy's ignore_index)."""
CHECKPOINT_PREFIX = "checkpoint-"
CHECKPOINT_STATE_FILE = "trainer_state.json"
"""Written last into a checkpoint by the Trainer: a checkpoint without it was interrupted mid-save."""
ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors"
"""The LoRA weights of a checkpoint (and of the final adapter)."""
ADAPTER_DIR = "adapter"
"""Folder of the output data directory where the trained adapter is saved before it is merged."""
SUMMARY_FILE = "training_summary.json"
BEDROCK_TOKENIZER_CLASSES = frozenset(
    {
        "T5Tokenizer",
        "T5TokenizerFast",
        "LlamaTokenizer",
        "LlamaTokenizerFast",
        "CodeLlamaTokenizer",
        "CodeLlamaTokenizerFast",
        "GPT2Tokenizer",
        "GPT2TokenizerFast",
        "GPTNeoXTokenizer",
        "GPTNeoXTokenizerFast",
        "PreTrainedTokenizer",
        "PreTrainedTokenizerFast",
        "Qwen2Tokenizer",
        "Qwen2TokenizerFast",
    }
)
"""tokenizer_class values Bedrock Custom Model Import accepts (its user guide, "Supported tokenizers")."""


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _default_checkpoint_dir() -> str:
    if "CHECKPOINT_DIR" in os.environ:
        return os.environ["CHECKPOINT_DIR"]
    return contract.CHECKPOINT_LOCAL_PATH if "SM_MODEL_DIR" in os.environ else "checkpoints"


@dataclass
class TrainArguments:
    """Command-line arguments; SageMaker HyperParameters arrive as ``--name value``."""

    model_id: str = field(
        default=contract.DEFAULT_BASE_MODEL_ID,
        metadata={"help": "Hugging Face Hub id of the base model, used when no model channel is given."},
    )
    strategy: str = field(
        default=contract.DEFAULT_STRATEGY,
        metadata={"help": f"How the base model is held: one of {', '.join(contract.STRATEGIES)}."},
    )
    base_model_dir: str = field(
        default_factory=lambda: _env("SM_CHANNEL_MODEL", ""),
        metadata={
            "help": "Directory with staged base-model weights (env SM_CHANNEL_MODEL); wins over model_id."
        },
    )
    train_dir: str = field(
        default_factory=lambda: _env("SM_CHANNEL_TRAIN", "data/train"),
        metadata={"help": f"Directory with {contract.TRAIN_FILE} (env SM_CHANNEL_TRAIN)."},
    )
    eval_dir: str = field(
        default_factory=lambda: _env("SM_CHANNEL_EVAL", "data/eval"),
        metadata={
            "help": f"Directory with {contract.EVAL_FILE}, may be absent or empty (env SM_CHANNEL_EVAL)."
        },
    )
    output_model_dir: str = field(
        default_factory=lambda: _env("SM_MODEL_DIR", "model"),
        metadata={"help": "Where the merged model is saved (env SM_MODEL_DIR)."},
    )
    output_data_dir: str = field(
        default_factory=lambda: _env("SM_OUTPUT_DATA_DIR", "output"),
        metadata={"help": f"Where {SUMMARY_FILE} is written (env SM_OUTPUT_DATA_DIR)."},
    )
    checkpoint_dir: str = field(
        default_factory=_default_checkpoint_dir,
        metadata={
            "help": "Checkpoints; resumed from when present (env CHECKPOINT_DIR, /opt/ml/checkpoints)."
        },
    )
    epochs: float = field(
        default=2.0, metadata={"help": "Passes over the training data (ignored if max_steps > 0)."}
    )
    max_steps: int = field(default=-1, metadata={"help": "Optimizer steps to run; -1 means use epochs."})
    learning_rate: float = field(default=2e-4, metadata={"help": "Peak learning rate of the LoRA weights."})
    per_device_train_batch_size: int = field(default=4)
    per_device_eval_batch_size: int = field(default=4)
    gradient_accumulation_steps: int = field(default=4)
    max_seq_length: int = field(
        default=2048, metadata={"help": "Tokens per example; longer ones are truncated."}
    )
    lora_r: int = field(default=16)
    lora_alpha: int = field(default=32)
    lora_dropout: float = field(default=0.05)
    lora_target_modules: str = field(
        default="all-linear",
        metadata={"help": "Comma-separated module names (q_proj,v_proj) or 'all-linear'."},
    )
    eval_steps: int = field(default=50, metadata={"help": "Evaluate every N steps (and once at the end)."})
    save_steps: int = field(default=50, metadata={"help": "Checkpoint every N steps."})
    save_total_limit: int = field(default=2, metadata={"help": "Checkpoints kept on disk (and in S3)."})
    logging_steps: int = field(default=10)
    warmup_ratio: float = field(
        default=0.03, metadata={"help": "Share of steps with a linear warm-up, 0 to <1."}
    )
    lr_scheduler_type: str = field(default="cosine")
    seed: int = field(default=42)

    def __post_init__(self) -> None:
        positive = (
            "per_device_train_batch_size",
            "per_device_eval_batch_size",
            "gradient_accumulation_steps",
            "max_seq_length",
            "lora_r",
            "lora_alpha",
            "eval_steps",
            "save_steps",
            "save_total_limit",
            "logging_steps",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"--{name} must be >= 1, got {getattr(self, name)}")
        if self.max_steps == 0 or self.max_steps < -1:
            raise ValueError(f"--max_steps must be -1 (use epochs) or >= 1, got {self.max_steps}")
        if self.max_steps == -1 and not self.epochs > 0:
            raise ValueError(f"--epochs must be > 0 when --max_steps is -1, got {self.epochs}")
        if not self.learning_rate > 0:
            raise ValueError(f"--learning_rate must be > 0, got {self.learning_rate}")
        if not 0 <= self.lora_dropout < 1:
            raise ValueError(f"--lora_dropout must be in [0, 1), got {self.lora_dropout}")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"--warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.strategy not in contract.STRATEGIES:
            accepted = ", ".join(contract.STRATEGIES)
            raise ValueError(f"--strategy must be one of {accepted}, got {self.strategy!r}")
        if not self.target_modules():
            raise ValueError("--lora_target_modules must name at least one module or be 'all-linear'")

    def target_modules(self) -> str | list[str]:
        """``all-linear`` as is (PEFT's shorthand), otherwise the list of module names."""
        if self.lora_target_modules.strip() == "all-linear":
            return "all-linear"
        return [name.strip() for name in self.lora_target_modules.split(",") if name.strip()]


@dataclass(frozen=True)
class TrainResult:
    """What :func:`main` did: the final step, where it resumed from, the data used and where the model is."""

    global_step: int
    resumed_from: str | None
    train_examples: int
    eval_examples: int
    dropped_examples: int
    eval_loss: float | None
    model_dir: str


class ChatTemplateError(ValueError):
    """The tokenizer's chat template cannot be used to find the assistant tokens of a conversation."""


def parse_args(argv: Sequence[str] | None = None) -> TrainArguments:
    """Parse ``--name value`` arguments strictly; SageMaker's own ``--sagemaker_*`` ones are ignored."""
    from transformers import HfArgumentParser

    raw = list(sys.argv[1:] if argv is None else argv)
    kept: list[str] = []
    skip_value = False
    for item in raw:
        if skip_value:
            skip_value = False
            continue
        if item.startswith("--sagemaker_"):
            skip_value = "=" not in item
            continue
        kept.append(item)
    parser = HfArgumentParser(TrainArguments)  # type: ignore[arg-type]
    (args,) = parser.parse_args_into_dataclasses(args=kept, look_for_args_file=False)
    return args


def encode_conversation(
    tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, str]], max_length: int | None = None
) -> dict[str, list[int]]:
    """Token ids of the rendered conversation and labels that are -100 except on assistant tokens.

    Each assistant turn's characters are located by rendering the conversation up to the turn with the
    generation prompt (where the answer starts) and up to the end of the turn (where it stops, including
    the template's end-of-turn token, so the model learns to stop). Tokens starting inside those spans
    keep their id as label. Raises :class:`ChatTemplateError` when the template renders a prefix of the
    conversation differently from the whole (then the spans cannot be trusted).
    """
    text = _render(tokenizer, messages, generation_prompt=False)
    spans: list[tuple[int, int]] = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = _render(tokenizer, messages[:index], generation_prompt=True)
        through = _render(tokenizer, messages[: index + 1], generation_prompt=False)
        if not (through.startswith(prompt) and text.startswith(through)):
            raise ChatTemplateError(
                f"the chat template renders the first {index + 1} messages differently inside the whole "
                "conversation, so assistant tokens cannot be located; use a template that renders earlier "
                "turns the same way whatever follows them"
            )
        spans.append((len(prompt), len(through)))
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    input_ids: list[int] = list(encoded["input_ids"])
    labels = [
        token if any(start <= begin < end for start, end in spans) else IGNORE_INDEX
        for token, (begin, _) in zip(input_ids, encoded["offset_mapping"], strict=True)
    ]
    if max_length is not None:
        input_ids, labels = input_ids[:max_length], labels[:max_length]
    return {"input_ids": input_ids, "labels": labels}


def read_conversations(directory: str, filename: str) -> list[list[dict[str, str]]]:
    """The ``messages`` of every line of ``directory/filename``; [] when the directory or file is absent."""
    path = Path(directory) / filename
    if not path.is_file():
        return []
    conversations = []
    with path.open(encoding="utf-8") as fp:
        for number, line in enumerate(fp, start=1):
            if not line.strip():
                continue
            try:
                conversations.append(json.loads(line)["messages"])
            except (json.JSONDecodeError, KeyError, TypeError) as err:
                raise ValueError(f"{path}:{number} is not a chat record ({err}); run dataprep first") from err
    return conversations


def complete_checkpoint_steps(checkpoint_dir: str) -> set[int]:
    """Steps N of the complete ``checkpoint-N`` folders: the trainer state (written last) and the adapter."""
    root = Path(checkpoint_dir)
    if not root.is_dir():
        return set()
    return {
        int(path.name.removeprefix(CHECKPOINT_PREFIX))
        for path in root.glob(f"{CHECKPOINT_PREFIX}*")
        if path.name.removeprefix(CHECKPOINT_PREFIX).isdigit()
        and (path / CHECKPOINT_STATE_FILE).is_file()
        and (path / ADAPTER_WEIGHTS_FILE).is_file()
    }


def latest_checkpoint(checkpoint_dir: str) -> str | None:
    """The complete ``checkpoint-N`` with the highest N, or None; half-written ones are skipped."""
    steps = complete_checkpoint_steps(checkpoint_dir)
    return str(Path(checkpoint_dir) / f"{CHECKPOINT_PREFIX}{max(steps)}") if steps else None


def adapt_for_bedrock_import(model_dir: str) -> None:
    """Rewrite the saved metadata so the model also loads with the older transformers Bedrock runs.

    Bedrock Custom Model Import documents transformers 4.51.3, while this job saves with transformers 5,
    which writes ``dtype`` instead of ``torch_dtype``, ``rope_parameters`` instead of ``rope_theta`` /
    ``rope_scaling``, the tokenizer class ``TokenizersBackend`` and the chat template in a separate file.
    The old keys are added next to the new ones (transformers 5 still reads the model the same way).
    """
    root = Path(model_dir)
    config_path = root / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    for section in (config, config.get("text_config")):
        if not isinstance(section, dict):
            continue
        if "dtype" in section and "torch_dtype" not in section:
            section["torch_dtype"] = section["dtype"]
        rope = section.get("rope_parameters")
        if isinstance(rope, dict) and "rope_theta" in rope and "rope_theta" not in section:
            section["rope_theta"] = rope["rope_theta"]
            if rope.get("rope_type", "default") != "default":
                section["rope_scaling"] = {k: v for k, v in rope.items() if k != "rope_theta"}
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    tokenizer_path = root / "tokenizer_config.json"
    tokenizer_config = json.loads(tokenizer_path.read_text(encoding="utf-8"))
    if tokenizer_config.get("tokenizer_class") not in BEDROCK_TOKENIZER_CLASSES:
        tokenizer_config["tokenizer_class"] = "PreTrainedTokenizerFast"
    template_path = root / "chat_template.jinja"
    if "chat_template" not in tokenizer_config and template_path.is_file():
        tokenizer_config["chat_template"] = template_path.read_text(encoding="utf-8")
    tokenizer_path.write_text(
        json.dumps(tokenizer_config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def main(args: TrainArguments) -> TrainResult:
    """Fine-tune, evaluate, merge and save; resume first if the checkpoint directory holds a checkpoint.

    Started once per GPU by torchrun (``WORLD_SIZE`` > 1), every process trains its share of each batch;
    only the first process of the job (rank 0) prints metrics, merges and writes the model and summary.
    """
    import torch

    world = Processes.from_environment()
    on_gpu = torch.cuda.is_available()
    _check_strategy(args.strategy, world, on_gpu=on_gpu)
    source = _model_source(args)
    _check_architecture(source)
    tokenizer = _load_tokenizer(source)
    data = _load_data(args, tokenizer, world)

    bf16 = on_gpu and torch.cuda.is_bf16_supported()
    dtype = torch.bfloat16 if bf16 else torch.float32
    trainer = _build_trainer(
        args, source, tokenizer, data, dtype=dtype, bf16=bf16, on_gpu=on_gpu, world=world
    )
    result = _train(args, trainer, data, world)
    # Nothing after this point is collective: the other processes leave while the first one merges, so no
    # process waits at a barrier for a merge that can outlast the process group's timeout (a 70B merge on
    # the CPU runs for tens of minutes). torchrun's agent keeps waiting for the first process: it reports
    # success only once every local worker has exited 0 (see the training README, "More than one GPU").
    if world.is_main:
        _merge(args, trainer, source, tokenizer, dtype=dtype)
        world.info(f"merged model saved to {args.output_model_dir}")
        _write_summary(args, result, source, world)
    # The data-parallel model is freed while the process group still exists (a DDP model freed after
    # the group is destroyed deadlocks in gloo's destructor), then the group is destroyed. Here, not in a
    # step: this frame holds the last reference to the trainer.
    accelerator = trainer.accelerator
    accelerator.free_memory()
    del trainer
    gc.collect()
    accelerator.end_training()
    return result


@dataclass(frozen=True)
class _EncodedData:
    """The encoded train and eval rows, and how many conversations truncation left without an answer."""

    train_rows: list[dict[str, list[int]]]
    eval_rows: list[dict[str, list[int]]]
    dropped: int


def _check_strategy(strategy: str, world: Processes, *, on_gpu: bool) -> None:
    """ValueError, before anything is loaded, when ``fsdp-lora`` has fewer than two CUDA processes."""
    import torch

    if strategy == "fsdp-lora" and not (on_gpu and world.size > 1):
        raise ValueError(
            "--strategy fsdp-lora shards the model across several CUDA GPUs started by torchrun; this "
            f"process sees {torch.cuda.device_count()} GPU(s) and WORLD_SIZE={world.size}. "
            "Use lora or qlora on one GPU"
        )


def _check_architecture(source: str) -> None:
    """ValueError, from the model's config alone, when Custom Model Import cannot take its architecture."""
    from transformers import AutoConfig

    architecture = _architecture(AutoConfig.from_pretrained(source))
    if architecture not in contract.TRAINABLE_ARCHITECTURES:
        raise ValueError(
            f"base model {source!r} is a {architecture}; this job fine-tunes causal language models that "
            f"Bedrock Custom Model Import accepts: {sorted(contract.TRAINABLE_ARCHITECTURES)}"
        )


def _load_tokenizer(source: str) -> PreTrainedTokenizerBase:
    """The base model's tokenizer, with a chat template and a padding token (its end-of-sequence one)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    if not tokenizer.chat_template:
        raise ChatTemplateError(f"the tokenizer of {source!r} has no chat template; use an instruct model")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _load_data(args: TrainArguments, tokenizer: PreTrainedTokenizerBase, world: Processes) -> _EncodedData:
    """The train and eval conversations, encoded; ValueError when no training conversation is usable."""
    train_rows, train_dropped = _encode_all(
        tokenizer, read_conversations(args.train_dir, contract.TRAIN_FILE), args.max_seq_length
    )
    eval_rows, eval_dropped = _encode_all(
        tokenizer, read_conversations(args.eval_dir, contract.EVAL_FILE), args.max_seq_length
    )
    if not train_rows:
        raise ValueError(f"no usable training conversations in {Path(args.train_dir) / contract.TRAIN_FILE}")
    world.info(
        f"strategy {args.strategy}, processes {world.size}, train_examples {len(train_rows)}, "
        f"eval_examples {len(eval_rows)}, dropped (no assistant token within max_seq_length) "
        f"{train_dropped + eval_dropped}"
    )
    return _EncodedData(train_rows=train_rows, eval_rows=eval_rows, dropped=train_dropped + eval_dropped)


def _build_trainer(
    args: TrainArguments,
    source: str,
    tokenizer: PreTrainedTokenizerBase,
    data: _EncodedData,
    *,
    dtype: Any,
    bf16: bool,
    on_gpu: bool,
    world: Processes,
) -> Any:
    """The run's ``SFTTrainer``: its config, the base model as the strategy holds it, the LoRA adapter."""
    from datasets import Dataset
    from trl import SFTTrainer

    has_eval = bool(data.eval_rows)
    # Built before the model is loaded: with fsdp-lora it sets up the process group and tells
    # from_pretrained to load real weights on rank 0 only (the others receive their shards).
    config = trainer_config(args, on_gpu=on_gpu, bf16=bf16, has_eval=has_eval, world=world)
    model = _load_base_model(source, args.strategy, dtype, on_gpu=on_gpu, local_rank=world.local_rank)
    return SFTTrainer(
        model=model,
        args=config,
        train_dataset=Dataset.from_list(data.train_rows),
        eval_dataset=Dataset.from_list(data.eval_rows) if has_eval else None,
        processing_class=tokenizer,
        peft_config=_lora_config(args),
        callbacks=[_metric_printer()],
    )


def _train(args: TrainArguments, trainer: Any, data: _EncodedData, world: Processes) -> TrainResult:
    """Trains (from the checkpoint every process has, if any), evaluates and saves the adapter."""
    resumed_from = agreed_checkpoint(args.checkpoint_dir)
    if resumed_from:
        world.info(f"resuming from {resumed_from}")
    trainer.train(resume_from_checkpoint=resumed_from)
    eval_loss = _final_eval_loss(trainer) if data.eval_rows else None
    # Every process takes part (FSDP gathers the adapter's shards here); only the first one writes it.
    trainer.save_model(_adapter_dir(args))
    return TrainResult(
        global_step=trainer.state.global_step,
        resumed_from=resumed_from,
        train_examples=len(data.train_rows),
        eval_examples=len(data.eval_rows),
        dropped_examples=data.dropped,
        eval_loss=eval_loss,
        model_dir=args.output_model_dir,
    )


def _adapter_dir(args: TrainArguments) -> str:
    return str(Path(args.output_data_dir) / ADAPTER_DIR)


def _merge(
    args: TrainArguments, trainer: Any, source: str, tokenizer: PreTrainedTokenizerBase, *, dtype: Any
) -> None:
    """Merges the trained adapter into the base weights and saves the model Custom Model Import reads."""
    if args.strategy == "lora":
        # Every process holds the full-precision base: the first merges the adapter in memory.
        merged: Any = trainer.model
        _save_merged(merged.merge_and_unload(), tokenizer, args.output_model_dir)
    else:
        # 4-bit or sharded weights cannot take the adapter in place: the first process reloads the
        # base in full precision on the CPU and applies the adapter it has just written.
        merge_saved_adapter(source, _adapter_dir(args), tokenizer, args.output_model_dir, dtype=dtype)


def _write_summary(args: TrainArguments, result: TrainResult, source: str, world: Processes) -> None:
    """``training_summary.json`` in the output data folder: the arguments, the result, the base model."""
    summary = {
        "arguments": asdict(args),
        "result": asdict(result),
        "base_model": source,
        "processes": world.size,
    }
    Path(args.output_data_dir).mkdir(parents=True, exist_ok=True)
    (Path(args.output_data_dir) / SUMMARY_FILE).write_text(
        json.dumps(summary, indent=2) + "\n", encoding="utf-8"
    )


def trainer_config(
    args: TrainArguments, *, on_gpu: bool, bf16: bool, has_eval: bool, world: Processes
) -> Any:
    """The ``SFTConfig`` of a run: checkpoints on every instance, and FSDP's settings for ``fsdp-lora``."""
    from trl import SFTConfig

    fsdp = args.strategy == "fsdp-lora"
    fsdp_settings: dict[str, Any] = {}
    if fsdp:
        fsdp_settings = {
            "fsdp": True,
            "fsdp_config": {
                "version": 2,
                "auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
                "reshard_after_forward": True,
                # The adapter is gathered whole into adapter_model.safetensors, as the other strategies
                # write it, so the merge and a resumed run read the same files.
                "state_dict_type": "FULL_STATE_DICT",
                "cpu_ram_efficient_loading": True,
                "activation_checkpointing": True,
            },
        }
    checkpointing = on_gpu and not fsdp  # FSDP checkpoints activations itself (fsdp_config)
    return SFTConfig(
        output_dir=args.checkpoint_dir,
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        learning_rate=args.learning_rate,
        lr_scheduler_type=args.lr_scheduler_type,
        warmup_steps=args.warmup_ratio,
        per_device_train_batch_size=args.per_device_train_batch_size,
        per_device_eval_batch_size=args.per_device_eval_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        max_length=args.max_seq_length,
        bf16=bf16,
        fp16=False,
        activation_checkpointing=checkpointing,
        activation_checkpointing_kwargs={"use_reentrant": False} if checkpointing else None,
        dataloader_pin_memory=on_gpu,
        # Without it, processes started by torchrun on a host without CUDA each train alone.
        use_cpu=not on_gpu,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=args.eval_steps,
        save_strategy="steps",
        save_steps=args.save_steps,
        save_total_limit=args.save_total_limit,
        save_on_each_node=save_on_each_node(args.strategy),
        ddp_find_unused_parameters=False if world.size > 1 else None,
        logging_steps=args.logging_steps,
        logging_first_step=True,
        seed=args.seed,
        report_to="none",
        disable_tqdm=True,
        **fsdp_settings,
    )


def save_on_each_node(strategy: str) -> bool:
    """Whether the first process of every instance writes checkpoints and the adapter, or only the job's.

    Each instance syncs its own /opt/ml/checkpoints with S3, so with data parallelism (``lora``, ``qlora``:
    every process holds the whole adapter) every instance writes a whole checkpoint and can resume from
    it. Under FSDP2 the full state dict is gathered on the job's first process alone; the first process of
    another instance would write an adapter without tensors to the same S3 keys, and the last upload wins.
    """
    return strategy != "fsdp-lora"


def _lora_config(args: TrainArguments) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        target_modules=args.target_modules(),
        bias="none",
        task_type="CAUSAL_LM",
    )


def _load_base_model(source: str, strategy: str, dtype: Any, *, on_gpu: bool, local_rank: int) -> Any:
    """The base model as the strategy holds it: full precision, or 4-bit NF4 on this process's GPU."""
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    if strategy != "qlora":
        return AutoModelForCausalLM.from_pretrained(source, dtype=dtype)
    quantization = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=dtype,
    )
    # Data parallel: every process keeps its own quantized copy on its own GPU.
    device_map = {"": local_rank} if on_gpu else {"": "cpu"}
    return AutoModelForCausalLM.from_pretrained(
        source, dtype=dtype, quantization_config=quantization, device_map=device_map
    )


def merge_saved_adapter(
    source: str, adapter_dir: str, tokenizer: PreTrainedTokenizerBase, output_dir: str, *, dtype: Any
) -> None:
    """Reload the base model on the CPU in ``dtype``, apply the adapter saved in ``adapter_dir``, merge and
    save it as Custom Model Import reads it."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, device_map={"": "cpu"})
    merged = PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
    _save_merged(merged, tokenizer, output_dir)


def _save_merged(model: Any, tokenizer: PreTrainedTokenizerBase, output_dir: str) -> None:
    model.config.use_cache = True
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    adapt_for_bedrock_import(output_dir)


@dataclass(frozen=True)
class Processes:
    """Where this process stands among the job's processes (torchrun's environment; one process without)."""

    rank: int
    local_rank: int
    size: int

    @classmethod
    def from_environment(cls) -> Processes:
        return cls(
            rank=int(os.environ.get("RANK", "0")),
            local_rank=int(os.environ.get("LOCAL_RANK", "0")),
            size=int(os.environ.get("WORLD_SIZE", "1")),
        )

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def info(self, message: str) -> None:
        if self.is_main:
            _info(message)


def agreed_checkpoint(checkpoint_dir: str) -> str | None:
    """The newest checkpoint that is complete on every instance of the job (:func:`latest_checkpoint` on
    one process), so that all processes resume from the same step."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return latest_checkpoint(checkpoint_dir)
    steps_here = complete_checkpoint_steps(checkpoint_dir)
    everyone: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, sorted(steps_here))
    common = set.intersection(*(set(steps) for steps in everyone))
    return str(Path(checkpoint_dir) / f"{CHECKPOINT_PREFIX}{max(common)}") if common else None


def _final_eval_loss(trainer: Any) -> float:
    """Eval loss at the last step: the Trainer's own when it evaluated there, else a fresh evaluation."""
    evaluations = [entry for entry in trainer.state.log_history if "eval_loss" in entry]
    if evaluations and evaluations[-1].get("step") == trainer.state.global_step:
        return float(evaluations[-1]["eval_loss"])
    return float(trainer.evaluate()["eval_loss"])


def _model_source(args: TrainArguments) -> str:
    if not args.base_model_dir:
        return args.model_id
    if not (Path(args.base_model_dir) / "config.json").is_file():
        raise FileNotFoundError(
            f"model channel {args.base_model_dir!r} has no config.json; stage the Hugging Face model "
            "directory (config.json, *.safetensors, tokenizer files) under the channel's S3 prefix"
        )
    return args.base_model_dir


def _architecture(config: Any) -> str:
    architectures = getattr(config, "architectures", None) or []
    return str(architectures[0]) if architectures else f"model of type {config.model_type!r}"


def _render(
    tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, str]], *, generation_prompt: bool
) -> str:
    if not messages:
        return ""
    rendered = tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=generation_prompt
    )
    if not isinstance(rendered, str):
        raise ChatTemplateError("the chat template did not render to text")
    return rendered


def _encode_all(
    tokenizer: PreTrainedTokenizerBase, conversations: list[list[dict[str, str]]], max_length: int
) -> tuple[list[dict[str, list[int]]], int]:
    """Encoded rows, and how many were dropped because truncation left no assistant token."""
    rows = [encode_conversation(tokenizer, messages, max_length) for messages in conversations]
    kept = [row for row in rows if any(label != IGNORE_INDEX for label in row["labels"])]
    return kept, len(rows) - len(kept)


def _metric_printer() -> Any:
    """A Trainer callback printing the metrics of every log event as ``name=value;`` lines."""
    from transformers import TrainerCallback

    sources = {
        "loss": "train_loss",
        "eval_loss": "eval_loss",
        "epoch": "epoch",
        "learning_rate": "learning_rate",
        "grad_norm": "grad_norm",
    }

    class MetricPrinter(TrainerCallback):
        def on_log(
            self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **_: Any
        ) -> None:
            if not state.is_world_process_zero or not logs:
                return
            for key, name in sources.items():
                value = logs.get(key)
                if isinstance(value, int | float) and math.isfinite(value):
                    print(contract.metric_line(name, float(value)), flush=True)

    return MetricPrinter()


def _info(message: str) -> None:
    print(f"[ladder-train] {message}", flush=True)


if __name__ == "__main__":
    main(parse_args())
