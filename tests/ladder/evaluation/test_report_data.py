"""What the reports say: why each answer failed (the data report.html embeds), the numbers of the arms
table with and without the newer summary keys, and the verdict found for a run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ladder.errors import SetupError
from ladder.evaluation import matrix, rundir, tables
from ladder.evaluation.report import write_report
from ladder.evaluation.runner import read_records
from ladder_core import metrics

from .crafted_run import ARMS, RAG_FAILED_FEWSHOT_PASSED, response, three_arms, write_run


@pytest.fixture
def crafted(tmp_path: Path) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """The crafted three-arm run, its summary and the matrix the page embeds."""
    folder = tmp_path / "run"
    summary = three_arms(folder)
    rows = [json.loads(line) for line in (folder / rundir.SCORES).read_text().splitlines()]
    built = matrix.build(rundir.load_run_set(folder), ARMS, rows, read_records(folder / rundir.RESPONSES))
    return folder, summary, built


def _cells(built: dict[str, Any], arm: str) -> dict[str, dict[str, Any]]:
    return {item["id"]: item["cells"][arm] for item in built["items"]}


def test_each_failed_rule_is_named_in_words(crafted) -> None:
    _, _, built = crafted
    rag = _cells(built, "rag")
    assert rag["leave"]["reasons"] == ["declined on an answerable item", "missing fact: 27 days"]
    assert rag["shares"]["reasons"] == [matrix.ANSWERED_UNANSWERABLE]
    assert rag["short"]["reasons"] == ["format check failed: maxWords (at most 3 words)"]
    assert rag["cite"]["reasons"] == ["cites a passage that does not exist: [4] (1 citation)"]
    assert rag["err"]["reasons"] == ["error 503 ServiceUnavailable: try again"]
    assert rag["err"]["status"] == "error" and rag["err"]["answer"] is None


def test_a_cell_passes_fails_or_was_not_answered(crafted) -> None:
    _, _, built = crafted
    rag, fewshot = _cells(built, "rag"), _cells(built, "fewshot")
    assert [key for key, cell in rag.items() if cell["verdict"] == "fail"] == [
        *RAG_FAILED_FEWSHOT_PASSED[:4],
        "both",
        "err",
        "hostile",
    ]
    assert rag["pension"] == {**rag["pension"], "verdict": "pass", "reasons": []}
    assert rag["unsent"] == {"status": matrix.MISSING, "verdict": None, "reasons": []}
    assert fewshot["leave"]["answer"] == "You get 27 days [1]."
    assert fewshot["leave"]["citations"] == [{"source": "s3://docs/leave.md", "text": "passage of leave.md"}]


def test_pass_fail_metrics_are_read_from_the_scores_and_the_rest_are_numbers(crafted) -> None:
    _, _, built = crafted
    checks = [m["key"] for m in built["checks"]]
    scores = [m["key"] for m in built["scores"]]
    # Every metric of the registry that applied is in exactly one list, in the registry's order.
    assert checks == [
        metrics.CORRECTNESS.score_key,
        metrics.REFUSAL_ACCURACY.score_key,
        metrics.SOURCE_HIT_RATE.score_key,
        metrics.FORMAT_COMPLIANCE.score_key,
        metrics.CITATION_VALIDITY.score_key,
    ]
    assert scores == [metrics.MUST_INCLUDE_RECALL.score_key, metrics.MRR.score_key]
    leave = _cells(built, "rag")["leave"]
    assert leave["checks"][metrics.CORRECTNESS.score_key] is False
    assert leave["checks"][metrics.FORMAT_COMPLIANCE.score_key] is None
    assert leave["scores"][metrics.MUST_INCLUDE_RECALL.score_key] == 0.0


def test_a_repeat_that_fails_fails_the_cell_and_says_which_repeat() -> None:
    item = matrix.Item(id="q", question="?", must_include=("27 days",))
    ok = {"status": "ok", "refusal": False, "correct": True, "missingFacts": [], "repeat": 0}
    bad = {**ok, "correct": False, "missingFacts": ["27 days"], "repeat": 1}
    judged = [metrics.CORRECTNESS]
    cell = matrix.cell(item, [ok, bad], {"response": response("27 days")}, judged, [])
    assert cell["verdict"] == "fail" and cell["repeats"] == 2
    assert cell["reasons"] == ["missing fact: 27 days (repeat 2)"]
    assert cell["checks"] == {"correct": False}
    assert matrix.cell(item, [ok], {"response": response("27 days")}, judged, [])["verdict"] == "pass"


def test_an_older_score_line_without_the_why_keys_still_names_the_checks_that_failed() -> None:
    item = matrix.Item(id="q", question="?", must_include=("27 days",), format={"maxWords": 3})
    row = {"status": "ok", "refusal": False, "correct": False, "formatOk": False, "citationsValid": None}
    assert matrix.reasons(item, row, {"response": response("27 weeks, as the handbook says")}) == [
        "Correctness: failed",
        "Format compliance: failed",
    ]


NEWER_ARM_KEYS = ("ci95", "repeatSpread", "costBreakdownUsd", "costUnknown", "judgeAgreement")


def as_version_1(summary: dict) -> dict:
    """The summary as a run written before schema 2 left it: no intervals, breakdown or agreement."""
    summary.pop("schemaVersion", None)
    summary.pop("differences", None)
    for arm in summary["arms"].values():
        for key in NEWER_ARM_KEYS:
            arm.pop(key, None)
    return summary


def test_the_arms_table_prints_each_rate_with_its_interval_and_never_prices_the_unknown_at_zero(
    crafted,
) -> None:
    _, summary, _ = crafted
    as_version_1(summary)
    rag = summary["arms"]["rag"]
    rag["ci95"] = {"correctness": [0.02, 0.61]}
    rag["repeatSpread"] = {"correctness": 0.04}
    rag["costBreakdownUsd"] = {"generation": 0.0001, "guardrail": None, "embedding": 0.0}
    rag["costUnknown"] = ["guardrail"]
    rag["judgeAgreement"] = {
        "correctness": {"n": 8, "agree": 0.875, "kappa": 0.71},
        "refusal": {"n": 8, "agree": 1.0, "kappa": None},
    }
    table = tables.arms_table(summary)
    rows = {row[0]: dict(zip(table.header[1:], row[1:], strict=True)) for row in table.rows}
    assert table.header == ["Metric", *ARMS]
    assert rows["Correctness"]["rag"] == f"{rag['correctness']:.2f} (0.02\u20130.61), sd 0.04 across repeats"
    assert rows["Correctness"]["fewshot"] == f"{summary['arms']['fewshot']['correctness']:.2f}"
    assert rows["Cost per query: guardrail"]["rag"] == "unknown"
    assert rows["Cost per query: embedding"]["rag"] == "$0.000000", "a known price of 0 is 0"
    assert rows["Cost per query: generation"]["rag"] == "$0.000100"
    assert rows["Cost per query (USD)"]["rag"].endswith("+ unknown (guardrail)")
    assert rows["Cost per query: guardrail"]["prompt"] == "-", "an older arm has no breakdown"
    assert rows["Judge agrees with the rules: correctness"]["rag"] == "agree 0.88 of 8, \u03ba 0.71"
    assert rows["Judge agrees with the rules: refusal"]["rag"] == "agree 1.00 of 8, \u03ba -"
    assert rows["Judge agrees with the rules: refusal"]["prompt"] == "-", "no judge on that arm"
    assert [row[0] for row in table.rows][2 : 2 + len(metrics.RATES)] == [m.label for m in metrics.RATES]


def test_a_summary_without_the_newer_keys_still_reports(crafted) -> None:
    folder, summary, _ = crafted
    as_version_1(summary)
    table = tables.arms_table(summary)
    labels = [row[0] for row in table.rows]
    assert not [label for label in labels if label.startswith(("Cost per query:", "Judge agrees"))]
    assert tables.differences_table(summary) is None
    write_report(folder, summary)
    report = (folder / rundir.REPORT).read_text()
    assert "## Differences between arms" not in report and "## Verdict" not in report
    assert "(0." not in report.split("## Arms side by side")[1].split("## Items")[0], "no interval invented"


def test_differences_say_whether_the_interval_leaves_zero(crafted) -> None:
    _, summary, _ = crafted
    summary["differences"] = {
        "fewshot-prompt": {"correctness": {"diff": 0.5, "ci95": [0.2, 0.8], "n": 8}},
        "rag-prompt": {"correctness": {"diff": -0.25, "ci95": [-0.5, 0.05], "n": 7}},
        "rag-fewshot": {"correctness": {"diff": -0.5, "ci95": [-0.8, -0.1], "n": 7}},
    }
    table = tables.differences_table(summary)
    assert table is not None and table.header == ["Metric", "fewshot-prompt", "rag-prompt", "rag-fewshot"]
    assert table.rows == [
        [
            "Correctness",
            "+0.50 (+0.20 to +0.80), fewshot higher, n 8",
            "\u22120.25 (\u22120.50 to +0.05), within noise, n 7",
            "\u22120.50 (\u22120.80 to \u22120.10), rag lower, n 7",
        ]
    ]


def test_a_hyphen_in_an_arm_name_does_not_confuse_which_arm_is_higher() -> None:
    summary = {
        "arms": {"rag": {}, "rag-v2": {}},
        "differences": {"rag-v2-rag": {"correctness": {"diff": 0.3, "ci95": [0.1, 0.5], "n": 9}}},
    }
    table = tables.differences_table(summary)
    assert table is not None and table.rows[0][1] == "+0.30 (+0.10 to +0.50), rag-v2 higher, n 9"


def _verdict(run_id: str, sha: str) -> dict[str, Any]:
    return {
        "rung": "rag",
        "fineTuneJustified": False,
        "reasons": [
            "rag meets the targets: fine-tuning is not needed",
            "Rule 1 (targets met): meets - correctness 0.81 (0.70-0.90) >= 0.80",
            "Rule 7 (fine-tune measurably better): n/a - no finetuned arm",
            "Assumes 1000 queries a day",
        ],
        "evalRun": {"dir": "eval-runs/x", "id": run_id, "evalSetSha256": sha, "items": 9},
        "createdAt": "2026-12-01T11:00:00Z",
        "expiresAt": "2027-03-01T11:00:00Z",
        "data": {"evalOverlap": {"exact": 1, "near": 0, "ids": ["leave"]}},
    }


def test_the_verdict_of_the_run_is_found_and_shown_with_its_rules(crafted, tmp_path, monkeypatch) -> None:
    folder, summary, _ = crafted
    monkeypatch.chdir(tmp_path)
    sha = summary["run"]["evalSet"]["sha256"]
    # Given a verdict about another run in the working folder: it is not this run's
    Path(tables.VERDICT_FILE).write_text(json.dumps(_verdict("other-run", sha)))
    assert tables.find_verdict(folder, summary) is None
    # Given justify's default output about this run: it is found
    Path(tables.VERDICT_FILE).write_text(json.dumps(_verdict(summary["run"]["id"], sha)))
    found = tables.find_verdict(folder, summary)
    assert found is not None and found["rung"] == "rag"
    view = tables.verdict_view(found)
    assert view.headline.startswith("Rung rag; fine-tuning not justified")
    assert view.conclusions == ["rag meets the targets: fine-tuning is not needed"]
    assert view.rules.rows == [
        ["1", "targets met", "meets", "correctness 0.81 (0.70-0.90) >= 0.80"],
        ["7", "fine-tune measurably better", "n/a", "no finetuned arm"],
    ]
    assert view.notes[0] == "Assumes 1000 queries a day"
    assert "1 exact, 0 near (leave)" in view.notes[1]
    write_report(folder, summary)
    report = (folder / rundir.REPORT).read_text()
    assert "## Verdict (ladder justify)" in report and "| 7 | fine-tune measurably better | n/a |" in report
    assert "Rung rag; fine-tuning not justified" in (folder / "report.html").read_text()


def test_a_verdict_that_lists_its_rules_is_shown_from_that_list() -> None:
    document = _verdict("run", "00")
    document["rules"] = [
        {"number": 1, "name": "Targets met", "outcome": "meets", "detail": "correctness 0.81", "arm": "rag"},
        {"number": 7, "name": "Fine-tuned model measured", "outcome": "n/a", "detail": "no finetuned arm"},
    ]
    view = tables.verdict_view(document)
    assert view.rules.rows == [
        ["1", "Targets met", "meets", "correctness 0.81"],
        ["7", "Fine-tuned model measured", "n/a", "no finetuned arm"],
    ]
    assert view.conclusions == ["rag meets the targets: fine-tuning is not needed"]


def test_a_verdict_given_for_another_run_is_refused_naming_both(crafted, tmp_path) -> None:
    folder, summary, _ = crafted
    given = tmp_path / "v.json"
    given.write_text(json.dumps(_verdict("other-run", "00")))
    with pytest.raises(SetupError, match="is about run other-run, not run"):
        tables.find_verdict(folder, summary, given)
    given.write_text("{not json")
    with pytest.raises(SetupError, match=r"not a readable ladder-verdict\.json"):
        tables.find_verdict(folder, summary, given)


def test_the_figure_draws_every_rate_that_applied_and_only_those(crafted) -> None:
    from ladder.evaluation import figure

    _, summary, _ = crafted
    shown = figure.plotted(summary)
    assert [m.summary_key for m in shown] == [
        m.summary_key
        for m in metrics.RATES
        if any(a[m.summary_key] is not None for a in summary["arms"].values())
    ]
    assert metrics.TOKEN_F1 not in shown, "no item has a reference"
    svg = figure.svg(summary)
    assert svg.startswith("<svg") and all(m.label in svg for m in shown) and "Token F1" not in svg
    assert figure.svg(summary) == svg, "the same summary draws the same page"


def test_an_all_error_run_still_writes_both_reports(tmp_path) -> None:
    items = [{"id": "a", "question": "?", "mustInclude": ["x"]}]
    failed = {"error": {"httpStatus": 403, "code": "AccessDenied", "message": "no"}}
    summary = write_run(tmp_path / "run", items, ["rag"], lambda item, arm: failed)
    write_report(tmp_path / "run", summary)
    assert "error 403 AccessDenied: no" in (tmp_path / "run" / rundir.REPORT).read_text()
    assert (tmp_path / "run" / "report.html").stat().st_size > 0
