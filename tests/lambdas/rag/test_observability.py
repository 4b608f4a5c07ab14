"""Given a served request, the metrics, logs and correlation id are what the stack's dashboards expect."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import App, load_event, retrieve_response


def emitted_metrics(stdout: str) -> dict[str, dict[str, Any]]:
    """Metric name -> {"unit", "value", "dimensions", "namespace"} from the EMF lines on stdout."""
    found: dict[str, dict[str, Any]] = {}
    for line in stdout.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                found[metric["Name"]] = {
                    "unit": metric["Unit"],
                    # Powertools writes a list when a name has several values in one flush.
                    "value": sum(value if isinstance(value := document[metric["Name"]], list) else [value]),
                    "dimensions": directive["Dimensions"],
                    "namespace": directive["Namespace"],
                    "service": document.get("service"),
                }
    return found


def test_an_answer_emits_the_documented_metrics(app: App, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a normal rag answer
    app.expect_retrieve()
    app.expect_converse()

    # When it is served
    assert app.ask({"question": "How much leave?"}).status == 200

    # Then exactly the documented metrics go to namespace Ladder with only the service dimension
    metrics = emitted_metrics(capsys.readouterr().out)
    assert {name: m["unit"] for name, m in metrics.items()} == {
        "RetrievedPassages": "Count",
        "NoContextAnswers": "Count",
        "GuardrailInterventions": "Count",
        "InputTokens": "Count",
        "OutputTokens": "Count",
        "RetrieveLatency": "Milliseconds",
        "GenerateLatency": "Milliseconds",
        "TotalLatency": "Milliseconds",
    }
    assert all(m["namespace"] == "Ladder" and m["dimensions"] == [["service"]] for m in metrics.values())
    assert all(m["service"] == "ladder-rag" for m in metrics.values())
    assert metrics["RetrievedPassages"]["value"] == 2
    assert metrics["InputTokens"]["value"] == 412
    assert metrics["OutputTokens"]["value"] == 31
    assert metrics["NoContextAnswers"]["value"] == 0
    assert metrics["GuardrailInterventions"]["value"] == 0


def test_a_no_context_answer_counts_and_has_no_generate_latency(
    app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    weak = retrieve_response()
    weak["retrievalResults"] = weak["retrievalResults"][2:]
    app.expect_retrieve(weak)
    assert app.ask({"question": "Menu?"}).status == 200
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["NoContextAnswers"]["value"] == 1
    assert metrics["RetrievedPassages"]["value"] == 0
    assert "GenerateLatency" not in metrics


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_question_and_answer_stay_out_of_logs_by_default(app: App) -> None:
    # Given a question and answer with distinctive text
    question = "What is the secret codename ZEBRA-PINEAPPLE?"
    app.expect_retrieve()
    app.expect_converse()

    # When it is answered, and then a bad request with the same question arrives
    assert app.ask({"question": question}).status == 200
    assert app.ask({"question": question, "mode": "nope"}).status == 400

    # Then neither question nor answer text is logged, but the summary and correlation id are
    logs = app.logs.getvalue()
    assert "ZEBRA-PINEAPPLE" not in logs
    assert "Employees get 25 days" not in logs
    summary = next(r for r in app.log_records() if r["message"] == "answered")
    assert summary["correlation_id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    assert summary["mode"] == "rag" and summary["passages"] == 2
    assert "question" not in summary and "answer" not in summary


def test_log_content_true_logs_question_and_answer(make_app: Callable[..., App]) -> None:
    app = make_app(LOG_CONTENT="true")
    app.expect_retrieve()
    app.expect_converse()
    assert app.ask({"question": "ZEBRA-PINEAPPLE?"}).status == 200
    summary = next(r for r in app.log_records() if r["message"] == "answered")
    assert summary["question"] == "ZEBRA-PINEAPPLE?"
    assert summary["answer"].startswith("Employees get 25 days")


def test_an_intervention_still_counts_the_retrieved_passages(
    app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two relevant passages and a guardrail that blocks the answer
    app.expect_retrieve()
    app.expect_converse(load_event("converse_guardrail_intervened.json"))

    # When it is served
    response = app.ask({"question": "How much leave?"})

    # Then the answer has no citations, yet the retrieval metric and log still count what was retrieved
    assert response.body["citations"] == []
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["GuardrailInterventions"]["value"] == 1
    assert metrics["RetrievedPassages"]["value"] == 2
    summary = next(r for r in app.log_records() if r["message"] == "answered")
    assert (summary["passages"], summary["citations"]) == (2, 0)
