"""The evaluation infrastructure in the RAG API stack: bucket, Bedrock evaluation role, outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ladder_core.catalog.bedrock import foundation_model_id
from stacks.config import ConfigError, from_context
from stacks.marketplace_products import marketplace_product_id
from stacks.rag.evaluation import EVALUATION_PREFIX, EVALUATION_RUN_DAYS
from stacks.rag.marketplace import MARKETPLACE_SIDS
from tests.stacks.rag.templates import rag
from tests.support.synth import Synthesized, as_list, default_context, references, resources


def evaluation_role(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    found = [
        (logical_id, role)
        for logical_id, role in resources(template, "AWS::IAM::Role").items()
        if "evaluation jobs" in role["Properties"].get("Description", "")
    ]
    assert len(found) == 1
    return found[0]


def role_statements(template: dict[str, Any], role_id: str) -> dict[str, dict[str, Any]]:
    return {
        statement["Sid"]: statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    }


def evaluation_bucket(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    found = [
        (logical_id, bucket)
        for logical_id, bucket in resources(template, "AWS::S3::Bucket").items()
        if any(
            rule.get("Prefix") == EVALUATION_PREFIX
            for rule in bucket["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
        )
    ]
    assert len(found) == 1
    return found[0]


def test_the_bucket_is_encrypted_private_ssl_only_and_old_runs_expire(sandbox: Synthesized) -> None:
    template = rag(sandbox)
    bucket_id, bucket = evaluation_bucket(template)
    props = bucket["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    # Sandbox auto-deletes its buckets: no access-log destination that late log delivery could refill
    assert "LoggingConfiguration" not in props
    skips = {s["id"]: s["comment"] for s in bucket["Metadata"]["checkov"]["skip"]}
    assert "late log delivery" in skips["CKV_AWS_18"]
    expiring = [r for r in props["LifecycleConfiguration"]["Rules"] if r.get("Prefix") == EVALUATION_PREFIX]
    assert expiring[0]["ExpirationInDays"] == EVALUATION_RUN_DAYS and expiring[0]["Status"] == "Enabled"
    policies = [
        p
        for p in resources(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    denies = [
        s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
    ]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)


def test_prod_logs_the_bucket_into_a_kept_access_log_bucket(prod: Synthesized) -> None:
    template = rag(prod)
    _, bucket = evaluation_bucket(template)
    destination = references(bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"])
    (logs_id,) = destination
    assert template["Resources"][logs_id]["DeletionPolicy"] == "Retain"


def test_only_this_accounts_bedrock_evaluation_jobs_may_assume_the_role(sandbox: Synthesized) -> None:
    _, role = evaluation_role(rag(sandbox))
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source_arn = json.dumps(statement["Condition"]["ArnLike"]["aws:SourceArn"])
    assert ":evaluation-job/*" in source_arn and "AWS::AccountId" in source_arn


def test_the_role_reaches_only_the_evaluation_prefix_and_the_judge_models(sandbox: Synthesized) -> None:
    template = rag(sandbox)
    role_id, _ = evaluation_role(template)
    bucket_id, _ = evaluation_bucket(template)
    # A third-party judge's first-use AWS Marketplace subscription is tested in test_third_party_models.py.
    statements = {
        sid: s for sid, s in role_statements(template, role_id).items() if sid not in MARKETPLACE_SIDS
    }
    assert set(statements) == {
        "ReadDatasetsWriteResults",
        "ListEvaluationBucket",
        "LocateBucket",
        "InvokeJudgeModels",
        "RunJudgeBatchInference",
        "ReadJudgeInferenceProfiles",
    }
    objects = statements["ReadDatasetsWriteResults"]
    assert set(objects["Action"]) == {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}
    assert json.dumps(objects["Resource"]).endswith(f'/{EVALUATION_PREFIX}*"]]}}')
    assert references(objects["Resource"]) == {bucket_id}
    # Bedrock User Guide, "Service role requirements for knowledge base evaluation jobs" (and for automatic
    # and judge jobs): the output-bucket statement grants s3:ListBucket on the bucket with no s3:prefix
    # condition, so the listing is the bucket's own (it holds nothing but evaluation runs)
    listing = statements["ListEvaluationBucket"]
    assert "s3:ListBucket" in listing["Action"] and "Condition" not in listing
    assert listing["Resource"] == {"Fn::GetAtt": [bucket_id, "Arn"]}
    invoke = statements["InvokeJudgeModels"]
    assert invoke["Action"] == "bedrock:InvokeModel"
    resources_json = json.dumps(as_list(invoke["Resource"]))
    assert "inference-profile/us.amazon.nova-pro-v1:0" in resources_json
    assert "foundation-model/amazon.nova-pro-v1:0" in resources_json
    assert '"*"' not in json.dumps([s["Resource"] for s in statements.values()])


def test_the_default_judge_is_a_current_evaluator_model_without_a_marketplace_subscription() -> None:
    """Bedrock User Guide, "Evaluate the performance of RAG sources using Amazon Bedrock evaluations",
    Supported evaluator models (built-in metrics): "Amazon Nova Pro - amazon.nova-pro-v1:0" ... "Cross-Region
    inference profiles are supported for the listed models"; the LLM-as-a-judge prompts page lists Amazon
    Nova Pro among the evaluator models of model evaluation jobs. Amazon models are not sold through AWS
    Marketplace ("Use product ID condition keys to control access")."""
    judges = from_context(default_context()).evaluation_judge_model_ids
    assert judges == ("us.amazon.nova-pro-v1:0",)
    assert foundation_model_id(judges[0]) == "amazon.nova-pro-v1:0"
    assert marketplace_product_id(judges[0]) is None


def test_the_role_may_run_the_judge_as_batch_inference_on_the_judge_models_only(sandbox: Synthesized) -> None:
    """Bedrock User Guide, "Required service role permissions for creating a model evaluation job that uses
    a judge model": the policy's Bedrock statement allows "bedrock:InvokeModel",
    "bedrock:CreateModelInvocationJob" and "bedrock:StopModelInvocationJob". Batch inference ("Required
    permissions" of batch inference) authorizes those actions on "arn:aws:bedrock:<region>::foundation-model/
    <model-id>" and "arn:aws:bedrock:<region>:<account-id>:model-invocation-job/*": the job ids are Bedrock's.
    """
    template = rag(sandbox)
    role_id, _ = evaluation_role(template)
    statements = role_statements(template, role_id)
    batch = statements["RunJudgeBatchInference"]
    assert sorted(batch["Action"]) == ["bedrock:CreateModelInvocationJob", "bedrock:StopModelInvocationJob"]
    resources_ = as_list(batch["Resource"])
    jobs = [r for r in resources_ if "model-invocation-job" in json.dumps(r)]
    assert len(jobs) == 1
    assert jobs[0] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":bedrock:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":model-invocation-job/*",
            ],
        ]
    }
    # every other resource is one the role may already invoke: no other model, no '*'
    models = [r for r in resources_ if r not in jobs]
    assert models == as_list(statements["InvokeJudgeModels"]["Resource"])


def test_only_a_profile_judge_may_read_its_inference_profile(sandbox: Synthesized, synth: Any) -> None:
    """A judge given as an inference profile is resolved by Bedrock from the profile (GetInferenceProfile,
    on that profile's ARN only); a judge given as a model id needs no such grant."""
    template = rag(sandbox)
    role_id, _ = evaluation_role(template)
    read = role_statements(template, role_id)["ReadJudgeInferenceProfiles"]
    assert read["Action"] == "bedrock:GetInferenceProfile"
    (profile,) = as_list(read["Resource"])
    assert json.dumps(profile).endswith(':inference-profile/us.amazon.nova-pro-v1:0"]]}')
    first_party = rag(synth({"evaluationJudgeModelIds": "amazon.nova-pro-v1:0"}))
    role_id, _ = evaluation_role(first_party)
    assert "ReadJudgeInferenceProfiles" not in role_statements(first_party, role_id)


def test_an_inference_profile_judge_gets_its_profile_and_routed_models(synth: Any) -> None:
    template = rag(
        synth({"evaluationJudgeModelIds": "us.amazon.nova-pro-v1:0,mistral.mistral-large-2402-v1:0"})
    )
    role_id, _ = evaluation_role(template)
    invoke = json.dumps(role_statements(template, role_id)["InvokeJudgeModels"]["Resource"])
    assert "inference-profile/us.amazon.nova-pro-v1:0" in invoke
    for region in ("us-east-1", "us-east-2", "us-west-2"):
        assert f"bedrock:{region}::foundation-model/amazon.nova-pro-v1:0" in invoke
    assert "foundation-model/mistral.mistral-large-2402-v1:0" in invoke
    assert "claude" not in invoke


def test_outputs_are_named_for_the_cli(sandbox: Synthesized) -> None:
    outputs = rag(sandbox)["Outputs"]
    assert {
        "EvaluationBucketName",
        "EvaluationPrefix",
        "EvaluationRoleArn",
        "EvaluationJudgeModelIds",
    } <= set(outputs)
    assert outputs["EvaluationPrefix"]["Value"] == EVALUATION_PREFIX
    assert outputs["EvaluationJudgeModelIds"]["Value"] == "us.amazon.nova-pro-v1:0"


@pytest.mark.parametrize("value", ["", "Claude!", "a b"])
def test_a_bad_judge_model_list_fails_with_the_key_named(value: str) -> None:
    context = {**default_context(), "evaluationJudgeModelIds": value}
    with pytest.raises(ConfigError, match="evaluationJudgeModelIds"):
        from_context(context)


def test_the_judge_list_is_parsed_from_a_comma_separated_string() -> None:
    context = {
        **default_context(),
        "evaluationJudgeModelIds": "amazon.nova-pro-v1:0, us.amazon.nova-lite-v1:0",
    }
    assert from_context(context).evaluation_judge_model_ids == (
        "amazon.nova-pro-v1:0",
        "us.amazon.nova-lite-v1:0",
    )
