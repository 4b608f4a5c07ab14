"""`ladder data render`: training records retrieved and rendered exactly as the RAG function serves them.

The function's settings come from its deployed configuration (moto Lambda); Retrieve is a botocore Stubber
on a real bedrock-agent-runtime client, so every request is checked against the service model.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ladder import cli
from lambdas.rag.prompts import Passage, load_templates
from training_jobs import dataprep

from ..conftest import REGION, Stacks

EVENTS = Path(__file__).resolve().parents[2] / "events" / "rag"
FUNCTION = "LadderRagApi-RagFunction-abc123"
RERANKER = f"arn:aws:bedrock:{REGION}::foundation-model/amazon.rerank-v1:0"
FUNCTION_ENV = {
    "POWERTOOLS_METRICS_NAMESPACE": "Ladder",
    "POWERTOOLS_SERVICE_NAME": "ladder-rag",
    "KNOWLEDGE_BASE_ID": "KB12345678",
    "MODEL_ID": "us.amazon.nova-lite-v1:0",
    "GUARDRAIL_ID": "abc123guardrail",
    "GUARDRAIL_VERSION": "1",
    "MIN_RELEVANCE_SCORE": "0.4",
    "SEARCH_TYPE": "HYBRID",
}


def retrieve_response() -> dict[str, Any]:
    """Three results: two above MIN_RELEVANCE_SCORE (0.4), one below it."""
    return json.loads((EVENTS / "retrieve_response.json").read_text())


class Deployment:
    """The RagApi stack's outputs (Stubber), the RAG function (moto) and Retrieve (Stubber)."""

    def __init__(self, stacks: Stacks) -> None:
        self.stacks = stacks
        self.agent_runtime = boto3.client("bedrock-agent-runtime", region_name=REGION)
        self.retrieve = Stubber(self.agent_runtime)
        self.retrieve.activate()

    def function(self, environment: dict[str, str]) -> None:
        self.stacks.deployed("LadderRagApi", {"AskUrl": "https://x/prod/ask", "RagFunctionName": FUNCTION})
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="rag", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
        )["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
        boto3.client("lambda", region_name=REGION).create_function(
            FunctionName=FUNCTION,
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": code.getvalue()},
            Environment={"Variables": environment},
        )

    def expect_retrieve(self, question: str, configuration: dict[str, Any], response: dict[str, Any]) -> None:
        self.retrieve.add_response(
            "retrieve",
            response,
            {
                "knowledgeBaseId": "KB12345678",
                "retrievalQuery": {"text": question},
                "retrievalConfiguration": {"vectorSearchConfiguration": configuration},
            },
        )

    def client_factory(self, session: boto3.session.Session, service: str) -> Any:
        if service == "bedrock-agent-runtime":
            return self.agent_runtime
        return self.stacks.client_factory(session, service)


@pytest.fixture
def deployment(aws: None, stacks: Stacks) -> Iterator[Deployment]:
    deployed = Deployment(stacks)
    yield deployed
    deployed.retrieve.assert_no_pending_responses()


def run(deployment: Deployment, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["data", "render", *argv], client_factory=deployment.client_factory)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_pairs(path: Path, *pairs: tuple[str, str]) -> Path:
    path.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in pairs))
    return path


