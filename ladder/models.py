"""The models the fine-tune pipeline imported into Bedrock: list them, and publish an earlier one (rollback).

Each pipeline execution imports one model named after the execution (``ladder-<UTC timestamp>`` when
``ladder finetune start`` started it); the model parameter names the one the RAG function's ``finetuned``
mode calls. Rolling back writes another imported model's ARN into that parameter, exactly as the pipeline's
publish step does; the RAG function picks it up within its parameter cache time (five minutes).

The promotion gate tags each candidate it measured with its headline numbers and ``promoted`` or
``rejected`` (``ladder_core.promotion``); ``models`` shows them, and ``promote`` publishes a model by hand
(a rejected candidate, say), recording the reason in the parameter's history (its ``Description``, kept per
version by GetParameterHistory) and in the model's tags.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ladder_core import promotion
from ladder_core.tags import PIPELINE_TAG, tag_value

from . import hints
from .errors import LadderError, SetupError
from .finetune import EXECUTION_NAME_PREFIX, published_model

LIST_PAGE_SIZE = 100
PARAMETER_DESCRIPTION_MAX_CHARS = 1024
"""SSM PutParameter ``Description``: "Length Constraints: Minimum length of 0. Maximum length of 1024"."""
MANUAL_DESCRIPTION = "Published by hand (ladder finetune promote): "
NUMBER_KEYS = tuple(summary_key for _, summary_key in promotion.HEADLINE_TAGS)


@dataclass(frozen=True)
class ImportedModel:
    """One imported model, as ListImportedModels reports it; ``run`` is the pipeline execution behind it."""

    name: str
    arn: str
    created: datetime
    architecture: str
    published: bool = False
    tags: dict[str, str] | None = None
    """The model's tags when they were read (``models`` reads them; ``rollback`` does not)."""

    @property
    def run(self) -> str:
        return self.name

    def number(self, summary_key: str) -> float | None:
        """A headline number the promotion gate tagged (``correctness``, ``formatCompliance``,
        ``costPerQueryUsd``); None when the model was not measured."""
        tag = dict((summary, key) for key, summary in promotion.HEADLINE_TAGS)[summary_key]
        try:
            return float((self.tags or {})[tag])
        except (KeyError, ValueError):
            return None

    @property
    def promotion(self) -> str | None:
        """``promoted``, ``rejected`` or ``manual``; None for a model the gate never saw."""
        return (self.tags or {}).get(promotion.PROMOTION_TAG)

    def to_dict(self) -> dict[str, Any]:
        found = {
            "name": self.name,
            "arn": self.arn,
            "run": self.run,
            "created": self.created.astimezone(UTC).isoformat(),
            "architecture": self.architecture,
            "published": self.published,
        }
        if self.tags is not None:
            found.update({key: self.number(key) for key in NUMBER_KEYS})
            found["promotion"] = self.promotion
        return found


def pipeline_models(
    bedrock: Any, published_arn: str | None = None, *, with_tags: bool = False
) -> list[ImportedModel]:
    """Models the pipeline imported (named ``ladder-...``), newest first; the published one is marked.
    ``with_tags`` reads each model's tags too (one ListTagsForResource per model)."""
    models: list[ImportedModel] = []
    request: dict[str, Any] = {
        "nameContains": EXECUTION_NAME_PREFIX,
        "sortBy": "CreationTime",
        "sortOrder": "Descending",
        "maxResults": LIST_PAGE_SIZE,
    }
    while True:
        page = bedrock.list_imported_models(**request)
        for summary in page.get("modelSummaries", []):
            if not summary["modelName"].startswith(EXECUTION_NAME_PREFIX):
                continue
            models.append(
                ImportedModel(
                    name=summary["modelName"],
                    arn=summary["modelArn"],
                    created=summary["creationTime"],
                    architecture=summary.get("modelArchitecture", ""),
                    published=summary["modelArn"] == published_arn,
                )
            )
        if not page.get("nextToken"):
            break
        request["nextToken"] = page["nextToken"]
    # Sorted here too: the order of a paginated listing is the service's, and rollback depends on it.
    models.sort(key=lambda model: model.created, reverse=True)
    if with_tags:
        return [replace(model, tags=model_tags(bedrock, model.arn)) for model in models]
    return models


def model_tags(bedrock: Any, arn: str) -> dict[str, str]:
    """The model's tags as a dict (ListTagsForResource)."""
    return {
        tag["key"]: tag["value"] for tag in bedrock.list_tags_for_resource(resourceARN=arn).get("tags", [])
    }


