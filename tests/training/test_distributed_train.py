"""train.py under torchrun with 2 CPU processes (gloo), QLoRA on the CPU, and the FSDP settings.

The 2-process run trains the same global batch as a 4-example single-process run (2 per process), with
dropout off and a constant learning rate, so the loss of every step must agree with the single process
up to float summation order. Its first run ends at step 2, leaving
checkpoint-2 as a spot interruption after that save would; the second run, with the full step count,
must resume there on both processes and finish.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.training.tiny_model import SMALL_RUN, conversation, save_tiny_model, write_jsonl
from training_jobs import job_contract
from training_jobs.train import (
    ADAPTER_DIR,
    SUMMARY_FILE,
    Processes,
    TrainResult,
    agreed_checkpoint,
    main,
    parse_args,
    trainer_config,
)

pytestmark = pytest.mark.training

REPO = Path(__file__).resolve().parents[2]
TRAIN_SCRIPT = REPO / "training_jobs" / "train.py"
SLOW_MERGE_SCRIPT = Path(__file__).with_name("slow_merge_train.py")
MERGE_DELAY_S = 20
"""How much longer the first process's merge takes in the slow-merge run: far more than the other
process needs to free its memory and exit."""
STEPS = 4
LOSS_TOLERANCE = 1e-3
"""Relative difference allowed between the 2-process and the 1-process loss of a step: the same
examples, summed in a different order (two half batches all-reduced instead of one batch)."""

# The single-process tests' run, with nothing random left but the data order: constant learning rate,
# no dropout. A later --per_device_train_batch_size wins over SMALL_RUN's.
COMPARABLE_RUN = [*SMALL_RUN, "--lr_scheduler_type", "constant", "--lora_dropout", "0"]


@dataclass(frozen=True)
class Channels:
    root: Path

    def environment(self, job: str) -> dict[str, str]:
        return {
            "SM_CHANNEL_MODEL": str(self.root / "channel-model"),
            "SM_CHANNEL_TRAIN": str(self.root / "channel-train"),
            "SM_CHANNEL_EVAL": str(self.root / "channel-eval"),
            "SM_MODEL_DIR": str(self.root / job / "model"),
            "SM_OUTPUT_DATA_DIR": str(self.root / job / "output"),
            "CHECKPOINT_DIR": str(self.root / job / "checkpoints"),
        }


@dataclass(frozen=True)
class Jobs:
    single_stdout: str
    single: TrainResult
    interrupted_stdout: str
    resumed_stdout: str
    channels: Channels


def _losses(stdout: str) -> list[float]:
    (definition,) = [d for d in job_contract.METRIC_DEFINITIONS if d["Name"] == "train_loss"]
    return [float(value) for value in re.findall(definition["Regex"], stdout)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _torchrun(
    channels: Channels,
    job: str,
    argv: list[str],
    *,
    script: Path = TRAIN_SCRIPT,
    extra_env: dict[str, str] | None = None,
) -> str:
    env = {
        **os.environ,
        **channels.environment(job),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        **(extra_env or {}),
    }
    command = [
        sys.executable, "-m", "torch.distributed.run",
        "--nnodes", "1", "--nproc_per_node", "2",
        "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
        str(script), *argv,
    ]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"torchrun failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    return done.stdout


def _channels(root: Path, *, train: int, held_out: int = 4) -> Channels:
    """A tiny base model, ``train`` training and ``held_out`` held-out conversations, as SageMaker's
    channels."""
    channels = Channels(root)
    save_tiny_model(channels.root / "channel-model")
    write_jsonl(
        channels.root / "channel-train" / job_contract.TRAIN_FILE, [conversation(i) for i in range(train)]
    )
    if held_out:
        write_jsonl(
            channels.root / "channel-eval" / job_contract.EVAL_FILE,
            [conversation(i) for i in range(100, 100 + held_out)],
        )
    return channels


@pytest.fixture(scope="module")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> Jobs:
    """Given a tiny base model and 24 conversations, when one process trains 4 steps of 4 examples and
    two processes train the same steps with 2 examples each, stopped after step 2 and started again."""
    channels = _channels(tmp_path_factory.mktemp("distributed"), train=24)

    out = io.StringIO()
    with pytest.MonkeyPatch.context() as env:
        for name, value in {**channels.environment("single"), "HF_HUB_OFFLINE": "1"}.items():
            env.setenv(name, value)
        with contextlib.redirect_stdout(out):
            single = main(
                parse_args([*COMPARABLE_RUN, "--per_device_train_batch_size", "4", "--max_steps", str(STEPS)])
            )
    two = [*COMPARABLE_RUN, "--per_device_train_batch_size", "2"]
    interrupted = _torchrun(channels, "pair", [*two, "--max_steps", "2"])
    resumed = _torchrun(channels, "pair", [*two, "--max_steps", str(STEPS)])
    return Jobs(out.getvalue(), single, interrupted, resumed, channels)


def test_two_processes_agree_with_one_process_on_the_loss_of_every_step(jobs: Jobs) -> None:
    single = _losses(jobs.single_stdout)
    pair = _losses(jobs.interrupted_stdout) + _losses(jobs.resumed_stdout)
    # Then rank 0 alone printed one loss per step, and each equals the single process's within tolerance
    assert len(single) == STEPS and len(pair) == STEPS, (jobs.interrupted_stdout, jobs.resumed_stdout)
    assert pair == pytest.approx(single, rel=LOSS_TOLERANCE)
    # And training changed the loss (so agreeing is not trivial)
    assert single[-1] < single[0]


def test_both_processes_trained_and_wrote_their_state_into_the_checkpoint(jobs: Jobs) -> None:
    checkpoint = jobs.channels.root / "pair" / "checkpoints" / "checkpoint-2"
    assert {path.name for path in checkpoint.glob("rng_state_*.pth")} == {
        "rng_state_0.pth",
        "rng_state_1.pth",
    }
    summary = json.loads((jobs.channels.root / "pair" / "output" / SUMMARY_FILE).read_text())
    assert summary["processes"] == 2


def test_the_interrupted_run_resumes_from_its_checkpoint_and_finishes(jobs: Jobs) -> None:
    assert "resuming from" not in jobs.interrupted_stdout
    assert jobs.resumed_stdout.count("resuming from") == 1
    assert "checkpoint-2" in re.search(r"resuming from (\S+)", jobs.resumed_stdout).group(1)  # type: ignore[union-attr]
    summary = json.loads((jobs.channels.root / "pair" / "output" / SUMMARY_FILE).read_text())
    assert summary["result"]["global_step"] == STEPS
    assert summary["result"]["resumed_from"].endswith("checkpoint-2")


def test_exactly_one_merged_model_is_written_by_the_first_process(jobs: Jobs) -> None:
    # Then each run prints the merge message once (rank 0 merges, rank 1 does not), and the folder holds
    # one model
    assert jobs.resumed_stdout.count("merged model saved") == 1
    assert jobs.interrupted_stdout.count("merged model saved") == 1
    model_dir = jobs.channels.root / "pair" / "model"
    assert sorted(path.name for path in model_dir.glob("*.safetensors")) == ["model.safetensors"]
    assert (jobs.channels.root / "pair" / "output" / ADAPTER_DIR / "adapter_model.safetensors").is_file()


def test_the_merged_models_of_one_and_two_processes_match(jobs: Jobs) -> None:
    import torch
    from safetensors.torch import load_file

    one = load_file(jobs.channels.root / "single" / "model" / "model.safetensors")
    two = load_file(jobs.channels.root / "pair" / "model" / "model.safetensors")
    assert one.keys() == two.keys()
    for name in one:
        assert torch.allclose(one[name], two[name], rtol=1e-3, atol=1e-5), name


@pytest.fixture(scope="module")
def qlora(tmp_path_factory: pytest.TempPathFactory) -> Channels:
    """Given a tiny base model and 24 conversations, when one process trains 2 steps with 4-bit NF4 base
    weights (bitsandbytes' CPU kernels stand in for its CUDA ones). No held-out data: on a CPU with
    AVX512-BF16, bitsandbytes repacks 4-bit weights for inference in evaluation and fails on the tiny
    model's layers, which are narrower than its 64-value blocks (a CPU-kernel limit, not the job's)."""
    channels = _channels(tmp_path_factory.mktemp("qlora"), train=24, held_out=0)
    with pytest.MonkeyPatch.context() as env:
        for name, value in {**channels.environment("qlora"), "HF_HUB_OFFLINE": "1"}.items():
            env.setenv(name, value)
        with contextlib.redirect_stdout(io.StringIO()):
            main(parse_args([*COMPARABLE_RUN, "--strategy", "qlora", "--max_steps", "2"]))
    return channels


def test_qlora_trains_on_4_bit_weights_and_merges_into_a_full_precision_model(qlora: Channels) -> None:
    import torch
    from safetensors.torch import load_file

    run = qlora.root / "qlora"
    base = load_file(qlora.root / "channel-model" / "model.safetensors")
    merged = load_file(run / "model" / "model.safetensors")
    config = json.loads((run / "model" / "config.json").read_text())
    # Then the saved model is plain: no quantization settings, no packed 4-bit tensors, the base's shapes
    assert "quantization_config" not in config
    assert merged.keys() == base.keys()
    assert all(merged[name].shape == base[name].shape for name in base)
    assert all(merged[name].dtype == torch.float32 for name in merged)
    # And the adapter is in it: the attention weights moved away from the base
    changed = [name for name in base if "q_proj" in name and not torch.equal(merged[name], base[name])]
    assert changed
    adapter = json.loads((run / "output" / ADAPTER_DIR / "adapter_config.json").read_text())
    assert adapter["peft_type"] == "LORA"


def test_qlora_merged_model_reloads_and_generates(qlora: Channels) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(qlora.root / "qlora" / "model")
    tokenizer = AutoTokenizer.from_pretrained(qlora.root / "qlora" / "model")
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "what colour is the sky"}],
        add_generation_prompt=True,
        return_tensors="pt",
    )
    ids = prompt["input_ids"] if isinstance(prompt, dict) or hasattr(prompt, "keys") else prompt
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=3, do_sample=False)
    assert out.shape[1] == ids.shape[1] + 3


def test_fsdp_lora_without_several_cuda_gpus_is_refused_before_loading(jobs: Jobs) -> None:
    # Given a host without CUDA (accelerate runs no FSDP on CPU and would silently fall back to plain
    # data parallelism)
    with pytest.MonkeyPatch.context() as env:
        for name, value in jobs.channels.environment("fsdp").items():
            env.setenv(name, value)
        with pytest.raises(ValueError, match="fsdp-lora shards the model across several CUDA GPUs"):
            main(parse_args([*COMPARABLE_RUN, "--strategy", "fsdp-lora", "--max_steps", "1"]))
    assert not (jobs.channels.root / "fsdp" / "model").exists()


@pytest.fixture(scope="module")
def slow_merge(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, float], str]:
    """Given a tiny base model and 8 conversations, when two processes train 2 steps with qlora (the merge
    that reloads the base on the CPU) and the first one's merge takes MERGE_DELAY_S seconds longer."""
    # No held-out data: bitsandbytes' CPU kernels fail to evaluate 4-bit weights under two processes
    # (a CPU-only limitation; evaluation is not what this run is about).
    channels = _channels(tmp_path_factory.mktemp("slow-merge"), train=8, held_out=0)
    times = tmp_path_factory.mktemp("times")
    stdout = _torchrun(
        channels,
        "slow-merge",
        [*COMPARABLE_RUN, "--per_device_train_batch_size", "2", "--strategy", "qlora", "--max_steps", "2"],
        script=SLOW_MERGE_SCRIPT,
        extra_env={"LADDER_TEST_MERGE_DELAY_S": str(MERGE_DELAY_S), "LADDER_TEST_TIMES_DIR": str(times)},
    )
    stamps = {path.name: float(path.read_text()) for path in times.iterdir()}
    return channels.root / "slow-merge", stamps, stdout


