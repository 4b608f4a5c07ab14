"""The fine-tune definition run on paper: every path, with what each state really receives and returns."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stacks.config import is_gated_model
from stacks.fine_tune.pipeline import GATE_INPUT_KEYS
from tests.stacks.fine_tune.asl import is_notification
from tests.support.synth import Synthesized, only, resources

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events" / "fine_tune"
DATASET = Path(__file__).resolve().parents[2] / "events" / "validate_dataset" / "support_chats.jsonl"
VERDICT = Path(__file__).resolve().parents[2] / "stacks" / "fixtures" / "justified-verdict.json"
ACCOUNT = "123456789012"
EXECUTION_NAME = "ladder-20250301T093000Z"  # as `ladder finetune start` names executions
STATE_MACHINE_NAME = "PipelineStateMachine1A2B3C4D-Ab12Cd34Ef56"
SAMPLE_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
EVALUATION_ENTERED = "2025-03-01T16:04:05.123Z"
"""``$$.State.EnteredTime`` as Step Functions gives it (Developer Guide, Context object: ISO 8601, ms, Z)."""
EVALUATION_RUN_ID = f"20250301T160405Z-promotion-{EXECUTION_NAME}"
"""Contract 5: ``<UTC %Y%m%dT%H%M%SZ>-<purpose>-<executionName>``."""
EVALUATION_STATE_MACHINE = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:Ladder-evaluation"


def verdict_document() -> dict[str, Any]:
    """The staged verdict: the justified fixture with the targets `ladder justify` writes today."""
    document = json.loads(VERDICT.read_text())
    document["targets"].update(correctness=0.8, formatCompliance=0.9, maxCorrectnessDrop=0.05)
    return document


class MissingPath(AssertionError):
    """A state reads a path its input does not hold: in AWS the execution fails with States.Runtime."""


def _sample(template: dict[str, Any], piece: Any, region: str) -> str:
    """A realistic deploy-time value for one Fn::Join piece of the definition."""
    pseudo = {"AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": ACCOUNT}
    if isinstance(piece, str):
        return piece
    if "Ref" in piece:
        if piece["Ref"] in pseudo:
            return pseudo[piece["Ref"]]
        resource = template["Resources"][piece["Ref"]]
        by_type = {
            "AWS::S3::Bucket": f"ladder-{piece['Ref'].lower()}"[:63],
            "AWS::SNS::Topic": f"arn:aws:sns:{region}:{ACCOUNT}:{piece['Ref']}",
            "AWS::SSM::Parameter": str(resource["Properties"].get("Name")),
        }
        return by_type[resource["Type"]]
    if "Fn::GetAtt" in piece:
        logical_id, attribute = piece["Fn::GetAtt"]
        assert attribute == "Arn", piece
        return {
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{logical_id}",
            "AWS::KMS::Key": f"arn:aws:kms:{region}:{ACCOUNT}:key/{SAMPLE_KEY_ID}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{logical_id}",
        }[template["Resources"][logical_id]["Type"]]
    if "Fn::Sub" in piece and isinstance(piece["Fn::Sub"], str):
        text = piece["Fn::Sub"]
        for name, value in pseudo.items():
            text = text.replace(f"${{{name}}}", value)
        assert "${" not in text, text
        return text
    raise AssertionError(f"no sample value for {piece}")


def deployed_definition(synthesized: Synthesized) -> dict[str, Any]:
    """The definition as Step Functions would receive it, references replaced by realistic values."""
    template = synthesized.template("FineTune")
    _, machine = only(template, "AWS::StepFunctions::StateMachine")
    body = machine["Properties"]["DefinitionString"]
    pieces = [body] if isinstance(body, str) else body["Fn::Join"][1]
    return json.loads("".join(_sample(template, p, synthesized.config.region) for p in pieces))


def _read(path: str, data: Any, context: dict[str, Any]) -> Any:
    if path == "$":
        return data
    root, rest = (context, path[3:]) if path.startswith("$$.") else (data, path[2:])
    assert path.startswith(("$.", "$$.")), f"unsupported path {path}"
    value = root
    for part in rest.split("."):
        if not isinstance(value, dict) or part not in value:
            raise MissingPath(f"{path} is not in {json.dumps(root, default=str)[:800]}")
        value = value[part]
    return value


def _evaluate(expression: str, data: Any, context: dict[str, Any]) -> Any:
    value, rest = _intrinsic(expression.strip(), data, context)
    assert not rest.strip(), f"unparsed: {rest!r} in {expression}"
    return value


def _intrinsic(text: str, data: Any, context: dict[str, Any]) -> tuple[Any, str]:
    """One argument of an intrinsic (a quoted string, a path, or a nested States.Format / ArrayGetItem /
    StringSplit), evaluated as Step Functions does; the text after it."""
    if text.startswith("'"):
        end = text.index("'", 1)
        return text[1:end], text[end + 1 :]
    if text.startswith("$"):
        path = re.match(r"\$[^,)\s]*", text)
        assert path, text
        return _read(path.group(0), data, context), text[path.end() :]
    if text[:1].isdigit():
        number = re.match(r"\d+", text)
        assert number, text
        return int(number.group(0)), text[number.end() :]
    name = re.match(r"States\.(\w+)\(", text)
    assert name, f"intrinsic not modelled: {text}"
    args, rest = [], text[name.end() :]
    while True:
        value, rest = _intrinsic(rest.lstrip(), data, context)
        args.append(value)
        rest = rest.lstrip()
        if rest.startswith(")"):
            rest = rest[1:]
            break
        assert rest.startswith(","), rest
        rest = rest[1:]
    function = name.group(1)
    if function == "Format":
        template, *values = args
        assert template.count("{}") == len(values), text
        for value in values:
            template = template.replace("{}", str(value), 1)
        return template, rest
    if function == "StringSplit":
        # Each character of the splitter splits; empty pieces are dropped
        return [piece for piece in re.split(f"[{re.escape(args[1])}]", args[0]) if piece], rest
    if function == "ArrayGetItem":
        return args[0][args[1]], rest
    raise AssertionError(f"intrinsic not modelled: States.{function}")


def _resolve(template: Any, data: Any, context: dict[str, Any]) -> Any:
    """Parameters / ResultSelector: every ``key.$`` replaced by the value its path selects."""
    if isinstance(template, dict):
        return {
            key.removesuffix(".$"): _evaluate(value, data, context)
            if key.endswith(".$")
            else _resolve(value, data, context)
            for key, value in template.items()
        }
    if isinstance(template, list):
        return [_resolve(value, data, context) for value in template]
    return template


def _place(data: Any, result_path: str | None, result: Any) -> Any:
    if result_path is None:  # "ResultPath": null keeps the input as it was
        return data
    if result_path == "$":
        return result
    assert result_path.startswith("$."), result_path
    placed = json.loads(json.dumps(data))
    target = placed
    *parents, last = result_path[2:].split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = result
    return placed


def _matches(rule: dict[str, Any], data: Any, context: dict[str, Any]) -> bool:
    # Every operand of And / Or is evaluated: the definition must not rely on short-circuiting.
    if "And" in rule:
        return all([_matches(inner, data, context) for inner in rule["And"]])
    if "Or" in rule:
        return any([_matches(inner, data, context) for inner in rule["Or"]])
    if "Not" in rule:
        return not _matches(rule["Not"], data, context)
    if "IsPresent" in rule:
        try:
            _read(rule["Variable"], data, context)
        except MissingPath:
            return not rule["IsPresent"]
        return bool(rule["IsPresent"])
    value = _read(rule["Variable"], data, context)
    if "IsString" in rule:
        return isinstance(value, str) == rule["IsString"]
    if "BooleanEquals" in rule:
        return isinstance(value, bool) and value == rule["BooleanEquals"]
    if "StringEquals" in rule:
        return isinstance(value, str) and value == rule["StringEquals"]
    if "StringMatches" in rule:
        pattern = ".*".join(re.escape(part) for part in rule["StringMatches"].split("*"))
        return isinstance(value, str) and re.fullmatch(pattern, value) is not None
    raise AssertionError(f"choice rule not modelled: {rule}")


def _to_api(value: Any, shape: Any, where: str) -> Any:
    """Step Functions' parameter names (the API's member names, first letter capitalised) -> the API's."""
    if shape.type_name == "structure":
        assert isinstance(value, dict), f"{where} must be an object"
        members = {name[:1].upper() + name[1:]: name for name in shape.members}
        unknown = sorted(set(value) - set(members))
        assert not unknown, f"{where}: {unknown} are not members of {shape.name} ({sorted(members)})"
        return {
            members[key]: _to_api(inner, shape.members[members[key]], f"{where}.{key}")
            for key, inner in value.items()
        }
    if shape.type_name == "list":
        return [_to_api(inner, shape.member, f"{where}[]") for inner in value]
    if shape.type_name == "map":
        return {key: _to_api(inner, shape.value, f"{where}.{key}") for key, inner in value.items()}
    if shape.type_name == "string":
        assert isinstance(value, str), f"{where} must be a string, got {value!r}"
        assert len(value) <= shape.metadata.get("max", len(value)), f"{where} is too long: {value!r}"
        pattern = shape.metadata.get("pattern")
        if pattern and _python_regex(pattern):
            assert re.fullmatch(pattern, value), f"{where}={value!r} does not match {pattern}"
    return value


