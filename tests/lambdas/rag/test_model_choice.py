"""Given a deployment that allows other generation models, when a request names one in ``modelId``, then
that model answers; any other model, or a model with mode finetuned, is a 400 naming what is allowed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lambdas.rag.errors import InvalidRequest
from lambdas.rag.request import parse_ask_request
from lambdas.rag.settings import load_settings

from .conftest import ENVIRONMENT, App

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

CONFIGURED = ENVIRONMENT["MODEL_ID"]
PRO = "us.amazon.nova-pro-v1:0"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
ALLOWED = {"ALLOWED_MODEL_IDS": f"{CONFIGURED},{PRO},{HAIKU}"}


@pytest.mark.parametrize("mode", ["rag", "prompt"])
def test_an_allowed_model_answers_and_is_reported(make_app: Callable[..., App], mode: str) -> None:
    # Given a deployment that allows Nova Pro besides its configured model
    app = make_app(**ALLOWED)
    if mode == "rag":
        app.expect_retrieve()
    # Then Converse is called with the named model, under the same guardrail and limits
    app.expect_converse(modelId=PRO)

    # When a question names it
    response = app.ask({"question": "How much leave?", "mode": mode, "modelId": PRO})

    # Then the answer reports the model that answered
    assert response.status == 200, response.body
    assert response.body["modelId"] == PRO
    assert response.body["mode"] == mode
    app.assert_no_pending()


def test_without_model_id_the_configured_model_answers(make_app: Callable[..., App]) -> None:
    app = make_app(**ALLOWED)
    app.expect_retrieve()
    app.expect_converse(modelId=CONFIGURED)
    response = app.ask({"question": "How much leave?"})
    assert response.status == 200 and response.body["modelId"] == CONFIGURED
    app.assert_no_pending()


def test_a_model_not_allowed_is_a_400_naming_the_allowed_ids_before_any_call(
    make_app: Callable[..., App],
) -> None:
    # Given a deployment that allows two models besides its own (nothing is stubbed: no call may happen)
    app = make_app(**ALLOWED)

    # When a question names another model
    response = app.ask({"question": "How much leave?", "modelId": "us.amazon.nova-premier-v1:0"})

    # Then it is refused, naming every allowed id, and nothing was called
    assert response.status == 400
    error = response.body["error"]
    assert error["code"] == "InvalidRequest"
    assert error["message"].startswith("modelId: 'us.amazon.nova-premier-v1:0' is not allowed")
    assert f"allowed: {CONFIGURED}, {PRO}, {HAIKU}" in error["message"]
    app.assert_no_pending()


def test_by_default_only_the_configured_model_may_be_named(make_app: Callable[..., App]) -> None:
    # Given a function without ALLOWED_MODEL_IDS (the default: the configured model alone)
    app = make_app(ALLOWED_MODEL_IDS=None)
    refused = app.ask({"question": "q", "modelId": PRO})
    assert refused.status == 400
    assert refused.body["error"]["message"].endswith(f"allowed: {CONFIGURED} (allowedGenerationModelIds)")
    # And naming the configured model itself is accepted
    app.expect_retrieve()
    app.expect_converse(modelId=CONFIGURED)
    assert app.ask({"question": "q", "modelId": CONFIGURED}).status == 200
    app.assert_no_pending()


def test_finetuned_mode_cannot_name_a_model(make_app: Callable[..., App]) -> None:
    app = make_app(**ALLOWED)
    response = app.ask({"question": "q", "mode": "finetuned", "modelId": PRO})
    assert response.status == 400
    assert response.body["error"]["message"] == (
        'modelId: only with mode "prompt", "rag", "fewshot"; mode "finetuned" answers with its own model'
    )
    app.assert_no_pending()


@pytest.mark.parametrize("value", ["", 5, None, [PRO]])
def test_a_model_id_that_is_not_a_non_empty_string_is_refused(value: object) -> None:
    with pytest.raises(InvalidRequest, match=r"^modelId: must be one of this deployment's generation models"):
        parse_ask_request(
            {"question": "q", "modelId": value}, max_question_chars=10, allowed_model_ids=(PRO,)
        )


def test_the_allowed_models_are_read_with_the_configured_one_first() -> None:
    environ = {**ENVIRONMENT, "ALLOWED_MODEL_IDS": f" {PRO}, ,{CONFIGURED},{PRO} "}
    assert load_settings(environ).allowed_model_ids == (CONFIGURED, PRO)
    assert load_settings(ENVIRONMENT).allowed_model_ids == (CONFIGURED,)
