"""`ladder ask`: a SigV4-signed POST /ask, pretty or raw output, API errors on stderr."""

from __future__ import annotations

import json

from ladder import api

from .conftest import FIXTURES, REGION

RAG_RESPONSE = json.loads((FIXTURES / "ask_rag.json").read_text(encoding="utf-8"))


def test_ask_signs_the_request_for_execute_api_and_sends_the_question(stacks, run_cli, api_server):
    # Given a deployed RAG API whose AskUrl is the local server
    stacks.deployed("LadderRagApi", {"AskUrl": api_server.url})
    api_server.answer(200, RAG_RESPONSE)

    # When a question is asked with a mode and top-k
    result = run_cli("ask", "How much annual leave do I get?", "--mode", "rag", "--top-k", "3")

    # Then one POST reached /ask, signed with SigV4 for execute-api in the session's region
    assert result.code == 0, result.err
    [request] = api_server.requests
    assert request.path == "/prod/ask"
    authorization = request.headers["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert f"/{REGION}/execute-api/aws4_request" in authorization
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"host", "x-amz-date", "content-type"} <= set(signed)
    assert request.headers["x-amz-security-token"] == "testing"
    assert request.headers["content-type"] == "application/json"
    # And the body is the API's request contract
    assert json.loads(request.body) == {
        "question": "How much annual leave do I get?",
        "mode": "rag",
        "topK": 3,
    }


def test_ask_sends_the_question_as_utf8_not_ascii_escapes(stacks, run_cli, api_server):
    # Given a question in a language with non-ASCII letters
    stacks.deployed("LadderRagApi", {"AskUrl": api_server.url})
    api_server.answer(200, RAG_RESPONSE)
    question = "Combien de congés ai-je droit à Zürich ? 休暇は何日ですか"

    # When it is asked
    result = run_cli("ask", question)

    # Then the body carries the characters as UTF-8 bytes (an escape would cost up to 6 bytes each)
    assert result.code == 0, result.err
    [request] = api_server.requests
    assert question.encode("utf-8") in request.body
    assert b"\\u" not in request.body
    assert json.loads(request.body.decode("utf-8"))["question"] == question


def test_ask_leaves_top_k_to_the_api_when_not_given(stacks, run_cli, api_server):
    # Given a deployed RAG API
    stacks.deployed("LadderRagApi", {"AskUrl": api_server.url})
    api_server.answer(200, {**RAG_RESPONSE, "mode": "prompt", "citations": []})

    # When a question is asked in prompt mode without --top-k
    result = run_cli("ask", "What is Harbormist?", "--mode", "prompt")

    # Then the body carries no topK, so the API's default applies
    assert result.code == 0, result.err
    assert json.loads(api_server.requests[0].body) == {"question": "What is Harbormist?", "mode": "prompt"}


def test_ask_prints_the_answer_then_numbered_citations_then_mode_model_latency(stacks, run_cli, api_server):
    # Given the API answers with two citations
    stacks.deployed("LadderRagApi", {"AskUrl": api_server.url})
    api_server.answer(200, RAG_RESPONSE)

    # When a question is asked
    result = run_cli("ask", "How much annual leave do I get?")

    # Then the answer comes first, then each citation numbered with its score and an excerpt
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == RAG_RESPONSE["answer"]
    first = lines.index("[1] s3://ladder-documents/docs/handbook/leave.md  (score 0.83)")
    second = lines.index("[2] s3://ladder-documents/docs/faq.md  (score 0.61)")
    assert first < second
    assert "27 days of paid annual leave" in lines[first + 1]
    # And the footer names the mode, the model, the prompt version, latency and tokens
    footer = lines[-1]
    assert "mode rag" in footer
    assert "model us.anthropic.claude-sonnet-4-20250514-v1:0" in footer
    assert "prompt 3f9c2a71b0de" in footer
    assert "1547 ms (retrieve 212 ms, generate 1318 ms)" in footer
    assert "tokens 812 in / 41 out" in footer


def test_ask_json_prints_the_raw_response(stacks, run_cli, api_server):
    # Given the API answers
    stacks.deployed("LadderRagApi", {"AskUrl": api_server.url})
    api_server.answer(200, RAG_RESPONSE)

    # When --json is given
    result = run_cli("ask", "How much annual leave do I get?", "--json")

    # Then stdout is exactly the response as JSON
    assert result.code == 0, result.err
    assert json.loads(result.out) == RAG_RESPONSE


