"""A tiny randomly initialised Llama and a word-level tokenizer built on the fly: no download, CPU only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CHATML_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL_TOKENS = [
    "<pad>",
    "<unk>",
    "<s>",
    "<|im_start|>",
    "<|im_end|>",
    "<|begin_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
]
# A few quick steps of train.py on the tiny model: every step logged, evaluated every 2, saved every 2.
SMALL_RUN = [
    "--per_device_train_batch_size", "2",
    "--per_device_eval_batch_size", "2",
    "--gradient_accumulation_steps", "1",
    "--max_seq_length", "64",
    "--logging_steps", "1",
    "--eval_steps", "2",
    "--save_steps", "2",
    "--learning_rate", "0.01",
    "--warmup_ratio", "0",
]  # fmt: skip
COLOURS = ["red", "green", "blue", "yellow", "black", "white"]
THINGS = ["apple", "leaf", "sky", "sun", "coal", "snow", "grass", "sea", "lemon", "cloud"]


def conversation(index: int) -> list[dict[str, str]]:
    """A short, deterministic conversation; every third one has a system message."""
    thing = THINGS[index % len(THINGS)]
    colour = COLOURS[index % len(COLOURS)]
    messages = [
        {"role": "user", "content": f"what colour is the {thing} number {index}"},
        {"role": "assistant", "content": f"the {thing} is {colour}"},
    ]
    if index % 3 == 0:
        messages.insert(0, {"role": "system", "content": "answer with one short sentence"})
    return messages


def build_tokenizer(chat_template: str = CHATML_TEMPLATE) -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    words = " ".join(m["content"] for i in range(100) for m in conversation(i))
    words += " system user assistant"
    backend = Tokenizer(models.WordLevel(unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.train_from_iterator([words], trainers.WordLevelTrainer(special_tokens=SPECIAL_TOKENS))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="<|im_end|>",
        pad_token="<pad>",
        unk_token="<unk>",
    )
    tokenizer.chat_template = chat_template
    return tokenizer


def save_tiny_model(directory: Path) -> Path:
    """Save a 2-layer, hidden-64 Llama and the tokenizer above, as a SageMaker model channel holds them.

    64 is the smallest width QLoRA runs at on every CPU: on one with AVX512-BF16, bitsandbytes repacks each
    4-bit weight for its CPU kernel in blocks of 64 inputs and 32 outputs (so the key/value projections,
    2 heads of 16, are 32 wide); narrower layers fail there with "shape '[32, 0]' is invalid".
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def write_jsonl(path: Path, conversations: list[list[dict[str, str]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"messages": c}) + "\n" for c in conversations), encoding="utf-8")
