"""`ladder data check FILE`: the dataprep report, exit 0 usable, 1 too few, 2 unreadable."""

from __future__ import annotations

import json

from ..conftest import conversation, write_jsonl

WRONG_ORDER = json.dumps(
    {"messages": [{"role": "assistant", "content": "Hi"}, {"role": "user", "content": "Hello"}]}
)


def test_a_usable_file_exits_0_with_its_counts(run_cli, tmp_path):
    # Given 6 clean conversations
    data = write_jsonl(tmp_path / "chats.jsonl", clean=6)

    # When it is checked against a minimum of 5
    result = run_cli("data", "check", str(data), "--min-examples", "5", "--eval-fraction", "0.2")

    # Then the report says 6 clean and usable, exit 0
    assert result.code == 0, result.err
    assert result.out.startswith("6 read, 6 clean (")
    assert "usable" in result.out
    assert result.err == ""


def test_too_few_clean_examples_exits_1_and_says_how_many_are_missing(run_cli, tmp_path):
    # Given 3 clean conversations
    data = write_jsonl(tmp_path / "chats.jsonl", clean=3)

    # When the minimum is 5
    result = run_cli("data", "check", str(data), "--min-examples", "5")

    # Then exit 1 and the message says 2 are missing
    assert result.code == 1
    assert "2 missing" in result.err
    assert "NOT usable: 2 more clean examples needed" in result.out


def test_every_rejected_line_is_listed_with_its_number_and_reason(run_cli, tmp_path):
    # Given 4 clean lines, then a broken JSON line (5), a duplicate (6) and a wrong role order (7)
    duplicate = json.dumps(conversation(0))
    data = write_jsonl(
        tmp_path / "chats.jsonl", clean=4, extra_lines=('{"messages": [', duplicate, WRONG_ORDER)
    )

    # When it is checked
    result = run_cli("data", "check", str(data), "--min-examples", "4")

    # Then each rejected line appears with its line number and reason, and the data is still usable
    assert result.code == 0, result.err
    assert "  line 5: invalid_json:" in result.out
    assert "  line 6: duplicate: same conversation as line 1" in result.out
    assert "  line 7: role_order:" in result.out


def test_more_than_fifty_rejections_are_all_listed(run_cli, tmp_path):
    # Given 60 broken lines after one clean conversation
    data = write_jsonl(tmp_path / "chats.jsonl", clean=1, extra_lines=("not json",) * 60)

    # When it is checked
    result = run_cli("data", "check", str(data), "--min-examples", "1")

    # Then the last broken line is listed too, not summarised away
    assert "  line 61: invalid_json:" in result.out
    assert "more rejected lines" not in result.out


def test_json_output_is_the_reports_dictionary(run_cli, tmp_path):
    # Given 2 clean lines and one with an unexpected key
    extra_key = json.dumps({"messages": [], "id": 1})
    data = write_jsonl(tmp_path / "chats.jsonl", clean=2, extra_lines=(extra_key,))

    # When it is checked with --json and a minimum of 3
    result = run_cli("data", "check", str(data), "--min-examples", "3", "--json")

    # Then stdout is the report as JSON and the exit code still says unusable
    assert result.code == 1
    report = json.loads(result.out)
    assert report["usable"] is False
    assert report["missing"] == 1
    assert report["counts"]["clean"] == 2
    assert [(r["line"], r["reason"]) for r in report["rejections"]] == [(3, "extra_keys")]


def test_a_missing_file_exits_2(run_cli, tmp_path):
    # When a file that does not exist is checked
    result = run_cli("data", "check", str(tmp_path / "absent.jsonl"))

    # Then exit 2 and the path is named
    assert result.code == 2
    assert "cannot read" in result.err
    assert "absent.jsonl" in result.err


def test_an_out_of_range_eval_fraction_exits_2_with_the_accepted_range(run_cli, tmp_path):
    # Given a usable file
    data = write_jsonl(tmp_path / "chats.jsonl", clean=2)

    # When the eval fraction is above what dataprep accepts
    result = run_cli("data", "check", str(data), "--eval-fraction", "0.9")

    # Then exit 2 with dataprep's explanation
    assert result.code == 2
    assert "eval_fraction must be from 0 to 0.5" in result.err


