"""The optional LLM judge: Bedrock's own evaluation service scores the answers a run already has.

Jobs are bring-your-own-inference (nothing is generated again), one per arm and per 1,000 answers:
- ``prompt`` (no retrieval): ``applicationType=ModelEvaluation`` with
  ``inferenceConfig.models[].precomputedInferenceSource``; dataset lines
  ``{"prompt", "referenceResponse", "modelResponses": [{"response", "modelIdentifier"}]}``; output lines
  ``{"automatedEvaluationResult": {"scores": [{"metricName", "result"}]}, "inputRecord": <the dataset
  line>, "modelResponses": [...]}``.
- ``rag`` / ``finetuned``: ``applicationType=RagEvaluation`` with
  ``inferenceConfig.ragConfigs[].precomputedRagSourceConfig.retrieveAndGenerateSourceConfig``; dataset
  lines ``{"conversationTurns": [{"prompt", "referenceResponses", "output": {"text", "modelIdentifier",
  "knowledgeBaseIdentifier", "retrievedPassages": {"retrievalResults": [...]}}}]}``; output lines
  ``{"conversationTurns": [{"inputRecord": {"prompt": {"content": [{"text"}]}, ...}, "output": ...,
  "results": [{"metricName", "result"}]}]}``.

The retrieval arms hand the judge the passages the model saw (``citations[].text``, which ``ladder eval
run`` asks the API for); answers recorded before the API returned them carry only the 500-character
``excerpt``, which understates faithfulness, and the job records how many did.

Built-in metrics: correctness, completeness and refusal for every arm, faithfulness for the retrieval
arms; with ``--style RUBRIC.md`` a custom metric ``HouseStyle`` (rated 0..1 by the judge model from the
rubric). An answer the deterministic rules count as a refusal keeps only its ``Refusal`` score: the other
metrics judge an answer, and a refusal (the API's no-context answer or a guardrail intervention among
them) carries no answer and often no passages. When a job completes its ``output.jsonl`` files are read
back into ``judge-scores.jsonl`` (then into ``scores.jsonl``'s ``judge``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ladder_core.api import PROMPT, parse_arm
from ladder_core.evaluation.evalset import EvalSet

from ..errors import LadderError, SetupError
from . import rundir
from .runner import read_records

TASK_TYPE = "General"
"""LLM-as-a-judge model evaluations take ``General``; Bedrock ignores the task type of a RAG evaluation."""
REFUSAL_METRIC = "Builtin.Refusal"
MODEL_METRICS = ("Builtin.Correctness", "Builtin.Completeness", REFUSAL_METRIC)
RAG_METRICS = ("Builtin.Correctness", "Builtin.Completeness", "Builtin.Faithfulness", REFUSAL_METRIC)
STYLE_METRIC = "HouseStyle"
MAX_INSTRUCTIONS_CHARS = 5000
STYLE_VARIABLES = "\n\nQuestion: {{prompt}}\nAnswer: {{prediction}}"
STYLE_SCALE = (
    ("Follows the house style fully", 1.0),
    ("Partly follows the house style", 0.5),
    ("Does not follow the house style", 0.0),
)
DONE_STATUSES = ("Completed", "Failed", "Stopped", "Deleted")
MAX_DATASET_NAME = 63
"""botocore's bedrock model, EvaluationDatasetName: 1 to 63 characters of ``[0-9a-zA-Z-_.]``."""
_SOURCE_CHARS = re.compile(r"[^a-zA-Z0-9._-]")
MAX_PROMPTS_PER_JOB = 1000
"""Bedrock reads at most 1,000 prompts from one job's dataset; a larger arm is split into parts."""
MAX_JOB_NAME = 63
MAX_JOB_DESCRIPTION = 200
RUN_DIGEST_CHARS = 6
"""Hex characters of the run id's sha256 in a job name: two long ``--out`` names cut to the same prefix
still differ."""
_JOB_NAME_CHARS = re.compile(r"[^a-z0-9]+")
_S3_KEY_UNSAFE = re.compile(r"[^-!_*'().a-zA-Z0-9]+")


