"""Measure LoRA training throughput and model FLOPs utilisation (MFU) on one accelerator.

Builds a randomly initialised Llama-style model of about 1.2 billion parameters from a ``LlamaConfig``
(the shape of Llama 3.2 1B: nothing is downloaded), wraps it with a PEFT LoRA adapter on every linear
layer, and runs training steps on random token batches. After ``--warmup`` untimed steps it reports::

    tokens_per_second = batch_size * seq_len * steps / seconds
    mfu               = 6 * params * tokens_per_second / peak_flops

where ``params`` counts all parameters of the model (frozen base and adapter) and ``6 * params`` is the
usual forward-plus-backward FLOPs per token of a dense transformer (attention FLOPs are left out).
LoRA skips the weight gradients of the frozen base, so the work actually done is closer to
``4 * params`` per token; ``mfu_4n`` reports that variant too. ``--peak_tflops`` defaults to the dense
bf16 peak of an H100/H200 SXM (989 TFLOP/s); pass your accelerator's figure otherwise.

``--strategy qlora`` loads the same model with 4-bit NF4 base weights (bitsandbytes, double quantization,
as train.py's ``qlora``): ``params`` still counts the model's parameters, so the two MFU figures compare
the work done per second. On a GPU::

    python training_jobs/bench_lora_step.py --steps 20 --batch_size 8 --seq_len 2048
    python training_jobs/bench_lora_step.py --steps 20 --batch_size 8 --seq_len 2048 --strategy qlora

Smoke run on a CPU (tiny model, fp32, numbers meaningless)::

    python training_jobs/bench_lora_step.py --tiny
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

H100_BF16_DENSE_TFLOPS = 989.0


@dataclass(frozen=True)
class BenchResult:
    strategy: str
    params: int
    trainable_params: int
    tokens_per_second: float
    seconds_per_step: float
    mfu: float
    mfu_4n: float
    device: str
    dtype: str

    def lines(self) -> list[str]:
        return [
            f"strategy={self.strategy};",
            f"device={self.device};",
            f"dtype={self.dtype};",
            f"params={self.params};",
            f"trainable_params={self.trainable_params};",
            f"seconds_per_step={self.seconds_per_step:.4f};",
            f"tokens_per_second={self.tokens_per_second:.1f};",
            f"mfu={self.mfu:.4g};",
            f"mfu_4n={self.mfu_4n:.4g};",
        ]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tiny", action="store_true", help="tiny model and batch: a CPU smoke run")
    parser.add_argument(
        "--strategy", choices=("lora", "qlora"), default="lora", help="bf16 base or 4-bit NF4 base weights"
    )
    parser.add_argument("--steps", type=int, default=20, help="timed training steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (kernels, allocator)")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--seq_len", type=int, default=2048)
    parser.add_argument("--lora_r", type=int, default=16)
    parser.add_argument("--gradient_checkpointing", action="store_true")
    parser.add_argument("--peak_tflops", type=float, default=H100_BF16_DENSE_TFLOPS, help="accelerator peak")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.tiny:
        args.batch_size, args.seq_len = min(args.batch_size, 2), min(args.seq_len, 32)
        args.steps, args.warmup = min(args.steps, 3), min(args.warmup, 1)
    for name in ("steps", "batch_size", "seq_len", "lora_r"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1")
    if args.warmup < 0 or args.peak_tflops <= 0:
        parser.error("--warmup must be >= 0 and --peak_tflops > 0")
    return args


def run(args: argparse.Namespace) -> BenchResult:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    if args.tiny:
        config = LlamaConfig(
            vocab_size=256,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=max(64, args.seq_len),
        )
    else:  # the shape of Llama 3.2 1B
        config = LlamaConfig(
            vocab_size=128_256,
            hidden_size=2048,
            intermediate_size=8192,
            num_hidden_layers=16,
            num_attention_heads=32,
            num_key_value_heads=8,
            max_position_embeddings=max(8192, args.seq_len),
            tie_word_embeddings=True,
        )
    with torch.device(device):
        base: Any = LlamaForCausalLM(config)
    base = base.to(dtype)
    params = sum(p.numel() for p in base.parameters())
    if args.strategy == "qlora":
        base = _quantized(base, dtype, device)
    if args.gradient_checkpointing:
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        base.enable_input_require_grads()
    model = get_peft_model(
        base, LoraConfig(r=args.lora_r, lora_alpha=2 * args.lora_r, target_modules="all-linear")
    )
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4)
    model.train()

    def step() -> None:
        tokens = torch.randint(0, config.vocab_size, (args.batch_size, args.seq_len), device=device)
        loss = model(input_ids=tokens, labels=tokens).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    seconds = time.perf_counter() - start

    tokens_per_second = args.batch_size * args.seq_len * args.steps / seconds
    peak = args.peak_tflops * 1e12
    return BenchResult(
        strategy=args.strategy,
        params=params,
        trainable_params=sum(p.numel() for p in trainable),
        tokens_per_second=tokens_per_second,
        seconds_per_step=seconds / args.steps,
        mfu=6 * params * tokens_per_second / peak,
        mfu_4n=4 * params * tokens_per_second / peak,
        device=torch.cuda.get_device_name() if device == "cuda" else "cpu",
        dtype=str(dtype).removeprefix("torch."),
    )


def _quantized(model: Any, dtype: Any, device: str) -> Any:
    """``model`` reloaded with 4-bit NF4 linear layers, the way train.py's ``qlora`` loads its base."""
    import tempfile

    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    quantization = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=dtype,
    )
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        del model
        return AutoModelForCausalLM.from_pretrained(
            folder, dtype=dtype, quantization_config=quantization, device_map={"": device}
        )


def main(argv: Sequence[str] | None = None) -> BenchResult:
    result = run(parse_args(argv))
    for line in result.lines():
        print(line, flush=True)
    return result


if __name__ == "__main__":
    main()