QWEN3_CHAT_TEMPLATE = (
    "{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}"
    "{%- for message in messages[::-1] %}"
    "{%- set index = (messages|length - 1) - loop.index0 %}"
    "{%- if ns.multi_step_tool and message.role == 'user' %}"
    "{%- set ns.multi_step_tool = false %}{%- set ns.last_query_index = index %}"
    "{%- endif %}{%- endfor %}"
    "{%- for message in messages %}"
    "{%- if message.role == 'user' or message.role == 'system' %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
    "{%- elif message.role == 'assistant' %}"
    "{%- set content = message.content %}{%- set reasoning_content = '' %}"
    "{%- if loop.index0 > ns.last_query_index %}"
    "{%- if loop.last or (not loop.last and reasoning_content) %}"
    "{{- '<|im_start|>' + message.role + '\\n<think>\\n' + reasoning_content.strip('\\n')"
    " + '\\n</think>\\n\\n' + content.lstrip('\\n') }}"
    "{%- else %}{{- '<|im_start|>' + message.role + '\\n' + content }}{%- endif %}"
    "{%- else %}{{- '<|im_start|>' + message.role + '\\n' + content }}{%- endif %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif %}{%- endif %}"
)
"""Qwen3's chat template (tokenizer_config.json of the Qwen/Qwen3 models) without its tool-call branches:
the ``last_query_index`` loop and the assistant branch are as published. An assistant turn after the last
user question opens with a think block; an earlier one does not, so an earlier turn renders differently
once a later question follows it."""


def multi_turn(number: int) -> str:
    return json.dumps(
        {
            "messages": [
                {"role": "user", "content": f"What is rule number {number}?"},
                {"role": "assistant", "content": f"Rule number {number} says to check the rain gauge."},
                {"role": "user", "content": "And the next one?"},
                {"role": "assistant", "content": f"Rule number {number + 1} says to log it."},
            ]
        }
    )


def save_base_model_tokenizer(directory, chat_template: str):
    from tests.training.tiny_model import build_tokenizer

    build_tokenizer(chat_template).save_pretrained(directory)
    return directory


def test_records_a_qwen3_template_cannot_encode_are_listed_by_line_before_any_upload(run_cli, tmp_path):
    # Given 4 single-turn conversations, then two multi-turn ones (lines 5 and 6), and a Qwen3 base model
    data = write_jsonl(tmp_path / "chats.jsonl", clean=4, extra_lines=(multi_turn(100), multi_turn(200)))
    base = save_base_model_tokenizer(tmp_path / "qwen3", QWEN3_CHAT_TEMPLATE)

    # When the data is checked against the base model's chat template
    result = run_cli("data", "check", str(data), "--min-examples", "4", "--base-model", str(base))

    # Then exit 1: the two multi-turn lines are named with the trainer's reason, the others pass
    assert result.code == 1, result.err
    assert "6 clean records rendered, 2 the training job cannot encode" in result.out
    assert "  line 5: the chat template renders the first 2 messages differently" in result.out
    assert "  line 6: " in result.out
    assert "  line 1: " not in result.out
    assert "lines 5, 6" in result.err and "split multi-turn records" in result.err


def test_the_same_records_pass_with_a_template_that_renders_turns_the_same_way(run_cli, tmp_path):
    from tests.training.tiny_model import CHATML_TEMPLATE

    # Given the same data with a broken line, and a ChatML base model whose template renders earlier turns
    # unchanged
    data = write_jsonl(
        tmp_path / "chats.jsonl", clean=4, extra_lines=(multi_turn(100), multi_turn(200), "not json")
    )
    base = save_base_model_tokenizer(tmp_path / "chatml", CHATML_TEMPLATE)

    # When it is checked with --json
    result = run_cli("data", "check", str(data), "--min-examples", "4", "--base-model", str(base), "--json")

    # Then every clean record was rendered (the rejected line was not) and none is a problem
    assert result.code == 0, result.err
    template = json.loads(result.out)["chat_template"]
    assert template == {"base_model": str(base), "checked": 6, "ok": True, "problems": []}


