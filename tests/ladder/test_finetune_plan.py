"""ladder finetune plan: memory per GPU, fit, hours and cost of a fine-tune, and the README's table."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from ladder import cli
from ladder import finetune_plan as fp
from ladder_core.catalog.training import INSTANCES

README = Path(__file__).parents[2] / "README.md"
TABLE_BLOCK = re.compile(
    r"<!-- finetune-plan-table:start -->\n(.*?)<!-- finetune-plan-table:end -->", re.DOTALL
)

LLAMA_1B = "meta-llama/Llama-3.2-1B-Instruct"
LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"
LLAMA_70B = "meta-llama/Llama-3.3-70B-Instruct"


def plan_of(model_id: str, instance_type: str, **options: Any) -> fp.Plan:
    return fp.estimate(fp.MODELS[model_id], INSTANCES[instance_type], **options)


def hf_config(shape: fp.ModelShape) -> dict[str, Any]:
    """The config.json fields Hugging Face publishes for a model of this shape."""
    qwen = shape.name.startswith("Qwen/")
    return {
        "architectures": ["Qwen2ForCausalLM" if qwen else "LlamaForCausalLM"],
        "model_type": "qwen2" if qwen else "llama",
        "hidden_size": shape.hidden,
        "intermediate_size": shape.intermediate,
        "num_hidden_layers": shape.layers,
        "num_attention_heads": shape.heads,
        "num_key_value_heads": shape.kv_heads,
        "vocab_size": shape.vocab,
        "tie_word_embeddings": shape.tied_embeddings,
        **({} if qwen else {"attention_bias": False}),
    }


def test_llama_1b_with_lora_fits_a_g5_2xlarge():
    # When the default base model is planned on the default-sized instance
    plan = plan_of(LLAMA_1B, "ml.g5.2xlarge")

    # Then it fits with room to spare, in bf16, and the parts add up to the total
    assert plan.fits and plan.reason is None
    assert plan.precision == "bf16"
    memory = plan.memory
    parts = memory.weights + memory.lora_states + memory.activations + memory.logits + memory.overhead
    assert memory.total == pytest.approx(parts)
    assert memory.total < plan.available_gib


def test_usable_gpu_memory_is_a_share_of_what_the_driver_reports_not_the_marketing_gigabytes():
    """nvidia-smi's memory.total on an A10G is 23028MiB, on an L40S 46068MiB, on an H100 80GB HBM3 81559MiB
    (public nvidia-smi outputs of those GPUs)."""
    a10g = plan_of(LLAMA_1B, "ml.g5.2xlarge")
    l40s = plan_of(LLAMA_1B, "ml.g6e.xlarge")
    h100 = plan_of(LLAMA_1B, "ml.p5.48xlarge")
    assert a10g.available_gib == pytest.approx(23_028 / 1024 * fp.USABLE_GPU_MEMORY_FRACTION)
    assert l40s.available_gib == pytest.approx(46_068 / 1024 * fp.USABLE_GPU_MEMORY_FRACTION)
    assert h100.available_gib == pytest.approx(81_559 / 1024 * fp.USABLE_GPU_MEMORY_FRACTION)
    # (the "24 GB" of an A10G read as GiB would overstate it by more than 1 GiB)
    assert 24 * fp.USABLE_GPU_MEMORY_FRACTION - a10g.available_gib > 1


def test_the_loss_is_charged_as_trl_s_fused_lm_head_not_as_full_logits():
    """TRL 1.16 (the job's pin) patches the model with ``add_fused_lm_head`` and SFTTrainer.compute_loss calls
    it with ``fused_lm_head=True``: "Compute the per-token log-probabilities in chunks, without materializing
    the full logits" (trl/trainer/sft_trainer.py); the tiles are TOKEN_CHUNK_SIZE = 4096 tokens
    (trl/kernels/chunked_logprob.py) x _CHUNKED_LOGPROB_CHUNK_SIZE = 32768 vocabulary entries
    (trl/trainer/utils.py), and the backward accumulates the hidden states' gradient in fp32."""
    model = fp.MODELS[LLAMA_8B]
    plan = plan_of(LLAMA_8B, "ml.g6e.xlarge", max_seq_length=2048)

    tokens = fp.BATCH_SIZE * 2048
    tile = 4096 * 32768 * fp.BF16_BYTES
    assert plan.memory.logits == pytest.approx((2 * tile + tokens * model.hidden * 4) / fp.GIB)
    # And it is a small fraction of the full fp32 logits and their gradient (7.8 GiB for Llama at 4 x 2048)
    full_logits = tokens * model.vocab * 4 * 2 / fp.GIB
    assert full_logits == pytest.approx(7.83, abs=0.01)
    assert plan.memory.logits < full_logits / 10


@pytest.mark.parametrize(
    ("model_id", "instance_type"),
    [("Qwen/Qwen2.5-14B-Instruct", "ml.g6e.xlarge"), (LLAMA_1B, "ml.g4dn.xlarge")],
)
def test_runs_that_fit_are_said_to_fit(model_id, instance_type):
    # When 14B LoRA is planned on one L40S, and 1B LoRA on a T4 (fp32)
    plan = plan_of(model_id, instance_type)

    # Then both fit: no full logits, the GPU's real memory
    assert plan.fits, plan.reason


def test_llama_8b_in_bf16_does_not_fit_an_a10g_but_qlora_does():
    # Given an A10G (24 GB) instance with enough host memory for the merge
    instance = "ml.g5.4xlarge"

    # When Llama 3.1 8B is planned with lora and with qlora at max_seq_length 2048
    lora = plan_of(LLAMA_8B, instance, strategy="lora", max_seq_length=2048)
    qlora = plan_of(LLAMA_8B, instance, strategy="qlora", max_seq_length=2048)

    # Then bf16 weights alone (~15 GiB) leave too little room, the reason says so and what to try
    assert not lora.fits
    assert lora.memory.weights == pytest.approx(8_030_261_248 * 2 / fp.GIB)
    assert lora.reason is not None and "the weights" in lora.reason and "--strategy qlora" in lora.reason
    # and 4-bit base weights fit
    assert qlora.fits, qlora.reason
    assert qlora.memory.weights < lora.memory.weights / 2.5


def test_qlora_keeps_embeddings_and_lm_head_unquantized():
    # When Llama 3.1 8B (untied lm_head) is planned with qlora
    model = fp.MODELS[LLAMA_8B]
    plan = plan_of(LLAMA_8B, "ml.g5.4xlarge", strategy="qlora")

    # Then only the decoder's linear weights are 4-bit; embeddings and lm_head stay bf16
    quantized = model.layers * model.layer_linear_params
    expected = quantized * fp.NF4_BYTES_PER_PARAM + (model.params - quantized) * fp.BF16_BYTES
    assert plan.memory.weights == pytest.approx(expected / fp.GIB)
    assert (model.params - quantized) >= 2 * model.vocab * model.hidden


def test_a_gpu_without_bf16_trains_in_fp32():
    # When a model is planned on a T4 (g4dn), which has no bf16
    plan = plan_of(LLAMA_1B, "ml.g4dn.xlarge")

    # Then the weights take 4 bytes each
    assert plan.precision == "fp32"
    assert plan.memory.weights == pytest.approx(fp.MODELS[LLAMA_1B].params * 4 / fp.GIB)


def test_fsdp_lora_shards_weights_and_lora_states_across_every_gpu_of_every_instance():
    # When Llama 3.3 70B is planned with fsdp-lora on one and on two 8-GPU A100 40GB instances
    model = fp.MODELS[LLAMA_70B]
    one = plan_of(LLAMA_70B, "ml.p4d.24xlarge", strategy="fsdp-lora", instance_count=1)
    two = plan_of(LLAMA_70B, "ml.p4d.24xlarge", strategy="fsdp-lora", instance_count=2)

    # Then the weights are divided by the world size (8, then 16) plus what FSDP2 holds unsharded: the layer
    # computed, the one prefetched, and the whole lm_head the fused LM head gathers
    assert (one.world_size, two.world_size) == (8, 16)
    gathered = (2 * model.layer_params + model.vocab * model.hidden) * fp.BF16_BYTES
    assert gathered / fp.GIB == pytest.approx(5.2, abs=0.1)
    assert one.memory.weights == pytest.approx((model.params * 2 / 8 + gathered) / fp.GIB)
    assert one.memory.weights - two.memory.weights == pytest.approx(model.params * 2 / 16 / fp.GIB)
    assert one.memory.lora_states == pytest.approx(2 * two.memory.lora_states)
    # and activations and logits are per process, not sharded
    assert one.memory.activations == two.memory.activations
    assert one.memory.logits == two.memory.logits
    # and by this model, one instance is too small and two fit
    assert not one.fits and "--instance-count" in (one.reason or "")
    assert two.fits, two.reason


def test_fsdp_lora_on_one_gpu_in_total_is_refused():
    # When fsdp-lora is asked for on a single one-GPU instance
    plan = plan_of(LLAMA_1B, "ml.g5.2xlarge", strategy="fsdp-lora")

    # Then it does not fit, and the reason says it needs more than one GPU and how to get them
    assert not plan.fits
    assert plan.reason is not None
    assert "one GPU" in plan.reason and "--instance-count 2" in plan.reason
    # while two such instances are a world of two
    assert plan_of(LLAMA_1B, "ml.g5.2xlarge", strategy="fsdp-lora", instance_count=2).fits


def test_a_second_instance_doubles_the_hourly_rate_and_nearly_halves_the_hours():
    # When the same run is planned on one and on two instances
    one = plan_of(LLAMA_1B, "ml.g5.2xlarge", instance_count=1)
    two = plan_of(LLAMA_1B, "ml.g5.2xlarge", instance_count=2)

    # Then the training hours fall by 2 x the scaling efficiency, the fixed hours stay, and every billable
    # hour is billed twice
    assert two.hours == pytest.approx(one.hours / (2 * fp.MULTI_INSTANCE_SCALING))
    assert two.fixed_hours == one.fixed_hours > 0
    assert one.on_demand_usd is not None and two.on_demand_usd is not None
    assert two.on_demand_usd == pytest.approx((two.hours + two.fixed_hours) * 2 * 1.515)


def test_hours_follow_tokens_epochs_and_the_assumed_utilisation():
    # Given 10 million tokens, 3 epochs, Llama 3.2 1B with lora on one A10G
    tokens = fp.explicit_tokens(10_000_000)
    plan = plan_of(LLAMA_1B, "ml.g5.2xlarge", tokens=tokens, epochs=3)

    # Then tokens/s is peak x utilisation (strategy x GPU) / (6 x params), and hours = tokens x epochs / rate
    utilisation = fp.MODEL_FLOPS_UTILISATION["lora"] * fp.GPU_UTILISATION["NVIDIA A10G"]
    rate = 70e12 * utilisation / (6 * fp.MODELS[LLAMA_1B].params)
    assert plan.tokens_per_second == pytest.approx(rate)
    assert plan.hours == pytest.approx(10_000_000 * 3 / rate / 3600)


def test_spot_cost_is_on_demand_less_the_assumed_saving():
    plan = plan_of(LLAMA_1B, "ml.g5.2xlarge")

    assert plan.on_demand_usd is not None and plan.spot_usd is not None
    assert plan.spot_usd == pytest.approx(plan.on_demand_usd * (1 - fp.SPOT_SAVING))


def test_an_instance_without_a_price_has_no_cost_until_one_is_given():
    # Given an instance the catalogue has no price for
    assert INSTANCES["ml.p5.48xlarge"].usd_per_hour is None

    # When it is planned without and with a price
    unpriced = plan_of(LLAMA_8B, "ml.p5.48xlarge")
    priced = plan_of(LLAMA_8B, "ml.p5.48xlarge", usd_per_hour=50.0)

    # Then the costs are None, then computed from the given price
    assert unpriced.on_demand_usd is None and unpriced.spot_usd is None
    assert "Cost: unknown, no catalogued price for ml.p5.48xlarge; pass --usd-per-hour" in unpriced.format()
    assert "$0" not in unpriced.format()
    assert priced.on_demand_usd == pytest.approx(priced.billable_hours * 50.0)
    assert priced.spot_usd == pytest.approx(priced.billable_hours * 50.0 * (1 - fp.SPOT_SAVING))


def test_the_merge_needs_one_bf16_copy_of_the_base_in_host_memory():
    # When Llama 3.1 8B qlora is planned on a g5.2xlarge (32 GiB host memory)
    plan = plan_of(LLAMA_8B, "ml.g5.2xlarge", strategy="qlora")

    # Then the merge holds one bf16 copy (the adapter is merged into it in place), which fits
    assert plan.merge_host_gib == pytest.approx(8_030_261_248 * 2 / fp.GIB)
    assert plan.fits, plan.reason
    # and lora merges on the GPU: no merge figure
    assert plan_of(LLAMA_8B, "ml.g6e.xlarge").merge_host_gib is None


def test_a_merge_larger_than_the_host_memory_is_refused_with_a_roomier_size():
    # When Llama 3.3 70B qlora is planned on an instance whose host memory (128 GiB) cannot hold its base
    plan = plan_of(LLAMA_70B, "ml.g6e.4xlarge", strategy="qlora")

    # Then it does not fit, and the reason names the merge and a size with more host memory
    assert not plan.fits
    assert plan.reason is not None and "host memory: the merge on instance 1's CPU" in plan.reason
    assert "ml.g6e.8xlarge" in plan.reason


def test_lora_checks_host_memory_for_every_process_loading_the_base():
    # Given an L40S instance with only 16 GiB of host memory, and one with 4 GPUs
    small_host = dataclasses.replace(INSTANCES["ml.g6e.xlarge"], memory_gib=16)
    model = fp.MODELS[LLAMA_8B]

    # When Llama 3.1 8B lora is planned on each
    small = fp.estimate(model, small_host)
    four = plan_of(LLAMA_8B, "ml.g6e.12xlarge")

    # Then the host figure is one bf16 base per process, and 16 GiB cannot hold the one of the process
    assert small.host_need_gib == pytest.approx(model.params * 2 / fp.GIB)
    assert four.host_need_gib == pytest.approx(4 * model.params * 2 / fp.GIB)
    assert not small.fits and "host memory: the training process loading the base" in (small.reason or "")
    assert four.fits, four.reason


def test_fixed_billable_hours_cover_start_up_download_merge_and_upload():
    model = fp.MODELS[LLAMA_70B]
    # When 70B is planned with a merge on the CPU (qlora) and with lora's merge in GPU memory
    qlora = fp.fixed_billable_hours(model, "qlora", fp.BF16_BYTES)
    lora = fp.fixed_billable_hours(model, "lora", fp.BF16_BYTES)

    # Then start-up, the download, reading the base again, writing and uploading the merged model are billed
    size_mb = model.params * 2 / 1e6
    assert qlora * 3600 == pytest.approx(fp.STARTUP_MINUTES * 60 + 4 * size_mb / fp.TRANSFER_MB_PER_S)
    assert lora * 3600 == pytest.approx(fp.STARTUP_MINUTES * 60 + 3 * size_mb / fp.TRANSFER_MB_PER_S)
    # And a run of a few tokens still costs its fixed hours
    tiny = plan_of(LLAMA_1B, "ml.g5.2xlarge", tokens=fp.explicit_tokens(1_000))
    assert tiny.on_demand_usd is not None
    assert tiny.on_demand_usd >= tiny.fixed_hours * 1.515 > fp.STARTUP_MINUTES / 60 * 1.515 - 1e-9


def test_qlora_adapters_are_charged_as_bf16():
    """TRL's SFTTrainer: "When using QLoRA, the PEFT adapter weights are converted to bf16" (trl 1.16,
    trl/trainer/sft_trainer.py)."""
    model = fp.MODELS[LLAMA_8B]
    qlora = plan_of(LLAMA_8B, "ml.g6e.xlarge", strategy="qlora")
    lora = plan_of(LLAMA_8B, "ml.g6e.xlarge", strategy="lora")
    assert qlora.memory.lora_states == pytest.approx(model.lora_params * 8 / fp.GIB)
    assert lora.memory.lora_states == pytest.approx(model.lora_params * 16 / fp.GIB)


def test_utilisation_depends_on_the_gpu_family():
    # When the same run is planned on an A10G and on an L4 instance
    a10g = plan_of(LLAMA_1B, "ml.g5.2xlarge")
    l4 = plan_of(LLAMA_1B, "ml.g6.2xlarge")

    # Then each GPU's own assumed factor scales its peak
    flops = 6 * fp.MODELS[LLAMA_1B].params
    assert a10g.tokens_per_second == pytest.approx(70e12 * 0.35 * fp.GPU_UTILISATION["NVIDIA A10G"] / flops)
    assert l4.tokens_per_second == pytest.approx(121e12 * 0.35 * fp.GPU_UTILISATION["NVIDIA L4"] / flops)
    assert fp.GPU_UTILISATION["NVIDIA L4"] != fp.GPU_UTILISATION["NVIDIA A10G"]


def test_a_plan_states_its_assumptions():
    text = plan_of(LLAMA_8B, "ml.g6e.xlarge").format()
    assert fp.assumptions() in text
    assert "Nothing here was measured on a GPU" in text
    assert "fused LM head" in text and "billable hours" in text


@pytest.mark.parametrize("model_id", list(fp.MODELS))
def test_a_local_config_json_gives_the_catalogued_parameter_count(tmp_path, model_id):
    # Given a folder holding a model's config.json
    shape = fp.MODELS[model_id]
    (tmp_path / "config.json").write_text(json.dumps(hf_config(shape)), encoding="utf-8")

    # When the planner loads the folder
    loaded = fp.load_model(str(tmp_path))

    # Then the shape is the catalogue's and the counted parameters match its figure within 1%
    assert (loaded.layers, loaded.hidden, loaded.vocab, loaded.kv_heads) == (
        shape.layers,
        shape.hidden,
        shape.vocab,
        shape.kv_heads,
    )
    assert loaded.params == pytest.approx(shape.params, rel=0.01)


def test_an_unknown_model_id_lists_the_known_ones_and_the_folder_option():
    with pytest.raises(fp.PlanInputError) as raised:
        fp.load_model("someone/unknown-model")

    message = str(raised.value)
    assert raised.value.exit_code == 2
    assert LLAMA_8B in message and "Qwen/Qwen2.5-72B-Instruct" in message
    assert "config.json" in message


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"architectures": ["T5ForConditionalGeneration"]}, "not an architecture train.py fine-tunes"),
        ({"num_local_experts": 8}, "mixture-of-experts"),
        ({"hidden_size": "4096"}, "hidden_size must be a whole number"),
    ],
)
def test_a_config_json_the_planner_cannot_size_is_refused(tmp_path, extra, expected):
    config = {**hf_config(fp.MODELS[LLAMA_8B]), **extra}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")

    with pytest.raises(fp.PlanInputError, match=expected):
        fp.load_model(str(tmp_path))


