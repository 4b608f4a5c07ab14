"""The optional LLM judge: Bedrock's own evaluation service scores the answers a run already has.

One ``CreateEvaluationJob`` per arm, bring-your-own-inference (nothing is generated again):
- ``prompt`` (no retrieval): ``applicationType=ModelEvaluation`` with
  ``inferenceConfig.models[].precomputedInferenceSource``; dataset lines
  ``{"prompt", "referenceResponse", "modelResponses": [{"response", "modelIdentifier"}]}``.
- ``rag`` / ``finetuned``: ``applicationType=RagEvaluation`` with
  ``inferenceConfig.ragConfigs[].precomputedRagSourceConfig.retrieveAndGenerateSourceConfig``; dataset
  lines ``{"conversationTurns": [{"prompt", "referenceResponses", "output": {"text", "modelIdentifier",
  "knowledgeBaseIdentifier", "retrievedPassages": {"retrievalResults": [...]}}}]}``.

Built-in metrics: correctness and completeness for every arm, faithfulness for the retrieval arms; with
``--style RUBRIC.md`` a custom metric ``HouseStyle`` (rated 0..1 by the judge model from the rubric).
When a job completes, its ``output.jsonl`` files are read back and each line's
``automatedEvaluationResult.scores`` land in ``judge-scores.jsonl`` (then in ``scores.jsonl``'s ``judge``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder_core.api import PROMPT

from ..errors import LadderError, SetupError
from . import rundir
from .evalset import EvalSet
from .runner import read_records

TASK_TYPE = "QuestionAndAnswer"
MODEL_METRICS = ("Builtin.Correctness", "Builtin.Completeness")
RAG_METRICS = ("Builtin.Correctness", "Builtin.Completeness", "Builtin.Faithfulness")
STYLE_METRIC = "HouseStyle"
MAX_INSTRUCTIONS_CHARS = 5000
STYLE_VARIABLES = "\n\nQuestion: {{prompt}}\nAnswer: {{prediction}}"
STYLE_SCALE = (
    ("Follows the house style fully", 1.0),
    ("Partly follows the house style", 0.5),
    ("Does not follow the house style", 0.0),
)
DONE_STATUSES = ("Completed", "Failed", "Stopped", "Deleted")
_JOB_NAME_CHARS = re.compile(r"[^a-z0-9]+")
_S3_KEY_UNSAFE = re.compile(r"[^-!_*'().a-zA-Z0-9]+")
MAX_JOB_NAME = 63


@dataclass(frozen=True)
class JudgeSetup:
    """Where the judge works: the evaluation bucket and prefix, and the role Bedrock assumes."""

    bucket: str
    prefix: str
    role_arn: str
    judge_model_id: str


def job_name(run_id: str, arm: str) -> str:
    """A job name Bedrock accepts (``[a-z0-9](-*[a-z0-9]){0,62}``), unique per run and arm."""
    name = _JOB_NAME_CHARS.sub("-", f"ladder-{run_id}-{arm}".lower()).strip("-")
    return name[:MAX_JOB_NAME].rstrip("-")


def source_identifier(arm: str) -> str:
    return f"ladder-{arm}"


def dataset_lines(
    evalset: EvalSet, records: dict[tuple[str, str], dict[str, Any]], arm: str
) -> list[tuple[str, dict[str, Any]]]:
    """(item id, dataset line) for every item the arm answered successfully, in set order."""
    lines = []
    for item in evalset.items:
        record = records.get((item.id, arm))
        if not record or record["status"] != "ok":
            continue
        response = record["response"]
        answer = str(response.get("answer", ""))
        model = str(response.get("modelId") or arm)
        if arm == PROMPT:
            line: dict[str, Any] = {"prompt": item.question}
            if item.reference:
                line["referenceResponse"] = item.reference
            line["modelResponses"] = [{"response": answer, "modelIdentifier": source_identifier(arm)}]
        else:
            turn: dict[str, Any] = {"prompt": {"content": [{"text": item.question}]}}
            if item.reference:
                turn["referenceResponses"] = [{"content": [{"text": item.reference}]}]
            turn["output"] = {
                "text": answer,
                "modelIdentifier": model,
                "knowledgeBaseIdentifier": source_identifier(arm),
                "retrievedPassages": {
                    "retrievalResults": [
                        {
                            "name": str(citation.get("sourceUri", ""))[:256],
                            "content": {"text": str(citation.get("excerpt", ""))},
                        }
                        for citation in response.get("citations") or []
                    ]
                },
            }
            line = {"conversationTurns": [turn]}
        lines.append((item.id, line))
    return lines


def job_request(
    setup: JudgeSetup, run_id: str, arm: str, dataset_uri: str, output_uri: str, rubric: str | None
) -> dict[str, Any]:
    """The ``CreateEvaluationJob`` parameters for one arm (shapes from botocore's ``bedrock`` model)."""
    rag = arm != PROMPT
    metrics = list(RAG_METRICS if rag else MODEL_METRICS)
    automated: dict[str, Any] = {
        "datasetMetricConfigs": [
            {
                "taskType": TASK_TYPE,
                "dataset": {"name": f"ladder-{arm}", "datasetLocation": {"s3Uri": dataset_uri}},
                "metricNames": [*metrics, *([STYLE_METRIC] if rubric else [])],
            }
        ],
        "evaluatorModelConfig": {"bedrockEvaluatorModels": [{"modelIdentifier": setup.judge_model_id}]},
    }
    if rubric:
        automated["customMetricConfig"] = {
            "customMetrics": [
                {
                    "customMetricDefinition": {
                        "name": STYLE_METRIC,
                        "instructions": style_instructions(rubric),
                        "ratingScale": [
                            {"definition": text, "value": {"floatValue": value}}
                            for text, value in STYLE_SCALE
                        ],
                    }
                }
            ],
            "evaluatorModelConfig": {"bedrockEvaluatorModels": [{"modelIdentifier": setup.judge_model_id}]},
        }
    if rag:
        inference: dict[str, Any] = {
            "ragConfigs": [
                {
                    "precomputedRagSourceConfig": {
                        "retrieveAndGenerateSourceConfig": {"ragSourceIdentifier": source_identifier(arm)}
                    }
                }
            ]
        }
    else:
        inference = {
            "models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": source_identifier(arm)}}]
        }
    return {
        "jobName": job_name(run_id, arm),
        "jobDescription": f"Ladder evaluation {run_id}, arm {arm}",
        "roleArn": setup.role_arn,
        "applicationType": "RagEvaluation" if rag else "ModelEvaluation",
        "evaluationConfig": {"automated": automated},
        "inferenceConfig": inference,
        "outputDataConfig": {"s3Uri": output_uri},
    }


