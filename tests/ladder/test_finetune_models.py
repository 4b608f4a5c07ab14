"""`ladder finetune models|rollback`: imported models (Bedrock, Stubber), the model parameter (moto SSM)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ladder import cli

from .conftest import ACCOUNT, REGION, Result, Stacks

PARAMETER = "/ladder/fine-tune/model-arn"
OUTPUTS = {
    "TrainingDataBucketName": "ladder-training-data",
    "StateMachineArn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Pipeline",
    "FineTunedModelParameterName": PARAMETER,
}
LIST_REQUEST = {
    "nameContains": "ladder-",
    "sortBy": "CreationTime",
    "sortOrder": "Descending",
    "maxResults": 100,
}


def model(name: str, day: int, architecture: str = "LLAMA3") -> dict[str, Any]:
    model_id = name.lower().replace("-", "")[-12:]
    return {
        "modelArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:imported-model/{model_id}",
        "modelName": name,
        "creationTime": datetime(2025, 3, day, 9, 30, tzinfo=UTC),
        "instructSupported": True,
        "modelArchitecture": architecture,
    }


NEWEST, MIDDLE, OLDEST = (
    model("ladder-20250303T093000Z", 3),
    model("ladder-20250302T093000Z", 2),
    model("ladder-20250301T093000Z", 1),
)


class Bedrock:
    def __init__(self) -> None:
        self.client = boto3.client("bedrock", region_name=REGION)
        self.stubber = Stubber(self.client)
        self.stubber.activate()

    def lists(self, *pages: list[dict[str, Any]]) -> None:
        for number, summaries in enumerate(pages):
            response: dict[str, Any] = {"modelSummaries": summaries}
            request = dict(LIST_REQUEST)
            if number + 1 < len(pages):
                response["nextToken"] = f"page-{number + 1}"
            if number:
                request["nextToken"] = f"page-{number}"
            self.stubber.add_response("list_imported_models", response, request)


@pytest.fixture
def bedrock() -> Iterator[Bedrock]:
    stubbed = Bedrock()
    yield stubbed
    stubbed.stubber.assert_no_pending_responses()


@pytest.fixture
def ssm(aws) -> Any:
    return boto3.client("ssm", region_name=REGION)


@pytest.fixture
def ladder(stacks: Stacks, bedrock: Bedrock, capsys: pytest.CaptureFixture[str]) -> Any:
    def factory(session: boto3.session.Session, service: str) -> Any:
        if service == "bedrock":
            return bedrock.client
        return stacks.client_factory(session, service)

    def run(*argv: str) -> Result:
        stacks.deployed("LadderFineTune", OUTPUTS)
        code = cli.main(list(argv), client_factory=factory)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def publish(ssm: Any, arn: str) -> None:
    ssm.put_parameter(Name=PARAMETER, Value=arn, Type="String", Overwrite=True)


def published(ssm: Any) -> str:
    return str(ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"])


def test_models_lists_every_page_newest_first_and_marks_the_published_one(ladder, bedrock, ssm):
    # Given three imported models over two pages (and one imported by hand, not by the pipeline)
    publish(ssm, MIDDLE["modelArn"])
    bedrock.lists([OLDEST, model("my-own-ladder-test", 4)], [NEWEST, MIDDLE])

    # When they are listed as JSON
    result = ladder("finetune", "models", "--json")

    # Then only the pipeline's models come back, newest first, with run, date and which one is published
    assert result.code == 0, result.err
    listed = json.loads(result.out)
    assert [m["run"] for m in listed] == [NEWEST["modelName"], MIDDLE["modelName"], OLDEST["modelName"]]
    assert [m["published"] for m in listed] == [False, True, False]
    assert listed[0]["created"] == "2025-03-03T09:30:00+00:00"
    assert listed[0]["architecture"] == "LLAMA3"


def test_models_as_text_marks_the_published_model(ladder, bedrock, ssm):
    publish(ssm, NEWEST["modelArn"])
    bedrock.lists([NEWEST, MIDDLE])

    result = ladder("finetune", "models")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[1].startswith(f"* {NEWEST['modelName']}")
    assert lines[2].startswith(f"  {MIDDLE['modelName']}")
    assert "2025-03-02 09:30:00" in lines[2]


def test_rollback_publishes_the_model_imported_before_the_published_one(ladder, bedrock, ssm):
    # Given the newest model is published
    publish(ssm, NEWEST["modelArn"])
    bedrock.lists([NEWEST, MIDDLE, OLDEST])

    # When rolling back
    result = ladder("finetune", "rollback")

    # Then the one before it is published, and the user is told what it replaced
    assert result.code == 0, result.err
    assert published(ssm) == MIDDLE["modelArn"]
    assert f"Published {MIDDLE['modelName']}" in result.out
    assert NEWEST["modelArn"] in result.out


def test_rollback_to_a_named_model_publishes_it_even_before_the_first_publish(ladder, bedrock, ssm):
    # Given no parameter yet (e.g. after upgrading from a stack that owned it)
    bedrock.lists([NEWEST, MIDDLE, OLDEST])

    result = ladder("finetune", "rollback", "--to", OLDEST["modelName"], "--json")

    assert result.code == 0, result.err
    assert published(ssm) == OLDEST["modelArn"]
    assert json.loads(result.out) == {
        "published": {
            "name": OLDEST["modelName"],
            "arn": OLDEST["modelArn"],
            "run": OLDEST["modelName"],
            "created": "2025-03-01T09:30:00+00:00",
            "architecture": "LLAMA3",
            "published": False,
        },
        "replaced": None,
    }


@pytest.mark.parametrize(
    ("published_arn", "to", "message"),
    [
        (OLDEST["modelArn"], None, "is the oldest imported model left"),
        (None, None, "no fine-tuned model is published"),
        (
            f"arn:aws:bedrock:{REGION}:{ACCOUNT}:imported-model/handmade",
            None,
            "is not one the pipeline imported",
        ),
        (NEWEST["modelArn"], "ladder-19990101T000000Z", "no imported model of the pipeline has that name"),
    ],
)
def test_rollback_with_nothing_to_go_back_to_exits_1_and_changes_nothing(
    ladder, bedrock, ssm, published_arn, to, message
):
    if published_arn:
        publish(ssm, published_arn)
    bedrock.lists([NEWEST, MIDDLE, OLDEST])

    result = ladder("finetune", "rollback", *(("--to", to) if to else ()))

    assert result.code == 1
    assert message in result.err
    assert result.out == ""
    if published_arn:
        assert published(ssm) == published_arn
