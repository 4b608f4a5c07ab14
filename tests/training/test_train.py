"""train.py end to end on a tiny CPU model: metrics, merged weights, reload, resume; and its helpers."""

from __future__ import annotations

import contextlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.training.tiny_model import (
    CHATML_TEMPLATE,
    SMALL_RUN,
    build_tokenizer,
    conversation,
    save_tiny_model,
    write_jsonl,
)
from training_jobs import job_contract
from training_jobs.train import (
    IGNORE_INDEX,
    ChatTemplateError,
    TrainArguments,
    TrainResult,
    adapt_for_bedrock_import,
    encode_conversation,
    latest_checkpoint,
    main,
    parse_args,
)

pytestmark = pytest.mark.training


@dataclass(frozen=True)
class Run:
    result: TrainResult
    stdout: str


@dataclass(frozen=True)
class Runs:
    first: Run
    second: Run
    root: Path


def _train(argv: list[str]) -> Run:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = main(parse_args(argv))
    return Run(result, out.getvalue())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Given a tiny base model in the model channel and chat data in the train and eval channels,
    when the job runs 2 steps and is started again with 4 steps, then both runs are recorded."""
    root = tmp_path_factory.mktemp("job")
    save_tiny_model(root / "channel-model")
    write_jsonl(root / "channel-train" / job_contract.TRAIN_FILE, [conversation(i) for i in range(24)])
    write_jsonl(root / "channel-eval" / job_contract.EVAL_FILE, [conversation(i) for i in range(100, 106)])
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HF_HUB_OFFLINE", "1")
        env.setenv("HF_DATASETS_OFFLINE", "1")
        env.setenv("SM_CHANNEL_MODEL", str(root / "channel-model"))
        env.setenv("SM_CHANNEL_TRAIN", str(root / "channel-train"))
        env.setenv("SM_CHANNEL_EVAL", str(root / "channel-eval"))
        env.setenv("SM_MODEL_DIR", str(root / "model"))
        env.setenv("SM_OUTPUT_DATA_DIR", str(root / "output"))
        env.setenv("CHECKPOINT_DIR", str(root / "checkpoints"))
        first = _train([*SMALL_RUN, "--max_steps", "2"])
        second = _train([*SMALL_RUN, "--max_steps", "4"])
    return Runs(first, second, root)


def _metric_values(stdout: str, name: str) -> list[float]:
    (definition,) = [d for d in job_contract.METRIC_DEFINITIONS if d["Name"] == name]
    return [float(value) for value in re.findall(definition["Regex"], stdout)]


def test_training_prints_train_and_eval_loss_that_the_metric_definitions_read(runs: Runs) -> None:
    # Then every loss SageMaker would scrape is a finite positive number
    for name in ("train_loss", "eval_loss", "epoch", "learning_rate"):
        assert _metric_values(runs.first.stdout, name), f"{name} missing from:\n{runs.first.stdout}"
    assert all(loss > 0 for loss in _metric_values(runs.first.stdout, "eval_loss"))
    assert runs.first.result.eval_loss is not None
    assert runs.first.result.eval_loss == pytest.approx(
        _metric_values(runs.first.stdout, "eval_loss")[-1], rel=1e-4
    )


def test_first_run_starts_fresh_and_stops_at_max_steps(runs: Runs) -> None:
    assert runs.first.result.resumed_from is None
    assert runs.first.result.global_step == 2
    assert (runs.first.result.train_examples, runs.first.result.eval_examples) == (24, 6)


def test_second_run_resumes_from_the_checkpoint_of_the_first(runs: Runs) -> None:
    # Then the second run continues at step 2 instead of starting over, and finishes at step 4
    assert runs.second.result.resumed_from is not None
    assert Path(runs.second.result.resumed_from).name == "checkpoint-2"
    assert "resuming from" in runs.second.stdout
    assert runs.second.result.global_step == 4
    assert latest_checkpoint(str(runs.root / "checkpoints")) == str(
        runs.root / "checkpoints" / "checkpoint-4"
    )


def test_merged_model_is_saved_in_the_layout_bedrock_imports(runs: Runs) -> None:
    files = {path.name for path in (runs.root / "model").iterdir()}
    expected = {
        "model.safetensors",
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
    }
    assert expected <= files
    # The adapter is merged: no PEFT files, a plain architecture
    assert not {"adapter_config.json", "adapter_model.safetensors"} & files
    config = json.loads((runs.root / "model" / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert config["use_cache"] is True


def test_saved_metadata_carries_the_keys_older_transformers_read(runs: Runs) -> None:
    config = json.loads((runs.root / "model" / "config.json").read_text())
    tokenizer_config = json.loads((runs.root / "model" / "tokenizer_config.json").read_text())
    assert config["torch_dtype"] == config["dtype"]
    assert config["rope_theta"] == config["rope_parameters"]["rope_theta"]
    assert tokenizer_config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert tokenizer_config["chat_template"] == CHATML_TEMPLATE


def test_merged_model_reloads_and_generates(runs: Runs) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # Given the saved model directory, when it is loaded the standard way and asked to continue a prompt
    model = AutoModelForCausalLM.from_pretrained(runs.root / "model")
    tokenizer = AutoTokenizer.from_pretrained(runs.root / "model")
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "what colour is the sky"}], tokenize=False, add_generation_prompt=True
    )
    inputs = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")
    with torch.no_grad():
        output = model.generate(
            **inputs, max_new_tokens=3, do_sample=False, pad_token_id=tokenizer.pad_token_id
        )
    # Then it produces new tokens
    assert output.shape[1] > inputs["input_ids"].shape[1]


def test_run_summary_is_written_to_the_output_data_dir(runs: Runs) -> None:
    summary = json.loads((runs.root / "output" / "training_summary.json").read_text())
    assert summary["result"]["global_step"] == 4
    assert summary["arguments"]["max_steps"] == 4


def _template(name: str) -> str:
    import trl

    return (Path(trl.__file__).parent / "chat_templates" / name).read_text(encoding="utf-8")


MULTI_TURN = [
    {"role": "system", "content": "answer with one short sentence"},
    {"role": "user", "content": "what colour is the sky"},
    {"role": "assistant", "content": "the sky is blue"},
    {"role": "user", "content": "what colour is the snow"},
    {"role": "assistant", "content": "the snow is white"},
]


@pytest.mark.parametrize("template", ["chatml", "qwen2_5.jinja", "llama3_2.jinja"])
def test_only_assistant_tokens_carry_labels(template: str) -> None:
    # Given a tokenizer whose chat template has no generation markers (ours, and real Qwen2.5 / Llama 3.2)
    tokenizer = build_tokenizer(CHATML_TEMPLATE if template == "chatml" else _template(template))
    encoded = encode_conversation(tokenizer, MULTI_TURN)
    text = tokenizer.apply_chat_template(MULTI_TURN, tokenize=False)
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    # When the labelled tokens are grouped into contiguous runs
    spans: list[list[int]] = []
    for index, label in enumerate(encoded["labels"]):
        if label == IGNORE_INDEX:
            continue
        assert label == encoded["input_ids"][index]
        if spans and spans[-1][1] == index - 1:
            spans[-1][1] = index
        else:
            spans.append([index, index])
    covered = [text[offsets[first][0] : offsets[last][1]] for first, last in spans]
    # Then there is one run per assistant turn: its answer and the end-of-turn token, nothing from other roles
    assert len(covered) == 2
    for run, answer in zip(covered, ["the sky is blue", "the snow is white"], strict=True):
        assert run.startswith(answer)
        assert run.removeprefix(answer).strip() in {"<|im_end|>", "<|eot_id|>"}
    assert sum(label != IGNORE_INDEX for label in encoded["labels"]) == 2 * (4 + 1)


def test_truncation_keeps_labels_aligned_with_tokens() -> None:
    tokenizer = build_tokenizer()
    full = encode_conversation(tokenizer, MULTI_TURN)
    cut = encode_conversation(tokenizer, MULTI_TURN, max_length=10)
    assert cut == {"input_ids": full["input_ids"][:10], "labels": full["labels"][:10]}


def test_template_that_renders_history_differently_is_refused() -> None:
    # Given a template that prints the number of messages first, so a prefix renders differently
    tokenizer = build_tokenizer("{{ messages|length }} " + CHATML_TEMPLATE)
    with pytest.raises(ChatTemplateError, match="renders the first 2 messages differently"):
        encode_conversation(tokenizer, MULTI_TURN[1:])


def test_base_model_of_an_architecture_bedrock_cannot_import_is_refused_before_loading(
    tmp_path: Path,
) -> None:
    from transformers import GPT2Config

    # Given a model channel holding only a GPT-2 config (no weights, no tokenizer)
    GPT2Config(n_layer=1, n_embd=8, n_head=2, architectures=["GPT2LMHeadModel"]).save_pretrained(tmp_path)
    args = TrainArguments(base_model_dir=str(tmp_path), train_dir=str(tmp_path), checkpoint_dir=str(tmp_path))
    # Then the job stops at once, naming the architecture and the accepted ones
    with pytest.raises(ValueError, match=r"GPT2LMHeadModel.*LlamaForCausalLM"):
        main(args)


def test_model_channel_without_config_is_refused(tmp_path: Path) -> None:
    args = TrainArguments(base_model_dir=str(tmp_path), checkpoint_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"has no config\.json"):
        main(args)


def test_half_written_checkpoints_are_not_resumed(tmp_path: Path) -> None:
    # Given checkpoints 2 and 10 complete, 12 interrupted before its trainer state was written and 14
    # whose adapter weights never arrived (S3 restores the files of a checkpoint in no particular order)
    for step in (2, 10, 12, 14):
        (tmp_path / f"checkpoint-{step}").mkdir()
    for step in (2, 10, 14):
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    for step in (2, 10, 12):
        (tmp_path / f"checkpoint-{step}" / "adapter_model.safetensors").write_bytes(b"")
    (tmp_path / "checkpoint-final").mkdir()
    assert latest_checkpoint(str(tmp_path)) == str(tmp_path / "checkpoint-10")
    assert latest_checkpoint(str(tmp_path / "absent")) is None


def test_default_hyperparameters_of_the_contract_are_the_script_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("SM_CHANNEL_MODEL", "SM_CHANNEL_TRAIN", "SM_CHANNEL_EVAL", "SM_MODEL_DIR", "CHECKPOINT_DIR"):
        monkeypatch.delenv(name, raising=False)
    argv = [
        part for name, value in job_contract.DEFAULT_HYPERPARAMETERS.items() for part in (f"--{name}", value)
    ]
    assert parse_args(argv) == TrainArguments()


def test_sagemaker_arguments_are_ignored_and_paths_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CHECKPOINT_DIR", raising=False)
    monkeypatch.setenv("SM_MODEL_DIR", "/opt/ml/model")
    monkeypatch.setenv("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")
    args = parse_args(["--sagemaker_program", "train.py", "--lora_r", "8", "--sagemaker_region=us-east-1"])
    assert args.lora_r == 8
    assert args.output_model_dir == "/opt/ml/model"
    assert args.train_dir == "/opt/ml/input/data/train"
    assert args.checkpoint_dir == job_contract.CHECKPOINT_LOCAL_PATH


def test_unknown_hyperparameter_is_an_error_not_silently_ignored() -> None:
    with pytest.raises(ValueError, match="lora_rank"):
        parse_args(["--lora_rank", "8"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max_steps", "0"], "max_steps"),
        (["--lora_dropout", "1.5"], "lora_dropout"),
        (["--lora_target_modules", " , "], "lora_target_modules"),
        (["--per_device_train_batch_size", "0"], "per_device_train_batch_size"),
    ],
)
def test_invalid_hyperparameters_are_refused_with_their_name(argv: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_args(argv)


def test_target_modules_are_a_list_unless_all_linear() -> None:
    assert TrainArguments(lora_target_modules="q_proj, v_proj").target_modules() == ["q_proj", "v_proj"]
    assert TrainArguments().target_modules() == "all-linear"


def test_llama3_rope_scaling_is_written_in_the_old_form_too(tmp_path: Path) -> None:
    # Given metadata as transformers 5 saves a Llama 3.2 model
    rope = {
        "rope_theta": 500000.0,
        "rope_type": "llama3",
        "factor": 32.0,
        "original_max_position_embeddings": 8192,
    }
    (tmp_path / "config.json").write_text(json.dumps({"dtype": "bfloat16", "rope_parameters": rope}))
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "Qwen2Tokenizer"}))
    adapt_for_bedrock_import(str(tmp_path))
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["rope_theta"] == 500000.0
    assert config["rope_scaling"] == {
        "rope_type": "llama3",
        "factor": 32.0,
        "original_max_position_embeddings": 8192,
    }
    assert config["torch_dtype"] == "bfloat16"
    # A tokenizer class Bedrock accepts is kept
    assert json.loads((tmp_path / "tokenizer_config.json").read_text())["tokenizer_class"] == "Qwen2Tokenizer"


def test_the_trainer_computes_the_loss_on_assistant_tokens_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trl

    # Given a job on a few conversations, with every batch the trainer steps on recorded
    save_tiny_model(tmp_path / "model-channel")
    conversations = [conversation(i) for i in range(6)]
    write_jsonl(tmp_path / "train" / job_contract.TRAIN_FILE, conversations)
    batches: list[dict[str, list[list[int]]]] = []
    step = trl.SFTTrainer.training_step

    def recording_step(
        self: object, model: object, inputs: dict[str, object], *args: object, **kw: object
    ) -> object:
        batches.append({key: inputs[key].tolist() for key in ("input_ids", "labels")})  # type: ignore[attr-defined]
        return step(self, model, inputs, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(trl.SFTTrainer, "training_step", recording_step)
    args = parse_args(
        [
            *SMALL_RUN,
            "--max_steps", "3",
            "--base_model_dir", str(tmp_path / "model-channel"),
            "--train_dir", str(tmp_path / "train"),
            "--eval_dir", str(tmp_path / "no-eval"),
            "--output_model_dir", str(tmp_path / "model"),
            "--output_data_dir", str(tmp_path / "output"),
            "--checkpoint_dir", str(tmp_path / "checkpoints"),
        ]
    )  # fmt: skip
    # When the job runs
    with contextlib.redirect_stdout(io.StringIO()):
        main(args)
    # Then each row the loss sees carries the labels of its conversation: assistant tokens keep their id,
    # every system, user and template token and every pad is -100
    tokenizer = build_tokenizer()
    expected = [encode_conversation(tokenizer, messages, 64) for messages in conversations]
    rows = [row for batch in batches for row in zip(batch["input_ids"], batch["labels"], strict=True)]
    assert len(rows) == 3 * 2
    for input_ids, labels in rows:
        (match,) = [e for e in expected if input_ids[: len(e["input_ids"])] == e["input_ids"]]
        length = len(match["input_ids"])
        assert labels[:length] == match["labels"]
        assert set(labels[length:]) <= {IGNORE_INDEX}
        assert IGNORE_INDEX in labels[:length] and any(label != IGNORE_INDEX for label in labels)