def test_the_other_process_leaves_without_waiting_for_the_merge(
    slow_merge: tuple[Path, dict[str, float], str],
) -> None:
    root, stamps, stdout = slow_merge
    # Then torchrun succeeded (its agent waited for the first process) and both processes ran to the end
    assert set(stamps) == {"rank-0-done", "rank-1-done", "merge-done"}, stamps
    # And the second process was gone before the merge was saved: it did not wait at a barrier for it
    assert stamps["rank-1-done"] < stamps["merge-done"] - MERGE_DELAY_S / 2, stamps
    # And the first process wrote one merged model and the summary after its merge
    assert stamps["merge-done"] <= stamps["rank-0-done"]
    assert stdout.count("merged model saved") == 1
    assert sorted(path.name for path in (root / "model").glob("*.safetensors")) == ["model.safetensors"]
    summary = json.loads((root / "output" / SUMMARY_FILE).read_text())
    assert summary["processes"] == 2 and summary["result"]["global_step"] == 2


def _save_decisions(rank: int, port: int, results: str) -> None:
    """One process of a job on two instances with one GPU each: global rank ``rank``, local rank 0."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK="0",
        WORLD_SIZE="2",
        LOCAL_WORLD_SIZE="1",
        GROUP_RANK=str(rank),
    )
    decisions = {}
    for strategy in job_contract.STRATEGIES:
        args = parse_args(["--strategy", strategy, "--checkpoint_dir", str(Path(results, f"node-{rank}"))])
        config = trainer_config(
            args, on_gpu=False, bf16=False, has_eval=False, world=Processes.from_environment()
        )
        decisions[strategy] = {
            "should_save": config.should_save,
            "process_index": config.process_index,
            "local_process_index": config.local_process_index,
        }
    Path(results, f"rank-{rank}.json").write_text(json.dumps(decisions))
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def test_on_two_instances_only_the_jobs_first_process_writes_under_fsdp(tmp_path: Path) -> None:
    """What decides who writes checkpoints and the adapter (TrainingArguments.should_save) in a real
    two-process gloo group laid out as two instances of one process each. FSDP itself needs CUDA GPUs, so
    the FSDP2 gather is not run here: under it only global rank 0 holds the full state dict."""
    import torch.multiprocessing as mp

    # When each process builds the trainer configuration of every strategy
    mp.spawn(_save_decisions, args=(_free_port(), str(tmp_path)), nprocs=2, join=True)
    ranks = [json.loads((tmp_path / f"rank-{rank}.json").read_text()) for rank in (0, 1)]

    # Then both are the first process of their instance, with global ranks 0 and 1
    assert [r["lora"]["process_index"] for r in ranks] == [0, 1]
    assert [r["lora"]["local_process_index"] for r in ranks] == [0, 0]
    # And with data parallelism each instance writes a whole checkpoint of its own
    assert [r["lora"]["should_save"] for r in ranks] == [True, True]
    assert [r["qlora"]["should_save"] for r in ranks] == [True, True]
    # And under FSDP only the job's first process writes: one adapter, the one holding the tensors
    assert [r["fsdp-lora"]["should_save"] for r in ranks] == [True, False]


def test_fsdp_lora_shards_with_fsdp2_and_checkpoints_activations_itself() -> None:
    args = parse_args(["--strategy", "fsdp-lora"])
    config = trainer_config(args, on_gpu=False, bf16=False, has_eval=True, world=Processes(0, 0, 2))
    # Then FSDP2 wraps every decoder layer, gathers the adapter whole for saving, and the Trainer's own
    # activation checkpointing is off (FSDP's is on)
    assert config.fsdp is True
    assert config.fsdp_config["version"] == 2
    assert config.fsdp_config["auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    assert config.fsdp_config["state_dict_type"] == "FULL_STATE_DICT"
    assert config.fsdp_config["activation_checkpointing"] is True
    assert config.activation_checkpointing is False
    assert config.save_on_each_node is False


@pytest.mark.parametrize("strategy", ["lora", "qlora"])
def test_data_parallel_strategies_do_not_shard(strategy: str) -> None:
    args = parse_args(["--strategy", strategy])
    config = trainer_config(args, on_gpu=False, bf16=False, has_eval=False, world=Processes(0, 0, 1))
    assert not config.fsdp
    assert config.save_on_each_node is True


def test_unknown_strategy_is_refused_with_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match="--strategy must be one of lora, qlora, fsdp-lora, got 'dora'"):
        parse_args(["--strategy", "dora"])


def _agree(rank: int, port: int, roots: list[str], results: str) -> None:
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=len(roots))
    try:
        Path(results, f"rank-{rank}").write_text(str(agreed_checkpoint(roots[rank])))
    finally:
        dist.destroy_process_group()


def test_instances_resume_from_the_newest_checkpoint_complete_on_every_one(tmp_path: Path) -> None:
    import torch.multiprocessing as mp

    # Given instance 1 with complete checkpoints 2 and 4, and instance 2 whose checkpoint 4 never arrived
    roots = [tmp_path / "instance-1", tmp_path / "instance-2"]
    for root, steps in zip(roots, [(2, 4), (2,)], strict=True):
        for step in steps:
            folder = root / f"checkpoint-{step}"
            folder.mkdir(parents=True)
            (folder / "trainer_state.json").write_text("{}")
            (folder / "adapter_model.safetensors").write_bytes(b"")
    # When both processes look for the checkpoint to resume from
    mp.spawn(_agree, args=(_free_port(), [str(r) for r in roots], str(tmp_path)), nprocs=2, join=True)
    # Then both choose checkpoint 2, the newest they both hold
    assert (tmp_path / "rank-0").read_text() == str(roots[0] / "checkpoint-2")
    assert (tmp_path / "rank-1").read_text() == str(roots[1] / "checkpoint-2")