def style_instructions(rubric: str) -> str:
    """The rubric as judge instructions; the answer and question variables are added when missing."""
    text = rubric.strip()
    if not text:
        raise SetupError("--style: the rubric file is empty")
    if "{{prediction}}" not in text:
        text += STYLE_VARIABLES
    if len(text) > MAX_INSTRUCTIONS_CHARS:
        raise SetupError(
            f"--style: the rubric is {len(text)} characters; Bedrock accepts {MAX_INSTRUCTIONS_CHARS}"
        )
    return text


def start_jobs(
    bedrock: Any, s3: Any, folder: Path, setup: JudgeSetup, rubric: str | None
) -> list[dict[str, Any]]:
    """Upload one dataset per arm and start its job; the jobs are recorded in ``judge-jobs.json``."""
    info = rundir.load_info(folder)
    evalset = rundir.load_run_set(folder)
    records = read_records(folder / rundir.RESPONSES)
    # Bedrock's S3 URI pattern allows only these characters in keys; a --out folder name may have others.
    base = f"{setup.prefix.rstrip('/')}/{_S3_KEY_UNSAFE.sub('-', info.id)}"
    jobs = []
    for arm in info.arms:
        lines = dataset_lines(evalset, records, arm)
        if not lines:
            continue
        key = f"{base}/{arm}/dataset.jsonl"
        body = "".join(json.dumps(line, ensure_ascii=False) + "\n" for _, line in lines)
        s3.put_object(
            Bucket=setup.bucket, Key=key, Body=body.encode("utf-8"), ContentType="application/jsonl"
        )
        output = f"{base}/{arm}/output/"
        request = job_request(
            setup, info.id, arm, f"s3://{setup.bucket}/{key}", f"s3://{setup.bucket}/{output}", rubric
        )
        arn = bedrock.create_evaluation_job(**request)["jobArn"]
        jobs.append(
            {
                "arm": arm,
                "jobArn": arn,
                "status": "InProgress",
                "outputPrefix": output,
                "bucket": setup.bucket,
                "items": [item_id for item_id, _ in lines],
                "questions": [_question(line) for _, line in lines],
            }
        )
    if not jobs:
        raise LadderError("no successful answers to judge in this run")
    (folder / rundir.JUDGE_JOBS).write_text(json.dumps(jobs, indent=2) + "\n", encoding="utf-8")
    return jobs