def rollback_target(models: list[ImportedModel], published_arn: str | None, to: str | None) -> ImportedModel:
    """The model to publish: ``to`` (a name or ARN) when given, else the newest one older than the published.

    LadderError when there is nothing to roll back to, or ``to`` names no model of the pipeline.
    """
    if to is not None:
        for model in models:
            if to in (model.name, model.arn):
                return model
        names = ", ".join(model.name for model in models) or "none"
        raise LadderError(
            f"--to {to}: no imported model of the pipeline has that name or ARN (have: {names})"
        )
    if published_arn is None:
        raise LadderError("no fine-tuned model is published, so there is nothing to roll back from")
    current = next((model for model in models if model.arn == published_arn), None)
    if current is None:
        raise LadderError(
            f"the published model {published_arn} is not one the pipeline imported; "
            f"pick one with --to NAME (see `{hints.command('finetune', 'models')}`)"
        )
    older = [model for model in models if model.created < current.created]
    if not older:
        raise LadderError(
            f"{current.name} is the oldest imported model left: there is no earlier one to roll back to"
        )
    return older[0]


def rollback(
    bedrock: Any, ssm: Any, parameter_name: str, to: str | None = None
) -> tuple[ImportedModel, str | None]:
    """Publish the previous (or the named) imported model; returns it and the ARN it replaced."""
    current = published_model(ssm, parameter_name)
    target = rollback_target(pipeline_models(bedrock, current), current, to)
    if target.arn != current:
        ssm.put_parameter(Name=parameter_name, Value=target.arn, Type="String", Overwrite=True)
    return target, current


def promote(
    bedrock: Any, ssm: Any, parameter_name: str, pipeline: str, model: str, reason: str
) -> tuple[ImportedModel, str | None]:
    """Publish ``model`` (a name or ARN of the pipeline's models) by hand; returns it and the ARN replaced.

    The reason goes into the parameter version's ``Description`` and the model's tags (``ladder:promotion``
    ``manual``, ``ladder:promotionReason``). A model without this pipeline's ``ladder:pipeline`` tag is
    refused: another deployment's model, or one imported by hand."""
    text = " ".join(reason.split())
    if not tag_value(text):
        raise SetupError(
            "--reason needs words a tag can keep (letters, digits, spaces, _ . : / = + - @): why this model "
            "goes live without passing the promotion gate"
        )
    current = published_model(ssm, parameter_name)
    models = pipeline_models(bedrock, current)
    target = next((found for found in models if model in (found.name, found.arn)), None)
    if target is None:
        names = ", ".join(found.name for found in models) or "none"
        raise LadderError(f"{model}: no imported model of the pipeline has that name or ARN (have: {names})")
    owner = model_tags(bedrock, target.arn).get(PIPELINE_TAG)
    if owner != pipeline:
        raise LadderError(
            f"{target.name} was not imported by this deployment's pipeline {pipeline} (its {PIPELINE_TAG} "
            f"tag is {owner or 'absent'}): refusing to publish it"
        )
    description = (MANUAL_DESCRIPTION + text)[:PARAMETER_DESCRIPTION_MAX_CHARS]
    ssm.put_parameter(
        Name=parameter_name, Value=target.arn, Type="String", Overwrite=True, Description=description
    )
    bedrock.tag_resource(
        resourceARN=target.arn,
        tags=[
            {"key": promotion.PROMOTION_TAG, "value": promotion.MANUAL},
            {"key": promotion.PROMOTION_REASON_TAG, "value": tag_value(text)},
        ],
    )
    return target, current


def format_models(models: list[ImportedModel]) -> str:
    """One line per model, newest first, with the promotion gate's numbers; ``*`` marks the published one."""
    if not models:
        return f"No imported models yet: a successful `{hints.command('finetune', 'start')}` run imports one."
    lines = [
        f"  {'run':<26}{'created (UTC)':<22}{'architecture':<14}{'correct':<9}{'format':<8}"
        f"{'$/query':<10}{'promotion':<11}arn"
    ]
    for model in models:
        mark = "*" if model.published else " "
        created = f"{model.created.astimezone(UTC):%Y-%m-%d %H:%M:%S}"
        correctness, fmt, cost = (model.number(key) for key in NUMBER_KEYS)
        numbers = (
            f"{_rate(correctness):<9}{_rate(fmt):<8}{'-' if cost is None else f'{cost:.5f}':<10}"
            f"{model.promotion or '-':<11}"
        )
        lines.append(
            f"{mark} {model.run:<26}{created:<22}{model.architecture or '?':<14}{numbers}{model.arn}"
        )
    if not any(model.published for model in models):
        lines.append("(none of these is published)")
    else:
        lines.append("* published: the model the RAG API's finetuned mode calls")
    return "\n".join(lines)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