@dataclass(frozen=True)
class JudgeSetup:
    """Where the judge works: the evaluation bucket and prefix, and the role Bedrock assumes."""

    bucket: str
    prefix: str
    role_arn: str
    judge_model_id: str


def job_name(run_id: str, arm: str, part: int, created: datetime) -> str:
    """A job name Bedrock accepts (``[a-z0-9](-*[a-z0-9]){0,62}``) and has not seen: the run (cut to fit,
    plus a digest of the whole id), the arm, the part and the creation time to the second, so a rerun
    never reuses a name (Bedrock answers a reused one with ConflictException)."""
    digest = hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:RUN_DIGEST_CHARS]
    tail = f"-{digest}-{_slug(arm)}-p{part}-{created.astimezone(UTC):%Y%m%d%H%M%S}"
    head = _slug(f"ladder-{run_id}")[: MAX_JOB_NAME - len(tail)].rstrip("-")
    return head + tail


def _slug(text: str) -> str:
    return _JOB_NAME_CHARS.sub("-", text.lower()).strip("-")


def source_identifier(arm: str) -> str:
    """The arm as Bedrock's precomputed source identifiers and dataset names spell one
    (``[a-zA-Z0-9._-]``): ``rag@us.amazon.nova-pro-v1:0`` -> ``ladder-rag-us.amazon.nova-pro-v1-0``."""
    return "ladder-" + _SOURCE_CHARS.sub("-", arm)