def _python_regex(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:  # Java-only classes such as \p{L}; botocore leaves those to the service too
        return False
    return True


@functools.cache
def _service_model(service: str) -> Any:
    """Each service's model, loaded once per run (a new botocore session re-reads the JSON every time)."""
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def _shape(service: str, operation: str, *, output: bool = False) -> Any:
    model = _service_model(service).operation_model(operation)
    return model.output_shape if output else model.input_shape


def assert_valid(service: str, operation: str, value: dict[str, Any], *, output: bool = False) -> None:
    """``value`` (in Step Functions' spelling) is a valid request or response of the real service model."""
    from botocore.validate import ParamValidator

    shape = _shape(service, operation, output=output)
    api = _to_api(value, shape, operation)
    report = ParamValidator().validate(api, shape)
    assert not report.has_errors(), report.generate_report()


def _event(name: str, **values: str) -> dict[str, Any]:
    text = (EVENTS_DIR / name).read_text()
    for key, value in values.items():
        text = text.replace(f"{{{key}}}", value)
    return json.loads(text)


Polls = dict[str, int]
"""How often each polling call has been made on one path (the first answer of each is 'still running')."""


@dataclass
class Services:
    """What each Task's service returns, after checking the request against the service's model."""

    import_outcome: str
    training_outcome: str = "Completed"
    requests: list[tuple[str, dict[str, Any]]] = dataclasses.field(default_factory=list)
    imported_from: str = ""
    output_path: str = ""
    candidate_low: float = -0.03
    """Lower bound of the candidate's paired correctness difference from the best other arm: above -0.05
    promotes, at or below rejects (the verdict's maxCorrectnessDrop)."""

    def call(self, resource: str, params: Any, polls: Polls) -> tuple[Any, Polls]:
        if (
            resource.startswith("arn:aws:lambda:")
            and "ImportedModels" in resource
            and params["action"] == "gate"
        ):
            self.requests.append(("gate", params))
            return self._gate(params), polls
        if resource.startswith("arn:aws:lambda:") and "ImportedModels" in resource:
            self.requests.append(("imported_models", params))
            assert params == {"action": params["action"], "pipeline": STATE_MACHINE_NAME}
            if params["action"] == "ensure_capacity":
                return {"importedModels": 1, "quota": 3, "deleted": []}, polls
            assert params["action"] == "prune"
            return {"deleted": ["ladder-20250101T000000Z"]}, polls
        if resource.startswith("arn:aws:lambda:"):
            self.requests.append(("validate", params))
            return self._validate_dataset(params), polls
        action = resource.split(":states:::", 1)[1]
        self.requests.append((action, params))
        if action == "aws-sdk:sagemaker:createTrainingJob":
            assert_valid("sagemaker", "CreateTrainingJob", params)
            self.output_path = params["OutputDataConfig"]["S3OutputPath"]
            arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/{params['TrainingJobName']}"
            assert_valid("sagemaker", "CreateTrainingJob", {"TrainingJobArn": arn}, output=True)
            return {"TrainingJobArn": arn}, polls
        if action == "aws-sdk:sagemaker:describeTrainingJob":
            assert_valid("sagemaker", "DescribeTrainingJob", params)
            job = params["TrainingJobName"]
            # SageMaker reports the uncompressed model's folder without the trailing "/" the import needs
            model_s3_uri = f"{self.output_path}{job}/output/model"
            described = _event("describe_training_job.json", job_name=job, model_s3_uri=model_s3_uri)
            if polls.get(action, 0) == 0:
                described.update(TrainingJobStatus="InProgress", SecondaryStatus="Training")
            elif self.training_outcome != "Completed":
                described.update(
                    TrainingJobStatus=self.training_outcome,
                    SecondaryStatus=self.training_outcome,
                    FailureReason="AlgorithmError: see the job's log",
                )
            assert_valid("sagemaker", "DescribeTrainingJob", described, output=True)
            return described, {**polls, action: polls.get(action, 0) + 1}
        if action == "aws-sdk:sagemaker:stopTrainingJob":
            assert_valid("sagemaker", "StopTrainingJob", params)
            return {}, polls
        if action == "aws-sdk:bedrock:createModelImportJob":
            assert_valid("bedrock", "CreateModelImportJob", params)
            self.imported_from = params["ModelDataSource"]["S3DataSource"]["S3Uri"]
            return _event("create_model_import_job.json"), polls
        if action == "aws-sdk:bedrock:getModelImportJob":
            assert_valid("bedrock", "GetModelImportJob", params)
            status = "in_progress" if polls.get(action, 0) == 0 else self.import_outcome
            names = {"job_name": EXECUTION_NAME, "model_s3_uri": self.imported_from}
            return _event(f"get_model_import_job_{status}.json", **names), {
                **polls,
                action: polls.get(action, 0) + 1,
            }
        if action == "aws-sdk:ssm:putParameter":
            assert_valid("ssm", "PutParameter", params)
            return {"Version": 2, "Tier": "Standard"}, polls
        if action == "states:startExecution.sync:2":
            assert params["StateMachineArn"] == EVALUATION_STATE_MACHINE
            assert set(params) == {"StateMachineArn", "Input"}, params
            return self._evaluation(params["Input"]), polls
        if action == "sns:publish":
            # The integration sends a JSON object Message as its text
            assert_valid("sns", "Publish", {**params, "Message": json.dumps(params["Message"])})
            return {"MessageId": "0f6c1c7e-4a3b-5d2e-8f9a-1b2c3d4e5f60"}, polls
        raise AssertionError(f"task resource not modelled: {resource}")

    def _evaluation(self, request: dict[str, Any]) -> dict[str, Any]:
        """DescribeExecution of the evaluation state machine (.sync:2: ``Output`` is JSON), its output per
        contract 6; the summary has the shape of ``summary.json``."""
        assert request["purpose"] == "promotion"
        assert request["runId"] == EVALUATION_RUN_ID
        assert set(request) == {"purpose", "runId", "evalSet", "arms", "candidateModelArn"}, request
        candidate = {
            "n": 40,
            "errors": 0,
            "correctness": 0.86,
            "formatCompliance": 0.95,
            "costPerQueryUsd": 0.00042,
            "ci95": {"correctness": [0.82, 0.9], "formatCompliance": [0.92, 0.98]},
        }
        best, fine_tuned = request["arms"]
        output = {
            "runId": request["runId"],
            "bucket": request["evalSet"]["bucket"],
            "prefix": f"runs/{request['runId']}/",
            "arms": request["arms"],
            "summary": {
                "arms": {
                    best: {**candidate, "correctness": 0.84, "costPerQueryUsd": 0.0011},
                    fine_tuned: candidate,
                },
                "differences": {
                    f"{fine_tuned}-{best}": {
                        "correctness": {"diff": 0.02, "ci95": [self.candidate_low, 0.07], "n": 40}
                    }
                },
            },
        }
        return {
            "ExecutionArn": f"{EVALUATION_STATE_MACHINE.replace(':stateMachine:', ':execution:')}:a1b2",
            "StateMachineArn": EVALUATION_STATE_MACHINE,
            "Status": "SUCCEEDED",
            "StartDate": 1740845045123,
            "StopDate": 1740845345123,
            "Input": json.dumps(request),
            "Output": output,
        }

    @staticmethod
    def _gate(params: dict[str, Any]) -> Any:
        """The gate function's real answer (moto S3 holds the staged verdict; Bedrock's TagResource through
        a Stubber that checks the tags against the service model)."""
        import boto3
        from botocore.stub import ANY, Stubber
        from moto import mock_aws

        from lambdas.imported_models.gate import evaluate_gate

        with mock_aws():
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket=params["verdict"]["bucket"])
            s3.put_object(
                Bucket=params["verdict"]["bucket"],
                Key=params["verdict"]["key"],
                Body=json.dumps(verdict_document()).encode(),
            )
            bedrock = boto3.client("bedrock", region_name="us-east-1")
            with Stubber(bedrock) as stub:
                stub.add_response("tag_resource", {}, {"resourceARN": params["modelArn"], "tags": ANY})
                return evaluate_gate(s3, bedrock, params)

    @staticmethod
    def _validate_dataset(params: Any) -> Any:
        """The validation function's real return value for the sample upload (moto S3)."""
        import boto3
        from moto import mock_aws

        from lambdas.validate_dataset.preparation import parse_request, prepare_dataset
        from training_jobs.dataprep import PrepOptions

        request = parse_request(params)
        with mock_aws():
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket=request.bucket)
            s3.put_object(Bucket=request.bucket, Key=request.key, Body=DATASET.read_bytes())
            return prepare_dataset(s3, request, PrepOptions(min_examples=5, eval_fraction=0.2)).to_output()


