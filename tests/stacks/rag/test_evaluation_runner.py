"""Evaluating in AWS: the evaluations bucket, the evaluation function's permissions and the state machine
(plan -> Map over chunks -> summarise) in the RAG API stack."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.stub import Stubber
from moto import mock_aws

from lambdas.evaluate import constants, runs
from stacks.rag.evaluation_runner import ERROR_FAILED, ERROR_INVALID_INPUT, evaluation_state_machine_name
from tests.lambdas.evaluate.test_runs import ANSWERS, BUCKET, ITEMS, SETTINGS, invoke_response, rag_body
from tests.stacks.conftest import COMBINATIONS
from tests.stacks.fine_tune.asl import text_of
from tests.stacks.rag.templates import rag, rag_function, role_statements
from tests.support.synth import Synthesized, as_list, references, resources


def evaluate_function(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    found = [
        (k, f)
        for k, f in resources(template, "AWS::Lambda::Function").items()
        if f["Properties"].get("Handler") == "evaluate.handler.handler"
    ]
    assert len(found) == 1
    return found[0]


def evaluation_machine(template: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The state machine named ``name`` and its States Language document (references as placeholders)."""
    found = [
        machine
        for machine in resources(template, "AWS::StepFunctions::StateMachine").values()
        if machine["Properties"].get("StateMachineName") == name
    ]
    assert len(found) == 1
    body = found[0]["Properties"]["DefinitionString"]
    text = body if isinstance(body, str) else "".join(text_of(p) for p in body["Fn::Join"][1])
    return found[0], json.loads(text)


def bucket_id(template: dict[str, Any]) -> str:
    output = template["Outputs"]["EvaluationsBucket"]
    (logical_id,) = references(output["Value"])
    assert template["Resources"][logical_id]["Type"] == "AWS::S3::Bucket"
    return logical_id


def test_the_evaluations_bucket_is_an_output_and_follows_the_bucket_baseline(sandbox: Synthesized) -> None:
    template = rag(sandbox)
    bucket = template["Resources"][bucket_id(template)]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_the_function_reads_staged_sets_writes_runs_and_invokes_only_the_rag_function(
    sandbox: Synthesized,
) -> None:
    template = rag(sandbox)
    _, function = evaluate_function(template)
    rag_id, rag_fn = rag_function(template)
    bucket = bucket_id(template)
    statements = role_statements(template, function)

    def objects(statement: dict[str, Any]) -> str:
        (resource,) = as_list(statement["Resource"])
        assert references(resource) == {bucket}
        return str(resource["Fn::Join"][1][-1])

    assert as_list(statements["ReadStagedSets"]["Action"]) == ["s3:GetObject"]
    assert objects(statements["ReadStagedSets"]) == "/staged/*"
    assert sorted(as_list(statements["ReadWriteRuns"]["Action"])) == ["s3:GetObject", "s3:PutObject"]
    assert objects(statements["ReadWriteRuns"]) == "/runs/*"
    listing = statements["ListStagedAndRuns"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["staged/*", "runs/*"]}}
    invoke = statements["InvokeRagFunctionDirectly"]
    assert invoke["Action"] == "lambda:InvokeFunction"
    assert invoke["Resource"] == {"Fn::GetAtt": [rag_id, "Arn"]}
    # And with an examples store (the default), the one manifest object, as the RAG function reads it
    manifest = statements["ReadExamplesManifest"]
    assert manifest["Action"] == "s3:GetObject"
    assert manifest["Resource"] == role_statements(template, rag_fn)["ReadExamplesManifest"]["Resource"]
    # And no other statement of the role reaches Lambda, S3 or Bedrock
    granted = (
        "ReadStagedSets",
        "ReadWriteRuns",
        "ListStagedAndRuns",
        "InvokeRagFunctionDirectly",
        "ReadExamplesManifest",
    )
    others = {
        action
        for sid, statement in statements.items()
        if sid not in granted
        for action in as_list(statement["Action"])
    }
    assert not {a for a in others if a.split(":")[0] in ("lambda", "s3", "bedrock")}, others


def test_the_function_has_lambdas_longest_timeout_and_the_rag_functions_timeout(sandbox: Synthesized) -> None:
    template = rag(sandbox)
    _, function = evaluate_function(template)
    _, rag_fn = rag_function(template)
    properties = function["Properties"]
    assert properties["Timeout"] == constants.FUNCTION_TIMEOUT_S == 900
    variables = properties["Environment"]["Variables"]
    assert variables["RAG_TIMEOUT_S"] == str(rag_fn["Properties"]["Timeout"])
    assert variables["RAG_MEMORY_MB"] == str(rag_fn["Properties"]["MemorySize"])
    assert variables["VECTOR_STORE"] == sandbox.config.vector_store
    assert references(variables["RAG_FUNCTION"]) == {rag_function(template)[0]}