def test_a_data_file_counts_training_conversations_at_four_characters_a_token(tmp_path):
    # Given 100 distinct conversations of 400 content characters each, and one broken line
    lines = []
    for number in range(100):
        question = f"Question {number:03d}: " + "q" * 86  # 100 characters
        answer = f"Answer {number:03d}: " + "a" * 288  # 300 characters
        messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        lines.append(json.dumps({"messages": messages}))
    path = tmp_path / "chats.jsonl"
    path.write_text("\n".join([*lines, "not json"]) + "\n", encoding="utf-8")

    # When its tokens are estimated, uncapped and capped at 64 tokens per conversation
    counted = fp.tokens_from_file(path, max_seq_length=2048)
    capped = fp.tokens_from_file(path, max_seq_length=64)

    # Then only the training split counts (the broken line and the held-out share do not), 100 tokens each
    assert counted.conversations is not None and 80 <= counted.conversations < 100
    assert counted.tokens == counted.conversations * 100
    assert capped.tokens == counted.conversations * 64


def test_a_missing_data_file_is_bad_input(tmp_path):
    with pytest.raises(fp.PlanInputError, match="cannot read"):
        fp.tokens_from_file(tmp_path / "absent.jsonl", max_seq_length=2048)


def test_cli_prints_a_fitting_plan_and_exits_0(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside the project: only the options given and the built-in defaults
    code = cli.main(["finetune", "plan", "--base-model", LLAMA_1B, "--instance-type", "ml.g5.2xlarge"])

    captured = capsys.readouterr()
    assert code == 0
    assert "Fits: yes" in captured.out
    assert captured.err == ""


def test_cli_exits_1_with_the_reason_on_stderr_when_the_run_does_not_fit(capsys):
    code = cli.main(["finetune", "plan", "--base-model", LLAMA_8B, "--instance-type", "ml.g5.4xlarge"])

    captured = capsys.readouterr()
    assert code == 1
    assert "Fits: NO" in captured.out
    assert "Does not fit" in captured.err and "qlora" in captured.err


def test_cli_json_is_exactly_one_object_with_the_plan(capsys):
    # When the plan is asked for as JSON, with a price for an unpriced instance and explicit tokens
    code = cli.main(
        [
            "finetune",
            "plan",
            "--base-model",
            LLAMA_70B,
            "--instance-type",
            "ml.p5.48xlarge",
            "--strategy",
            "fsdp-lora",
            "--tokens",
            "5000000",
            "--usd-per-hour",
            "60",
            "--json",
        ]
    )

    # Then stdout parses as one JSON object holding the figures
    document = json.loads(capsys.readouterr().out)
    assert code == (0 if document["fits"] else 1)
    assert document["world_size"] == 8
    assert document["tokens"]["tokens"] == 5_000_000
    assert document["usd_per_hour"] == 60
    assert math.isclose(document["spot_usd"], document["on_demand_usd"] * (1 - fp.SPOT_SAVING), rel_tol=0.01)
    assert set(document["memory_per_gpu_gib"]) == {
        "weights",
        "lora_states",
        "activations",
        "logits",
        "overhead",
        "total",
    }


@pytest.mark.parametrize(
    "argv",
    [
        ["--base-model", "someone/unknown", "--instance-type", "ml.g5.2xlarge"],
        ["--base-model", LLAMA_1B, "--instance-type", "ml.g9.huge"],
        ["--base-model", LLAMA_1B],
        ["--base-model", LLAMA_1B, "--instance-type", "ml.g5.2xlarge", "--data", "/nonexistent.jsonl"],
    ],
)
def test_cli_bad_input_exits_2_with_a_message_on_stderr(capsys, tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)  # no cdk.json to take the instance type from
    code = cli.main(["finetune", "plan", *argv])

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.strip()


@pytest.mark.parametrize(
    "argv",
    [
        ["--data", "chats.jsonl", "--tokens", "1000"],
        ["--instance-count", "17"],
        ["--strategy", "full"],
        ["--usd-per-hour", "-1"],
    ],
)
def test_cli_usage_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["finetune", "plan", "--base-model", LLAMA_1B, "--instance-type", "ml.g5.2xlarge", *argv])

    assert exit_info.value.code == 2


