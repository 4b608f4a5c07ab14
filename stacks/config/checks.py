"""Rules that relate one setting to another, or to a fact of the catalog, once each value has parsed."""

from __future__ import annotations

from typing import Any

from ladder_core.catalog.bedrock import (
    CMI_NO_CONVERSE_BASE_MODELS,
    EMBEDDING_MODELS,
    INFERENCE_PROFILE_REGIONS,
    RERANK_MODEL_REGIONS,
    inference_profile_geo,
)
from ladder_core.catalog.bedrock import model as bedrock_model
from ladder_core.catalog.s3vectors import offers_s3_vectors
from ladder_core.catalog.training import CUDA13_UNSUPPORTED_FAMILIES, INSTANCES, min_gpus
from ladder_core.examples import MANIFEST_KEY
from lambdas.rag.constants import (
    GROUNDING_CHARS_PER_TOKEN,
    GROUNDING_MAX_TOKENS,
    GROUNDING_RESPONSE_MAX_CHARS,
)

CUDA13_ALTERNATIVES = ("ml.g5.2xlarge", "ml.g6.xlarge", "ml.g6e.xlarge", "ml.p4d.24xlarge")


def cross_check(values: dict[str, Any], problems: list[str]) -> None:
    """Append to ``problems`` every rule the parsed ``values`` break (their keys are the dataclass fields)."""
    dims = EMBEDDING_MODELS[values["embedding_model_id"]]
    if values["embedding_dimensions"] not in dims:
        problems.append(
            f"-c embeddingDimensions={values['embedding_dimensions']} is invalid for "
            f"{values['embedding_model_id']}: expected one of {', '.join(map(str, dims))}"
        )
    if values["vector_store"] == "s3vectors" and values["search_type"] == "HYBRID":
        problems.append(
            "-c searchType=HYBRID is invalid with -c vectorStore=s3vectors: S3 Vectors has no hybrid search; "
            "use searchType=SEMANTIC (or leave searchType empty) or vectorStore=opensearch"
        )
    if values["vector_kms_key_arn"] and values["vector_store"] != "s3vectors":
        problems.append(
            "-c vectorKmsKeyArn applies only to -c vectorStore=s3vectors "
            f"(vectorStore is {values['vector_store']}; the OpenSearch collection uses an AWS-owned key)"
        )
    _check_s3_vectors(values, problems)
    if values["hierarchical_child_max_tokens"] >= values["hierarchical_parent_max_tokens"]:
        problems.append(
            "-c hierarchicalChildMaxTokens must be smaller than hierarchicalParentMaxTokens "
            f"(got {values['hierarchical_child_max_tokens']} >= {values['hierarchical_parent_max_tokens']})"
        )
    if values["api_burst_limit"] < values["api_rate_limit"]:
        problems.append("-c apiBurstLimit must be at least apiRateLimit")
    if (
        values["fine_tune_spot"]
        and values["fine_tune_max_wait_hours"] < values["fine_tune_max_runtime_hours"]
    ):
        problems.append(
            f"-c fineTuneMaxWaitHours={values['fine_tune_max_wait_hours']} is invalid: with spot training it "
            f"must be at least fineTuneMaxRuntimeHours ({values['fine_tune_max_runtime_hours']})"
        )
    for shown, model_id in _generation_models(values):
        geo = inference_profile_geo(model_id)
        profile_regions = INFERENCE_PROFILE_REGIONS.get(geo or "")
        if profile_regions and values["region"] not in profile_regions:
            problems.append(
                f"-c {shown} is invalid in region {values['region']}: "
                f"a '{geo}.' inference profile is called from one of {', '.join(profile_regions)}"
            )
    for judge in values["evaluation_judge_model_ids"]:
        judge_geo = inference_profile_geo(judge)
        if judge_geo is not None and judge_geo not in INFERENCE_PROFILE_REGIONS:
            problems.append(
                f"-c evaluationJudgeModelIds: {judge} is a '{judge_geo}.' inference profile, whose "
                "destination regions the evaluation role cannot name; use a "
                f"{', '.join(f'{g}.' for g in INFERENCE_PROFILE_REGIONS)} profile or a model id"
            )
    rerank = values["rerank_model_id"]
    if rerank and values["region"] not in RERANK_MODEL_REGIONS[rerank]:
        problems.append(
            f"-c rerankModelId={rerank} is invalid in region {values['region']}: Bedrock offers it in "
            f"{', '.join(RERANK_MODEL_REGIONS[rerank])}"
            + (
                "; in this region use "
                + ", ".join(m for m, regions in RERANK_MODEL_REGIONS.items() if values["region"] in regions)
                if any(values["region"] in regions for regions in RERANK_MODEL_REGIONS.values())
                else ""
            )
        )
    model = values["generation_model_id"]
    facts = bedrock_model(model)
    output_limit = facts.max_output_tokens if facts else None
    if output_limit is not None and values["max_tokens"] > output_limit:
        problems.append(
            f"-c maxTokens={values['max_tokens']} is invalid for {model}: the model writes at most "
            f"{output_limit} output tokens per request"
        )
    if values["max_tokens"] > GROUNDING_MAX_TOKENS:
        problems.append(
            f"-c maxTokens={values['max_tokens']} is invalid: the guardrail's contextual grounding check "
            f"assesses answers of at most {GROUNDING_RESPONSE_MAX_CHARS} characters, about "
            f"{GROUNDING_MAX_TOKENS} tokens at {GROUNDING_CHARS_PER_TOKEN} characters a token; use "
            f"maxTokens of at most {GROUNDING_MAX_TOKENS}"
        )
    _check_fine_tune(values, problems)
    _check_drift_watch(values, problems)
    if bool(values["fine_tune_subnet_ids"]) != bool(values["fine_tune_security_group_ids"]):
        problems.append(
            "-c fineTuneSubnetIds and fineTuneSecurityGroupIds must be given together (or neither)"
        )


