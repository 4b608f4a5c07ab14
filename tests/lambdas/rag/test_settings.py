"""Given environment variables, settings validate once with messages that name the variable."""

from __future__ import annotations

import pytest

from lambdas.rag.clients import create_clients
from lambdas.rag.settings import Settings, SettingsError, load_settings

from .conftest import ENVIRONMENT


def environ(**overrides: str) -> dict[str, str]:
    values = dict(ENVIRONMENT)
    values.update(overrides)
    return values


def test_the_stack_defaults_load() -> None:
    settings = load_settings(environ())
    assert settings == Settings(
        knowledge_base_id="KB12345678",
        model_id="us.anthropic.claude-3-5-haiku-20241022-v1:0",
        allowed_model_ids=("us.anthropic.claude-3-5-haiku-20241022-v1:0",),
        guardrail_id="abc123guardrail",
        guardrail_version="1",
        finetuned_model_parameter="/ladder/finetune/model-arn",
    )


def test_optional_variables_default_when_unset() -> None:
    minimal = {
        key: ENVIRONMENT[key]
        for key in (
            "KNOWLEDGE_BASE_ID",
            "MODEL_ID",
            "GUARDRAIL_ID",
            "GUARDRAIL_VERSION",
            "POWERTOOLS_METRICS_NAMESPACE",
            "POWERTOOLS_SERVICE_NAME",
        )
    }
    settings = load_settings(minimal)
    assert (settings.max_question_chars, settings.max_body_bytes, settings.max_tokens) == (2000, 16384, 1024)
    assert (settings.temperature, settings.min_relevance_score, settings.deadline_ms) == (0.2, 0.4, 25000)
    assert (settings.search_type, settings.rerank_model_arn, settings.finetuned_model_parameter) == (
        None,
        None,
        None,
    )
    assert (settings.bedrock_max_attempts, settings.finetuned_model_api, settings.log_content) == (
        3,
        "converse",
        False,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KNOWLEDGE_BASE_ID", ""),
        ("MODEL_ID", "  "),
        ("GUARDRAIL_ID", ""),
        ("GUARDRAIL_VERSION", "latest"),
        ("MAX_QUESTION_CHARS", "0"),
        ("MAX_BODY_BYTES", "lots"),
        ("MAX_TOKENS", "-1"),
        ("TEMPERATURE", "1.5"),
        ("TEMPERATURE", "nan"),
        ("MIN_RELEVANCE_SCORE", "2"),
        ("SEARCH_TYPE", "KEYWORD"),
        ("DEADLINE_MS", "30000"),
        ("BEDROCK_MAX_ATTEMPTS", "0"),
        ("FINETUNED_MODEL_API", "invoke"),
        ("LOG_CONTENT", "yes"),
        ("POWERTOOLS_METRICS_NAMESPACE", ""),
    ],
)
def test_a_bad_value_is_rejected_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(environ(**{variable: value}))
    assert raised.value.variable == variable
    assert str(raised.value).startswith(f"environment variable {variable} is ")
    assert "accepted:" in str(raised.value)


def test_clients_use_standard_retries_and_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    clients = create_clients(load_settings(environ(BEDROCK_MAX_ATTEMPTS="4")))
    for client in (clients.agent_runtime, clients.bedrock_runtime):
        config = client.meta.config
        assert config.retries == {"mode": "standard", "total_max_attempts": 4}
        assert config.connect_timeout == 2
        assert config.read_timeout > 0
    assert clients.bedrock_runtime.meta.service_model.service_name == "bedrock-runtime"
    assert clients.agent_runtime.meta.service_model.service_name == "bedrock-agent-runtime"
    assert clients.ssm.meta.config.retries["mode"] == "standard"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"FINETUNED_MODEL_PARAMETER": ""}, None),
        ({"FINETUNED_MODEL_PARAMETER": "/ladder/fine-tune/model-arn"}, "bedrock"),
        (
            {
                "FINETUNED_MODEL_PARAMETER": "/ladder/fine-tune/model-arn",
                "FINETUNED_MODEL_API": "invoke_model",
            },
            "bedrock",
        ),
    ],
)
def test_the_control_plane_client_exists_only_where_a_fine_tuned_model_can_be_served(
    monkeypatch: pytest.MonkeyPatch, overrides: dict[str, str], expected: str | None
) -> None:
    # Given a deployment with or without a fine-tuned model (served through Converse or InvokeModel)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    clients = create_clients(load_settings(environ(**overrides)))

    # Then only with one is the client created that reads the model's architecture and Converse support
    name = None if clients.bedrock is None else clients.bedrock.meta.service_model.service_name
    assert name == expected


def test_the_vector_store_defaults_to_opensearch_and_accepts_only_known_stores() -> None:
    assert load_settings(environ()).vector_store == "opensearch"
    assert load_settings(environ(VECTOR_STORE="s3vectors")).vector_store == "s3vectors"
    with pytest.raises(SettingsError) as raised:
        load_settings(environ(VECTOR_STORE="pinecone"))
    assert raised.value.variable == "VECTOR_STORE"
    assert "opensearch, s3vectors" in str(raised.value)
