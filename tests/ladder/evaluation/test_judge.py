"""The LLM judge: CreateEvaluationJob requests checked by botocore's Stubber against the bedrock service
model, datasets uploaded to (moto) S3 in Bedrock's bring-your-own-inference shapes, and the jobs' output
files, shaped as AWS documents them, merged back for all three arms.

Output shapes (the fixtures under ``tests/ladder/fixtures/judge/``):
- model evaluation (``prompt``), Bedrock User Guide, "Understand how the results of your model evaluation
  job are saved in Amazon S3": "Each result from the model evaluation job starts with the
  automatedEvaluationResult key. The first child key scores contains the metrics ... It also contains
  result ... The second key, inputRecord is a copy of what you provided in your input prompt dataset. The
  third key, modelResponses ..."; saved under
  "s3://user-specified-S3-output-path/job-name/job-uuid/models/model-id/taskTypes/task-type/datasets/
  dataset/file-uuid_output.jsonl".
- RAG evaluation (``rag``, ``finetuned``): ``{"conversationTurns": [{"inputRecord": {"prompt": {"content":
  [{"text"}]}, ...}, "output": ..., "results": [{"metricName", "evaluatorDetails", "result"}]}]}`` (issue
  "A verdict a team can trust", item 3, checked against a real RAG evaluation output by public code that
  parses them; the input side is AWS's "rag-evaluation-bring-your-own-inference" sample's dataset format).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ladder import cli
from ladder.errors import LadderError, SetupError
from ladder.evaluation import judge, rundir
from ladder.evaluation.evalset import load_set
from ladder.evaluation.summary import write_scores
from ladder.pricing.models import load_prices
from ladder_core.api import NO_CONTEXT_ANSWER

from .conftest import write_set

REGION = "us-east-1"
BUCKET = "ladder-eval-bucket"
ROLE = "arn:aws:iam::123456789012:role/LadderEvaluationRole"
JUDGE_MODEL = "us.amazon.nova-pro-v1:0"
SETUP = judge.JudgeSetup(bucket=BUCKET, prefix="evaluations/", role_arn=ROLE, judge_model_id=JUDGE_MODEL)
RUN_ID = "20260101T000000Z-abcdef12"
STARTED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
FIXTURES = Path(__file__).parent.parent / "fixtures" / "judge"
ARMS = ["prompt", "rag", "finetuned"]
ITEMS = [
    {
        "id": "leave",
        "question": "How many days of annual leave do I get?",
        "reference": "27 days per calendar year.",
        "mustInclude": ["27 days"],
    },
    {"id": "shares", "question": "What is the company's share price today?", "answerable": False},
    {
        "id": "carry",
        "question": "How many unused days carry over?",
        "reference": "Up to 5 days, until 31 March.",
        "mustInclude": ["5 days"],
    },
]
LEAVE_PASSAGE = "Every full-time employee receives 27 days of paid annual leave per calendar year."
IMPORTED = "arn:aws:bedrock:us-east-1:123456789012:imported-model/abc123def456"


def job_name_pattern() -> re.Pattern[str]:
    """The jobName constraint of botocore's bedrock model (CreateEvaluationJob)."""
    model = botocore.session.get_session().get_service_model("bedrock")
    shape = model.operation_model("CreateEvaluationJob").input_shape.members["jobName"]
    assert shape.metadata["max"] == judge.MAX_JOB_NAME
    return re.compile(shape.metadata["pattern"])


def citation(uri: str, excerpt: str, text: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"sourceUri": uri, "excerpt": excerpt, "score": 0.8}
    if text is not None:
        entry["text"] = text
    return entry


def ok(item_id: str, arm: str, answer: str, **response: Any) -> dict[str, Any]:
    body = {"answer": answer, "citations": [], "modelId": "us.amazon.nova-lite-v1:0", **response}
    return {"id": item_id, "arm": arm, "status": "ok", "latencyMs": 5, "response": body}


