"""Given passages or settings beyond what Bedrock's contextual grounding check accepts, the function trims
the grounding source (lowest-ranked first, said in the response) and refuses a maxTokens it cannot check.

Source for every limit here: Bedrock user guide, "Use contextual grounding check to filter hallucinations in
responses": the contextual grounding policy "supports a maximum of 100,000 characters for the grounding
source, 1,000 characters for the query, and 5,000 characters for the response"."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.stub import ANY

from lambdas.rag import constants
from lambdas.rag.prompts import Passage, fit_grounding_source, render_passages
from lambdas.rag.settings import SettingsError, load_settings

from .conftest import (
    ENVIRONMENT,
    IMPORTED_MODEL_ARN,
    App,
    guardrail_response,
    streaming_json,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def results(count: int, chars: int) -> dict[str, Any]:
    """``count`` Retrieve results of ``chars`` characters each, ranked by falling score."""
    return {
        "retrievalResults": [
            {
                "content": {"type": "TEXT", "text": f"passage {rank} " + "x" * (chars - 10)},
                "location": {"type": "S3", "s3Location": {"uri": f"s3://ladder-documents/doc-{rank}.md"}},
                "score": 0.99 - rank / 100,
            }
            for rank in range(count)
        ]
    }


def grounding_source(content: list[dict[str, Any]]) -> str:
    """The text of the one block qualified as grounding source (Converse guardContent or ApplyGuardrail)."""
    texts = []
    for block in content:
        inner = (block.get("guardContent") or block)["text"]
        if isinstance(inner, dict) and "grounding_source" in inner.get("qualifiers", []):
            texts.append(inner["text"])
    assert len(texts) == 1
    return texts[0]


def capture(app: App) -> list[dict[str, Any]]:
    captured: list[dict[str, Any]] = []
    app.hook(
        app.runtime.clients.bedrock_runtime,
        "provide-client-params.bedrock-runtime.*",
        lambda params, **_: captured.append(dict(params)),
    )
    return captured


def test_passages_within_the_limit_are_all_sent_and_nothing_is_said_trimmed(app: App) -> None:
    # Given the sample retrieval (two relevant passages, far below 100,000 characters)
    app.expect_retrieve()
    app.expect_converse()

    # When a question is asked
    response = app.ask({"question": "How much leave?"})

    # Then both are cited and the response says nothing was trimmed
    assert response.status == 200
    assert len(response.body["citations"]) == 2
    assert response.body["groundingSourceTrimmed"] is False


def test_converse_gets_the_highest_ranked_passages_that_fit_and_the_response_says_so(
    make_app: Callable[..., App],
) -> None:
    # Given topK 20 passages of 8,000 characters each (hierarchical parents can be this long): 160,000
    app = make_app()
    app.expect_retrieve(results(20, 8_000))
    captured = capture(app)
    app.expect_converse()

    # When a question is asked
    response = app.ask({"question": "How much leave?", "topK": 20})

    # Then the grounding source Converse receives fits the check's limit
    source = grounding_source(captured[0]["messages"][0]["content"])
    assert len(source) <= constants.GROUNDING_SOURCE_MAX_CHARS
    # And the lowest-ranked passages were the ones left out: the kept ones are the first ranks, in order
    kept = response.body["citations"]
    assert 0 < len(kept) < 20
    assert [c["sourceUri"] for c in kept] == [f"s3://ladder-documents/doc-{r}.md" for r in range(len(kept))]
    assert f'<passage id="{len(kept)}" ' in source and f'<passage id="{len(kept) + 1}" ' not in source
    # And one more passage would not have fitted
    assert response.body["groundingSourceTrimmed"] is True
    answered = [r for r in app.log_records() if r.get("message") == "answered"]
    assert answered[0]["passages_trimmed"] == 20 - len(kept)
    assert answered[0]["passages"] == 20, "RetrievedPassages still counts what retrieval kept"
    app.assert_no_pending()


def test_the_invoke_model_output_check_gets_the_same_trimmed_grounding_source(
    make_app: Callable[..., App], publish_model: Callable[[str], None]
) -> None:
    # Given the fine-tuned model on the InvokeModel path, and passages beyond the limit
    app = make_app(FINETUNED_MODEL_API="invoke_model")
    publish_model(IMPORTED_MODEL_ARN)
    app.expect_architecture("LLAMA3")
    app.expect_retrieve(results(20, 8_000))
    captured = capture(app)
    app.bedrock.add_response("apply_guardrail", guardrail_response(), None)
    app.bedrock.add_response(
        "invoke_model",
        {
            "body": streaming_json({"generation": "Employees get 25 days [1].", "stop_reason": "stop"}),
            "contentType": "application/json",
        },
        {"modelId": IMPORTED_MODEL_ARN, "body": ANY, "contentType": ANY, "accept": ANY},
    )
    app.bedrock.add_response("apply_guardrail", guardrail_response(), None)

    # When a finetuned question is asked
    response = app.ask({"question": "How much leave?", "mode": "finetuned", "topK": 20})

    # Then the output check's grounding source fits, and holds exactly the passages the prompt held
    assert response.status == 200
    source = grounding_source(captured[2]["content"])
    assert len(source) <= constants.GROUNDING_SOURCE_MAX_CHARS
    prompt = json.loads(captured[1]["body"])["prompt"]
    kept = len(response.body["citations"])
    assert f'<passage id="{kept}" ' in prompt and f'<passage id="{kept + 1}" ' not in prompt
    assert response.body["groundingSourceTrimmed"] is True
    app.assert_no_pending()


def test_a_first_passage_longer_than_the_limit_keeps_its_start() -> None:
    # Given one passage that alone renders beyond 100,000 characters (markup to escape included)
    passages = [Passage(text="<&>" * 40_000, source_uri="s3://d/big.md", score=0.9)]

    # When the grounding source is fitted
    fitted = fit_grounding_source(passages)

    # Then the passage stays, cut so that its rendering fits exactly the limit or just under
    assert len(fitted.passages) == 1 and fitted.trimmed == 1
    rendered = render_passages(fitted.passages)
    assert constants.GROUNDING_SOURCE_MAX_CHARS - 10 < len(rendered) <= constants.GROUNDING_SOURCE_MAX_CHARS
    assert passages[0].text.startswith(fitted.passages[0].text)


def test_no_passages_stay_no_passages() -> None:
    assert fit_grounding_source([]).passages == [] and fit_grounding_source([]).trimmed == 0


def test_max_tokens_the_grounding_check_cannot_assess_is_refused_naming_the_limit() -> None:
    # Given MAX_TOKENS whose answer can run past the check's 5,000 characters (4 characters a token)
    environ = {**ENVIRONMENT, "MAX_TOKENS": str(constants.GROUNDING_MAX_TOKENS + 1)}

    # When settings load, then the variable is refused naming the limit and why
    with pytest.raises(SettingsError) as raised:
        load_settings(environ)
    assert raised.value.variable == "MAX_TOKENS"
    assert f"an integer from 1 to {constants.GROUNDING_MAX_TOKENS}" in str(raised.value)
    assert "5000 characters" in str(raised.value)
    # And the largest assessable value loads
    assert (
        load_settings({**environ, "MAX_TOKENS": "1250"}).max_tokens == 1250 == constants.GROUNDING_MAX_TOKENS
    )
