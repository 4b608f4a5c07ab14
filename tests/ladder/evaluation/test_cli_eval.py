"""``ladder eval run / status / report`` end to end against a loopback API (SigV4 with fake keys)."""

from __future__ import annotations

import io
import json
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ladder.evaluation import commands
from ladder.evaluation.progress import progress_bar
from ladder.evaluation.runner import STOP_AFTER_IDENTICAL
from ladder_core.evaluation.summary import SUMMARY_ARM_KEYS
from ladder_core.metrics import RATES
from ladder_core.scoring import SCORE_KEYS

from .conftest import items, write_set
from .loopback import LoopbackApi, serve

ITEMS = [
    {
        "id": "leave",
        "question": "How much leave?",
        "mustInclude": ["27 days"],
        "sources": ["handbook/leave.md"],
    },
    {"id": "shares", "question": "Share price?", "answerable": False},
    {"id": "short", "question": "One word only: how much leave?", "format": {"maxWords": 1}},
]


def answer(question: str, mode: str) -> dict[str, Any]:
    rag = mode != "prompt"
    return {
        "answer": "You get 27 days [1]." if rag else "I don't know.",
        "citations": [{"sourceUri": "s3://b/docs/handbook/leave.md", "excerpt": "27 days"}] if rag else [],
        "mode": mode,
        "modelId": "us.amazon.nova-lite-v1:0",
        "usage": {"inputTokens": 1000, "outputTokens": 100},
    }


@pytest.fixture
def api() -> Iterator[LoopbackApi]:
    with serve(LoopbackApi(answer=answer)) as loop:
        yield loop