def test_records_hold_the_finetuned_template_with_the_passages_the_function_keeps(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the deployed function searches HYBRID with the default topK and a 0.4 relevance floor
    deployment.function(FUNCTION_ENV)
    question = "How many days of annual leave do I get?"
    answer = "25 days per calendar year [1]; up to 5 unused days carry over [2]."
    pairs = write_pairs(tmp_path / "pairs.jsonl", (question, answer))
    deployment.expect_retrieve(
        question, {"numberOfResults": 5, "overrideSearchType": "HYBRID"}, retrieve_response()
    )

    # When the pairs are rendered
    code, out, err = run(deployment, capsys, "--qa", str(pairs), "--out", str(tmp_path / "chats.jsonl"))

    # Then one chat record holds exactly the finetuned template the function serves, with the two
    # passages at or above the floor, and the approved answer
    assert code == 0, err
    template = load_templates()["finetuned"]
    kept = [
        Passage(
            "Full-time employees receive 25 days of paid annual leave per calendar year.",
            "s3://ladder-documents/handbook/leave-policy.pdf",
            0.82,
        ),
        Passage(
            "Unused leave of up to 5 days may be carried over to the next year.",
            "s3://ladder-documents/handbook/carry-over.md",
            0.71,
        ),
    ]
    [record] = [json.loads(line) for line in (tmp_path / "chats.jsonl").read_text().splitlines()]
    assert record == {
        "messages": [
            {"role": "system", "content": template.system},
            {"role": "user", "content": template.user_text(question, kept)},
            {"role": "assistant", "content": answer},
        ]
    }
    assert "cafeteria" not in record["messages"][1]["content"]
    # And the user turn is what InvokeModel sends for the same question and passages
    assert record["messages"][1]["content"] in template.invoke_model_prompt(question, kept)
    # And the records pass the pipeline's own checks
    with (tmp_path / "chats.jsonl").open() as fp:
        assert dataprep.prepare(fp, dataprep.PrepOptions(min_examples=1)).report.clean == 1
    # And the manifest records the prompt version and the retrieval settings
    manifest = json.loads((tmp_path / "chats.jsonl.render.json").read_text())
    assert manifest == {
        "mode": "finetuned",
        "promptVersion": template.version,
        "knowledgeBaseId": "KB12345678",
        "topK": 5,
        "searchType": "HYBRID",
        "rerankModelArn": None,
        "minRelevanceScore": 0.4,
        "pairs": 1,
        "written": 1,
        "noPassages": [],
    }
    assert f"prompt finetuned version {template.version}" in out


def test_reranking_and_top_k_follow_the_function(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the function reranks
    deployment.function({**FUNCTION_ENV, "SEARCH_TYPE": "", "RERANK_MODEL_ARN": RERANKER})
    pairs = write_pairs(tmp_path / "pairs.jsonl", ("Leave?", "25 days [1]."))
    deployment.expect_retrieve(
        "Leave?",
        {
            "numberOfResults": 9,
            "rerankingConfiguration": {
                "type": "BEDROCK_RERANKING_MODEL",
                "bedrockRerankingConfiguration": {
                    "modelConfiguration": {"modelArn": RERANKER},
                    "numberOfRerankedResults": 3,
                },
            },
        },
        retrieve_response(),
    )

    # When rendered with --top-k 3
    code, _, err = run(
        deployment, capsys, "--qa", str(pairs), "--out", str(tmp_path / "c.jsonl"), "--top-k", "3"
    )

    # Then Retrieve was called as the function calls it (Stubber checked the parameters)
    assert code == 0, err
    assert json.loads((tmp_path / "c.jsonl.render.json").read_text())["rerankModelArn"] == RERANKER


def test_questions_that_retrieve_nothing_are_left_out_and_reported(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment.function(FUNCTION_ENV)
    pairs = write_pairs(tmp_path / "pairs.jsonl", ("Leave?", "25 days [1]."), ("Parking?", "Level 2 [1]."))
    settings = {"numberOfResults": 5, "overrideSearchType": "HYBRID"}
    deployment.expect_retrieve("Leave?", settings, retrieve_response())
    weak = retrieve_response()
    weak["retrievalResults"] = weak["retrievalResults"][2:]
    deployment.expect_retrieve("Parking?", settings, weak)

    code, out, err = run(deployment, capsys, "--qa", str(pairs), "--out", str(tmp_path / "c.jsonl"), "--json")

    assert code == 0
    manifest = json.loads(out)
    assert (manifest["pairs"], manifest["written"]) == (2, 1)
    assert manifest["noPassages"] == [{"line": 2, "question": "Parking?"}]
    assert "line 2: retrieved no passages, left out: Parking?" in err
    assert len((tmp_path / "c.jsonl").read_text().splitlines()) == 1


def test_a_bad_pairs_file_names_every_bad_line_before_any_aws_call(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No stack is queued: a CloudFormation call would fail the stubber.
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        "\n".join(
            [
                json.dumps({"question": "Leave?", "answer": "25 days."}),
                "{nope",
                json.dumps({"question": "Leave?"}),
                json.dumps({"question": "Leave?", "answer": "  "}),
            ]
        )
    )

    code, _, err = run(deployment, capsys, "--qa", str(pairs), "--out", str(tmp_path / "c.jsonl"))

    assert code == 1
    assert "3 unusable lines, nothing retrieved" in err
    assert "line 2: not valid JSON" in err
    assert 'line 3: expected an object with exactly "question" and "answer"' in err
    assert "line 4: answer must be a non-empty string" in err
    assert not (tmp_path / "c.jsonl").exists()


def test_a_missing_pairs_file_is_reported_before_any_aws_call(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        deployment, capsys, "--qa", str(tmp_path / "nosuch.jsonl"), "--out", str(tmp_path / "c")
    )

    assert code == 2
    assert f"cannot read {tmp_path / 'nosuch.jsonl'}" in err


def test_a_question_longer_than_the_deployed_limit_is_named(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment.function({**FUNCTION_ENV, "MAX_QUESTION_CHARS": "10"})
    pairs = write_pairs(
        tmp_path / "pairs.jsonl", ("Leave?", "25 days."), ("A question that is too long", "x")
    )

    code, _, err = run(deployment, capsys, "--qa", str(pairs), "--out", str(tmp_path / "c.jsonl"))

    assert code == 1
    assert "line 2: question has 27 characters; the API accepts at most 10" in err
    assert not (tmp_path / "c.jsonl").exists()


def test_a_function_without_its_settings_is_missing_setup(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment.function({k: v for k, v in FUNCTION_ENV.items() if k != "KNOWLEDGE_BASE_ID"})
    pairs = write_pairs(tmp_path / "pairs.jsonl", ("Leave?", "25 days."))

    code, _, err = run(deployment, capsys, "--qa", str(pairs), "--out", str(tmp_path / "c.jsonl"))

    assert code == 2
    assert f"function {FUNCTION}: environment variable KNOWLEDGE_BASE_ID is unset" in err


def test_a_missing_rag_stack_is_missing_setup(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment.stacks.missing("LadderRagApi")
    pairs = write_pairs(tmp_path / "pairs.jsonl", ("Leave?", "25 days."))

    code, _, err = run(deployment, capsys, "--qa", str(pairs), "--out", str(tmp_path / "c"))

    assert code == 2
    assert "stack LadderRagApi not found" in err