RECORDS = [
    ok("leave", "prompt", "You get 27 days of annual leave."),
    ok("shares", "prompt", "The share price is 12 dollars."),
    ok("carry", "prompt", "Up to 5 days carry over."),
    ok(
        "leave",
        "rag",
        "Full-time employees get 27 days [1].",
        citations=[citation("s3://docs/handbook/leave.md", LEAVE_PASSAGE[:20], LEAVE_PASSAGE)],
    ),
    ok("shares", "rag", NO_CONTEXT_ANSWER),
    # recorded before the runner asked for the passages: the excerpt is all there is
    ok(
        "carry",
        "rag",
        "Up to 5 days carry over [1].",
        citations=[citation("s3://docs/faq.md", "Unused leave: up to 5 days carry over", None)],
    ),
    ok(
        "leave",
        "finetuned",
        "You get 28 days [1].",
        modelId=IMPORTED,
        citations=[citation("s3://docs/handbook/leave.md", LEAVE_PASSAGE[:20], LEAVE_PASSAGE)],
    ),
    ok(
        "shares",
        "finetuned",
        "Sorry, I can't help with that request.",
        modelId=IMPORTED,
        guardrail={"action": "INTERVENED"},
    ),
    {"id": "carry", "arm": "finetuned", "status": "error", "latencyMs": 5, "error": {"httpStatus": 503}},
]


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def bedrock() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("bedrock", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def make_run(tmp_path: Path, records: list[dict[str, Any]] = RECORDS, run_id: str = RUN_ID) -> Path:
    evalset = load_set(write_set(tmp_path / "set.jsonl", ITEMS))
    folder = tmp_path / run_id
    rundir.start(folder, evalset, url="https://x/ask", arms=ARMS, now=datetime(2026, 1, 1, tzinfo=UTC))
    (folder / rundir.RESPONSES).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return folder


def job_arn(arm: str, part: int = 1) -> str:
    return f"arn:aws:bedrock:{REGION}:123456789012:evaluation-job/{arm}{part}abcdefgh"


def expected_request(arm: str, rubric: str | None = None, part: int = 1) -> dict[str, Any]:
    name = judge.job_name(RUN_ID, arm, part, STARTED)
    base = f"s3://{BUCKET}/evaluations/{RUN_ID}/{arm}"
    return judge.job_request(
        SETUP, name, RUN_ID, arm, f"{base}/datasets/{name}.jsonl", f"{base}/output/", rubric
    )


def start(client: Any, stubber: Stubber, s3: Any, folder: Path, rubric: str | None = None) -> Any:
    for arm in ARMS:
        stubber.add_response("create_evaluation_job", {"jobArn": job_arn(arm)}, expected_request(arm, rubric))
    return judge.start_jobs(client, s3, folder, SETUP, rubric, now=lambda: STARTED)


def dataset(s3: Any, job: dict[str, Any]) -> list[dict[str, Any]]:
    key = f"evaluations/{RUN_ID}/{job['arm']}/datasets/{job['jobName']}.jsonl"
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode("utf-8")
    return [json.loads(line) for line in body.splitlines()]


def test_model_evaluation_jobs_use_the_general_task_type_and_every_job_scores_refusal() -> None:
    """AWS sample "llmaaj-bring-your-own-inference" (aws-samples/amazon-bedrock-samples):
    ``task_type: str = "General" # must be General for LLMaaJ``, with "Builtin.Refusal" among the judge
    metrics. botocore's bedrock model, EvaluationDatasetMetricConfig.taskType: "This applies only to model
    evaluation jobs and is ignored for knowledge base evaluation jobs". "Use metrics to understand RAG
    system performance": retrieve-and-generate jobs offer "Refusal (Builtin.Refusal)"."""
    prompt = expected_request("prompt")
    rag = expected_request("rag", rubric="Answer in plain English.")
    for request in (prompt, rag):
        (config,) = request["evaluationConfig"]["automated"]["datasetMetricConfigs"]
        assert config["taskType"] == "General"
        assert "Builtin.Refusal" in config["metricNames"]
    assert prompt["applicationType"] == "ModelEvaluation"
    assert prompt["inferenceConfig"] == {
        "models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": "ladder-prompt"}}]
    }
    assert prompt["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["metricNames"] == [
        "Builtin.Correctness",
        "Builtin.Completeness",
        "Builtin.Refusal",
    ]
    assert "customMetricConfig" not in prompt["evaluationConfig"]["automated"]
    assert rag["applicationType"] == "RagEvaluation"
    source = rag["inferenceConfig"]["ragConfigs"][0]["precomputedRagSourceConfig"]
    assert source == {"retrieveAndGenerateSourceConfig": {"ragSourceIdentifier": "ladder-rag"}}
    automated = rag["evaluationConfig"]["automated"]
    assert automated["datasetMetricConfigs"][0]["metricNames"][-1] == judge.STYLE_METRIC
    assert "Builtin.Faithfulness" in automated["datasetMetricConfigs"][0]["metricNames"]
    custom = automated["customMetricConfig"]["customMetrics"][0]["customMetricDefinition"]
    assert custom["instructions"].startswith("Answer in plain English.")
    assert "{{prediction}}" in custom["instructions"]


