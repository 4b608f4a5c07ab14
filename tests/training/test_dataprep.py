"""Dataset preparation: every rejection reason, near duplicates, a deterministic split, the minimum count."""

from __future__ import annotations

import io
import json
import random

import pytest

from training_jobs.dataprep import (
    NotEnoughExamplesError,
    PrepOptions,
    Reason,
    normalise_text,
    prepare,
    write_jsonl,
)

SMALL = PrepOptions(min_examples=1)


def chat(question: str, answer: str, system: str | None = None) -> str:
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    if system is not None:
        messages.insert(0, {"role": "system", "content": system})
    return json.dumps({"messages": messages})


def many(count: int) -> list[str]:
    return [chat(f"question number {i}?", f"answer number {i}.") for i in range(count)]


GOOD = chat("What is LoRA?", "A low-rank adapter.")


@pytest.mark.parametrize(
    ("line", "reason", "detail"),
    [
        ('{"messages": [', Reason.INVALID_JSON, "column"),
        ("[1, 2]", Reason.SCHEMA, "expected a JSON object, got an array"),
        ('{"conversation": []}', Reason.SCHEMA, "missing key 'messages'"),
        ('{"messages": []}', Reason.SCHEMA, "non-empty list"),
        ('{"messages": ["hi"]}', Reason.SCHEMA, "messages[0] must be an object, got a string"),
        ('{"messages": [{"role": "user"}]}', Reason.SCHEMA, "messages[0] is missing ['content']"),
        ('{"messages": [{"role": "tool", "content": "x"}]}', Reason.SCHEMA, "got 'tool'"),
        (
            '{"messages": [{"role": "user", "content": 3}]}',
            Reason.SCHEMA,
            "content must be a string, got a number",
        ),
        (
            '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], '
            '"id": 7}',
            Reason.EXTRA_KEYS,
            "unexpected keys ['id']",
        ),
        (
            '{"messages": [{"role": "user", "content": "q", "name": "bob"}, '
            '{"role": "assistant", "content": "a"}]}',
            Reason.EXTRA_KEYS,
            "messages[0] has unexpected keys ['name']",
        ),
        (
            '{"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "q"}]}',
            Reason.ROLE_ORDER,
            "messages[0] should be user, got assistant",
        ),
        ('{"messages": [{"role": "user", "content": "q"}]}', Reason.ROLE_ORDER, "must end with an assistant"),
        ('{"messages": [{"role": "system", "content": "s"}]}', Reason.ROLE_ORDER, "system message alone"),
        (
            '{"messages": [{"role": "user", "content": "q"}, {"role": "system", "content": "s"}, '
            '{"role": "assistant", "content": "a"}]}',
            Reason.ROLE_ORDER,
            "messages[1] is a system message",
        ),
        (
            '{"messages": [{"role": "user", "content": "q"}, {"role": "user", "content": "q2"}, '
            '{"role": "assistant", "content": "a"}]}',
            Reason.ROLE_ORDER,
            "should be assistant, got user",
        ),
        (chat("question", "  \n "), Reason.EMPTY_CONTENT, "messages[1] (assistant) has empty content"),
        (chat("q" * 30, "a" * 21), Reason.TOO_LONG, "51 characters of content, the limit is 50"),
    ],
)
def test_each_kind_of_bad_line_is_rejected_with_its_reason_and_line_number(
    line: str, reason: Reason, detail: str
) -> None:
    # Given a good line, the bad one on line 2, and a good line after it
    prepared = prepare([GOOD, line, chat("Why?", "Because.")], PrepOptions(min_examples=1, max_chars=50))
    # Then only the bad line is rejected, with its 1-based line number
    (rejection,) = prepared.report.rejections
    assert (rejection.line, rejection.reason) == (2, reason)
    assert detail in rejection.detail
    assert prepared.report.clean == 2
    assert prepared.report.rejected_by_reason[reason.value] == 1


def test_exact_and_near_duplicates_are_rejected_and_point_at_the_kept_line() -> None:
    lines = [
        chat("What is LoRA?", "A low-rank adapter."),
        chat("What is LoRA?", "A low-rank adapter."),
        chat("  what is  LORA ", "a LOW-RANK adapter!!"),
        chat("What is QLoRA?", "A low-rank adapter."),
    ]
    report = prepare(lines, SMALL).report
    assert [(r.line, r.reason, r.detail) for r in report.rejections] == [
        (2, Reason.DUPLICATE, "same conversation as line 1"),
        (3, Reason.NEAR_DUPLICATE, "same normalised text as line 1"),
    ]
    assert report.clean == 2