def test_ask_reports_an_api_error_on_stderr_and_exits_1(stacks, run_cli, api_server):
    # Given the API rejects the request
    stacks.deployed("LadderRagApi", {"AskUrl": api_server.url})
    api_server.answer(400, {"error": {"code": "InvalidRequest", "message": "question: must not be blank"}})

    # When a question is asked
    result = run_cli("ask", "   ")

    # Then the error is one line on stderr with status, code and message, and nothing on stdout
    assert result.code == 1
    assert result.err == "error 400 InvalidRequest: question: must not be blank\n"
    assert result.out == ""


def test_ask_reports_api_gateways_own_error_shape(stacks, run_cli, api_server):
    # Given API Gateway itself refuses the caller (IAM auth), with its {"message": ...} body
    stacks.deployed("LadderRagApi", {"AskUrl": api_server.url})
    api_server.answer(403, {"message": "User is not authorized to access this resource"})

    # When a question is asked
    result = run_cli("ask", "Anything?")

    # Then the status and message still reach the user
    assert result.code == 1
    assert result.err.startswith("error 403 ApiGateway: User is not authorized")


def test_ask_without_the_rag_api_stack_says_which_stack_to_deploy(stacks, run_cli):
    # Given no RagApi stack under the prefix Demo
    stacks.missing("DemoRagApi")

    # When a question is asked
    result = run_cli("ask", "Anything?", "--stack-prefix", "Demo")

    # Then one line names the stack and how to deploy it, exit 2, no traceback
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "stack DemoRagApi not found in us-east-1: deploy it with `make deploy`" in result.err
    assert "Traceback" not in result.err


def test_stack_prefix_comes_from_the_environment(stacks, run_cli, monkeypatch):
    # Given LADDER_STACK_PREFIX names another deployment that lacks the AskUrl output
    monkeypatch.setenv("LADDER_STACK_PREFIX", "Team")
    stacks.deployed("TeamRagApi", {"SomethingElse": "x"})

    # When a question is asked without --stack-prefix
    result = run_cli("ask", "Anything?")

    # Then the CLI read TeamRagApi and names the missing output
    assert result.code == 2
    assert "stack TeamRagApi (CREATE_COMPLETE) lacks output AskUrl" in result.err


def test_ask_refuses_to_send_credentials_over_plain_http_to_a_remote_host(stacks, run_cli):
    # Given an AskUrl that is not https
    stacks.deployed("LadderRagApi", {"AskUrl": "http://example.com/prod/ask"})

    # When a question is asked
    result = run_cli("ask", "Anything?")

    # Then nothing is sent and the user is told why
    assert result.code == 1
    assert "must use https" in result.err


def test_pretty_output_warns_when_the_answer_is_not_grounded_and_shows_no_sources_without_citations():
    # Given a rag-mode answer that the grounding check did not support, blocked by the guardrail
    response = {
        **RAG_RESPONSE,
        "citations": [],
        "grounded": False,
        "mode": "rag",
        "guardrail": {"action": "GUARDRAIL_INTERVENED"},
    }

    # When it is formatted
    text = api.format_answer(response)

    # Then there is no sources block, and both warnings are shown
    assert "Sources:" not in text
    assert "Not grounded" in text
    assert "Guardrail: GUARDRAIL_INTERVENED" in text


def test_prompt_mode_does_not_claim_the_answer_is_ungrounded(stacks, run_cli, api_server):
    """Prompt mode retrieves nothing, so the API's ``grounded: false`` says nothing about the answer."""
    stacks.deployed("LadderRagApi", {"AskUrl": api_server.url})
    stacks.deployed("LadderRagApi", {"AskUrl": api_server.url})
    api_server.answer(200, {**RAG_RESPONSE, "mode": "prompt", "citations": [], "grounded": False})
    prompt = run_cli("ask", "What is Harbormist?", "--mode", "prompt")
    api_server.answer(200, {**RAG_RESPONSE, "grounded": False})
    rag = run_cli("ask", "What is Harbormist?")

    assert prompt.code == rag.code == 0
    assert "grounded" not in prompt.out.lower()
    assert "Not grounded: the answer is not supported by the retrieved passages." in rag.out


def test_ask_takes_url_as_eval_run_does_without_asking_cloudformation(run_cli, api_server):
    api_server.answer(200, RAG_RESPONSE)

    result = run_cli("ask", "How much leave?", "--url", api_server.url)

    assert result.code == 0, result.err
    assert json.loads(api_server.requests[0].body)["question"] == "How much leave?"


def test_an_unquoted_question_is_refused_with_the_quoted_command(run_cli, api_server, monkeypatch):
    monkeypatch.setattr("sys.argv", ["ladder"])

    result = run_cli("ask", "How", "many", "days?", "--url", api_server.url)

    assert result.code == 2
    assert "the question must be one argument; quote it: ladder ask 'How many days?'" in result.err
    assert api_server.requests == []
