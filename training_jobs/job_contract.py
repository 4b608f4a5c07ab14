"""What the fine-tune stack and the SageMaker training script agree on. Standard library only.

The CDK stack imports this module to build the ``CreateTrainingJob`` request (channels, hyperparameters,
metric definitions, checkpoint path); ``train.py`` imports it to parse the same names and print the
metrics these regular expressions read. Changing a name here changes both sides.
"""

from __future__ import annotations

from typing import Final

CHANNEL_TRAIN: Final = "train"
"""Input channel holding ``train.jsonl`` (the validation Lambda's ``trainS3Uri``)."""
CHANNEL_EVAL: Final = "eval"
"""Input channel holding ``eval.jsonl`` (the validation Lambda's ``evalS3Uri``)."""
CHANNEL_MODEL: Final = "model"
"""Optional input channel with base-model weights staged in S3 (Hugging Face layout: config.json,
*.safetensors, tokenizer files). Without it the job downloads ``model_id`` from the Hugging Face Hub,
which needs network access (network isolation off)."""

TRAIN_FILE: Final = "train.jsonl"
EVAL_FILE: Final = "eval.jsonl"

CHECKPOINT_LOCAL_PATH: Final = "/opt/ml/checkpoints"
"""Where train.py writes checkpoints in the container; SageMaker syncs it with CheckpointConfig.S3Uri,
which is what lets a managed-spot job resume after an interruption."""

OUTPUT_COMPRESSION: Final = "NONE"
"""``OutputDataConfig.CompressionType`` of the job: Bedrock Custom Model Import reads the model files from
an S3 prefix, not from model.tar.gz, so the job uploads SM_MODEL_DIR uncompressed; the prefix is the
job's ``ModelArtifacts.S3ModelArtifacts``."""

DEFAULT_BASE_MODEL_ID: Final = "meta-llama/Llama-3.2-1B-Instruct"
"""Small instruct model (LlamaForCausalLM) that Bedrock Custom Model Import accepts and serves through
Converse, matching the RAG function's default ``FINETUNED_MODEL_API=converse``. Its licence must be
accepted on the hub before the weights are downloaded (stage them in the ``model`` channel, see README).
``Qwen/Qwen2.5-1.5B-Instruct`` is an ungated alternative; imported Qwen models need ``invoke_model``."""

BEDROCK_IMPORTABLE_ARCHITECTURES: Final = frozenset(
    {
        "LlamaForCausalLM",  # Llama 2, 3, 3.1, 3.2, 3.3
        "MllamaForConditionalGeneration",  # Llama 3.2 Vision
        "MistralForCausalLM",
        "MixtralForCausalLM",
        "T5ForConditionalGeneration",  # Flan-T5
        "GPTBigCodeForCausalLM",
        "Qwen2ForCausalLM",  # Qwen2, Qwen2.5
        "Qwen2VLForConditionalGeneration",
        "Qwen2_5_VLForConditionalGeneration",
        "Qwen3ForCausalLM",
        "Qwen3MoeForCausalLM",
        "GptOssForCausalLM",  # us-east-1 only
    }
)
"""``architectures[0]`` values in config.json that Bedrock Custom Model Import accepts (AWS Bedrock user
guide, "Supported architectures" of Custom Model Import)."""

TRAINABLE_ARCHITECTURES: Final = frozenset(
    {
        "LlamaForCausalLM",
        "MistralForCausalLM",
        "MixtralForCausalLM",
        "GPTBigCodeForCausalLM",
        "Qwen2ForCausalLM",
        "Qwen3ForCausalLM",
        "Qwen3MoeForCausalLM",
        "GptOssForCausalLM",
    }
)
"""The text-only causal language models among them: what train.py (LoRA SFT on a causal LM) accepts.
It refuses anything else before loading weights, so a wrong base model fails in seconds, not after
hours of GPU time."""

STRATEGIES: Final = ("lora", "qlora", "fsdp-lora")
"""How train.py holds the base model: ``lora`` (full bf16 weights in every process, data parallel),
``qlora`` (4-bit NF4 base weights with bitsandbytes, data parallel: big models on small GPUs) or
``fsdp-lora`` (bf16 weights sharded across every GPU of every instance: models no single GPU holds)."""
DEFAULT_STRATEGY: Final = "lora"

DEFAULT_HYPERPARAMETERS: Final[dict[str, str]] = {
    "model_id": DEFAULT_BASE_MODEL_ID,
    "strategy": DEFAULT_STRATEGY,
    "epochs": "2",
    "max_steps": "-1",
    "learning_rate": "0.0002",
    "per_device_train_batch_size": "4",
    "gradient_accumulation_steps": "4",
    "max_seq_length": "2048",
    "lora_r": "16",
    "lora_alpha": "32",
    "lora_dropout": "0.05",
    "lora_target_modules": "all-linear",
    "eval_steps": "50",
    "save_steps": "50",
    "logging_steps": "10",
    "seed": "42",
}
"""SageMaker ``HyperParameters`` (all strings); the training toolkit passes each as ``--name value``."""

_NUMBER: Final = r"(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"

METRICS: Final = ("train_loss", "eval_loss", "epoch", "learning_rate", "grad_norm")
"""Metric names train.py prints, one per line, as ``<name>=<number>;``. No name is a suffix of another,
so the plain regular expressions below never match the wrong metric."""

METRIC_DEFINITIONS: Final[list[dict[str, str]]] = [
    {"Name": name, "Regex": rf"{name}={_NUMBER};"} for name in METRICS
]
"""``AlgorithmSpecification.MetricDefinitions`` of the training job: SageMaker scans the job's log with
these and publishes the values as CloudWatch metrics."""


def metric_line(name: str, value: float) -> str:
    """The exact text train.py prints for one metric value (what METRIC_DEFINITIONS match)."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; known: {list(METRICS)}")
    return f"{name}={value:.6g};"