def test_a_base_model_without_a_tokenizer_exits_2_naming_the_option(run_cli, tmp_path):
    # Given usable data and a folder with no tokenizer
    data = write_jsonl(tmp_path / "chats.jsonl", clean=2)
    empty = tmp_path / "no-model"
    empty.mkdir()

    # When checked against it, Then exit 2 naming the option
    result = run_cli("data", "check", str(data), "--min-examples", "1", "--base-model", str(empty))
    assert result.code == 2
    assert f"--base-model {empty}: cannot load its tokenizer" in result.err


def eval_set(path, questions):
    path.write_text("".join(json.dumps({"id": i, "question": q}) + "\n" for i, q in questions.items()))
    return path


def test_an_eval_question_in_the_data_fails_the_check_and_is_named(run_cli, tmp_path):
    # Given 6 clean conversations, one of whose user turns is an evaluation question (case and spacing aside)
    data = write_jsonl(tmp_path / "chats.jsonl", clean=6)
    questions = {"leave-1": "what is RULE number 4 ?", "other": "How tall is the Harbormist mast?"}
    evalset = eval_set(tmp_path / "eval.jsonl", questions)

    # When it is checked against the evaluation set
    result = run_cli("data", "check", str(data), "--min-examples", "5", "--eval-set", str(evalset))

    # Then exit 1, and both the report and the error name the item to remove
    assert result.code == 1
    assert "1 evaluation question(s) appear verbatim and 0 nearly" in result.out
    assert "1 evaluation question(s) of" in result.err and "remove them: leave-1" in result.err


def test_a_clean_data_file_passes_the_eval_set_check(run_cli, tmp_path):
    data = write_jsonl(tmp_path / "chats.jsonl", clean=6)
    evalset = eval_set(tmp_path / "eval.jsonl", {"a": "How tall is the Harbormist mast?"})

    result = run_cli("data", "check", str(data), "--min-examples", "5", "--eval-set", str(evalset), "--json")

    assert result.code == 0, result.err
    assert json.loads(result.out)["evalOverlap"] == {"exact": 0, "near": 0, "ids": []}


def test_a_rejected_line_is_not_checked_against_the_eval_set(run_cli, tmp_path):
    """Only the records training would use count: a line rejected (roles out of order) is not trained on."""
    question = "How tall is the Harbormist mast?"
    rejected = json.dumps(
        {"messages": [{"role": "assistant", "content": "Hi"}, {"role": "user", "content": question}]}
    )
    data = write_jsonl(tmp_path / "chats.jsonl", clean=6, extra_lines=(rejected,))
    evalset = eval_set(tmp_path / "eval.jsonl", {"q": question})

    result = run_cli("data", "check", str(data), "--min-examples", "5", "--eval-set", str(evalset), "--json")

    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["counts"]["rejected"] == 1
    assert report["evalOverlap"] == {"exact": 0, "near": 0, "ids": []}


def test_a_bad_eval_set_names_its_line(run_cli, tmp_path):
    data = write_jsonl(tmp_path / "chats.jsonl", clean=6)
    evalset = tmp_path / "eval.jsonl"
    evalset.write_text('{"id": "a"}\n')

    result = run_cli("data", "check", str(data), "--min-examples", "5", "--eval-set", str(evalset))

    assert result.code == 1
    assert "line 1: question: required" in result.err and "Traceback" not in result.err


def test_a_missing_eval_set_is_missing_setup(run_cli, tmp_path):
    data = write_jsonl(tmp_path / "chats.jsonl", clean=6)

    result = run_cli("data", "check", str(data), "--eval-set", str(tmp_path / "none.jsonl"))

    assert result.code == 2
    assert "cannot read evaluation set" in result.err
