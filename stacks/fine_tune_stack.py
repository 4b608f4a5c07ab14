"""Fine-tune stack (only with ``-c fineTune=true``): chat data in, a Bedrock-imported LoRA model out."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.config import LadderConfig
from stacks.constructs.alarm_topic import AlarmTopic
from stacks.constructs.buckets import access_logs_bucket, data_bucket
from stacks.fine_tune import layout
from stacks.fine_tune.budget import FineTuneBudget
from stacks.fine_tune.pipeline import FineTunePipeline
from stacks.fine_tune.run_cost import (
    OVER_BUDGET_WARNING,
    RUN_METADATA_KEY,
    UNPRICED_WARNING,
    TrainingRun,
)
from stacks.fine_tune.training import (
    COST_TAG_KEY,
    COST_TAG_VALUE,
    STOCK_IMAGE_WARNING,
    TrainingRole,
    stock_image_warning,
    training_image_uri,
)
from stacks.fine_tune.training_code import REQUIREMENTS, TRAINING_JOBS_DIR, training_code_asset

BASE_MODEL_STAGING_REQUIRED = "required"
BASE_MODEL_STAGING_OPTIONAL = "optional"
"""Values of the BaseModelStaging output: ``ladder finetune start`` refuses to start without --base-weights
when staged weights are required (gated base model or network isolation)."""


class FineTuneStack(cdk.Stack):
    """Training-data and artifacts buckets, SageMaker execution role, the Step Functions pipeline
    (validate -> train -> import -> publish), alarms and a monthly budget.

    The model parameter (``config.fine_tuned_model_parameter``) is not a resource of this stack: the pipeline
    creates it on its first publish, so no deploy can reset a published model to a placeholder. Until then it
    does not exist, which the RAG function and the CLI read as 'no fine-tuned model yet'."""

    def __init__(self, scope: Construct, construct_id: str, *, config: LadderConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        removal = cdk.RemovalPolicy.RETAIN if config.is_prod else cdk.RemovalPolicy.DESTROY
        self.data_key = kms.Key(
            self,
            "DataKey",
            description="Ladder fine-tune: training data, checkpoints and model artifacts",
            enable_key_rotation=True,
            removal_policy=removal,
            pending_window=cdk.Duration.days(7),
        )
        self.notifications = AlarmTopic(self, "Notifications", config=config, purpose="fine-tune pipeline")
        self.access_logs_bucket = access_logs_bucket(self, "AccessLogsBucket", config=config)
        self.training_data_bucket = data_bucket(
            self,
            "TrainingDataBucket",
            config=config,
            logs_bucket=self.access_logs_bucket,
            log_prefix="training-data/",
            encryption_key=self.data_key,
        )
        self.training_data_bucket.add_lifecycle_rule(
            prefix=layout.PREPARED_PREFIX, expiration=cdk.Duration.days(layout.PREPARED_RETENTION_DAYS)
        )
        self.artifacts_bucket = data_bucket(
            self,
            "ArtifactsBucket",
            config=config,
            logs_bucket=self.access_logs_bucket,
            log_prefix="artifacts/",
            encryption_key=self.data_key,
        )
        self.artifacts_bucket.add_lifecycle_rule(
            prefix=layout.CHECKPOINTS_PREFIX,
            expiration=cdk.Duration.days(layout.CHECKPOINT_RETENTION_DAYS),
        )
        # A configured image already holds the pinned packages; without one the toolkit installs them.
        self.training_code = training_code_asset(
            self, "TrainingCode", with_requirements=not config.fine_tune_training_image_uri
        )
        self.training_image_uri = training_image_uri(
            config.region, config.fine_tune_instance_type, config.fine_tune_training_image_uri
        )
        image_warning = stock_image_warning(
            config.fine_tune_training_image_uri, (TRAINING_JOBS_DIR / REQUIREMENTS).read_text()
        )
        if image_warning:
            cdk.Annotations.of(self).add_warning_v2(STOCK_IMAGE_WARNING, image_warning)
        self.training_role = TrainingRole(
            self,
            "TrainingRole",
            config=config,
            training_data_bucket=self.training_data_bucket,
            artifacts_bucket=self.artifacts_bucket,
            key=self.data_key,
            code=self.training_code,
            image_uri=self.training_image_uri,
        )
        self.pipeline = FineTunePipeline(
            self,
            "Pipeline",
            config=config,
            training_data_bucket=self.training_data_bucket,
            artifacts_bucket=self.artifacts_bucket,
            key=self.data_key,
            training_role=self.training_role.role,
            code=self.training_code,
            image_uri=self.training_image_uri,
            model_parameter_name=config.fine_tuned_model_parameter,
            notifications=self.notifications,
        )
        self.budget = FineTuneBudget(self, "Budget", config=config, notifications=self.notifications)
        run = TrainingRun.of(config)
        self.add_metadata(RUN_METADATA_KEY, run.to_metadata())
        warning = run.budget_warning(config.fine_tune_monthly_budget_usd)
        if warning:
            cdk.Annotations.of(self).add_warning_v2(OVER_BUDGET_WARNING, warning)
        unpriced = run.price_warning()
        if unpriced:
            cdk.Annotations.of(self).add_warning_v2(UNPRICED_WARNING, unpriced)
        # Cost-allocation tag (also set on every training job): activate it in the Billing console to
        # break fine-tune spend down in Cost Explorer.
        cdk.Tags.of(self).add(COST_TAG_KEY, COST_TAG_VALUE)

        cdk.CfnOutput(self, "TrainingDataBucketName", value=self.training_data_bucket.bucket_name)
        cdk.CfnOutput(self, "ArtifactsBucketName", value=self.artifacts_bucket.bucket_name)
        cdk.CfnOutput(
            self,
            "BaseModelsS3Uri",
            value=f"s3://{self.artifacts_bucket.bucket_name}/{layout.BASE_MODELS_PREFIX}",
            description="Stage base-model weights under this prefix; pass the folder as baseModelS3Uri",
        )
        cdk.CfnOutput(self, "StateMachineArn", value=self.pipeline.state_machine.state_machine_arn)
        cdk.CfnOutput(
            self,
            "BaseModelStaging",
            value=BASE_MODEL_STAGING_OPTIONAL if self.pipeline.hub_download else BASE_MODEL_STAGING_REQUIRED,
            description="'required': start runs with staged weights (ladder finetune start --base-weights)",
        )
        cdk.CfnOutput(self, "FineTunedModelParameterName", value=config.fine_tuned_model_parameter)
        cdk.CfnOutput(self, "TrainingImageUri", value=self.training_image_uri)
        cdk.CfnOutput(self, "NotificationTopicArn", value=self.notifications.topic.topic_arn)