def test_near_duplicate_rule_casefolds_drops_punctuation_and_collapses_whitespace() -> None:
    assert normalise_text("  Hello,\tWORLD!  e-mail ¿Qué? ") == "hello world email qué"
    # Different roles are never near duplicates of each other
    with_system = chat("What is LoRA?", "A low-rank adapter.", system="Be brief.")
    assert prepare([GOOD, with_system], SMALL).report.clean == 2


def test_split_is_the_same_whatever_the_order_of_the_lines() -> None:
    lines = many(300)
    shuffled = lines[:]
    random.Random(7).shuffle(shuffled)
    first, second = prepare(lines), prepare(shuffled)
    # Then the same records are held out, and both files come out byte for byte identical
    assert first.eval == second.eval
    assert first.train == second.train
    assert 15 <= len(first.eval) <= 45  # about 10 % of 300
    assert len(first.train) + len(first.eval) == 300


def test_a_different_seed_draws_a_different_split() -> None:
    lines = many(300)
    assert prepare(lines, PrepOptions(seed=1)).eval != prepare(lines, PrepOptions(seed=2)).eval


def test_small_datasets_still_get_one_eval_and_train_example() -> None:
    prepared = prepare(many(2), PrepOptions(min_examples=1, eval_fraction=0.01))
    assert (len(prepared.train), len(prepared.eval)) == (1, 1)
    assert prepare(many(5), PrepOptions(min_examples=1, eval_fraction=0)).eval == []


def test_too_few_clean_examples_is_an_error_saying_how_many_are_missing() -> None:
    prepared = prepare([*many(150), "not json"], PrepOptions(min_examples=200))
    assert not prepared.usable
    with pytest.raises(NotEnoughExamplesError) as raised:
        prepared.require_usable()
    assert isinstance(raised.value, ValueError)
    assert (raised.value.clean, raised.value.required, raised.value.missing) == (150, 200, 50)
    message = str(raised.value)
    assert "150 clean" in message
    assert "200 needed" in message
    assert "50 missing" in message


def test_enough_clean_examples_is_usable() -> None:
    prepared = prepare(many(200))
    prepared.require_usable()
    assert prepared.usable


def test_report_counts_and_readable_format() -> None:
    lines = [*many(4), "", "{", many(1)[0]]
    report = prepare(lines, PrepOptions(min_examples=10, eval_fraction=0.25)).report
    assert report.to_dict()["counts"] == {
        "read": 6,
        "clean": 4,
        "rejected": 2,
        "train": 3,
        "eval": 1,
        "rejected_by_reason": {
            "invalid_json": 1,
            "schema": 0,
            "extra_keys": 0,
            "role_order": 0,
            "empty_content": 0,
            "too_long": 0,
            "duplicate": 1,
            "near_duplicate": 0,
        },
    }
    assert report.to_dict()["usable"] is False
    assert report.to_dict()["missing"] == 6
    assert report.to_dict()["rejections"][0] == {
        "line": 6,
        "reason": "invalid_json",
        "detail": "Expecting property name enclosed in double quotes at column 2",
    }
    text = report.format(max_rejections=1)
    assert text.splitlines()[0].startswith("6 read, 4 clean (3 train, 1 eval), 2 rejected")
    assert "6 more clean examples needed" in text
    assert "  line 6: invalid_json:" in text
    assert "and 1 more rejected lines" in text
    json.dumps(report.to_dict())


def test_bytes_lines_with_a_byte_order_mark_and_invalid_utf8_are_handled() -> None:
    lines = [b"\xef\xbb\xbf" + GOOD.encode(), chat("caf\u00e9?", "oui").encode(), b'{"messages": "\xff"}\n']
    report = prepare(lines, SMALL).report
    assert report.clean == 2
    (rejection,) = report.rejections
    assert (rejection.line, rejection.reason) == (3, Reason.INVALID_JSON)
    assert "not valid text" in rejection.detail


def test_text_with_a_byte_order_mark_on_the_first_line_is_accepted() -> None:
    assert prepare(["\ufeff" + GOOD], SMALL).report.clean == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"eval_fraction": 0.6}, "eval_fraction"),
        ({"eval_fraction": float("nan")}, "eval_fraction"),
        ({"min_examples": 0}, "min_examples"),
        ({"max_chars": True}, "max_chars"),
        ({"seed": "7"}, "seed"),
    ],
)
def test_invalid_options_are_refused_with_their_name(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PrepOptions(**options)  # type: ignore[arg-type]


def test_written_records_read_back_as_the_same_messages() -> None:
    prepared = prepare([GOOD, chat("Grüße?", "Hallo — 👋")], SMALL)
    out = io.StringIO()
    assert write_jsonl(prepared.train + prepared.eval, out) == 2
    lines = out.getvalue().splitlines()
    assert "👋" in out.getvalue()
    assert [json.loads(line) for line in lines] == prepared.train + prepared.eval
    assert prepare(lines, SMALL).report.clean == 2