def test_cli_table_prints_the_generated_table(capsys):
    code = cli.main(["finetune", "plan", "--table"])

    assert code == 0
    assert capsys.readouterr().out == fp.markdown_table()


def test_the_table_has_a_row_per_size_and_strategy_and_states_its_assumptions():
    table = fp.markdown_table()

    rows = [line for line in table.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == len(fp.TABLE_MODELS) * 3
    # 70B in bf16 in every process fits no catalogued GPU
    assert any(LLAMA_70B in row and "| lora |" in row and "does not fit" in row for row in rows)
    # and 70B qlora fits only instances without a price: they are named, and how to price them
    (qlora_70b,) = [row for row in rows if LLAMA_70B in row and "| qlora |" in row]
    assert "fits on ml.p4de.24xlarge" in qlora_70b and "no price: pass --usd-per-hour" in qlora_70b
    assert "does not fit" not in qlora_70b
    assert "Prices: SageMaker training on demand" in table and "as of" in table
    assert "model-FLOPs utilisation" in table


def test_the_readme_table_is_the_generated_one():
    # Given the README's sizing table between its markers
    match = TABLE_BLOCK.search(README.read_text(encoding="utf-8"))
    assert match, "README.md lacks the <!-- finetune-plan-table:start/end --> markers"

    # Then it is exactly what the planner generates now
    assert match.group(1) == fp.markdown_table(), (
        f"README.md's sizing table is stale: regenerate it with `{fp.TABLE_COMMAND}` "
        "and paste it between the markers"
    )