def passages(response: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The retrieval results to hand the judge, and how many of them are only the API's ``excerpt``
    (answers recorded before ``ladder eval run`` asked for the passages)."""
    results = []
    excerpts = 0
    for citation in response.get("citations") or []:
        if not isinstance(citation, dict):
            continue
        text = citation.get("text")
        if not isinstance(text, str):
            text = str(citation.get("excerpt", ""))
            excerpts += 1
        results.append({"name": str(citation.get("sourceUri", ""))[:256], "content": {"text": text}})
    return results, excerpts


@dataclass(frozen=True)
class DatasetLine:
    """One answer as the judge receives it."""

    item_id: str
    line: dict[str, Any]
    excerpt_only: bool
    """The passages are the API's 500-character excerpts, not the full text the model saw."""


def dataset_lines(
    evalset: EvalSet, records: dict[tuple[str, str], dict[str, Any]], arm: str
) -> list[DatasetLine]:
    """A dataset line for every item the arm answered successfully, in set order."""
    lines = []
    for item in evalset.items:
        record = records.get((item.id, arm))
        if not record or record["status"] != "ok":
            continue
        response = record["response"]
        answer = str(response.get("answer", ""))
        model = str(response.get("modelId") or arm)
        excerpts = 0
        if parse_arm(arm).mode == PROMPT:
            line: dict[str, Any] = {"prompt": item.question}
            if item.reference:
                line["referenceResponse"] = item.reference
            line["modelResponses"] = [{"response": answer, "modelIdentifier": source_identifier(arm)}]
        else:
            retrieved, excerpts = passages(response)
            turn: dict[str, Any] = {"prompt": {"content": [{"text": item.question}]}}
            if item.reference:
                turn["referenceResponses"] = [{"content": [{"text": item.reference}]}]
            turn["output"] = {
                "text": answer,
                "modelIdentifier": model,
                "knowledgeBaseIdentifier": source_identifier(arm),
                "retrievedPassages": {"retrievalResults": retrieved},
            }
            line = {"conversationTurns": [turn]}
        lines.append(DatasetLine(item.id, line, excerpts > 0))
    return lines


def job_request(
    setup: JudgeSetup,
    name: str,
    run_id: str,
    arm: str,
    dataset_uri: str,
    output_uri: str,
    rubric: str | None,
) -> dict[str, Any]:
    """The ``CreateEvaluationJob`` parameters for one job (shapes from botocore's ``bedrock`` model)."""
    rag = parse_arm(arm).mode != PROMPT
    metrics = list(RAG_METRICS if rag else MODEL_METRICS)
    automated: dict[str, Any] = {
        "datasetMetricConfigs": [
            {
                "taskType": TASK_TYPE,
                "dataset": {
                    "name": source_identifier(arm)[:MAX_DATASET_NAME],
                    "datasetLocation": {"s3Uri": dataset_uri},
                },
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
        "jobName": name,
        "jobDescription": f"Ladder evaluation {run_id}, arm {arm}"[:MAX_JOB_DESCRIPTION],
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
    bedrock: Any,
    s3: Any,
    folder: Path,
    setup: JudgeSetup,
    rubric: str | None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    *,
    missing_only: bool = False,
) -> list[dict[str, Any]]:
    """Upload one dataset per arm and part (at most 1,000 answers each) and start its job; with
    ``missing_only``, only for the arms and parts ``judge-jobs.json`` has no job for (after a start that
    failed part-way), keeping the jobs recorded there.

    ``judge-jobs.json`` is rewritten after every job Bedrock accepts, so a failure part-way leaves the jobs
    already started recorded (``ladder eval status`` follows them); the failure is a LadderError naming
    the arm and Bedrock's error.
    """
    info = rundir.load_info(folder)
    evalset = rundir.load_run_set(folder)
    records = read_records(folder / rundir.RESPONSES)
    path = folder / rundir.JUDGE_JOBS
    jobs: list[dict[str, Any]] = recorded_jobs(folder) if missing_only else []
    judged = {(job["arm"], job.get("part", 1)) for job in jobs}
    # Bedrock's S3 URI pattern allows only these characters in keys; a --out folder name may have others.
    base = f"{setup.prefix.rstrip('/')}/{_S3_KEY_UNSAFE.sub('-', info.id)}"
    created = now()
    batches = []
    for arm in info.arms:
        lines = dataset_lines(evalset, records, arm)
        parts = [lines[i : i + MAX_PROMPTS_PER_JOB] for i in range(0, len(lines), MAX_PROMPTS_PER_JOB)]
        batches += [
            (arm, number, part) for number, part in enumerate(parts, start=1) if (arm, number) not in judged
        ]
    if not batches and not jobs:
        raise LadderError("no successful answers to judge in this run")
    for arm, number, part in batches:
        name = job_name(info.id, arm, number, created)
        key = f"{base}/{arm}/datasets/{name}.jsonl"
        body = "".join(json.dumps(entry.line, ensure_ascii=False) + "\n" for entry in part)
        s3.put_object(
            Bucket=setup.bucket, Key=key, Body=body.encode("utf-8"), ContentType="application/jsonl"
        )
        output = f"{base}/{arm}/output/"
        request = job_request(
            setup, name, info.id, arm, f"s3://{setup.bucket}/{key}", f"s3://{setup.bucket}/{output}", rubric
        )
        try:
            arn = bedrock.create_evaluation_job(**request)["jobArn"]
        except ClientError as err:
            detail = err.response.get("Error", {})
            raise LadderError(
                f"judge job {name} ({arm}, part {number} of {sum(b[0] == arm for b in batches)}) was not "
                f"created: {detail.get('Code', '?')}: {detail.get('Message', '')}. "
                + (
                    f"The {len(jobs)} job(s) started before it are recorded in {path.name}; "
                    "`ladder eval status` follows them"
                    if jobs
                    else "No job was started"
                )
            ) from None
        jobs.append(
            {
                "arm": arm,
                "jobArn": arn,
                "status": "InProgress",
                # Bedrock writes under <s3Uri>/<job name>/<job uuid>/...: this job's results only.
                "outputPrefix": f"{output}{name}/",
                "bucket": setup.bucket,
                "items": [entry.item_id for entry in part],
                "questions": [_question(entry.line) for entry in part],
                "jobName": name,
                "part": number,
                "excerptOnly": sum(entry.excerpt_only for entry in part),
            }
        )
        path.write_text(json.dumps(jobs, indent=2) + "\n", encoding="utf-8")
    return jobs


def unjudged_arms(folder: Path) -> list[str]:
    """The run's arms with successful answers of which some part has no job in ``judge-jobs.json``."""
    info = rundir.load_info(folder)
    records = read_records(folder / rundir.RESPONSES)
    judged = {(job["arm"], job.get("part", 1)) for job in recorded_jobs(folder)}
    answered = Counter(arm for (_, arm), record in records.items() if record.get("status") == "ok")
    return [
        arm
        for arm in info.arms
        if any((arm, part) not in judged for part in range(1, -(-answered[arm] // MAX_PROMPTS_PER_JOB) + 1))
    ]


def recorded_jobs(folder: Path) -> list[dict[str, Any]]:
    """The jobs in the run's ``judge-jobs.json`` ([] when there is none)."""
    path = folder / rundir.JUDGE_JOBS
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def follow_jobs(bedrock: Any, s3: Any, folder: Path) -> list[dict[str, Any]]:
    """Refresh each job's status; read the scores of jobs that completed into ``judge-scores.jsonl``."""
    jobs = recorded_jobs(folder)
    if not jobs:
        return []
    scores: list[dict[str, Any]] = []
    for job in jobs:
        if job["status"] not in DONE_STATUSES:
            described = bedrock.get_evaluation_job(jobIdentifier=job["jobArn"])
            job["status"] = described["status"]
            if described.get("failureMessages"):
                job["failureMessages"] = described["failureMessages"]
        if job["status"] == "Completed":
            scores += _read_scores(s3, job)
    path = folder / rundir.JUDGE_JOBS
    path.write_text(json.dumps(jobs, indent=2) + "\n", encoding="utf-8")
    with (folder / rundir.JUDGE_SCORES).open("w", encoding="utf-8") as out:
        for entry in scores:
            out.write(json.dumps(entry) + "\n")
    return jobs


def for_answer(scores: dict[str, float], refusal: bool) -> dict[str, float]:
    """The judge's scores that apply to one answer: only ``Refusal`` when the deterministic rules count
    the answer as a refusal (there is no answer to judge for correctness, completeness or faithfulness)."""
    if not refusal:
        return scores
    short = REFUSAL_METRIC.removeprefix("Builtin.")
    return {metric: value for metric, value in scores.items() if metric == short}


def _question(line: dict[str, Any]) -> str:
    """The question of a dataset line or of a model-evaluation output line's ``inputRecord``."""
    if "prompt" in line:
        return str(line["prompt"])
    return str(line["conversationTurns"][0]["prompt"]["content"][0]["text"])


def _scored_lines(line: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(question, [{"metricName", "result"}]) from one output line of either job kind; [] for a line of
    neither shape."""
    if "conversationTurns" in line:
        # Ladder sends one turn per line; its input record holds the question as the dataset line had it.
        turns = line.get("conversationTurns") or [None]
        try:
            question = turns[0]["inputRecord"]["prompt"]["content"][0]["text"]
        except (KeyError, IndexError, TypeError):
            return []
        return [(str(question), turns[0].get("results") or [])]
    record = line.get("inputRecord")
    if isinstance(record, dict) and "prompt" in record:
        return [(_question(record), (line.get("automatedEvaluationResult") or {}).get("scores") or [])]
    return []


def _read_scores(s3: Any, job: dict[str, Any]) -> list[dict[str, Any]]:
    """Scores per item from the job's ``output.jsonl`` files, matched to items by their question text
    (the same question twice is matched in dataset order)."""
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
                for question, results in _scored_lines(json.loads(text)):
                    ids = waiting.get(question)
                    if not ids:
                        continue
                    metrics = {
                        str(score["metricName"]).removeprefix("Builtin."): score["result"]
                        for score in results
                        if isinstance(score, dict)
                        and score.get("metricName")
                        and score.get("result") is not None
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
