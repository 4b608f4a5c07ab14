"""How many items one answer run takes: every chunk finishes within the function's time limit at worst."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdas.evaluate import constants


def test_the_function_timeout_is_lambdas_maximum() -> None:
    """AWS Lambda Developer Guide, "Configure Lambda function timeout": "you can adjust this in increments of
    1 second up to a maximum value of 900 seconds (15 minutes)"."""
    assert constants.FUNCTION_TIMEOUT_S == 900


@pytest.mark.parametrize("rag_timeout_s", [5, 15, 28, 29])
@pytest.mark.parametrize("arms", [1, 3, 8, constants.MAX_ARMS])
def test_a_chunk_answered_at_the_worst_case_fits_the_time_limit(rag_timeout_s: int, arms: int) -> None:
    items = constants.items_per_chunk(rag_timeout_s, arms)
    answers = items * arms
    # THREADS workers, each taking its answers one after another, every one as slow as it can be
    rounds = -(-answers // constants.THREADS)
    worst = rounds * constants.worst_answer_s(rag_timeout_s)
    assert items >= 1
    assert worst <= constants.FUNCTION_TIMEOUT_S - constants.SAFETY_MARGIN_S
    # And one more item would no longer be sure to fit (the chunk is not needlessly small)
    more = -(-((items + 1) * arms) // constants.THREADS) * constants.worst_answer_s(rag_timeout_s)
    assert more > constants.FUNCTION_TIMEOUT_S - constants.SAFETY_MARGIN_S


def test_the_worst_answer_counts_every_attempt_and_backoff() -> None:
    # 3 attempts of (5 s connect + 28 s + 5 s overhead) and backoffs of at most 1 s and 2 s between them
    assert constants.worst_answer_s(28) == 3 * 38 + 1 + 2
    assert constants.answers_per_chunk(28) == constants.THREADS * ((900 - 60) // 117)


def test_arms_that_cannot_fit_one_run_are_refused() -> None:
    with pytest.raises(ValueError, match="do not fit one function run"):
        constants.items_per_chunk(29, constants.answers_per_chunk(29) + 1)


def test_the_readme_states_the_chunk_size_at_the_default_rag_timeout() -> None:
    root = Path(__file__).resolve().parents[3]
    default_timeout = json.loads((root / "cdk.json").read_text())["context"]["ragTimeoutSeconds"]
    readme = " ".join((root / "README.md").read_text(encoding="utf-8").split())
    answers = constants.answers_per_chunk(default_timeout)
    expected = (
        f"at the default {default_timeout} s that is {answers} answers per chunk "
        f"(items per chunk = {answers} / arms)"
    )
    assert expected in readme
    assert f"never holds more than {constants.THREADS * constants.MAP_MAX_CONCURRENCY} of the RAG" in readme