def test_jobs_start_per_arm_with_the_passages_the_model_saw(
    tmp_path: Path, s3: Any, bedrock: tuple[Any, Stubber]
) -> None:
    """Datasets in the shapes of AWS's bring-your-own-inference samples: model evaluation
    ``{"prompt", "referenceResponse", "modelResponses": [{"response", "modelIdentifier"}]}``; RAG
    ``{"conversationTurns": [{"prompt": {"content": [{"text"}]}, "referenceResponses": [...], "output":
    {"text", "knowledgeBaseIdentifier", "retrievedPassages": {"retrievalResults": [{"name", "content":
    {"text"}}]}}}]}``."""
    client, stubber = bedrock
    folder = make_run(tmp_path)
    jobs = start(client, stubber, s3, folder, "Answer in plain English.")
    assert [job["arm"] for job in jobs] == ARMS
    assert jobs[2]["items"] == ["leave", "shares"]  # the error record is not judged
    prompt = dataset(s3, jobs[0])
    assert prompt[0] == {
        "prompt": ITEMS[0]["question"],
        "referenceResponse": ITEMS[0]["reference"],
        "modelResponses": [
            {"response": "You get 27 days of annual leave.", "modelIdentifier": "ladder-prompt"}
        ],
    }
    assert "referenceResponse" not in prompt[1]
    rag = dataset(s3, jobs[1])
    turn = rag[0]["conversationTurns"][0]
    assert turn["prompt"] == {"content": [{"text": ITEMS[0]["question"]}]}
    assert turn["referenceResponses"] == [{"content": [{"text": ITEMS[0]["reference"]}]}]
    assert turn["output"]["knowledgeBaseIdentifier"] == "ladder-rag"
    # the full passage (citations[].text), not the API's excerpt
    assert turn["output"]["retrievedPassages"]["retrievalResults"] == [
        {"name": "s3://docs/handbook/leave.md", "content": {"text": LEAVE_PASSAGE}}
    ]
    # an answer recorded before passages were kept falls back to the excerpt, and the job says how many
    carry = rag[2]["conversationTurns"][0]["output"]["retrievedPassages"]["retrievalResults"]
    assert carry == [
        {"name": "s3://docs/faq.md", "content": {"text": "Unused leave: up to 5 days carry over"}}
    ]
    assert [job["excerptOnly"] for job in jobs] == [0, 1, 0]
    saved = json.loads((folder / rundir.JUDGE_JOBS).read_text())
    assert [job["status"] for job in saved] == ["InProgress"] * 3
    assert saved[1]["outputPrefix"] == f"evaluations/{RUN_ID}/rag/output/{jobs[1]['jobName']}/"


def test_job_names_fit_bedrock_never_repeat_and_keep_arms_apart_for_long_run_names() -> None:
    """botocore's bedrock model, CreateEvaluationJob jobName: min 1, max 63, pattern
    ``[a-z0-9](-*[a-z0-9]){0,62}``. Bedrock User Guide ("Creating a retrieve-and-generate RAG evaluation
    job"): "The name you choose must be unique within your AWS Region" (a reused name is a
    ConflictException, one of CreateEvaluationJob's errors)."""
    pattern = job_name_pattern()
    long_a = "nightly evaluation of the handbook corpus with the new chunking settings, run A"
    long_b = "nightly evaluation of the handbook corpus with the new chunking settings, run B"
    names = {
        judge.job_name(run, arm, part, STARTED)
        for run in (RUN_ID, long_a, long_b)
        for arm in ARMS
        for part in (1, 2)
    }
    assert len(names) == 3 * len(ARMS) * 2
    for name in names:
        assert pattern.fullmatch(name) and len(name) <= judge.MAX_JOB_NAME, name
    assert judge.job_name(RUN_ID, "rag", 1, STARTED) != judge.job_name(
        RUN_ID, "rag", 1, STARTED + timedelta(seconds=1)
    )
    assert judge.job_name(RUN_ID, "rag", 1, STARTED).startswith("ladder-20260101t000000z-abcdef12-")


