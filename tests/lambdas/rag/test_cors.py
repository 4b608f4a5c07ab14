"""CORS: with CORS_ALLOW_ORIGINS set, every answer (errors too) lets an allowed browser origin read it."""

from __future__ import annotations

from collections.abc import Callable

from .conftest import App, ask_event

ALLOWED = "https://app.example.com"


def asked_from(app: App, origin: str | None, **overrides: object) -> tuple[int, dict[str, str]]:
    event = ask_event({"question": "How much leave?"}, **overrides)
    if origin is not None:
        event["headers"]["Origin"] = origin
    raw = app.module.handler(event, app.context)
    return raw["statusCode"], raw["headers"]


def test_an_allowed_origin_can_read_answers_and_errors(make_app: Callable[..., App]) -> None:
    # Given CORS is on for two origins
    app = make_app(CORS_ALLOW_ORIGINS=f"{ALLOWED},https://other.example.com")
    app.expect_retrieve()
    app.expect_converse()

    # When the allowed origin asks, and then calls with a wrong method
    status, headers = asked_from(app, ALLOWED)
    refused_status, refused_headers = asked_from(app, ALLOWED, httpMethod="GET")

    # Then both answers name the origin, and vary on it
    assert status == 200 and headers["Access-Control-Allow-Origin"] == ALLOWED
    assert refused_status == 405 and refused_headers["Access-Control-Allow-Origin"] == ALLOWED
    assert headers["Vary"] == refused_headers["Vary"] == "Origin"


def test_another_origin_gets_no_allow_origin(make_app: Callable[..., App]) -> None:
    app = make_app(CORS_ALLOW_ORIGINS=ALLOWED)
    status, headers = asked_from(app, "https://evil.example.com", httpMethod="GET")
    assert status == 405
    assert "Access-Control-Allow-Origin" not in headers and headers["Vary"] == "Origin"


def test_a_cold_start_failure_still_answers_the_allowed_origin(make_app: Callable[..., App]) -> None:
    # Given a deployment whose settings are broken, the 500 is still readable by the page that asked
    app = make_app(CORS_ALLOW_ORIGINS=ALLOWED)
    app.module._runtime = None
    app.module.os.environ["GUARDRAIL_VERSION"] = "latest"
    try:
        status, headers = asked_from(app, ALLOWED)
    finally:
        app.module.os.environ["GUARDRAIL_VERSION"] = "1"
    assert status == 500 and headers["Access-Control-Allow-Origin"] == ALLOWED


def test_without_cors_no_cors_headers(app: App) -> None:
    status, headers = asked_from(app, ALLOWED, httpMethod="GET")
    assert status == 405
    assert "Access-Control-Allow-Origin" not in headers and "Vary" not in headers