def test_a_run_writes_the_run_folder_with_the_documented_contracts(
    run_cli: Any, api: LoopbackApi, tmp_path: Path
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    out = tmp_path / "run"
    result = run_cli("eval", "run", "--set", str(evalset), "--url", api.url, "--out", str(out))
    assert result.code == 0, result.err
    assert sorted(api.received) == sorted(
        (item["question"], arm) for item in ITEMS for arm in ("prompt", "rag")
    )
    assert "prompt" in result.out and "rag" in result.out
    for name in (
        "responses.jsonl",
        "scores.jsonl",
        "summary.json",
        "report.md",
        "report.html",
        "run.json",
        "charts",
    ):
        assert (out / name).exists(), name
    scores = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert len(scores) == 6 and all(list(row) == list(SCORE_KEYS) for row in scores)
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["run"]) == {
        "id",
        "createdAt",
        "url",
        "generationModelId",
        "evalSet",
        "repeat",
        "examples",
    }
    assert summary["run"]["examples"] is None  # no fewshot arm
    assert summary["schemaVersion"] == 2 and summary["run"]["repeat"] == 1
    assert all(row["schemaVersion"] == 2 and row["repeat"] == 0 for row in scores)
    assert set(summary["run"]["evalSet"]) == {"path", "sha256", "items"}
    assert summary["run"]["url"] == api.url and summary["run"]["evalSet"]["items"] == 3
    assert summary["run"]["generationModelId"] == "us.amazon.nova-lite-v1:0"
    rag, prompt = summary["arms"]["rag"], summary["arms"]["prompt"]
    assert list(rag) == list(SUMMARY_ARM_KEYS)
    assert set(rag["latencyMs"]) == {"p50", "p95"}
    assert (rag["n"], rag["errors"]) == (3, 0)
    assert rag["correctness"] == 0.5 and prompt["correctness"] == 0.5  # each gets one of two right
    assert rag["sourceHitRate"] == 1.0 and rag["mrr"] == 1.0 and prompt["sourceHitRate"] is None
    assert rag["formatCompliance"] == 0.0 and rag["tokenF1"] is None and rag["judge"] is None
    assert rag["citationValidity"] == 1.0 and prompt["citationValidity"] is None
    # The loopback answers carry no guardrail or embedding usage (as before the API reported them) and the
    # default store bills by the hour: those are unknown, never 0; the total is the known components' sum.
    breakdown = rag["costBreakdownUsd"]
    assert breakdown["generation"] == pytest.approx(1000 / 1000 * 0.00006 + 100 / 1000 * 0.00024)
    assert rag["costUnknown"] == ["guardrail", "embedding", "vectorQuery"]
    assert breakdown["rerank"] == 0.0 and breakdown["requests"] > 0
    assert rag["costPerQueryUsd"] == pytest.approx(breakdown["generation"] + breakdown["requests"])
    assert rag["modelId"] == "us.amazon.nova-lite-v1:0"
    # Every rate that is not null has an interval around it; a rate every item agrees on has no spread.
    rates = [metric.summary_key for metric in RATES]
    assert set(rag["ci95"]) == {key for key in rates if rag[key] is not None}
    assert all(low <= rag[key] <= high for key, (low, high) in rag["ci95"].items())
    assert rag["ci95"]["sourceHitRate"] == [1.0, 1.0] and rag["ci95"]["correctness"] == [0.0, 1.0]
    assert rag["repeatSpread"] is None
    assert list(summary["differences"]) == ["rag-prompt"]
    # rag is right on "leave" and wrong on "shares", prompt the reverse: paired differences +1 and -1.
    assert summary["differences"]["rag-prompt"]["correctness"] == {"diff": 0.0, "ci95": [-1.0, 1.0], "n": 2}
    report = (out / "report.md").read_text()
    assert "## Arms side by side" in report and "## Items where the arms disagree" in report
    assert "| leave |" in report and "![Every headline metric per arm](charts/metrics.png)" in report
    worst_prompt = report.split("## Worst items: prompt")[1]
    worst_rag = report.split("## Worst items: rag")[1].split("## Worst items: prompt")[0]
    assert "| leave | no | declined on an answerable item; missing fact: 27 days | I don't know. |" in (
        worst_prompt
    )
    assert "| short | - | format check failed: maxWords (at most 1 words) |" in worst_rag
    assert "| leave |" not in worst_rag
    assert (out / "charts" / "metrics.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(path.name for path in (out / "charts").iterdir()) == ["metrics.png"]


def test_json_prints_only_the_summary_and_a_rerun_sends_nothing_again(
    run_cli: Any, api: LoopbackApi, tmp_path: Path
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    out = tmp_path / "run"
    first = run_cli(
        "eval", "run", "--set", str(evalset), "--url", api.url, "--out", str(out), "--arms", "rag", "--json"
    )
    assert first.code == 0
    assert set(json.loads(first.out)["arms"]) == {"rag"}
    again = run_cli(
        "eval", "run", "--set", str(evalset), "--url", api.url, "--out", str(out), "--arms", "rag"
    )
    assert again.code == 0 and "0 answers to fetch" in again.err and "3 already done" in again.err
    assert len(api.received) == 3


def test_a_bad_set_is_reported_line_by_line_and_nothing_is_sent(
    run_cli: Any, api: LoopbackApi, tmp_path: Path
) -> None:
    evalset = tmp_path / "set.jsonl"
    evalset.write_text('{"id": "a", "question": "q"}\nnope\n{"id": "a", "question": "q"}\n', encoding="utf-8")
    result = run_cli("eval", "run", "--set", str(evalset), "--url", api.url, "--out", str(tmp_path / "run"))
    assert result.code == 1
    assert "line 2: not valid JSON" in result.err and "line 3: id 'a' repeats line 1" in result.err
    assert "Traceback" not in result.err
    assert api.received == [] and not (tmp_path / "run").exists()


def test_an_unreachable_api_is_one_line_and_exit_1(run_cli: Any, tmp_path: Path) -> None:
    with serve(LoopbackApi()) as loop:
        url = loop.url
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    result = run_cli("eval", "run", "--set", str(evalset), "--url", url, "--out", str(tmp_path / "run"))
    assert result.code == 1
    assert result.err.strip().splitlines()[-1].startswith("could not reach")
    assert "Traceback" not in result.err


def test_missing_credentials_are_exit_2_before_anything_is_sent(
    run_cli: Any, api: LoopbackApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    result = run_cli("eval", "run", "--set", str(evalset), "--url", api.url, "--region", "us-east-1")
    assert result.code == 2 and "no AWS credentials" in result.err
    assert api.received == []


def test_bad_arms_are_refused(run_cli: Any, api: LoopbackApi, tmp_path: Path) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    result = run_cli("eval", "run", "--set", str(evalset), "--url", api.url, "--arms", "rag,chat")
    assert result.code == 2
    assert "--arms rag,chat: 'chat': unknown mode 'chat'; an arm is MODE or MODE@MODEL_ID" in result.err


HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def test_arms_with_a_model_send_it_and_are_keyed_and_priced_by_their_full_name(
    run_cli: Any, api: LoopbackApi, tmp_path: Path
) -> None:
    # Given arms that name another model of the deployment
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    out = tmp_path / "run"
    arms = f"rag,rag@{HAIKU},prompt@{HAIKU}"

    # When the run is sent
    result = run_cli(
        "eval", "run", "--set", str(evalset), "--url", api.url, "--out", str(out), "--arms", arms
    )

    # Then each request carries the arm's mode, and its model only where the arm names one
    assert result.code == 0, result.err
    sent = {(body["mode"], body.get("modelId")) for body in api.bodies}
    assert sent == {("rag", None), ("rag", HAIKU), ("prompt", HAIKU)}
    # And the run folder keys every file by the full arm name
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["arms"]) == ["rag", f"rag@{HAIKU}", f"prompt@{HAIKU}"]
    assert json.loads((out / "run.json").read_text())["arms"] == ["rag", f"rag@{HAIKU}", f"prompt@{HAIKU}"]
    scores = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert {row["arm"] for row in scores} == set(summary["arms"])
    assert f"rag@{HAIKU}-rag" in summary["differences"]
    # And each arm is priced at its own model's tokens (Haiku: $0.00025 in, $0.00125 out per 1,000)
    model_arm = summary["arms"][f"rag@{HAIKU}"]
    assert model_arm["modelId"] == HAIKU
    assert model_arm["costBreakdownUsd"]["generation"] == pytest.approx(
        1000 / 1000 * 0.00025 + 100 / 1000 * 0.00125
    )
    assert summary["arms"]["rag"]["costBreakdownUsd"]["generation"] == pytest.approx(
        1000 / 1000 * 0.00006 + 100 / 1000 * 0.00024
    )
    # And prompt@MODEL is scored as the prompt mode: no retrieval, so no source hit rate
    assert summary["arms"][f"prompt@{HAIKU}"]["sourceHitRate"] is None
    assert summary["arms"][f"rag@{HAIKU}"]["sourceHitRate"] == 1.0
    # And a continued run keeps its arms and sends nothing again
    again = run_cli("eval", "run", "--out", str(out))
    assert again.code == 0 and "0 answers to fetch" in again.err
    assert len(api.bodies) == 9


@pytest.mark.parametrize(
    ("arms", "message"),
    [
        ("rag,finetuned@x", "'finetuned@x': the finetuned arm answers with its own model"),
        ("rag,chat@x", "'chat@x': unknown mode 'chat'"),
        ("rag@", "'rag@': the model id after '@' is empty"),
    ],
)
def test_a_bad_arm_with_a_model_is_exit_2_naming_the_forms(
    run_cli: Any, api: LoopbackApi, tmp_path: Path, arms: str, message: str
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    result = run_cli("eval", "run", "--set", str(evalset), "--url", api.url, "--arms", arms)
    assert result.code == 2
    assert f"--arms {arms}: {message}" in result.err and "MODE@MODEL_ID" in result.err
    assert api.bodies == []


def test_ctrl_c_exits_130_keeping_what_finished(
    run_cli: Any, api: LoopbackApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Interrupt:
        def __init__(self) -> None:
            self.seen = 0

        def advance(self, *, ok: bool) -> None:
            self.seen += 1
            if self.seen == 2:
                raise KeyboardInterrupt

    @contextmanager
    def interrupting_bar(total: int) -> Iterator[Interrupt]:
        yield Interrupt()

    monkeypatch.setattr(commands, "progress_bar", interrupting_bar)
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    out = tmp_path / "run"
    result = run_cli(
        "eval", "run", "--set", str(evalset), "--url", api.url, "--out", str(out), "--concurrency", "1"
    )
    assert result.code == 130 and "--out" in result.err
    kept = (out / "responses.jsonl").read_text().splitlines()
    assert 2 <= len(kept) < 6
    header, *rows = result.out.splitlines()
    assert (
        "refusal accuracy" in header
        and "answers" in header
        and "refusal " not in header.replace("refusal accuracy", "")
    )
    answered = {row.split()[0]: row.split()[1:4] for row in rows}
    assert sum(int(n) for n, _, _ in answered.values()) == len(kept)
    assert all(words[1:] == ["of", "3"] for words in answered.values())
    assert (out / "summary.json").exists()


def test_status_and_report_work_offline_on_a_run_folder(
    run_cli: Any, api: LoopbackApi, tmp_path: Path
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    out = tmp_path / "run"
    assert run_cli("eval", "run", "--set", str(evalset), "--url", api.url, "--out", str(out)).code == 0
    (out / "report.md").unlink()
    (out / "report.html").unlink()
    report = run_cli("eval", "report", str(out), "--json")
    assert report.code == 0 and json.loads(report.out)["arms"]["rag"]["n"] == 3
    assert (out / "report.md").exists() and (out / "report.html").exists()
    status = run_cli("eval", "status", str(out))
    assert status.code == 0 and "rag        3 ok, 0 errors, 0 pending" in status.out
    missing = run_cli("eval", "report", str(tmp_path / "nowhere"))
    assert missing.code == 2 and "not an evaluation run folder" in missing.err


def test_report_open_shows_the_page_and_verdict_names_the_run_it_must_be_about(
    run_cli: Any, api: LoopbackApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    out = tmp_path / "run"
    assert run_cli("eval", "run", "--set", str(evalset), "--url", api.url, "--out", str(out)).code == 0
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    report = run_cli("eval", "report", str(out), "--open")
    assert report.code == 0 and opened == [(out / "report.html").resolve().as_uri()]
    assert f"Report: {out / 'report.md'} and {out / 'report.html'}" in report.err
    summary = json.loads((out / "summary.json").read_text())
    verdict = {
        "rung": "rag",
        "fineTuneJustified": False,
        "reasons": ["Rule 1 (targets met): meets - correctness 1.00 >= 0.80"],
        "evalRun": {"id": "another-run", "evalSetSha256": summary["run"]["evalSet"]["sha256"]},
    }
    given = tmp_path / "verdict.json"
    given.write_text(json.dumps(verdict))
    refused = run_cli("eval", "report", str(out), "--verdict", str(given))
    assert refused.code == 2 and f"--verdict {given} is about run another-run, not run" in refused.err
    verdict["evalRun"]["id"] = "run"
    given.write_text(json.dumps(verdict))
    assert run_cli("eval", "report", str(out), "--verdict", str(given)).code == 0
    assert "| 1 | targets met | meets | correctness 1.00 >= 0.80 |" in (out / "report.md").read_text()
    # Without a browser to start, the command still succeeds and says where the page is
    monkeypatch.setattr("webbrowser.open", lambda url: False)
    quiet = run_cli("eval", "report", str(out), "--open")
    assert quiet.code == 0 and f"open {out / 'report.html'} yourself" in quiet.err


EVALUATION_OUTPUTS = {
    "EvaluationBucketName": "ladder-eval",
    "EvaluationPrefix": "evaluations/",
    "EvaluationRoleArn": "arn:aws:iam::123456789012:role/LadderEvaluation",
    "EvaluationJudgeModelIds": "anthropic.claude-3-5-sonnet-20240620-v1:0",
}


def test_default_arms_come_from_the_deployment(
    run_cli: Any, stacks: Any, api: LoopbackApi, tmp_path: Path
) -> None:
    stacks.deployed("LadderRagApi", {"AskUrl": api.url})
    stacks.missing("LadderKnowledge")
    stacks.missing("LadderFineTune")
    evalset = write_set(tmp_path / "set.jsonl", ITEMS[:1])
    result = run_cli("eval", "run", "--set", str(evalset), "--out", str(tmp_path / "run"))
    assert result.code == 0, result.err
    assert sorted(mode for _, mode in api.received) == ["prompt", "rag"]


def test_a_published_fine_tuned_model_adds_the_finetuned_arm(
    run_cli: Any, stacks: Any, api: LoopbackApi, tmp_path: Path, aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from botocore.stub import Stubber

    # Bedrock's GetImportedModel (moto has none) says how many CMUs a copy of the published model needs
    bedrock = boto3.client("bedrock", region_name="us-east-1")
    models = Stubber(bedrock)
    models.add_response(
        "get_imported_model",
        {
            "modelArn": "arn:aws:bedrock:us-east-1:123456789012:imported-model/abc123def456",
            "modelName": "ladder-finetuned",
            "customModelUnits": {"customModelUnitsPerModelCopy": 1, "customModelUnitsVersion": "v1.0"},
        },
        {"modelIdentifier": "arn:aws:bedrock:us-east-1:123456789012:imported-model/abc123def456"},
    )
    models.activate()
    factory = stacks.client_factory
    monkeypatch.setattr(
        stacks,
        "client_factory",
        lambda session, service: bedrock if service == "bedrock" else factory(session, service),
    )

    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/ladder/finetuned-model-arn",
        Value="arn:aws:bedrock:us-east-1:123456789012:imported-model/abc123def456",
        Type="String",
    )
    stacks.deployed("LadderRagApi", {"AskUrl": api.url})
    stacks.missing("LadderKnowledge")
    stacks.deployed(
        "LadderFineTune",
        {
            "TrainingDataBucketName": "data",
            "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:x",
            "FineTunedModelParameterName": "/ladder/finetuned-model-arn",
        },
    )
    evalset = write_set(tmp_path / "set.jsonl", ITEMS[:1])
    result = run_cli("eval", "run", "--set", str(evalset), "--out", str(tmp_path / "run"))
    assert result.code == 0, result.err
    assert sorted(mode for _, mode in api.received) == ["finetuned", "prompt", "rag"]
    # And the run folder keeps the model's own units, which price its answers and the scale case
    recorded = json.loads((tmp_path / "run" / "imported-model.json").read_text())
    assert recorded == {
        "modelId": "imported-model/abc123def456",
        "customModelUnitsPerModelCopy": 1,
        "customModelUnitsVersion": "v1.0",
    }
    models.assert_no_pending_responses()


def test_a_judge_model_the_role_may_not_invoke_is_refused_before_sending(
    run_cli: Any, stacks: Any, api: LoopbackApi, tmp_path: Path
) -> None:
    stacks.deployed("LadderRagApi", {"AskUrl": api.url, **EVALUATION_OUTPUTS})
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    result = run_cli("eval", "run", "--set", str(evalset), "--judge", "amazon.nova-pro-v1:0")
    assert result.code == 2
    assert "may only invoke anthropic.claude-3-5-sonnet-20240620-v1:0" in result.err
    assert api.received == []


def _printed_command(err: str, marker: str) -> list[str]:
    """The command the CLI printed after ``marker``, split as a shell would; the program name dropped."""
    line = next(line for line in err.splitlines() if marker in line)
    words = shlex.split(line.split(marker, 1)[1])
    assert words[0] == "ladder"
    return words[1:]


def test_the_printed_continue_command_resumes_against_the_runs_own_endpoint(
    run_cli: Any, api: LoopbackApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After Ctrl-C the hint, pasted as printed, sends the rest to the URL in run.json: no stack lookup
    (the stubbed CloudFormation has no answer queued and would fail the test), nothing to another API."""

    class Interrupt:
        def advance(self, *, ok: bool) -> None:
            raise KeyboardInterrupt

    @contextmanager
    def interrupting_bar(total: int) -> Iterator[Interrupt]:
        yield Interrupt()

    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    out = tmp_path / "my runs" / "run 1"
    with monkeypatch.context() as patched:
        patched.setattr(commands, "progress_bar", interrupting_bar)
        first = run_cli(
            "eval", "run", "--set", str(evalset), "--url", api.url, "--out", str(out), "--concurrency", "1"
        )
    assert first.code == 130
    resume = _printed_command(first.err, "continue with: ")
    assert "--url" not in resume and "--set" not in resume

    again = run_cli(*resume)

    assert again.code == 0, again.err
    assert sorted(api.received) == sorted(
        (item["question"], arm) for item in ITEMS for arm in ("prompt", "rag")
    )
    assert json.loads((out / "run.json").read_text())["url"] == api.url


def test_an_option_that_contradicts_the_saved_run_is_refused_naming_both(
    run_cli: Any, api: LoopbackApi, tmp_path: Path
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", ITEMS)
    out = tmp_path / "run"
    assert run_cli("eval", "run", "--set", str(evalset), "--url", api.url, "--out", str(out)).code == 0
    sent = len(api.received)
    other = "https://other.example/prod/ask"

    moved = run_cli("eval", "run", "--out", str(out), "--url", other)
    fewer = run_cli("eval", "run", "--out", str(out), "--arms", "rag")
    other_set = write_set(tmp_path / "other.jsonl", ITEMS[:1])
    changed = run_cli("eval", "run", "--out", str(out), "--set", str(other_set))

    assert moved.code == 2 and f"--url {other} vs the run's {api.url}" in moved.err
    assert fewer.code == 2 and "--arms rag vs the run's prompt,rag" in fewer.err
    assert changed.code == 2 and f"--set {other_set} is another evaluation set" in changed.err
    assert "pass a new --out" in moved.err
    assert len(api.received) == sent
    assert json.loads((out / "run.json").read_text())["url"] == api.url


def test_the_retry_hint_after_errors_works_when_pasted(run_cli: Any, tmp_path: Path) -> None:
    with serve(LoopbackApi(answer=answer, failures={("Share price?", "rag"): [500]})) as flaky:
        evalset = write_set(tmp_path / "set.jsonl", ITEMS)
        out = tmp_path / "run (nightly)"
        first = run_cli(
            "eval",
            "run",
            "--set",
            str(evalset),
            "--url",
            flaky.url,
            "--out",
            str(out),
            "--region",
            "us-east-1",
        )
        assert first.code == 1
        retry = _printed_command(first.err, "Retry them with: ")
        assert retry == ["eval", "run", "--out", str(out), "--region", "us-east-1"]

        again = run_cli(*retry)

        assert again.code == 0, again.err
        assert flaky.received.count(("Share price?", "rag")) == 2
        assert len(flaky.received) == 7


def test_a_new_run_without_a_set_says_what_it_needs(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("eval", "run", "--out", str(tmp_path / "new"))
    assert result.code == 2 and "eval run needs --set FILE" in result.err


def test_a_wrong_url_stops_the_arm_early_and_groups_the_errors_by_cause(
    run_cli: Any, api_server: Any, tmp_path: Path
) -> None:
    """API Gateway answers an unknown path with 403/404 and {"message": ...}; retrying cannot fix it."""
    api_server.answer(404, {"message": "Missing Authentication Token"})
    evalset = write_set(tmp_path / "set.jsonl", items(12))

    result = run_cli(
        "eval",
        "run",
        "--set",
        str(evalset),
        "--url",
        api_server.url,
        "--arms",
        "rag",
        "--out",
        str(tmp_path / "run"),
        "--concurrency",
        "1",
    )

    assert result.code == 1
    assert len(api_server.requests) == STOP_AFTER_IDENTICAL
    n = STOP_AFTER_IDENTICAL
    assert (
        f'rag: {n} answers ended in an error: 404 ApiGateway x {n} ("Missing Authentication Token")'
        in result.err
    )
    assert f"rag: stopped after {STOP_AFTER_IDENTICAL} answers in a row ended in 404 ApiGateway" in result.err
    assert "Retry them with: ladder eval run --out" in result.err
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["arms"]["rag"]["errorCauses"] == [
        {
            "httpStatus": 404,
            "code": "ApiGateway",
            "count": STOP_AFTER_IDENTICAL,
            "message": "Missing Authentication Token",
        }
    ]


def test_an_empty_set_says_empty(run_cli: Any, api: LoopbackApi, tmp_path: Path) -> None:
    evalset = tmp_path / "set.jsonl"
    evalset.write_text("\n\n", encoding="utf-8")

    result = run_cli("eval", "run", "--set", str(evalset), "--url", api.url, "--out", str(tmp_path / "run"))

    assert result.code == 1
    assert f"{evalset} is empty: an evaluation set needs at least one item" in result.err
    assert api.received == [] and not (tmp_path / "run").exists()


def test_outside_a_terminal_progress_is_a_line_every_ten_answers(
    run_cli: Any, api: LoopbackApi, tmp_path: Path
) -> None:
    evalset = write_set(tmp_path / "set.jsonl", items(12))

    result = run_cli("eval", "run", "--set", str(evalset), "--url", api.url, "--out", str(tmp_path / "run"))

    assert result.code == 0, result.err
    lines = [line for line in result.err.splitlines() if line.startswith("answers ")]
    assert [line.split(",")[0] for line in lines] == ["answers 10/24", "answers 20/24", "answers 24/24"]
    assert all("elapsed 0:00:" in line and "remaining about" in line for line in lines)


def test_on_a_terminal_the_bar_labels_elapsed_and_remaining_time() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    with progress_bar(3, stream=screen) as bar:
        assert bar is not None
        for _ in range(3):
            bar.advance(ok=True)

    assert "3/3" in screen.getvalue() and "elapsed" in screen.getvalue() and "remaining" in screen.getvalue()


def test_a_judge_may_be_added_to_a_run_but_not_swapped(tmp_path: Path) -> None:
    from ladder.evaluation import evalset, rundir

    path = write_set(tmp_path / "set.jsonl", ITEMS)
    loaded = evalset.load_set(path)
    saved = rundir.RunInfo(
        "run", "2026-12-01T00:00:00+00:00", "https://a/ask", ["rag"], {"sha256": loaded.sha256}
    )
    judged = rundir.RunInfo(**{**saved.__dict__, "judge": "model-a", "style": "RUBRIC.md"})

    def given(**changes: Any) -> rundir.RunInfo:
        return rundir.RunInfo(**{**saved.__dict__, **changes})

    assert rundir.contradictions(saved, given(judge="model-a"), loaded) == []
    assert rundir.contradictions(judged, given(judge="model-a", style="./RUBRIC.md"), loaded) == []
    assert rundir.contradictions(judged, given(judge="model-b", style="RUBRIC.md"), loaded) == [
        "--judge model-b vs the run's model-a"
    ]
    assert rundir.contradictions(judged, given(judge="model-a", style="other.md"), loaded) == [
        "--style other.md vs the run's RUBRIC.md"
    ]