def follow_jobs(bedrock: Any, s3: Any, folder: Path) -> list[dict[str, Any]]:
    """Refresh each job's status; read the scores of jobs that completed into ``judge-scores.jsonl``."""
    path = folder / rundir.JUDGE_JOBS
    if not path.exists():
        return []
    jobs = json.loads(path.read_text(encoding="utf-8"))
    scores: list[dict[str, Any]] = []
    for job in jobs:
        if job["status"] not in DONE_STATUSES:
            described = bedrock.get_evaluation_job(jobIdentifier=job["jobArn"])
            job["status"] = described["status"]
            if described.get("failureMessages"):
                job["failureMessages"] = described["failureMessages"]
        if job["status"] == "Completed":
            scores += _read_scores(s3, job)
    path.write_text(json.dumps(jobs, indent=2) + "\n", encoding="utf-8")
    with (folder / rundir.JUDGE_SCORES).open("w", encoding="utf-8") as out:
        for entry in scores:
            out.write(json.dumps(entry) + "\n")
    return jobs


def _question(line: dict[str, Any]) -> str:
    if "prompt" in line:
        return str(line["prompt"])
    return str(line["conversationTurns"][0]["prompt"]["content"][0]["text"])


def _read_scores(s3: Any, job: dict[str, Any]) -> list[dict[str, Any]]:
    """Scores per item from the job's ``output.jsonl`` files, matched to items by their question text."""
    waiting: dict[str, list[str]] = {}
    for item_id, question in zip(job["items"], job["questions"], strict=True):
        waiting.setdefault(question, []).append(item_id)
    entries = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=job["bucket"], Prefix=job["outputPrefix"]):
        for obj in page.get("Contents", []):
            if not obj["Key"].endswith("output.jsonl"):
                continue
            body = s3.get_object(Bucket=job["bucket"], Key=obj["Key"])["Body"].read().decode("utf-8")
            for text in body.splitlines():
                if not text.strip():
                    continue
                line = json.loads(text)
                record = line.get("inputRecord", line)
                ids = waiting.get(_question(record)) if isinstance(record, dict) else None
                result = line.get("automatedEvaluationResult") or {}
                if not ids:
                    continue
                metrics = {
                    str(score["metricName"]).removeprefix("Builtin."): score["result"]
                    for score in result.get("scores", [])
                    if score.get("result") is not None
                }
                entries.append({"id": ids.pop(0), "arm": job["arm"], "scores": metrics})
    return entries


SETUP_OUTPUTS = ("EvaluationBucketName", "EvaluationPrefix", "EvaluationRoleArn", "EvaluationJudgeModelIds")
"""The RagApi stack outputs the judge needs."""


def setup_from_outputs(values: dict[str, str], judge_model_id: str) -> JudgeSetup:
    return JudgeSetup(
        bucket=values["EvaluationBucketName"],
        prefix=values["EvaluationPrefix"],
        role_arn=values["EvaluationRoleArn"],
        judge_model_id=judge_model_id,
    )
