"""The gate on -c fineTune=true: refused without a justified, current verdict for the configured model or an
override; the fine-tune template records why it exists."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stacks import nag_report
from stacks.config import ConfigError, from_context
from stacks.fine_tune.verdict import (
    REASON_METADATA_KEY,
    REASON_TAG_KEY,
    FineTuneRefused,
    VerdictError,
    fine_tune_reason,
    tag_value,
    validate,
)
from tests.stacks.conftest import FINE_TUNE_ON
from tests.support.synth import REPO_ROOT, default_context, synthesize

MODEL = default_context()["generationModelId"]
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def verdict_document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "rung": "finetune",
        "fineTuneJustified": True,
        "reasons": [
            "Behaviour gap: format compliance of rag is 0.62 < target 0.95 while correctness is 0.86.",
            "Data: 240 clean examples >= 200 needed.",
        ],
        "evalRun": {"dir": "eval-runs/x", "id": "x", "evalSetSha256": "ab" * 32, "items": 40},
        "generationModelId": MODEL,
        "targets": {"correctness": 0.8, "formatCompliance": 0.95},
        "arms": {
            "prompt": {"correctness": 0.41, "formatCompliance": 0.55},
            "rag": {"correctness": 0.86, "formatCompliance": 0.62},
        },
        "data": {"total": 250, "clean": 240, "rejected": 10, "minExamples": 200},
        "createdAt": "2026-11-30T10:00:00Z",
        "expiresAt": "2027-02-28T10:00:00Z",
    }
    document.update(changes)
    return document


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path


def config_with(**overrides: str) -> Any:
    context = default_context()
    context.update({"fineTune": "true", **overrides})
    return from_context(context)


class TestTheDecisionWithoutSynth:
    """What the gate decides from a verdict file, an override and the configuration."""

    def test_no_verdict_file_is_refused_with_both_ways_forward(self, tmp_path: Path) -> None:
        config = config_with(fineTuneVerdict="missing-verdict.json")

        with pytest.raises(FineTuneRefused) as refused:
            fine_tune_reason(config, now=NOW, root=tmp_path)

        message = str(refused.value)
        assert f"no verdict file at {tmp_path / 'missing-verdict.json'}" in message
        assert "ladder justify" in message and "ladder eval run" in message
        assert "fineTuneOverride" in message
        fix, *rest = message.splitlines()
        assert fix.startswith(
            "Refusing -c fineTune=true. To fix: deploy without fine-tuning, run `ladder eval run"
        )
        assert len(rest) == 2, "the refusal is a short paragraph: the fix, what was found, the override"
        assert isinstance(refused.value, ConfigError), (
            "app.py turns ConfigError into exit 2 without traceback"
        )

    def test_relative_verdict_path_is_resolved_against_the_root_not_the_working_directory(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        write(tmp_path / "ladder-verdict.json", verdict_document())
        monkeypatch.chdir(REPO_ROOT / "tests")

        reason = fine_tune_reason(config_with(), now=NOW, root=tmp_path)

        assert reason.kind == "verdict"

    def test_a_verdict_that_does_not_justify_is_refused_with_its_first_reasons(self, tmp_path: Path) -> None:
        write(
            tmp_path / "v.json",
            verdict_document(
                rung="rag",
                fineTuneJustified=False,
                reasons=[
                    "Knowledge gap: rag correctness 0.62 < target 0.80 while format compliance meets it."
                ],
            ),
        )

        with pytest.raises(FineTuneRefused) as refused:
            fine_tune_reason(config_with(fineTuneVerdict=str(tmp_path / "v.json")), now=NOW)

        assert "does not justify fine-tuning" in str(refused.value)
        assert "Knowledge gap: rag correctness 0.62 < target 0.80" in str(refused.value)
        first = str(refused.value).splitlines()[0]
        assert (
            first == "Refusing -c fineTune=true. To fix: deploy without -c fineTune=true: "
            "the measured rung is 'rag'."
        )

    def test_too_few_examples_leads_the_refusal_with_how_many_more_are_needed(self, tmp_path: Path) -> None:
        write(
            tmp_path / "v.json",
            verdict_document(
                rung="rag",
                fineTuneJustified=False,
                reasons=[
                    "Behaviour gap: rag format compliance 0.62 < target 0.95, but --data has 160 clean ..."
                ],
                data={
                    "path": "chats.jsonl",
                    "usable": False,
                    "clean": 160,
                    "minExamples": 200,
                    "missing": 40,
                },
            ),
        )

        with pytest.raises(FineTuneRefused) as refused:
            fine_tune_reason(config_with(fineTuneVerdict=str(tmp_path / "v.json")), now=NOW)

        first, found, override = str(refused.value).splitlines()
        assert first == (
            "Refusing -c fineTune=true. To fix: add 40 more clean examples to chats.jsonl "
            "(it has 160 of the 200 needed), then rerun "
            f"`ladder justify eval-runs/x --out {tmp_path / 'v.json'} --data chats.jsonl`."
        )
        assert "Behaviour gap: rag format compliance 0.62 < target 0.95" in found
        assert "fineTuneOverride" in override

    def test_an_expired_verdict_is_refused(self, tmp_path: Path) -> None:
        write(tmp_path / "v.json", verdict_document(expiresAt="2026-12-01T11:59:59Z"))

        with pytest.raises(FineTuneRefused, match=r"expired at 2026-12-01T11:59:59Z"):
            fine_tune_reason(config_with(fineTuneVerdict=str(tmp_path / "v.json")), now=NOW)

    def test_a_verdict_for_another_generation_model_is_refused(self, tmp_path: Path) -> None:
        write(
            tmp_path / "v.json",
            verdict_document(generationModelId="us.anthropic.claude-3-haiku-20240307-v1:0"),
        )

        with pytest.raises(FineTuneRefused) as refused:
            fine_tune_reason(config_with(fineTuneVerdict=str(tmp_path / "v.json")), now=NOW)

        assert "us.anthropic.claude-3-haiku-20240307-v1:0" in str(refused.value)
        assert f"this deployment uses {MODEL}" in str(refused.value)

    @pytest.mark.parametrize(
        ("content", "expected"),
        [
            ("{not json", "not valid JSON"),
            (json.dumps({**verdict_document(), "extra": 1}), "unknown key 'extra'"),
            (json.dumps({k: v for k, v in verdict_document().items() if k != "arms"}), "missing key 'arms'"),
            (
                json.dumps(verdict_document(fineTuneJustified="yes")),
                "fineTuneJustified must be true or false",
            ),
            (json.dumps(verdict_document(createdAt="2026-11-30T10:00:00")), "must carry a UTC offset"),
            (
                json.dumps(verdict_document(schemaVersion=4)),
                "schemaVersion must be a whole number from 1 to 3",
            ),
            (
                json.dumps(verdict_document(schemaVersion=2, rung="fewshot", fineTuneJustified=False)),
                "rung 'fewshot' needs schemaVersion 3 or later, got 2",
            ),
            (json.dumps(verdict_document(schemaVersion="2")), "schemaVersion must be a whole number"),
            (json.dumps(verdict_document(rules={"7": "kept"})), "rules must be a list of objects"),
        ],
    )
    def test_an_unusable_verdict_file_is_refused_naming_the_problem(
        self, tmp_path: Path, content: str, expected: str
    ) -> None:
        (tmp_path / "v.json").write_text(content)

        with pytest.raises(FineTuneRefused, match="is not usable") as refused:
            fine_tune_reason(config_with(fineTuneVerdict=str(tmp_path / "v.json")), now=NOW)

        assert expected in str(refused.value)

    def test_a_schema_2_verdict_with_rules_is_accepted_as_is_a_version_1_one(self, tmp_path: Path) -> None:
        """Version 2 adds keys only (schemaVersion, rules, data.evalOverlap): the gate reads both."""
        version_2 = verdict_document(
            schemaVersion=2,
            rules=[{"number": 7, "name": "Fine-tuned model measured", "outcome": "decides", "detail": "..."}],
            data={"clean": 240, "minExamples": 200, "evalOverlap": {"exact": 0, "near": 0, "ids": []}},
        )
        write(tmp_path / "v2.json", version_2)
        write(tmp_path / "v1.json", verdict_document())

        for name in ("v1.json", "v2.json"):
            reason = fine_tune_reason(config_with(fineTuneVerdict=str(tmp_path / name)), now=NOW)
            assert reason.kind == "verdict" and reason.rung == "finetune"

    def test_a_schema_3_fewshot_verdict_is_valid_and_refuses_fine_tuning_naming_the_rung(
        self, tmp_path: Path
    ) -> None:
        """Version 3 adds the rung ``fewshot``: a valid verdict that never justifies fine-tuning."""
        write(
            tmp_path / "v3.json",
            verdict_document(schemaVersion=3, rung="fewshot", fineTuneJustified=False, reasons=["Few-shot"]),
        )

        with pytest.raises(FineTuneRefused) as refused:
            fine_tune_reason(config_with(fineTuneVerdict=str(tmp_path / "v3.json")), now=NOW)

        assert "(rung 'fewshot') does not justify fine-tuning" in str(refused.value)
        assert "the measured rung is 'fewshot'" in str(refused.value)

    def test_a_justified_current_verdict_for_the_model_is_accepted_with_its_headline(
        self, tmp_path: Path
    ) -> None:
        write(tmp_path / "v.json", verdict_document())

        reason = fine_tune_reason(config_with(fineTuneVerdict=str(tmp_path / "v.json")), now=NOW)

        assert reason.to_metadata() == {
            "kind": "verdict",
            "reason": verdict_document()["reasons"][0],
            "rung": "finetune",
            "verdictCreatedAt": "2026-11-30T10:00:00Z",
            "expiresAt": "2027-02-28T10:00:00Z",
            "headline": {
                "evalItems": 40,
                "evalSetSha256": "ab" * 32,
                "arms": {
                    "prompt": {"correctness": "0.41", "formatCompliance": "0.55"},
                    "rag": {"correctness": "0.86", "formatCompliance": "0.62"},
                },
            },
        }

    def test_the_recorded_reason_holds_no_float_for_cloudformation_metadata(self, tmp_path: Path) -> None:
        """cfn-lint E4002 (CloudFormation template anatomy, Metadata): metadata values are strings, integers,
        objects, arrays or booleans; a float such as 0.62 is not one of them. Rates are kept as their decimal
        strings, counts as integers."""
        write(tmp_path / "v.json", verdict_document())

        metadata = fine_tune_reason(
            config_with(fineTuneVerdict=str(tmp_path / "v.json")), now=NOW
        ).to_metadata()

        def floats(value: Any) -> list[Any]:
            if isinstance(value, dict):
                return [f for item in value.values() for f in floats(item)]
            if isinstance(value, list):
                return [f for item in value for f in floats(item)]
            return [value] if isinstance(value, float) else []

        assert floats(metadata) == []
        assert metadata["headline"]["evalItems"] == 40
        assert float(metadata["headline"]["arms"]["rag"]["formatCompliance"]) == 0.62

    def test_an_override_shorter_than_20_characters_fails_config(self) -> None:
        with pytest.raises(ConfigError, match=r"fineTuneOverride=.*at least 20 characters \(got 9\)"):
            config_with(fineTuneOverride="because!!")

    def test_an_override_goes_on_without_reading_the_verdict(self, tmp_path: Path) -> None:
        (tmp_path / "v.json").write_text("{broken")
        reason_text = "Pilot for the legal team, approved by the platform board"

        reason = fine_tune_reason(
            config_with(fineTuneVerdict=str(tmp_path / "v.json"), fineTuneOverride=reason_text), now=NOW
        )

        assert reason.to_metadata()["kind"] == "override"
        assert reason.to_metadata()["reason"] == reason_text
        assert reason.to_metadata()["headline"] is None

    def test_validate_rejects_a_justified_verdict_whose_rung_is_not_finetune(self) -> None:
        with pytest.raises(VerdictError, match="only with rung 'finetune'"):
            validate(verdict_document(rung="rag"))

    def test_tag_value_keeps_the_allowed_characters_and_the_length_limit(self) -> None:
        value = tag_value('override: "ship it", says <Zoë> & Co; 100% sure ' + "x" * 300)

        assert value.startswith("override: ship it says Zo Co 100 sure x")
        assert len(value) == 256
        assert all((c.isascii() and c.isalnum()) or c in " _.:/=+-@" for c in value)


class TestSynth:
    """The gate inside the app: what synth builds, refuses and records."""

    @pytest.mark.synth
    def test_synth_without_a_verdict_builds_nothing_and_fails(self, tmp_path: Path) -> None:
        with pytest.raises(FineTuneRefused):
            synthesize(
                tmp_path / "out", {"fineTune": "true", "fineTuneVerdict": str(tmp_path / "absent.json")}
            )

        assert not (tmp_path / "out" / "manifest.json").exists()

    @pytest.mark.synth
    def test_synth_with_fine_tune_off_never_reads_the_verdict(self, tmp_path: Path, synth) -> None:
        synthesized = synth({"fineTuneVerdict": str(tmp_path / "absent.json")})

        assert not any(name.endswith("FineTune") for name in synthesized.templates)

    @pytest.mark.synth
    def test_app_exits_2_with_one_paragraph_and_no_traceback(self, tmp_path: Path) -> None:
        context = {**default_context(), "fineTune": "true", "fineTuneVerdict": str(tmp_path / "absent.json")}
        env = {
            **os.environ,
            "CDK_CONTEXT_JSON": json.dumps(context),
            "CDK_OUTDIR": str(tmp_path / "out"),
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        }

        result = subprocess.run(
            [sys.executable, "app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
        )

        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        lines = result.stderr.splitlines()
        start = next(
            n for n, line in enumerate(lines) if line.startswith("Refusing -c fineTune=true. To fix:")
        )
        assert "no verdict file" in lines[start + 1] and "fineTuneOverride" in lines[start + 2]

    @pytest.mark.synth
    def test_template_records_a_verdict_reason_in_metadata_description_tag_and_nag_report(
        self, tmp_path: Path, synth
    ) -> None:
        path = write(tmp_path / "v.json", verdict_document(expiresAt=_in_days(90)))

        synthesized = synth({"fineTune": "true", "fineTuneVerdict": str(path)})

        template = synthesized.template("FineTune")
        recorded = template["Metadata"][REASON_METADATA_KEY]
        assert recorded["kind"] == "verdict" and recorded["rung"] == "finetune"
        assert recorded["headline"]["arms"]["rag"] == {"correctness": "0.86", "formatCompliance": "0.62"}
        assert "why: verdict finetune of 2026-11-30T10:00:00Z" in template["Description"]
        (tag,) = _reason_tags(template)
        assert tag.startswith("verdict finetune of 2026-11-30T10:00:00Z")
        nag_report.write_report(synthesized.outdir)
        report = (synthesized.outdir / "nag-report.md").read_text()
        assert "**Verdict**: rung `finetune`, measured 2026-11-30T10:00:00Z" in report
        assert "| rag | 0.860 | 0.620 |" in report

    @pytest.mark.synth
    def test_template_records_an_override_reason(self, synth) -> None:
        synthesized = synth(FINE_TUNE_ON)

        template = synthesized.template("FineTune")
        # The CDK leaves null values out of a template, so the keys without a value are absent there.
        assert template["Metadata"][REASON_METADATA_KEY] == {
            "kind": "override",
            "reason": FINE_TUNE_ON["fineTuneOverride"],
        }
        assert f"why: override: {FINE_TUNE_ON['fineTuneOverride']}" in template["Description"]
        assert _reason_tags(template) == {tag_value(f"override: {FINE_TUNE_ON['fineTuneOverride']}")}
        nag_report.write_report(synthesized.outdir)
        assert (
            f"**Override** (no justified verdict): {FINE_TUNE_ON['fineTuneOverride']}"
            in (synthesized.outdir / "nag-report.md").read_text()
        )


def _in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="seconds").replace("+00:00", "Z")


def _reason_tags(template: dict[str, Any]) -> set[str]:
    """The reason tag's values on every resource that carries the project tag (list-form Tags)."""
    values = set()
    for resource in template["Resources"].values():
        tags = resource.get("Properties", {}).get("Tags")
        if isinstance(tags, list) and any(tag.get("Key") == "project" for tag in tags):
            values |= {tag["Value"] for tag in tags if tag.get("Key") == REASON_TAG_KEY}
            assert any(tag.get("Key") == REASON_TAG_KEY for tag in tags), "every tagged resource has it"
    return values
