"""The models the fine-tune pipeline imported into Bedrock: list them, and publish an earlier one (rollback).

Each pipeline execution imports one model named after the execution (``ladder-<UTC timestamp>`` when
``ladder finetune start`` started it); the model parameter names the one the RAG function's ``finetuned``
mode calls. Rolling back writes another imported model's ARN into that parameter, exactly as the pipeline's
publish step does; the RAG function picks it up within its parameter cache time (five minutes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import hints
from .errors import LadderError
from .finetune import EXECUTION_NAME_PREFIX, published_model

LIST_PAGE_SIZE = 100


@dataclass(frozen=True)
class ImportedModel:
    """One imported model, as ListImportedModels reports it; ``run`` is the pipeline execution behind it."""

    name: str
    arn: str
    created: datetime
    architecture: str
    published: bool = False

    @property
    def run(self) -> str:
        return self.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "arn": self.arn,
            "run": self.run,
            "created": self.created.astimezone(UTC).isoformat(),
            "architecture": self.architecture,
            "published": self.published,
        }


def pipeline_models(bedrock: Any, published_arn: str | None = None) -> list[ImportedModel]:
    """Models the pipeline imported (named ``ladder-...``), newest first; the published one is marked."""
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
    return sorted(models, key=lambda model: model.created, reverse=True)


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


def format_models(models: list[ImportedModel]) -> str:
    """One line per model, newest first; ``*`` marks the published one."""
    if not models:
        return f"No imported models yet: a successful `{hints.command('finetune', 'start')}` run imports one."
    lines = [f"  {'run':<26}{'created (UTC)':<22}{'architecture':<14}arn"]
    for model in models:
        mark = "*" if model.published else " "
        created = f"{model.created.astimezone(UTC):%Y-%m-%d %H:%M:%S}"
        lines.append(f"{mark} {model.run:<26}{created:<22}{model.architecture or '?':<14}{model.arn}")
    if not any(model.published for model in models):
        lines.append("(none of these is published)")
    else:
        lines.append("* published: the model the RAG API's finetuned mode calls")
    return "\n".join(lines)
