"""Where the CLI's region and stack prefix come from: ``--region``, the project's cdk.json with ``-c`` (as
`make deploy` reads them), then, outside the project, ``AWS_REGION`` and boto3's own chain."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import ApiServer


def _signed_region(api_server: ApiServer) -> str:
    """The region in the SigV4 credential scope of the one request the server received."""
    [request] = api_server.requests
    scope = request.headers["authorization"].split("Credential=")[1].split(",")[0]
    return scope.split("/")[2]


def test_aws_region_alone_is_enough(run_cli, api_server, monkeypatch, tmp_path):
    """boto3 reads only AWS_DEFAULT_REGION: botocore's configprovider maps the session variable
    ``region`` to ('region', 'AWS_DEFAULT_REGION', None, None), and boto/boto3#3620 ("Support AWS_REGION
    environment variable in addition to AWS_DEFAULT_REGION") asks for exactly this. The AWS CLI v2 and CI
    systems set AWS_REGION, so with only that set `ladder` must still find its region."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    api_server.answer(200, {"answer": "27 days.", "mode": "rag"})

    result = run_cli("ask", "How much leave?", "--url", api_server.url)

    assert result.code == 0, result.err
    assert _signed_region(api_server) == "eu-west-1"


def test_aws_region_overrides_aws_default_region_and_region_overrides_both(
    run_cli, api_server, monkeypatch, tmp_path
):
    """boto/boto3#3620 proposes "the same precedence rules as in the AWS cli. That is `AWS_REGION`
    overrides `AWS_DEFAULT_REGION`"; and AWS CLI "Environment variables to configure the AWS CLI": "If you
    specify an option by using a parameter on the AWS CLI command line, it overrides any value from either
    the corresponding environment variable or a profile" - so --region beats both."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    api_server.answer(200, {"answer": "27 days.", "mode": "rag"})

    from_env = run_cli("ask", "How much leave?", "--url", api_server.url)
    region_from_env = _signed_region(api_server)
    api_server.requests.clear()
    from_option = run_cli("ask", "How much leave?", "--url", api_server.url, "--region", "ap-south-1")

    assert from_env.code == from_option.code == 0
    assert region_from_env == "eu-west-1"
    assert _signed_region(api_server) == "ap-south-1"


def test_the_no_region_message_names_aws_region(run_cli, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))

    missing = run_cli("finetune", "status")

    assert missing.code == 2
    assert "no AWS region: pass --region, set AWS_REGION" in missing.err


def _project(folder: Path, **context: str) -> None:
    (folder / "cdk.json").write_text(json.dumps({"app": "python3 app.py", "context": context}))


def test_in_the_project_the_region_and_prefix_are_the_ones_make_deploy_uses(
    run_cli, stacks, api_server, monkeypatch, tmp_path
):
    """The app deploys into cdk.json's ``region`` (with -c overrides), whatever AWS_REGION says, so the
    CLI looks for the stacks there; the stack prefix likewise."""
    _project(tmp_path, region="eu-west-2", stackPrefix="Acme")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    stacks.deployed("AcmeRagApi", {"AskUrl": api_server.url})
    api_server.answer(200, {"answer": "27 days.", "mode": "rag"})

    result = run_cli("ask", "How much leave?")

    assert result.code == 0, result.err
    assert _signed_region(api_server) == "eu-west-2"


def test_dash_c_overrides_cdk_json_and_ladder_stack_prefix_comes_before_the_files_prefix(
    run_cli, stacks, api_server, monkeypatch, tmp_path
):
    _project(tmp_path, region="eu-west-2", stackPrefix="Acme")
    monkeypatch.chdir(tmp_path)
    api_server.answer(200, {"answer": "27 days.", "mode": "rag"})
    monkeypatch.setenv("LADDER_STACK_PREFIX", "Staging")
    stacks.deployed("StagingRagApi", {"AskUrl": api_server.url})
    stacks.deployed("ProdRagApi", {"AskUrl": api_server.url})

    from_env = run_cli("ask", "How much leave?")
    api_server.requests.clear()
    from_option = run_cli("ask", "How much leave?", "-c", "stackPrefix=Prod", "-c", "region=ap-south-1")

    assert from_env.code == from_option.code == 0
    assert _signed_region(api_server) == "ap-south-1"