@dataclass(frozen=True)
class Route:
    """One way through the definition: the states passed (``!Error`` marks a caught error) and the end."""

    trail: tuple[str, ...]
    data: Any

    @property
    def end(self) -> str:
        return self.trail[-1]

    @property
    def caught(self) -> bool:
        return any(step.startswith("!") for step in self.trail)


def walk(asl: dict[str, Any], execution_input: dict[str, Any], services: Services) -> list[Route]:
    """Every path from StartAt, taking each Task's normal result and, separately, each of its Catches."""
    context = {
        "Execution": {
            "Name": EXECUTION_NAME,
            "Id": f"arn:aws:states:us-east-1:{ACCOUNT}:execution:{STATE_MACHINE_NAME}:{EXECUTION_NAME}",
        },
        "StateMachine": {
            "Name": STATE_MACHINE_NAME,
            "Id": f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:{STATE_MACHINE_NAME}",
        },
        "State": {"EnteredTime": EVALUATION_ENTERED},
    }
    paths: list[Route] = []
    pending: list[tuple[str, Any, tuple[str, ...], Polls]] = [(asl["StartAt"], execution_input, (), {})]
    while pending:
        name, data, trail, polls = pending.pop()
        trail = (*trail, name)
        assert len(trail) < 40, f"no end in sight: {trail}"
        state = asl["States"][name]
        assert not {"InputPath", "OutputPath"} & set(state), f"{name}: paths not modelled"
        if state["Type"] in ("Succeed", "Fail"):
            if "CausePath" in state:
                assert isinstance(_read(state["CausePath"], data, context), str), name
            paths.append(Route(trail, data))
        elif state["Type"] == "Choice":
            chosen = [rule["Next"] for rule in state["Choices"] if _matches(rule, data, context)]
            pending.append(((chosen or [state["Default"]])[0], data, trail, polls))
        elif state["Type"] == "Wait":
            pending.append((state["Next"], data, trail, polls))
        elif state["Type"] == "Pass":
            result = (
                _resolve(state["Parameters"], data, context) if "Parameters" in state else state["Result"]
            )
            output = _place(data, state.get("ResultPath", "$"), result)
            pending.append((state["Next"], output, trail, polls))
        else:
            assert state["Type"] == "Task", name
            params = _resolve(state["Parameters"], data, context) if "Parameters" in state else data
            result, after = services.call(state["Resource"], params, polls)
            if "ResultSelector" in state:
                result = _resolve(state["ResultSelector"], result, context)
            output = _place(data, state.get("ResultPath", "$"), result)
            pending.append((state["Next"], output, trail, after))
            for catch in state.get("Catch", []):
                error = catch["ErrorEquals"][0]
                raised = {"Error": "States.TaskFailed" if error == "States.ALL" else error, "Cause": "why"}
                caught = _place(data, catch.get("ResultPath", "$"), raised)
                pending.append((catch["Next"], caught, (*trail, f"!{error}"), polls))
    return paths


