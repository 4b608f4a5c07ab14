"""Where ``ladder eval --judge`` works: an evaluation bucket and the service role Bedrock's evaluation
jobs assume. Nothing here bills while idle (an empty bucket, a role)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ladder_core.catalog.bedrock import INFERENCE_PROFILE_REGIONS, foundation_model_id, inference_profile_geo
from stacks.config import LadderConfig
from stacks.constructs.bedrock_principal import bedrock_service_principal
from stacks.constructs.buckets import access_logs_bucket, data_bucket
from stacks.knowledge.knowledge_base import foundation_model_arn
from stacks.nag import acknowledge, resource_finding
from stacks.rag.marketplace import grant_marketplace_subscription

EVALUATION_PREFIX = "evaluations/"
"""Datasets and results of evaluation jobs; the role reaches nothing else in the bucket."""
EVALUATION_RUN_DAYS = 90
"""Old runs' datasets and judge results expire after this many days (the local run folder stays)."""
JUDGE_BATCH_ACTIONS = ("bedrock:CreateModelInvocationJob", "bedrock:StopModelInvocationJob")


def judge_profile_arn(model_id: str) -> str | None:
    """The inference profile ARN of a judge given as a profile id (``us.``...); None for a model id."""
    if inference_profile_geo(model_id) is None:
        return None
    return (
        f"arn:{cdk.Aws.PARTITION}:bedrock:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:inference-profile/{model_id}"
    )


def judge_model_resources(model_id: str) -> list[str]:
    """InvokeModel resources of one judge: the model, or an inference profile and the models it routes to."""
    profile = judge_profile_arn(model_id)
    if profile is None:
        return [foundation_model_arn(model_id)]
    # The config refuses a judge profile whose geography has no catalogued regions.
    regions = INFERENCE_PROFILE_REGIONS[inference_profile_geo(model_id) or ""]
    return [profile, *(foundation_model_arn(foundation_model_id(model_id), region) for region in regions)]


class Evaluation(Construct):
    """The evaluation bucket (encrypted, SSL-only, access-logged in prod, old runs expire) and the role that
    Bedrock evaluation jobs of this account assume: S3 only under ``evaluations/``, InvokeModel and batch
    inference only on the judge models in ``evaluationJudgeModelIds`` (and GetInferenceProfile on a judge
    given as an inference profile). Outputs: ``EvaluationBucketName``,
    ``EvaluationPrefix``, ``EvaluationRoleArn``, ``EvaluationJudgeModelIds``."""

    def __init__(self, scope: Construct, construct_id: str, *, config: LadderConfig) -> None:
        super().__init__(scope, construct_id)
        logs = access_logs_bucket(self, "AccessLogsBucket", config=config)
        self.evaluation_bucket: s3.Bucket = data_bucket(
            self, "EvaluationBucket", config=config, logs_bucket=logs, log_prefix="evaluation-bucket/"
        )
        self.evaluation_bucket.add_lifecycle_rule(
            id="ExpireOldRuns", prefix=EVALUATION_PREFIX, expiration=cdk.Duration.days(EVALUATION_RUN_DAYS)
        )
        self.evaluation_role = iam.Role(
            self,
            "EvaluationRole",
            description="Assumed by Bedrock evaluation jobs of this account (ladder eval --judge)",
            assumed_by=bedrock_service_principal("evaluation-job"),
        )
        objects = self.evaluation_bucket.arn_for_objects(f"{EVALUATION_PREFIX}*")
        self.evaluation_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadDatasetsWriteResults",
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[objects],
            )
        )
        # Bedrock's documented service-role policy for evaluation jobs lists the output and dataset buckets
        # with no s3:prefix condition; a listing outside evaluations/ would otherwise fail the job with
        # AccessDenied. The bucket holds nothing but evaluation runs, so the whole listing reveals no more.
        self.evaluation_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ListEvaluationBucket",
                actions=["s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[self.evaluation_bucket.bucket_arn],
            )
        )
        self.evaluation_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="LocateBucket",
                actions=["s3:GetBucketLocation"],
                resources=[self.evaluation_bucket.bucket_arn],
            )
        )
        judge_models = [
            arn for model in config.evaluation_judge_model_ids for arn in judge_model_resources(model)
        ]
        self.evaluation_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="InvokeJudgeModels", actions=["bedrock:InvokeModel"], resources=judge_models
            )
        )
        # Bedrock's documented service role for judge jobs ("Required service role permissions for creating
        # a model evaluation job that uses a judge model") also lets the job run the judge as a batch
        # inference job; batch inference authorizes on the model and on the job, whose id Bedrock picks.
        invocation_jobs = (
            f"arn:{cdk.Aws.PARTITION}:bedrock:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:model-invocation-job/*"
        )
        self.evaluation_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RunJudgeBatchInference",
                actions=[*JUDGE_BATCH_ACTIONS],
                resources=[*judge_models, invocation_jobs],
            )
        )
        profiles = [
            arn
            for model in config.evaluation_judge_model_ids
            if (arn := judge_profile_arn(model)) is not None
        ]
        if profiles:
            self.evaluation_role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="ReadJudgeInferenceProfiles",
                    actions=["bedrock:GetInferenceProfile"],
                    resources=profiles,
                )
            )
        grant_marketplace_subscription(self.evaluation_role, config.evaluation_judge_model_ids)
        acknowledge(
            self.evaluation_role,
            resource_finding("AwsSolutions-IAM5", self.evaluation_bucket, f"/{EVALUATION_PREFIX}*"),
            "Evaluation jobs write result objects whose names Bedrock chooses; access is limited to the "
            "evaluations/ prefix of this one bucket.",
        )
        acknowledge(
            self.evaluation_role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:"
            "model-invocation-job/*]",
            "Bedrock names the batch inference jobs an evaluation job starts for its judge at run time; the "
            "role may create and stop jobs of this account and region only, on the judge models only.",
        )
        outputs = {
            "EvaluationBucketName": (
                self.evaluation_bucket.bucket_name,
                "bucket for evaluation datasets/results",
            ),
            "EvaluationPrefix": (EVALUATION_PREFIX, "key prefix the evaluation role may use"),
            "EvaluationRoleArn": (self.evaluation_role.role_arn, "role Bedrock evaluation jobs assume"),
            "EvaluationJudgeModelIds": (
                ",".join(config.evaluation_judge_model_ids),
                "models allowed as judge",
            ),
        }
        for key, (value, description) in outputs.items():
            output = cdk.CfnOutput(self, key, value=value, description=description)
            # The CLI reads these by name: keep the keys free of the construct path's hash.
            output.override_logical_id(key)
