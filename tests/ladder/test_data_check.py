"""`ladder data check FILE`: the dataprep report, exit 0 usable, 1 too few, 2 unreadable."""

from __future__ import annotations

import json

from .conftest import conversation, write_jsonl

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