def test_a_rerun_starts_jobs_under_new_names_and_reads_only_its_own_results(
    tmp_path: Path, s3: Any, bedrock: tuple[Any, Stubber]
) -> None:
    client, stubber = bedrock
    folder = make_run(tmp_path)
    first = start(client, stubber, s3, folder)
    later = STARTED + timedelta(minutes=5)
    for arm in ARMS:
        stubber.add_response("create_evaluation_job", {"jobArn": job_arn(arm, 2)})
    second = judge.start_jobs(client, s3, folder, SETUP, None, now=lambda: later)
    assert {job["jobName"] for job in first}.isdisjoint(job["jobName"] for job in second)
    assert {job["outputPrefix"] for job in first}.isdisjoint(job["outputPrefix"] for job in second)


def test_an_arm_over_1000_answers_is_split_into_jobs_of_at_most_1000(
    tmp_path: Path, s3: Any, bedrock: tuple[Any, Stubber]
) -> None:
    """Bedrock User Guide, "Create a prompt dataset for a RAG evaluation in Amazon Bedrock": "There can be up
    to 1000 prompts in your dataset per evaluation job"; AWS sample "llmaaj-bring-your-own-inference":
    "Maximum 1000 prompts per evaluation job"."""
    client, stubber = bedrock
    items = [{"id": f"q{n}", "question": f"Question {n}?"} for n in range(1001)]
    evalset = load_set(write_set(tmp_path / "set.jsonl", items))
    folder = tmp_path / "big"
    rundir.start(folder, evalset, url="https://x/ask", arms=["prompt"], now=STARTED)
    records = [ok(item["id"], "prompt", "An answer.") for item in items]
    (folder / rundir.RESPONSES).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    stubber.add_response("create_evaluation_job", {"jobArn": job_arn("prompt", 1)})
    stubber.add_client_error("create_evaluation_job", service_error_code="ThrottlingException")
    with pytest.raises(LadderError, match=r"\(prompt, part 2 of 2\)"):
        judge.start_jobs(client, s3, folder, SETUP, None, now=lambda: STARTED)
    # the part that failed is started again, the one Bedrock accepted is kept
    assert judge.unjudged_arms(folder) == ["prompt"]
    stubber.add_response("create_evaluation_job", {"jobArn": job_arn("prompt", 2)})
    jobs = judge.start_jobs(client, s3, folder, SETUP, None, now=lambda: STARTED, missing_only=True)
    assert [(job["part"], len(job["items"])) for job in jobs] == [(1, 1000), (2, 1)]
    assert jobs[1]["items"] == ["q1000"]
    assert judge.unjudged_arms(folder) == []
    assert judge.MAX_PROMPTS_PER_JOB == 1000


def test_a_failed_job_leaves_the_started_ones_recorded(
    tmp_path: Path, s3: Any, bedrock: tuple[Any, Stubber]
) -> None:
    client, stubber = bedrock
    folder = make_run(tmp_path)
    stubber.add_response("create_evaluation_job", {"jobArn": job_arn("prompt")})
    stubber.add_client_error(
        "create_evaluation_job",
        service_error_code="ServiceQuotaExceededException",
        service_message="Too many evaluation jobs in progress",
        http_status_code=400,
    )
    with pytest.raises(LadderError) as raised:
        judge.start_jobs(client, s3, folder, SETUP, None, now=lambda: STARTED)
    message = str(raised.value)
    assert "(rag, part 1 of 1)" in message and "ServiceQuotaExceededException" in message
    assert "1 job(s) started before it are recorded in judge-jobs.json" in message
    saved = json.loads((folder / rundir.JUDGE_JOBS).read_text())
    assert [(job["arm"], job["jobArn"]) for job in saved] == [("prompt", job_arn("prompt"))]


def test_after_a_failed_start_only_the_arms_without_a_job_are_started_again(
    tmp_path: Path, s3: Any, bedrock: tuple[Any, Stubber]
) -> None:
    client, stubber = bedrock
    folder = make_run(tmp_path)
    stubber.add_response("create_evaluation_job", {"jobArn": job_arn("prompt")})
    stubber.add_client_error("create_evaluation_job", service_error_code="ThrottlingException")
    with pytest.raises(LadderError):
        judge.start_jobs(client, s3, folder, SETUP, None, now=lambda: STARTED)
    assert judge.unjudged_arms(folder) == ["rag", "finetuned"]

    later = STARTED + timedelta(minutes=1)
    for arm in ("rag", "finetuned"):
        stubber.add_response("create_evaluation_job", {"jobArn": job_arn(arm)})
    jobs = judge.start_jobs(client, s3, folder, SETUP, None, now=lambda: later, missing_only=True)

    assert [job["arm"] for job in jobs] == ARMS
    assert jobs[0]["jobName"] == judge.job_name(RUN_ID, "prompt", 1, STARTED)  # kept, not restarted
    assert judge.recorded_jobs(folder) == jobs
    assert judge.unjudged_arms(folder) == []


