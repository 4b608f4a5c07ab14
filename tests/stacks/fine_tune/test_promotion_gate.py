"""The promotion gate in the fine-tune template: the permissions it adds and the evaluation task's limits.

The branches themselves (promote, reject, evaluation failure) are followed in test_pipeline_paths.py.
"""

from __future__ import annotations

from typing import Any

from stacks.fine_tune.pipeline import EVALUATION_TIMEOUT_HOURS, IMPORT_ALLOWANCE_HOURS
from tests.stacks.fine_tune.asl import definition, text_of
from tests.support.synth import as_list, policy_statements

SYNC_RESOURCE = ":states:::states:startExecution.sync:2"


def _text(value: Any) -> str:
    """A policy resource as text, references shown as placeholders."""
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(text_of(piece) for piece in value["Fn::Join"][1])
    return value if isinstance(value, str) else text_of(value)


def _granted(template: dict[str, Any], action: str) -> list[dict[str, Any]]:
    found = [s for _, s in policy_statements(template) if action in as_list(s["Action"])]
    assert found, f"nothing grants {action}"
    return found


def test_the_sync_integration_may_start_follow_and_stop_only_the_evaluation_state_machine(default) -> None:
    """Step Functions Developer Guide, "IAM policies for starting a nested workflow execution"
    (Synchronous): states:StartExecution on ``stateMachine:<name>``; states:DescribeExecution and
    states:StopExecution on ``execution:<name>:*``; events:PutTargets, PutRule and DescribeRule on
    ``rule/StepFunctionsGetEventsForStepFunctionsExecutionRule``."""
    template = default.template("FineTune")
    name = f"{default.config.stack_prefix}-evaluation"
    (start,) = _granted(template, "states:StartExecution")
    assert _text(start["Resource"]).endswith(f":stateMachine:{name}")
    (follow,) = _granted(template, "states:DescribeExecution")
    assert set(as_list(follow["Action"])) == {"states:DescribeExecution", "states:StopExecution"}
    # CDK writes execution:<name>* (the documented form is execution:<name>:*)
    assert _text(follow["Resource"]).endswith(f":execution:{name}*")
    (rule,) = _granted(template, "events:PutRule")
    assert set(as_list(rule["Action"])) == {"events:PutTargets", "events:PutRule", "events:DescribeRule"}
    assert _text(rule["Resource"]).endswith(":rule/StepFunctionsGetEventsForStepFunctionsExecutionRule")


def test_the_gate_function_reads_only_staged_verdicts_and_tags_only_imported_models(default) -> None:
    """Amazon Bedrock API Reference, TagResource: the resource ARN pattern includes
    ``imported-model/[a-z0-9]{12}``; the staged verdict lies under staged/promotion/ of the RAG API stack's
    evaluations bucket (whose name this stack does not know), limited to this account's buckets with the
    ``s3:ResourceAccount`` condition key (Service Authorization Reference, Amazon S3 condition keys)."""
    template = default.template("FineTune")
    (read,) = [s for s in _granted(template, "s3:GetObject") if "staged/promotion" in _text(s["Resource"])]
    assert _text(read["Resource"]).endswith(":s3:::*/staged/promotion/*")
    assert list(read["Condition"]["StringEquals"]) == ["s3:ResourceAccount"]
    tagging = _granted(template, "bedrock:TagResource")
    assert all(_text(s["Resource"]).endswith(":imported-model/*") for s in tagging)


def test_the_evaluation_task_is_capped_within_the_executions_allowance(default) -> None:
    asl = definition(default.template("FineTune"))
    (evaluate,) = [s for s in asl["States"].values() if s.get("Resource", "").endswith(SYNC_RESOURCE)]
    # A hung evaluation is stopped (StopExecution above) after its cap, which leaves the import room in the
    # execution's allowance beyond the training job's own cap
    assert evaluate["TimeoutSeconds"] == EVALUATION_TIMEOUT_HOURS * 3600
    assert EVALUATION_TIMEOUT_HOURS < IMPORT_ALLOWANCE_HOURS
    # And the candidate is answered through the evaluation with the run's own candidate ARN
    arguments = evaluate["Parameters"]["Input"]
    assert arguments["candidateModelArn.$"] == "$.importJob.ImportedModelArn"
    assert arguments["arms.$"] == "$.promotionArms"
    assert arguments["purpose"] == "promotion"
