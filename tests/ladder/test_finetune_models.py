"""`ladder finetune models|promote|rollback`: imported models (Bedrock, Stubber), the model parameter (moto
SSM)."""

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

    def tags(self, found: dict[str, Any], tags: dict[str, str]) -> None:
        """One ListTagsForResource answer for ``found``."""
        listed = [{"key": key, "value": value} for key, value in tags.items()]
        self.stubber.add_response(
            "list_tags_for_resource", {"tags": listed}, {"resourceARN": found["modelArn"]}
        )


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
    for found in (NEWEST, MIDDLE, OLDEST):
        bedrock.tags(found, {})

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
    bedrock.tags(NEWEST, {})
    bedrock.tags(MIDDLE, {})

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


GATED = {
    "ladder:pipeline": "Pipeline",
    "ladder:correctness": "0.86",
    "ladder:formatCompliance": "0.95",
    "ladder:costPerQueryUsd": "0.00042",
    "ladder:promotion": "rejected",
}
"""The tags the promotion gate leaves on a candidate it measured (ladder_core.promotion.model_tags)."""


def test_models_show_each_models_numbers_and_promotion_outcome(ladder, bedrock, ssm):
    # Given a published model the gate never saw, and a newer candidate it rejected
    publish(ssm, MIDDLE["modelArn"])
    bedrock.lists([NEWEST, MIDDLE])
    bedrock.tags(NEWEST, GATED)
    bedrock.tags(MIDDLE, {"ladder:pipeline": "Pipeline"})

    listed = json.loads(ladder("finetune", "models", "--json").out)

    # Then the candidate's numbers come from its tags, and a model without them has none
    assert listed[0]["correctness"] == 0.86
    assert listed[0]["formatCompliance"] == 0.95
    assert listed[0]["costPerQueryUsd"] == 0.00042
    assert listed[0]["promotion"] == "rejected"
    assert listed[1]["correctness"] is None and listed[1]["promotion"] is None
    assert [m["published"] for m in listed] == [False, True]

    bedrock.lists([NEWEST, MIDDLE])
    bedrock.tags(NEWEST, GATED)
    bedrock.tags(MIDDLE, {})
    text = ladder("finetune", "models").out.splitlines()
    assert "0.860" in text[1] and "0.950" in text[1] and "0.00042" in text[1] and "rejected" in text[1]


def test_promote_publishes_a_rejected_candidate_recording_the_reason(ladder, bedrock, ssm):
    """AWS CLI get-parameter-history example: each version carries its own Description ("This is the
    second version of my String parameter"); SSM PutParameter Description: at most 1024 characters."""
    # Given the gate rejected the newest candidate and the middle one is published
    publish(ssm, MIDDLE["modelArn"])
    bedrock.lists([NEWEST, MIDDLE])
    bedrock.tags(NEWEST, GATED)
    # Then the model is tagged manual with the reason, sanitized to the tag characters Bedrock accepts
    # (Amazon Bedrock API Reference, Tag: value "Pattern: ([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)", at most 256)
    bedrock.stubber.add_response(
        "tag_resource",
        {},
        {
            "resourceARN": NEWEST["modelArn"],
            "tags": [
                {"key": "ladder:promotion", "value": "manual"},
                {"key": "ladder:promotionReason", "value": "format matters more here ticket OPS-12"},
            ],
        },
    )

    result = ladder(
        "finetune", "promote", NEWEST["modelName"], "--reason", "format matters more here; ticket #OPS-12"
    )

    # And the parameter names it, the reason kept in that version's Description: GetParameterHistory
    # returns a Description per version (AWS CLI get-parameter-history example: "This is the second
    # version of my String parameter")
    assert result.code == 0, result.err
    assert published(ssm) == NEWEST["modelArn"]
    history = ssm.get_parameter_history(Name=PARAMETER)["Parameters"]
    assert history[-1]["Value"] == NEWEST["modelArn"]
    assert history[-1]["Description"] == (
        "Published by hand (ladder finetune promote): format matters more here; ticket #OPS-12"
    )
    assert f"Published {NEWEST['modelName']}" in result.out
    assert MIDDLE["modelArn"] in result.out


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({"ladder:pipeline": "SomeoneElsesPipeline"}, "its ladder:pipeline tag is SomeoneElsesPipeline"),
        ({}, "its ladder:pipeline tag is absent"),
    ],
)
def test_promote_refuses_a_model_another_pipeline_imported(ladder, bedrock, ssm, tags, message):
    publish(ssm, MIDDLE["modelArn"])
    bedrock.lists([NEWEST, MIDDLE])
    bedrock.tags(NEWEST, tags)

    result = ladder("finetune", "promote", NEWEST["modelArn"], "--reason", "try it")

    assert result.code == 1
    assert message in result.err
    assert published(ssm) == MIDDLE["modelArn"]


def test_promote_refuses_an_unknown_model_and_an_empty_reason(ladder, bedrock, ssm):
    bedrock.lists([NEWEST, MIDDLE])
    unknown = ladder("finetune", "promote", "ladder-19990101T000000Z", "--reason", "x")
    assert unknown.code == 1
    assert "no imported model of the pipeline has that name or ARN" in unknown.err

    empty = ladder("finetune", "promote", NEWEST["modelName"], "--reason", " ;; ")
    assert empty.code == 2
    assert "--reason needs words a tag can keep" in empty.err