SCENARIOS = {
    "staged model": lambda a: {"baseModelS3Uri": f"s3://{a}/base-models/llama-3.2-1b-instruct/"},
    "no base model": lambda a: {"baseModelS3Uri": None},
    "another bucket": lambda a: {"baseModelS3Uri": "s3://someone-elses-bucket/base-models/llama/"},
    "prefix without a slash": lambda a: {"baseModelS3Uri": f"s3://{a}/base-models/llama"},
}
# The end of the path without a caught error, by (isolation, scenario, import outcome)
EXPECTED_END = {
    ("staged model", "completed"): "ModelPublished",
    ("staged model", "failed"): "ModelImportJobFailed",
    ("another bucket", "completed"): "BaseModelOutsideArtifactsBucket",
    ("prefix without a slash", "completed"): "BaseModelOutsideArtifactsBucket",
}


def _execution_input(synthesized: Synthesized, scenario: str) -> dict[str, Any]:
    template = synthesized.template("FineTune")
    buckets = {
        logical_id: _sample(template, {"Ref": logical_id}, synthesized.config.region)
        for logical_id in resources(template, "AWS::S3::Bucket")
    }
    (data_bucket,) = [b for i, b in buckets.items() if i.startswith("TrainingDataBucket")]
    (artifacts,) = [b for i, b in buckets.items() if i.startswith("ArtifactsBucket")]
    execution_input = _event(
        "execution_input.json", training_data_bucket=data_bucket, artifacts_bucket=artifacts
    )
    execution_input.update(SCENARIOS[scenario](artifacts))
    return {k: v for k, v in execution_input.items() if v is not None}