def completed(stubber: Stubber, job: dict[str, Any], status: str = "Completed") -> None:
    request = expected_request(job["arm"])
    stubber.add_response(
        "get_evaluation_job",
        {
            "jobName": job["jobName"],
            "status": status,
            "jobArn": job["jobArn"],
            "roleArn": ROLE,
            "jobType": "Automated",
            "evaluationConfig": request["evaluationConfig"],
            "inferenceConfig": request["inferenceConfig"],
            "outputDataConfig": {"s3Uri": f"s3://{BUCKET}/{job['outputPrefix']}"},
            "creationTime": STARTED,
        },
        {"jobIdentifier": job["jobArn"]},
    )


def put_output(s3: Any, job: dict[str, Any], fixture: str) -> None:
    """The job's output where Bedrock writes it: <output path>/<job name>/<job uuid>/.../*_output.jsonl."""
    models = "models/ladder-prompt/taskTypes/General/" if job["arm"] == "prompt" else ""
    key = f"{job['outputPrefix']}4f1c2a9be0d3/{models}datasets/ladder-{job['arm']}/7c1e_output.jsonl"
    s3.put_object(Bucket=BUCKET, Key=key, Body=(FIXTURES / fixture).read_bytes())


OUTPUTS = {
    "prompt": "model-evaluation-output.jsonl",
    "rag": "rag-evaluation-output.jsonl",
    "finetuned": "finetuned-evaluation-output.jsonl",
}


def test_completed_jobs_of_all_three_arms_are_merged_into_scores_and_summary(
    tmp_path: Path, s3: Any, bedrock: tuple[Any, Stubber]
) -> None:
    client, stubber = bedrock
    folder = make_run(tmp_path)
    jobs = start(client, stubber, s3, folder)
    before = write_scores(folder, load_prices())
    assert all(before["arms"][arm]["judgeAgreement"] is None for arm in ARMS)
    for job in jobs:
        completed(stubber, job)
        put_output(s3, job, OUTPUTS[job["arm"]])

    followed = judge.follow_jobs(client, s3, folder)

    assert [job["status"] for job in followed] == ["Completed"] * 3
    summary = write_scores(folder, load_prices())
    rows = {
        (row["id"], row["arm"]): row
        for row in map(json.loads, (folder / rundir.SCORES).read_text().splitlines())
    }
    assert rows[("leave", "prompt")]["judge"] == {"Correctness": 1.0, "Completeness": 1.0, "Refusal": 0.0}
    assert rows[("leave", "rag")]["judge"] == {
        "Correctness": 1.0,
        "Completeness": 1.0,
        "Faithfulness": 1.0,
        "Refusal": 0.0,
    }
    # the API's no-context answer and a guardrail intervention are judged on Refusal only
    assert rows[("shares", "rag")]["refusal"] and rows[("shares", "rag")]["judge"] == {"Refusal": 1.0}
    assert rows[("shares", "finetuned")]["judge"] == {"Refusal": 1.0}
    assert rows[("carry", "finetuned")]["judge"] is None
    assert summary["arms"]["rag"]["judge"] == {
        "Completeness": 0.75,
        "Correctness": 0.5,
        "Faithfulness": 1.0,
        "Refusal": 1 / 3,
    }
    # hand-computed in test_agreement.py's terms: prompt agrees on all three answers (kappa 1); rag's
    # rules call both non-refusals correct, the judge one of them (chance 0.5, kappa 0); every rater says
    # "no refusal" on prompt, so kappa is undefined there
    agreement = {arm: summary["arms"][arm]["judgeAgreement"] for arm in ARMS}
    assert agreement["prompt"] == {
        "correctness": {"n": 3, "agree": 1.0, "kappa": pytest.approx(1.0)},
        "refusal": {"n": 3, "agree": 1.0, "kappa": None},
    }
    assert agreement["rag"] == {
        "correctness": {"n": 2, "agree": 0.5, "kappa": 0.0},
        "refusal": {"n": 3, "agree": 1.0, "kappa": pytest.approx(1.0)},
    }
    assert agreement["finetuned"] == {
        "correctness": {"n": 1, "agree": 1.0, "kappa": None},
        "refusal": {"n": 2, "agree": 1.0, "kappa": pytest.approx(1.0)},
    }


