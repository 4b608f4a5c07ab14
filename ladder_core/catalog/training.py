"""SageMaker GPU training instances the fine-tune stack accepts: GPUs, memory, speed and price.

``stacks.config`` validates ``fineTuneInstanceType`` / ``fineTuneInstanceCount`` / ``fineTuneStrategy``
against this catalogue, synth prices a run's cap with it, ``ladder finetune plan`` sizes runs with it and
``ladder justify`` prices the configured training run with it.

Hardware figures are AWS's instance specifications, except each GPU's memory, which is what the driver
reports (``nvidia-smi``). ``peak_tflops`` is the dense (no sparsity) tensor-core peak at the precision
train.py trains in on that GPU: bf16 where the GPU has it, fp32 on the T4 (g4dn), which has no bf16.
``usd_per_hour`` is the SageMaker training on-demand list price in us-east-1 as quoted on ``PRICES_AS_OF``
from ``PRICES_SOURCE``, except the figures :data:`PRICE_CORRECTIONS` lists with their own sources; ``None``
where no price is known (synth warns, the planner asks for one). Prices change: check the pricing page
before a decision rests on them.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_INSTANCE_COUNT = 16
"""Most instances one training job may use (``fineTuneInstanceCount``, ``ladder finetune plan``)."""
EPOCHS_RANGE = (1, 20)
"""Epochs one training run may take (``fineTuneEpochs``, ``ladder finetune plan --epochs``)."""
MAX_SEQ_LENGTH_RANGE = (128, 32_768)
"""Tokens per training example (``fineTuneMaxSeqLength``, ``ladder finetune plan --max-seq-length``): below
128 no chat turn fits; above 32,768 the small models the project trains run out of their trained context."""
MIN_GPUS = {"fsdp-lora": 2}
"""GPUs a job needs in total, by strategy (``fsdp-lora`` shards the model across them); others need one."""

PRICES_AS_OF = "2026-12-01"
PRICES_SOURCE = "https://aws.amazon.com/sagemaker/ai/pricing/ (Training, On-Demand, US East (N. Virginia))"
PRICE_CORRECTIONS: dict[str, str] = {
    "ml.g5.16xlarge": (
        "5.12: SageMaker training rate in a public price table (us-west-2 on demand); 4.096, the figure "
        "catalogued before, is the EC2 g5.16xlarge price"
    ),
    "ml.g6.xlarge": "1.127: SageMaker training rate in a public price table (us-west-2 on demand)",
    "ml.g6e.xlarge": (
        "2.61: us-east-1 SageMaker training rate from the AWS Price List API as captured on 2026-08-17 and "
        "2026-06-19 in two public repositories; the same in a us-west-2 table"
    ),
    "ml.g6e.2xlarge": "2.80: as ml.g6e.xlarge (Price List API capture, us-east-1, 2026-08-17)",
    "ml.g6e.4xlarge": "3.76: as ml.g6e.xlarge (Price List API capture, us-east-1, 2026-08-17)",
    "ml.g6e.8xlarge": "5.6607: as ml.g6e.xlarge (Price List API capture, us-east-1, 2026-08-17)",
}
"""Figures that differ from the quote of ``PRICES_AS_OF``, with where each comes from. They were found in
public code that records SageMaker training rates (the pricing page itself could not be read on
2026-12-03); p4de, p5, p5e and p5en had no trustworthy training rate there and stay unpriced."""


@dataclass(frozen=True)
class Gpu:
    """One GPU model."""

    name: str
    memory_mib: int
    """Memory as the driver reports it (``nvidia-smi``'s ``memory.total``): less than the marketing GB."""
    bf16: bool
    """Whether the GPU computes in bfloat16 (train.py then trains in bf16, else in fp32)."""
    peak_tflops: float
    """Dense peak at the precision train.py uses on it (bf16, or fp32 without bf16)."""

    @property
    def memory_gib(self) -> float:
        return self.memory_mib / 1024


# memory.total as nvidia-smi prints it on each GPU (public nvidia-smi outputs of Tesla T4, A10G, L4, L40S,
# A100-SXM4-40GB, A100-SXM4-80GB, H100 80GB HBM3 and H200 machines).
T4 = Gpu("NVIDIA T4", 15_360, bf16=False, peak_tflops=8.1)
A10G = Gpu("NVIDIA A10G", 23_028, bf16=True, peak_tflops=70.0)
L4 = Gpu("NVIDIA L4", 23_034, bf16=True, peak_tflops=121.0)
L40S = Gpu("NVIDIA L40S", 46_068, bf16=True, peak_tflops=362.0)
A100_40 = Gpu("NVIDIA A100 40GB", 40_960, bf16=True, peak_tflops=312.0)
A100_80 = Gpu("NVIDIA A100 80GB", 81_920, bf16=True, peak_tflops=312.0)
H100 = Gpu("NVIDIA H100", 81_559, bf16=True, peak_tflops=989.0)
H200 = Gpu("NVIDIA H200", 143_771, bf16=True, peak_tflops=989.0)


@dataclass(frozen=True)
class TrainingInstance:
    """One SageMaker training instance type."""

    name: str
    gpu: Gpu
    gpus: int
    memory_gib: int
    """Host (CPU) memory: where the merge reloads the base model for QLoRA and FSDP runs."""
    usd_per_hour: float | None

    @property
    def gpu_memory_gib(self) -> float:
        return self.gpu.memory_gib


def _family(
    family: str, gpu: Gpu, sizes: dict[str, tuple[int, int, float | None]]
) -> dict[str, TrainingInstance]:
    return {
        f"ml.{family}.{size}": TrainingInstance(f"ml.{family}.{size}", gpu, gpus, memory, price)
        for size, (gpus, memory, price) in sizes.items()
    }


# size -> (GPUs, host memory GiB, USD per hour)
INSTANCES: dict[str, TrainingInstance] = {
    **_family(
        "g4dn",
        T4,
        {
            "xlarge": (1, 16, 0.736),
            "2xlarge": (1, 32, 0.94),
            "4xlarge": (1, 64, 1.505),
            "8xlarge": (1, 128, 2.72),
            "16xlarge": (1, 256, 5.44),
            "12xlarge": (4, 192, 4.89),
        },
    ),
    **_family(
        "g5",
        A10G,
        {
            "xlarge": (1, 16, 1.408),
            "2xlarge": (1, 32, 1.515),
            "4xlarge": (1, 64, 2.03),
            "8xlarge": (1, 128, 3.06),
            "16xlarge": (1, 256, 5.12),
            "12xlarge": (4, 192, 7.09),
            "24xlarge": (4, 384, 10.18),
            "48xlarge": (8, 768, 20.36),
        },
    ),
    **_family(
        "g6",
        L4,
        {
            "xlarge": (1, 16, 1.127),
            "2xlarge": (1, 32, 1.22),
            "4xlarge": (1, 64, 1.65),
            "8xlarge": (1, 128, 2.51),
            "16xlarge": (1, 256, 4.23),
            "12xlarge": (4, 192, 5.75),
            "24xlarge": (4, 384, 8.33),
            "48xlarge": (8, 768, 16.69),
        },
    ),
    **_family(
        "g6e",
        L40S,
        {
            "xlarge": (1, 32, 2.61),
            "2xlarge": (1, 64, 2.80),
            "4xlarge": (1, 128, 3.76),
            "8xlarge": (1, 256, 5.6607),
            "16xlarge": (1, 512, 9.71),
            "12xlarge": (4, 384, 13.12),
            "24xlarge": (4, 768, 18.75),
            "48xlarge": (8, 1536, 37.66),
        },
    ),
    **_family("p4d", A100_40, {"24xlarge": (8, 1152, 37.688)}),
    **_family("p4de", A100_80, {"24xlarge": (8, 1152, None)}),
    **_family("p5", H100, {"48xlarge": (8, 2048, None)}),
    **_family("p5e", H200, {"48xlarge": (8, 2048, None)}),
    **_family("p5en", H200, {"48xlarge": (8, 2048, None)}),
}
"""Every instance type ``fineTuneInstanceType`` accepts, by name."""


CUDA13_UNSUPPORTED_FAMILIES: dict[str, str] = {"p3": "V100", "p3dn": "V100"}
"""SageMaker GPU training families left out of :data:`INSTANCES`, with their GPU: the Hugging Face training
image is built for CUDA 13, which dropped Volta (V100, compute capability 7.0); the config names them to say
why they are refused."""
GPU_FAMILIES = (*dict.fromkeys(name.split(".")[1] for name in INSTANCES), *CUDA13_UNSUPPORTED_FAMILIES)
"""Every SageMaker training instance family with an NVIDIA GPU that Ladder knows of."""


def instance(name: str) -> TrainingInstance:
    """The catalogued instance ``name``; KeyError names the known ones."""
    try:
        return INSTANCES[name]
    except KeyError:
        known = ", ".join(INSTANCES)
        raise KeyError(f"{name} is not a catalogued GPU training instance; known: {known}") from None


def run_cost_usd(name: str, count: int, hours: float) -> float | None:
    """On-demand price of ``count`` instances ``name`` for ``hours``; None when the catalogue has no price
    (KeyError naming the known instances when ``name`` is not catalogued)."""
    price = instance(name).usd_per_hour
    return None if price is None else price * count * hours


def min_gpus(strategy: str) -> int:
    """GPUs a job with ``strategy`` needs in total, across every instance."""
    return MIN_GPUS.get(strategy, 1)