def test_the_state_machine_plans_answers_chunks_in_a_bounded_map_and_summarises(sandbox: Synthesized) -> None:
    template = rag(sandbox)
    machine, asl = evaluation_machine(template, evaluation_state_machine_name(sandbox.config))
    assert evaluation_state_machine_name(sandbox.config) == f"{sandbox.config.stack_prefix}-evaluation"
    states = asl["States"]
    # Plan -> AnswerChunks (Map) -> Summarise, whose result is the execution's output
    assert asl["StartAt"] == "Plan"
    plan, chunks, summarise = states["Plan"], states["AnswerChunks"], states["Summarise"]
    assert plan["Next"] == "AnswerChunks" and chunks["Next"] == "Summarise" and summarise.get("End") is True
    assert plan["Parameters"] == {
        "action": "plan",
        "input.$": "$",
        "executionName.$": "$$.Execution.Name",
    }
    assert chunks["Type"] == "Map" and chunks["ItemsPath"] == "$.plan.chunks"
    assert chunks["MaxConcurrency"] == constants.MAP_MAX_CONCURRENCY
    assert chunks["ItemSelector"]["action"] == "answer"
    assert chunks["ItemSelector"]["chunk.$"] == "$$.Map.Item.Value"
    # Each task invokes the evaluation function; the Map's iteration input is its ItemSelector's object
    function = "${" + evaluate_function(template)[0] + ".Arn}"
    (answer,) = chunks["ItemProcessor"]["States"].values()
    assert answer["Type"] == "Task" and "Parameters" not in answer
    assert plan["Resource"] == answer["Resource"] == summarise["Resource"] == function
    assert "ResultPath" not in summarise and "OutputPath" not in summarise
    # And every failure ends the execution failed, with a named error
    for name in ("Plan", "AnswerChunks", "Summarise"):
        ends = {states[catch["Next"]]["Error"] for catch in states[name]["Catch"]}
        assert ERROR_FAILED in ends, name
        assert all(states[catch["Next"]]["Type"] == "Fail" for catch in states[name]["Catch"])
    assert {
        states[catch["Next"]]["Error"] for catch in plan["Catch"] if catch["ErrorEquals"] == ["InvalidInput"]
    } == {ERROR_INVALID_INPUT}
    # And it is traced and logged
    properties = machine["Properties"]
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert properties["LoggingConfiguration"]["Level"] == "ALL"


def test_only_the_state_machine_invokes_the_evaluation_function(sandbox: Synthesized) -> None:
    template = rag(sandbox)
    function_id, _ = evaluate_function(template)
    invokers = [
        policy["Properties"]["Roles"]
        for policy in resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "lambda:InvokeFunction" in as_list(statement["Action"])
        and function_id in references(statement["Resource"])
    ]
    machine_roles = {
        next(iter(references(m["Properties"]["RoleArn"])))
        for m in resources(template, "AWS::StepFunctions::StateMachine").values()
    }
    assert invokers and all(references(roles) <= machine_roles for roles in invokers)


def test_without_an_examples_store_the_function_reads_no_manifest(synth: Any) -> None:
    template = rag(synth(COMBINATIONS["sandbox-no-fewshot"]))
    _, function = evaluate_function(template)
    assert "ReadExamplesManifest" not in role_statements(template, function)
    assert function["Properties"]["Environment"]["Variables"]["EXAMPLES_MANIFEST_BUCKET"] == ""


def resolve(template_object: dict[str, Any], state: Any, context: dict[str, Any]) -> dict[str, Any]:
    """A Parameters/ItemSelector object evaluated as Step Functions does for the simple paths used here:
    ``key.$`` with ``$`` (the state input), ``$.a.b`` or ``$$.a.b`` (the context object)."""

    def path(text: str) -> Any:
        root, parts = (context, text[3:]) if text.startswith("$$.") else (state, text[2:])
        value = root
        for part in filter(None, parts.split(".")):
            value = value[part]
        return value

    return {
        (key[:-2] if key.endswith(".$") else key): (path(value) if key.endswith(".$") else value)
        for key, value in template_object.items()
    }


