"""Creates the function's boto3 clients once per container, with bounded retries and timeouts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from ladder_core.aws_clients import client_config

from . import constants
from .deadline import guard_attempts
from .settings import Settings


@dataclass(frozen=True)
class Clients:
    """Retrieve via ``agent_runtime``; Converse, InvokeModel, ApplyGuardrail via ``bedrock_runtime``; SSM;
    ``bedrock`` (control plane) for the imported model's architecture and Converse support (finetuned);
    ``s3vectors`` and ``s3`` for the few-shot examples and their manifest (None without an examples store)."""

    agent_runtime: Any
    bedrock_runtime: Any
    ssm: Any
    bedrock: Any = None
    s3vectors: Any = None
    s3: Any = None


def create_clients(settings: Settings) -> Clients:
    def config(read_timeout_s: int, attempts: int) -> Config:
        return Config(
            **client_config(
                total_attempts=attempts,
                connect_timeout_s=constants.CONNECT_TIMEOUT_S,
                read_timeout_s=read_timeout_s,
            )
        )

    attempts = settings.bedrock_max_attempts
    agent_runtime = boto3.client(
        "bedrock-agent-runtime", config=config(constants.RETRIEVE_READ_TIMEOUT_S, attempts)
    )
    bedrock_runtime = boto3.client(
        "bedrock-runtime", config=config(constants.GENERATE_READ_TIMEOUT_S, attempts)
    )
    guard_attempts(agent_runtime, {"Retrieve": ("retrieve", constants.RETRIEVE_MIN_REMAINING_MS)})
    guard_attempts(
        bedrock_runtime,
        {
            "Converse": ("generate", constants.GENERATE_MIN_REMAINING_MS),
            "InvokeModel": ("generate", constants.GENERATE_MIN_REMAINING_MS),
            "ApplyGuardrail": ("guardrail", constants.GUARDRAIL_MIN_REMAINING_MS),
        },
    )
    # Only the InvokeModel path of a fine-tuned model asks the control plane for the model's architecture;
    # no other deployment pays for creating that client at cold start.
    # Both APIs read the imported model: InvokeModel for its chat format, Converse for whether it has one.
    reads_architecture = bool(settings.finetuned_model_parameter)
    s3vectors = s3 = None
    if settings.few_shot:
        examples_config = config(constants.EXAMPLES_READ_TIMEOUT_S, attempts)
        s3vectors = boto3.client("s3vectors", config=examples_config)
        s3 = boto3.client("s3", config=examples_config)
        guard_attempts(s3vectors, {"QueryVectors": ("examples", constants.EXAMPLES_MIN_REMAINING_MS)})
        guard_attempts(s3, {"GetObject": ("examples", constants.EXAMPLES_MIN_REMAINING_MS)})
    return Clients(
        agent_runtime=agent_runtime,
        bedrock_runtime=bedrock_runtime,
        ssm=boto3.client("ssm", config=config(constants.SSM_READ_TIMEOUT_S, constants.SSM_MAX_ATTEMPTS)),
        bedrock=(
            boto3.client("bedrock", config=config(constants.SSM_READ_TIMEOUT_S, constants.SSM_MAX_ATTEMPTS))
            if reads_architecture
            else None
        ),
        s3vectors=s3vectors,
        s3=s3,
    )