GATES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "gated": lambda given: given,
    "off with a reason": lambda given: {
        **{k: v for k, v in given.items() if k not in GATE_INPUT_KEYS},
        "promotionGate": False,
        "promotionGateReason": "first model, no set yet",
    },
    "not asked": lambda given: {
        k: v for k, v in given.items() if k not in {*GATE_INPUT_KEYS, "promotionGate"}
    },
    "incomplete": lambda given: {k: v for k, v in given.items() if k != "evalSet"},
}
"""What the execution input says about the promotion gate (``ladder finetune start`` sends ``gated`` or
``off with a reason``; the others are executions started by hand)."""


def _walk(
    synthesized: Synthesized,
    scenario: str,
    outcome: str,
    training: str = "Completed",
    *,
    gate: str = "gated",
    candidate_low: float = -0.03,
) -> tuple[list[Route], Services]:
    services = Services(import_outcome=outcome, training_outcome=training, candidate_low=candidate_low)
    execution_input = GATES[gate](_execution_input(synthesized, scenario))
    return walk(deployed_definition(synthesized), execution_input, services), services


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.mark.usefixtures("aws_credentials")
@pytest.mark.parametrize("outcome", ["completed", "failed"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("combination", ["default", "custom", "no_spot", "isolated"])
def test_every_path_reads_only_what_earlier_states_wrote_and_sends_valid_requests(
    request, combination: str, scenario: str, outcome: str
) -> None:
    synthesized = request.getfixturevalue(combination)
    asl = deployed_definition(synthesized)
    # Given the execution input `ladder finetune start` sends, the validation function's real output and
    # sample SageMaker and Bedrock results; when every path is followed (walk raises MissingPath if a state
    # reads what its input lacks, and asserts each request against the service's model)
    paths, services = _walk(synthesized, scenario, outcome)
    # Then the path without failures ends where the scenario should
    (clean,) = [p for p in paths if not p.caught]
    isolated = synthesized.config.fine_tune_network_isolation
    if scenario == "no base model":
        staged_only = isolated or is_gated_model(synthesized.config.fine_tune_base_model_id)
        expected = "BaseModelRequired" if staged_only else EXPECTED_END[("staged model", outcome)]
    else:
        expected = EXPECTED_END.get((scenario, outcome), EXPECTED_END.get((scenario, "completed")))
    assert clean.end == expected, clean.trail
    # And every failure, caught or decided, is published to the topic and ends in a Fail state
    for path in paths:
        states = asl["States"]
        if path.caught or states[path.end]["Type"] == "Fail":
            assert states[path.end]["Type"] == "Fail", path.trail
            notify = [step for step in path.trail if not step.startswith("!")][-2]
            assert is_notification(states[notify]), path.trail
    # And a published model is the one the import reported, imported from where the job wrote it
    if clean.end == "ModelPublished":
        (publish,) = [p for action, p in services.requests if action == "aws-sdk:ssm:putParameter"]
        completed = _event("get_model_import_job_completed.json")
        assert publish["Value"] == completed["ImportedModelArn"]
        assert publish["Name"] == synthesized.config.fine_tuned_model_parameter
        assert publish["Description"] == f"Published by the fine-tune pipeline, execution {EXECUTION_NAME}"
        (job,) = [p for action, p in services.requests if action == "aws-sdk:sagemaker:createTrainingJob"]
        assert (
            services.imported_from
            == f"{job['OutputDataConfig']['S3OutputPath']}{EXECUTION_NAME}/output/model/"
        )
        channels = {
            c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]
        }
        assert channels["train"].endswith(f"/prepared/{EXECUTION_NAME}/train/")
        assert channels["eval"].endswith(f"/prepared/{EXECUTION_NAME}/eval/")


@pytest.mark.usefixtures("aws_credentials")
@pytest.mark.parametrize("training", ["Failed", "Stopped"])
@pytest.mark.parametrize("combination", ["default", "custom"])
def test_a_training_job_that_does_not_complete_is_reported_and_nothing_is_imported(
    request, combination: str, training: str
) -> None:
    synthesized = request.getfixturevalue(combination)
    # Given a job SageMaker reports as Failed or Stopped after it ran for a while
    paths, services = _walk(synthesized, "staged model", "completed", training)
    (clean,) = [p for p in paths if not p.caught]
    # Then the run ends in TrainingJobFailed after a notification, with the job's status in the message
    assert clean.end == "TrainingJobFailed"
    (notice,) = [
        p for action, p in services.requests if action == "sns:publish" and p["Message"].get("trainingJob")
    ]
    assert notice["Message"]["trainingJobStatus"] == training
    assert notice["Message"]["trainingJob"] == EXECUTION_NAME
    # And no import was attempted on that path
    assert "ImportModel" not in clean.trail


@pytest.mark.usefixtures("aws_credentials")
@pytest.mark.parametrize("combination", ["default", "custom"])
def test_the_sample_executions_reach_every_state(request, combination: str) -> None:
    synthesized = request.getfixturevalue(combination)
    visited: set[str] = set()
    for scenario in SCENARIOS:
        for outcome in ("completed", "failed"):
            for training in ("Completed", "Failed"):
                paths, _ = _walk(synthesized, scenario, outcome, training)
                visited |= {step for path in paths for step in path.trail}
    for gate in GATES:
        for low in (-0.03, -0.06):
            paths, _ = _walk(synthesized, "staged model", "completed", gate=gate, candidate_low=low)
            visited |= {step for path in paths for step in path.trail}
    # So the path checks above leave no state unexamined
    assert set(deployed_definition(synthesized)["States"]) <= visited


@pytest.mark.parametrize(
    ("name", "service", "operation"),
    [
        ("describe_training_job.json", "sagemaker", "DescribeTrainingJob"),
        ("create_model_import_job.json", "bedrock", "CreateModelImportJob"),
        ("get_model_import_job_in_progress.json", "bedrock", "GetModelImportJob"),
        ("get_model_import_job_completed.json", "bedrock", "GetModelImportJob"),
        ("get_model_import_job_failed.json", "bedrock", "GetModelImportJob"),
    ],
)
def test_sample_service_results_have_the_shape_step_functions_returns(
    name: str, service: str, operation: str
) -> None:
    # Step Functions returns the API's response with each member name's first letter capitalised
    sample = _event(
        name, job_name=EXECUTION_NAME, model_s3_uri="s3://ladder-artifacts/models/x/output/model/"
    )
    assert_valid(service, operation, sample, output=True)


@pytest.mark.usefixtures("aws_credentials")
@pytest.mark.parametrize("combination", ["default", "isolated"])
def test_a_training_job_that_can_no_longer_be_followed_is_stopped_and_reported(
    request, combination: str
) -> None:
    synthesized = request.getfixturevalue(combination)
    # Given every path of a run on staged weights, DescribeTrainingJob failing after its retries among them
    paths, services = _walk(synthesized, "staged model", "completed")
    lost = [
        p
        for p in paths
        if "CheckTraining" in p.trail and p.trail[p.trail.index("CheckTraining") + 1] == "!States.ALL"
    ]
    assert lost
    for path in lost:
        # Then the job is stopped before anything is reported, and the run ends saying what happened to it
        after = path.trail[path.trail.index("CheckTraining") + 2]
        assert after == "StopTrainingJob", path.trail
        assert path.end in {"TrainingNotFollowed", "TrainingJobNotStopped"}, path.trail
        # And the error that led there is still the one the run reports
        assert path.data["error"]["Cause"] == "why"
    assert {p.end for p in lost} == {"TrainingNotFollowed", "TrainingJobNotStopped"}
    # And the stop named the execution's own job (checked against SageMaker's StopTrainingJob model)
    stops = [params for action, params in services.requests if action == "aws-sdk:sagemaker:stopTrainingJob"]
    assert stops and all(params == {"TrainingJobName": EXECUTION_NAME} for params in stops)
    # And a stop that failed too is published with both causes
    not_stopped = [
        params["Message"]
        for action, params in services.requests
        if action == "sns:publish" and params["Message"].get("error") == "TrainingJobNotStopped"
    ]
    assert not_stopped
    for message in not_stopped:
        assert message["stopError"] == message["cause"] == "why"


def _requests(services: Services, action: str) -> list[dict[str, Any]]:
    return [params for name, params in services.requests if name == action]


@pytest.mark.usefixtures("aws_credentials")
@pytest.mark.parametrize(("low", "end"), [(-0.03, "ModelPublished"), (-0.06, "CandidateRejected")])
def test_the_candidate_is_evaluated_and_published_only_when_it_wins(default, low: float, end: str) -> None:
    # Given the input `ladder finetune start` sends, and an evaluation whose paired correctness difference
    # finetuned - rag has the lower bound `low` (the verdict allows a drop of 0.05)
    paths, services = _walk(default, "staged model", "completed", candidate_low=low)
    (clean,) = [p for p in paths if not p.caught]
    # Then the path ends published or rejected, and the evaluation came before either
    assert clean.end == end, clean.trail
    assert clean.trail.index("EvaluateCandidate") < clean.trail.index("DecidePromotion")
    # And the evaluation was asked for the staged set, the verdict's arms and the imported candidate
    completed = _event("get_model_import_job_completed.json")
    evaluated = [p["Input"] for p in _requests(services, "states:startExecution.sync:2")]
    assert evaluated and all(
        e["evalSet"]
        == {"bucket": "ladder-evaluations", "key": f"staged/promotion/{EXECUTION_NAME}/set.jsonl"}
        and e["arms"] == ["rag", "finetuned"]
        and e["candidateModelArn"] == completed["ImportedModelArn"]
        for e in evaluated
    )
    asl = deployed_definition(default)
    published = [p for p in paths if "PublishModelArn" in p.trail]
    if end == "CandidateRejected":
        # And a rejected candidate is never published: no path reaches the parameter
        assert published == []
        assert _requests(services, "aws-sdk:ssm:putParameter") == []
        (notice,) = [
            p["Message"] for p in _requests(services, "sns:publish") if p["Message"].get("error") == end
        ]
        # And the notification carries the numbers side by side and why
        assert set(notice["numbers"]["arms"]) == {"rag", "finetuned"}
        assert any("at or below -0.05" in reason for reason in notice["reasons"])
        assert notice["evaluationSummary"] == f"s3://ladder-evaluations/runs/{EVALUATION_RUN_ID}/summary.json"
        assert asl["States"][clean.end]["Type"] == "Fail"
    else:
        (notice,) = [
            p["Message"]
            for p in _requests(services, "sns:publish")
            if p["Message"].get("status") == "SUCCEEDED"
        ]
        assert notice["promotion"]["promote"] is True
        assert notice["promotion"]["gate"] == "measured"


@pytest.mark.usefixtures("aws_credentials")
def test_an_evaluation_or_gate_that_fails_publishes_nothing(default) -> None:
    paths, _ = _walk(default, "staged model", "completed")
    failing = ("EvaluateCandidate", "DecidePromotion")
    failed = [
        (step, p)
        for p in paths
        for i, step in enumerate(p.trail[:-1])
        if step in failing and p.trail[i + 1] == "!States.ALL"
    ]
    # Then both the evaluation failing (or timing out) and the gate failing end the same way, whether the
    # notification is sent or not
    assert {step for step, _ in failed} == set(failing)
    for _, path in failed:
        assert path.end == "CandidateEvaluationFailed", path.trail
        assert "PublishModelArn" not in path.trail


@pytest.mark.usefixtures("aws_credentials")
@pytest.mark.parametrize(
    ("gate", "end", "reason"),
    [
        ("off with a reason", "ModelPublished", "first model, no set yet"),
        ("not asked", "ModelPublished", "the execution input asked for no promotion gate and gave no reason"),
        ("incomplete", "PromotionGateIncomplete", None),
    ],
)
def test_without_the_gate_the_model_is_published_with_why(
    default, gate: str, end: str, reason: str | None
) -> None:
    paths, services = _walk(default, "staged model", "completed", gate=gate)
    (clean,) = [p for p in paths if not p.caught]
    assert clean.end == end, clean.trail
    # Nothing is evaluated without a gate, and a gate asked for without its inputs trains nothing
    assert _requests(services, "states:startExecution.sync:2") == []
    if reason is None:
        assert _requests(services, "aws-sdk:sagemaker:createTrainingJob") == []
        assert _requests(services, "aws-sdk:ssm:putParameter") == []
        return
    (notice,) = [
        p["Message"] for p in _requests(services, "sns:publish") if p["Message"].get("status") == "SUCCEEDED"
    ]
    assert notice["promotion"] == {"gate": "off", "reason": reason}