def test_the_definitions_data_flow_drives_the_function_from_input_to_output(sandbox: Synthesized) -> None:
    # Given the synthesized definition, a staged set in moto S3 and the RAG function stubbed at Invoke
    _, asl = evaluation_machine(rag(sandbox), evaluation_state_machine_name(sandbox.config))
    states = asl["States"]
    execution_input = {
        "purpose": "manual",
        "evalSet": {"bucket": BUCKET, "key": "staged/s.jsonl"},
        "arms": ["rag"],
    }
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="staged/s.jsonl", Body="".join(json.dumps(i) + "\n" for i in ITEMS))
        rag_client = boto3.client("lambda", region_name="us-east-1")
        with Stubber(rag_client) as stub:
            for item in ITEMS:
                stub.add_response("invoke", invoke_response(200, rag_body("rag", ANSWERS[item["id"]])))
            context: dict[str, Any] = {"Execution": {"Name": "manual-1"}}
            # When each state's payload is built from the definition and handed to the function
            state: dict[str, Any] = dict(execution_input)
            plan_event = resolve(states["Plan"]["Parameters"], state, context)
            assert plan_event["action"] == constants.PLAN
            state["plan"] = runs.plan(s3, SETTINGS, plan_event, datetime(2026, 12, 3, tzinfo=UTC))
            chunks = states["AnswerChunks"]
            for item in resolve({"items.$": chunks["ItemsPath"]}, state, context)["items"]:
                event = resolve(chunks["ItemSelector"], state, {**context, "Map": {"Item": {"Value": item}}})
                assert event["action"] == constants.ANSWER
                runs.answer(s3, rag_client, SETTINGS, event, sleep=lambda _: None)
            summary_event = resolve(states["Summarise"]["Parameters"], state, context)
            assert summary_event["action"] == constants.SUMMARISE
            output = runs.summarise_run(s3, SETTINGS, summary_event)
            stub.assert_no_pending_responses()
    # Then the execution's output is contract 6's, for the run the input asked for
    assert set(output) == {"runId", "bucket", "prefix", "arms", "summary"}
    assert output["runId"] == "20261203T000000Z-manual-manual-1" and output["arms"] == ["rag"]
    assert set(output["summary"]) == {"arms", "differences"} and output["summary"]["arms"]["rag"]["n"] == 3


def test_one_bucket_holds_the_judges_jobs_and_the_runs_in_aws(sandbox: Synthesized) -> None:
    """The judge's evaluation jobs (EvaluationBucketName, under evaluations/) and the runs in AWS
    (EvaluationsBucket, under staged/ and runs/) share the stack's one evaluation bucket."""
    template = rag(sandbox)
    assert references(template["Outputs"]["EvaluationBucketName"]["Value"]) == {bucket_id(template)}
    evaluation_buckets = [
        logical_id
        for logical_id in resources(template, "AWS::S3::Bucket")
        if logical_id.startswith(("Evaluation", "DriftWatch")) and "AccessLogs" not in logical_id
    ]
    assert evaluation_buckets == [bucket_id(template)]


def test_the_fine_tuned_arms_units_are_read_only_with_the_fine_tune_stack(
    sandbox: Synthesized, synth: Any
) -> None:
    """GetImportedModel takes the model's ARN or name (Amazon Bedrock API Reference, GetImportedModel:
    modelIdentifier ``arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:imported-model/[a-z0-9]{12}``); the
    function builds that ARN from the prefix and the answer's ``imported-model/<id>``, and may read only
    this account's imported models in this region."""
    # Without fine-tuning: no grant, no ARN prefix, so the function never calls Bedrock's control plane
    template = rag(sandbox)
    _, function = evaluate_function(template)
    assert "ReadImportedModelUnits" not in role_statements(template, function)
    assert function["Properties"]["Environment"]["Variables"]["IMPORTED_MODEL_ARN_PREFIX"] == ""
    # With it: GetImportedModel alone, on this account's imported models in this region
    template = rag(synth(COMBINATIONS["sandbox-finetune"]))
    _, function = evaluate_function(template)
    statement = role_statements(template, function)["ReadImportedModelUnits"]
    assert statement["Action"] == "bedrock:GetImportedModel"
    partition, region, account = ({"Ref": f"AWS::{name}"} for name in ("Partition", "Region", "AccountId"))
    own = ["arn:", partition, ":bedrock:", region, ":", account]
    assert statement["Resource"] == {"Fn::Join": ["", [*own, ":imported-model/*"]]}
    prefix = function["Properties"]["Environment"]["Variables"]["IMPORTED_MODEL_ARN_PREFIX"]
    assert prefix == {"Fn::Join": ["", [*own, ":"]]}