def _generation_models(values: dict[str, Any]) -> list[tuple[str, str]]:
    """Each model the RAG function may generate with, as the setting that names it (``-c key=value``) and
    its id: every request may name an allowed model, so each must work where the configured one must."""
    shown = [(f"generationModelId={values['generation_model_id']}", values["generation_model_id"])]
    shown += [
        (f"allowedGenerationModelIds={model}", model)
        for model in values["allowed_generation_model_ids"]
        if model != values["generation_model_id"]
    ]
    return shown


def _check_s3_vectors(values: dict[str, Any], problems: list[str]) -> None:
    """S3 Vectors (the document store with ``s3vectors``, the examples store with ``fewShot``) must be
    offered in the region; the examples' manifest must stay out of what the knowledge base ingests."""
    region = values["region"]
    if not offers_s3_vectors(region):
        if values["vector_store"] == "s3vectors":
            problems.append(
                f"-c vectorStore=s3vectors is invalid in region {region}: Amazon S3 Vectors is not offered "
                "there; use vectorStore=opensearch or another region"
            )
        if values["few_shot"]:
            problems.append(
                f"-c fewShot=true is invalid in region {region}: the examples store is an Amazon S3 Vectors "
                "index, which is not offered there; pass -c fewShot=false (no examples store, no few-shot "
                "rung) or use another region"
            )
    if values["few_shot"] and MANIFEST_KEY.startswith(values["documents_prefix"]):
        problems.append(
            f"-c documentsPrefix={values['documents_prefix']} is invalid with -c fewShot=true: the examples' "
            f"manifest ({MANIFEST_KEY}) would be ingested as a document; use another prefix such as docs/"
        )


def _check_fine_tune(values: dict[str, Any], problems: list[str]) -> None:
    base_model = values["fine_tune_base_model_id"]
    if (
        values["fine_tune"]
        and values["fine_tuned_model_api"] == "converse"
        and CMI_NO_CONVERSE_BASE_MODELS.search(base_model)
    ):
        problems.append(
            f"-c fineTunedModelApi=converse is invalid with -c fineTuneBaseModelId={base_model}: Bedrock "
            "Custom Model Import has no Converse API for Qwen2.5, Qwen2-VL, Qwen2.5-VL and GPT-OSS models, "
            "so every 'finetuned' request would fail; set fineTunedModelApi=invoke_model or "
            "another base model (Llama 3.x, Mistral, Qwen3)"
        )
    if values["fine_tune_network_isolation"] and not values["fine_tune_training_image_uri"]:
        problems.append(
            "-c fineTuneNetworkIsolation=true needs -c fineTuneTrainingImageUri: the default Hugging Face "
            "image pip-installs training_jobs/requirements.txt when the job starts, which an isolated job "
            "cannot; build an image with the pins (training_jobs/Dockerfile) and pass its ECR URI"
        )
    instance_type = values["fine_tune_instance_type"]
    gpu = CUDA13_UNSUPPORTED_FAMILIES.get(instance_type.split(".")[1])
    if gpu:
        problems.append(
            f"-c fineTuneInstanceType={instance_type} is invalid: its {gpu} GPU is not supported by the "
            f"CUDA 13 training image; use one of {', '.join(CUDA13_ALTERNATIVES)} "
            "(or another g4dn, g5, g6, g6e, p4 or p5 size)"
        )
        return
    instance = INSTANCES.get(instance_type)
    if instance is None:
        family = instance_type.split(".")[1]
        sizes = [name for name in INSTANCES if name.split(".")[1] == family]
        problems.append(
            f"-c fineTuneInstanceType={instance_type} is invalid: SageMaker has no such {family} training "
            f"instance; use one of {', '.join(sizes)}"
        )
        return
    count = values["fine_tune_instance_count"]
    total_gpus = instance.gpus * count
    if total_gpus < min_gpus(values["fine_tune_strategy"]):
        problems.append(
            f"-c fineTuneStrategy=fsdp-lora needs more than one GPU in total to shard the model across; "
            f"{count} x {instance_type} has {total_gpus}: raise fineTuneInstanceCount, pick a multi-GPU "
            "instance (ml.g5.12xlarge, ml.g6e.12xlarge, ml.p4d.24xlarge) or use fineTuneStrategy=qlora"
        )


def _check_drift_watch(values: dict[str, Any], problems: list[str]) -> None:
    """The watch's extra models: only with a schedule, and only models the API may answer with (the
    evaluation answers through the RAG function, which allows the generation model and
    ``allowedGenerationModelIds``)."""
    model_ids = values.get("drift_watch_model_ids") or ()
    if model_ids and not values.get("drift_watch_schedule"):
        problems.append(
            f"-c driftWatchModelIds={','.join(model_ids)} has no effect with an empty driftWatchSchedule: "
            "set a schedule (e.g. rate(30 days)) or leave driftWatchModelIds empty"
        )
    allowed = {values["generation_model_id"], *values["allowed_generation_model_ids"]}
    refused = [model for model in model_ids if model not in allowed]
    if refused:
        problems.append(
            f"-c driftWatchModelIds: {', '.join(refused)} not allowed for the API, so the watch could not "
            f"measure it; add it to allowedGenerationModelIds (allowed now: {', '.join(sorted(allowed))})"
        )