def test_eval_status_follows_the_jobs_and_merges_every_arm(
    tmp_path: Path, s3: Any, bedrock: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    client, stubber = bedrock
    folder = make_run(tmp_path)
    jobs = start(client, stubber, s3, folder)
    for job, status in zip(jobs, ("Completed", "Completed", "InProgress"), strict=True):
        completed(stubber, job, status)
        put_output(s3, job, OUTPUTS[job["arm"]])

    def clients(session: Any, service: str) -> Any:
        return {"bedrock": client, "s3": s3}[service]

    code = cli.main(["eval", "status", str(folder), "--json"], client_factory=clients)

    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [job["status"] for job in out["judgeJobs"]] == ["Completed", "Completed", "InProgress"]
    summary = json.loads((folder / rundir.SUMMARY).read_text())
    assert summary["arms"]["prompt"]["judge"]["Correctness"] == pytest.approx(2 / 3)
    assert summary["arms"]["rag"]["judgeAgreement"]["refusal"]["n"] == 3
    assert summary["arms"]["finetuned"]["judge"] is None  # its job is still running


def test_an_output_line_of_neither_shape_an_unknown_question_or_a_nameless_score_is_skipped(
    tmp_path: Path, s3: Any
) -> None:
    job = {
        "arm": "rag",
        "bucket": BUCKET,
        "outputPrefix": "evaluations/x/rag/output/job/",
        "items": ["leave"],
        "questions": [ITEMS[0]["question"]],
    }
    lines = [
        {"something": "else"},
        {"conversationTurns": [{"output": {"text": "no input record"}, "results": []}]},
        {"conversationTurns": []},
        {
            "conversationTurns": [
                {"inputRecord": {"prompt": {"content": [{"text": "Unknown?"}]}}, "results": []}
            ]
        },
        json.loads((FIXTURES / OUTPUTS["rag"]).read_text().splitlines()[0]),
    ]
    lines[-1]["conversationTurns"][0]["results"].append({"result": 0.3})  # no metricName: ignored
    s3.put_object(
        Bucket=BUCKET,
        Key=f"{job['outputPrefix']}uuid/output.jsonl",
        Body="\n".join(json.dumps(line) for line in lines).encode(),
    )
    assert judge._read_scores(s3, job) == [
        {
            "id": "leave",
            "arm": "rag",
            "scores": {"Correctness": 1.0, "Completeness": 1.0, "Faithfulness": 1.0, "Refusal": 0.0},
        }
    ]


def test_a_rubric_that_is_empty_or_too_long_is_refused() -> None:
    with pytest.raises(SetupError, match="empty"):
        judge.style_instructions("  ")
    with pytest.raises(SetupError, match="5000"):
        judge.style_instructions("x" * 5000)
    assert judge.style_instructions("Rate {{prediction}} for tone.") == "Rate {{prediction}} for tone."


@pytest.mark.parametrize("mode", ["prompt", "rag"])
def test_an_arm_with_a_model_is_judged_as_its_mode_under_identifiers_bedrock_accepts(mode: str) -> None:
    """botocore's bedrock model: EvaluationDatasetName ``[0-9a-zA-Z-_.]+`` (at most 63), the precomputed
    source identifiers ``[a-zA-Z0-9]([a-zA-Z0-9._-]){0,255}``; an arm's ``@`` and the model id's ``:`` fit
    neither. Stubber validates the request against the model before answering."""
    arm = f"{mode}@us.anthropic.claude-3-5-haiku-20241022-v1:0"
    request = expected_request(arm)
    # Then it is judged as its mode: a model evaluation for prompt@MODEL, a RAG evaluation for rag@MODEL
    assert request["applicationType"] == ("ModelEvaluation" if mode == "prompt" else "RagEvaluation")
    identifier = json.dumps(request["inferenceConfig"])
    assert f"ladder-{mode}-us.anthropic.claude-3-5-haiku-20241022-v1-0" in identifier
    dataset_name = request["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["dataset"]["name"]
    assert dataset_name == f"ladder-{mode}-us.anthropic.claude-3-5-haiku-20241022-v1-0"[:63]
    # And botocore accepts the request as Bedrock's model describes it
    client = boto3.client("bedrock", region_name=REGION)
    with Stubber(client) as stubber:
        stubber.add_response("create_evaluation_job", {"jobArn": job_arn("x")}, request)
        client.create_evaluation_job(**request)
