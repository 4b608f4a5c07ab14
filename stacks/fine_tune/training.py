"""The SageMaker side of the pipeline: training image, execution role and the training-job states.

The job is started with the AWS SDK integration (``aws-sdk:sagemaker:createTrainingJob``) and followed by a
``DescribeTrainingJob`` polling loop, not with the optimized ``sagemaker:createTrainingJob.sync``: Step
Functions validates the optimized integration's fields against its own list when the state machine is
created (SCHEMA_VALIDATION_FAILED for a field it does not know), and its documentation lists no
``OutputDataConfig.CompressionType``, which Custom Model Import needs. The SDK integration passes the
request to SageMaker's own API. The request is written out here in full, so every field of the job and every
permission it needs is visible in one place.
"""

from __future__ import annotations

import functools
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.config import LadderConfig
from stacks.fine_tune import layout
from stacks.fine_tune.training_code import ENTRY_POINT
from stacks.nag import acknowledge, resource_finding
from training_jobs import job_contract as contract

# Hugging Face PyTorch training image (the Deep Learning Container that train.py and requirements.txt target).
HF_TRANSFORMERS_VERSION = "5.3.0"
HF_BASE_FRAMEWORK_VERSION = "pytorch2.9.0"
HF_PY_VERSION = "py312"
STOCK_IMAGE_PACKAGES = {
    "transformers": HF_TRANSFORMERS_VERSION,
    "trl": "0.28.0",
    "peft": "0.18.1",
    "accelerate": "1.12.0",
    "datasets": "4.5.0",
}
"""What the stock image ships, per its Dockerfile (training_jobs/README.md, "Packages and network isolation";
transformers also from the image tag). Any other pin of training_jobs/requirements.txt counts as missing from
it: the toolkit pip-installs the whole file anyway."""
STOCK_IMAGE_WARNING = "ladder:stock-training-image"
PREBUILT_IMAGE_HOWTO = (
    "build the prebuilt image once (make training-image: training_jobs/Dockerfile, pushed to ECR) and deploy "
    "with -c fineTuneTrainingImageUri=<the URI it prints>"
)

VOLUME_SIZE_GB = 100
"""ML storage of the instance. Every catalogued type (g4dn, g5, g6, g6e, p4d, p5) has local NVMe storage, on
which SageMaker provisions no EBS volume and gives the job the whole instance storage; the value must only
not exceed it (the smallest, ml.g4dn.xlarge, has 125 GB) (SageMaker API, ResourceConfig.VolumeSizeInGB)."""
CODE_CHANNEL = "code"
"""Input channel carrying sourcedir.tar.gz, as the SageMaker SDK does under network isolation (the
container cannot reach S3 itself then; SageMaker copies the channel in before the job starts)."""
CODE_CHANNEL_DIR = f"/opt/ml/input/data/{CODE_CHANNEL}"
TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
METRICS_NAMESPACE = "/aws/sagemaker/TrainingJobs"
COST_TAG_KEY = "ladder:component"
COST_TAG_VALUE = "fine-tune"
HF_CACHE_DIR = "/tmp/huggingface"  # noqa: S108 (a folder inside the job's container, not on this machine)
"""Hugging Face cache of the job (``HF_HOME``; the datasets cache below it). Without it the Hub download of an
unstaged base model lands under the container's home directory, on the small system disk, and a large model
fails "No space left on device" after the instances are paid for. SageMaker mounts its default paths, /tmp
among them, on the job's EBS or NVMe storage and recommends /tmp as the scratch space for large objects
(SageMaker Developer Guide, "Managing storage paths for different types of instance local storage": "We
recommend that you use the /tmp directory as a scratch space for temporarily storing any large objects during
training ... you must not use directories that are mounted to small disk space allocated for system, such as
/user and /home"). Not /opt/ml/model, /opt/ml/output or /opt/ml/checkpoints: SageMaker uploads those to S3."""
STOP_RESULT_PATH = "$.trainingJobStop"
JOB_ENVIRONMENT = {"HF_HOME": HF_CACHE_DIR, "HF_DATASETS_CACHE": f"{HF_CACHE_DIR}/datasets"}


@functools.cache
def training_image_uri(region: str, instance_type: str, configured: str = "") -> str:
    """ECR URI of the training image: ``configured`` (-c fineTuneTrainingImageUri) when set, else the Hugging
    Face training image, resolved offline from sagemaker-core's catalogue."""
    if configured:
        return configured
    from sagemaker.core import image_uris  # heavy import, only when the fine-tune stack is built

    return str(
        image_uris.retrieve(
            framework="huggingface",
            region=region,
            version=HF_TRANSFORMERS_VERSION,
            base_framework_version=HF_BASE_FRAMEWORK_VERSION,
            py_version=HF_PY_VERSION,
            instance_type=instance_type,
            image_scope="training",
        )
    )


def pinned_requirements(text: str) -> dict[str, str]:
    """``name==version`` lines of a requirements file (comments and blank lines skipped), by package name."""
    pins = {}
    for line in text.splitlines():
        requirement = line.split("#", 1)[0].strip()
        if "==" in requirement:
            name, version = (part.strip() for part in requirement.split("==", 1))
            pins[name.lower()] = version
    return pins


def stock_image_warning(configured_image: str, requirements: str) -> str | None:
    """A synth warning when jobs run on the stock Hugging Face image with pins it does not ship (None with a
    configured, prebuilt image, or when the image ships every pin)."""
    if configured_image:
        return None
    missing = [
        f"{name}=={version}"
        + (f" (image: {STOCK_IMAGE_PACKAGES[name]})" if name in STOCK_IMAGE_PACKAGES else "")
        for name, version in pinned_requirements(requirements).items()
        if STOCK_IMAGE_PACKAGES.get(name) != version
    ]
    if not missing:
        return None
    return (
        "the fine-tune jobs run on the stock Hugging Face training image, which lacks "
        f"{len(missing)} pins of training_jobs/requirements.txt: {', '.join(missing)}. Every job start "
        "pip-installs them on every instance and after every spot interruption (minutes of paid GPU time "
        f"each), and a PyPI outage fails a job that already started. For real runs, {PREBUILT_IMAGE_HOWTO}."
    )


def training_log_group_arn(stack: cdk.Stack) -> str:
    """The log group SageMaker writes every training job's log streams into (shared by the account)."""
    return stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=TRAINING_LOG_GROUP,
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def image_repository_arn(image_uri: str) -> str:
    """``<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`` -> the repository's ARN."""
    registry, _, repository = image_uri.partition("/")
    account, _, rest = registry.partition(".dkr.ecr.")
    region = rest.split(".", 1)[0]
    name = repository.split(":", 1)[0].split("@", 1)[0]
    return f"arn:{cdk.Aws.PARTITION}:ecr:{region}:{account}:repository/{name}"


TORCH_DISTRIBUTED_HYPERPARAMETER = "sagemaker_torch_distributed_enabled"
"""Read by the PyTorch training toolkit of the Hugging Face image (``sagemaker_pytorch_container.training``):
``true`` makes it start the entry point with torchrun, one process per GPU on every instance (``--nnodes``
= instances, ``--nproc_per_node`` = GPUs, ``--master_addr`` = the first host), the same hyperparameter the
SageMaker Python SDK writes for ``distribution={"torch_distributed": {"enabled": True}}``."""


def hyperparameters(config: LadderConfig, *, submit_directory: str) -> dict[str, str]:
    """What train.py receives as ``--name value`` (all strings), plus the toolkit's own ``sagemaker_*``.

    With more than one GPU in the job the toolkit launches train.py through torchrun; with one it runs one
    plain process, as before.
    """
    distribution = {TORCH_DISTRIBUTED_HYPERPARAMETER: "true"} if config.fine_tune_total_gpus > 1 else {}
    return {
        **contract.DEFAULT_HYPERPARAMETERS,
        "model_id": config.fine_tune_base_model_id,
        "strategy": config.fine_tune_strategy,
        "epochs": str(config.fine_tune_epochs),
        "learning_rate": str(config.fine_tune_learning_rate),
        "lora_r": str(config.fine_tune_lora_r),
        "lora_alpha": str(config.fine_tune_lora_alpha),
        "lora_dropout": str(config.fine_tune_lora_dropout),
        "max_seq_length": str(config.fine_tune_max_seq_length),
        "sagemaker_program": ENTRY_POINT,
        "sagemaker_submit_directory": submit_directory,
        "sagemaker_region": config.region,
        **distribution,
    }


class TrainingRole(Construct):
    """SageMaker execution role: read the prepared data, the code and staged base models; write model
    output and checkpoints; use the bucket key; logs, metrics and image pull. Nothing else."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: LadderConfig,
        training_data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        key: kms.IKey,
        code: s3_assets.Asset,
        image_uri: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "sagemaker.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
            ),
            description="Ladder fine-tune: SageMaker training job execution role",
        )
        statements = [
            iam.PolicyStatement(
                sid="ReadPreparedData",
                actions=["s3:GetObject"],
                resources=[training_data_bucket.arn_for_objects(f"{layout.PREPARED_PREFIX}*")],
            ),
            # ListBucket on the stack's own buckets without an s3:prefix condition: SageMaker's bucket-level
            # calls (channel download, checkpoint sync, output upload) do not always send a prefix, and a
            # condition they do not meet denies the call; object access stays limited by prefix below.
            iam.PolicyStatement(
                sid="ListPreparedData", actions=["s3:ListBucket"], resources=[training_data_bucket.bucket_arn]
            ),
            iam.PolicyStatement(
                sid="ReadBaseModelsAndCheckpoints",
                actions=["s3:GetObject"],
                resources=[
                    artifacts_bucket.arn_for_objects(f"{layout.BASE_MODELS_PREFIX}*"),
                    artifacts_bucket.arn_for_objects(f"{layout.CHECKPOINTS_PREFIX}*"),
                ],
            ),
            iam.PolicyStatement(
                sid="WriteModelsAndCheckpoints",
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[
                    artifacts_bucket.arn_for_objects(f"{layout.MODELS_PREFIX}*"),
                    artifacts_bucket.arn_for_objects(f"{layout.CHECKPOINTS_PREFIX}*"),
                ],
            ),
            iam.PolicyStatement(
                sid="PruneCheckpoints",
                actions=["s3:DeleteObject"],
                resources=[artifacts_bucket.arn_for_objects(f"{layout.CHECKPOINTS_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="ListArtifacts", actions=["s3:ListBucket"], resources=[artifacts_bucket.bucket_arn]
            ),
            iam.PolicyStatement(
                sid="ReadTrainingCode",
                actions=["s3:GetObject"],
                resources=[code.bucket.arn_for_objects(code.s3_object_key)],
            ),
            iam.PolicyStatement(
                sid="ListTrainingCode",
                actions=["s3:ListBucket"],
                resources=[code.bucket.bucket_arn],
                conditions={"StringEquals": {"s3:prefix": [code.s3_object_key]}},
            ),
            # No kms:Encrypt: the CreateTrainingJob API reference (OutputDataConfig.KmsKeyId) asks for it only
            # "If you use a KMS key ID or an alias of your KMS key"; the job names the key by its ARN
            # (training_job_state_json), and S3 encrypts each upload with a data key (GenerateDataKey).
            iam.PolicyStatement(
                sid="UseBucketKey",
                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[key.key_arn],
            ),
            iam.PolicyStatement(
                sid="TrainingJobLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=[training_log_group_arn(stack), f"{training_log_group_arn(stack)}:*"],
            ),
            iam.PolicyStatement(
                sid="PullTrainingImage",
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                ],
                resources=[image_repository_arn(image_uri)],
            ),
            # The two statements below have no resource type in IAM: "*" is the only possible resource.
            iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            iam.PolicyStatement(
                sid="TrainingMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
            ),
        ]
        if config.fine_tune_subnet_ids:
            statements += self._vpc_statements(config)
        self.policy = iam.Policy(self, "Policy", statements=statements)
        self.policy.attach_to_role(self.role)
        self._acknowledge(training_data_bucket, artifacts_bucket)
        if config.fine_tune_subnet_ids:
            acknowledge(
                self.policy,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:"
                "network-interface/*]",
                "SageMaker creates the training job's network interfaces in the configured subnets at run "
                "time; their ids cannot be known in advance.",
            )

    @staticmethod
    def _vpc_statements(config: LadderConfig) -> list[iam.PolicyStatement]:
        def ec2_arn(resource: str) -> str:
            return f"arn:{cdk.Aws.PARTITION}:ec2:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:{resource}"

        interfaces = ec2_arn("network-interface/*")
        return [
            iam.PolicyStatement(
                sid="TrainingJobNetworkInterfaces",
                actions=["ec2:CreateNetworkInterface"],
                resources=[
                    interfaces,
                    *(ec2_arn(f"subnet/{subnet}") for subnet in config.fine_tune_subnet_ids),
                    *(ec2_arn(f"security-group/{group}") for group in config.fine_tune_security_group_ids),
                ],
            ),
            iam.PolicyStatement(
                sid="ManageTrainingJobNetworkInterfaces",
                actions=[
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                ],
                resources=[interfaces],
            ),
            # Describe* calls support no resource-level permissions.
            iam.PolicyStatement(
                sid="DescribeTrainingJobNetwork",
                actions=[
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                ],
                resources=["*"],
            ),
        ]

    def _acknowledge(self, data: s3.IBucket, artifacts: s3.IBucket) -> None:
        stack = cdk.Stack.of(self)
        prefixes = (
            (data, (layout.PREPARED_PREFIX,)),
            (artifacts, (layout.BASE_MODELS_PREFIX, layout.CHECKPOINTS_PREFIX, layout.MODELS_PREFIX)),
        )
        for bucket, names in prefixes:
            for prefix in names:
                acknowledge(
                    self.policy,
                    resource_finding("AwsSolutions-IAM5", bucket, f"/{prefix}*"),
                    f"Objects under {prefix} are named after each pipeline execution (or by the user for "
                    "staged base models); access is limited to that prefix of the stack's own bucket.",
                )
        acknowledge(
            self.policy,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken and cloudwatch:PutMetricData support no resource-level permissions; "
            "PutMetricData is limited to the SageMaker training namespace by condition.",
        )
        acknowledge(
            self.policy,
            f"AwsSolutions-IAM5[Resource::arn:{stack.partition}:logs:{stack.region}:<AWS::AccountId>:"
            f"log-group:{TRAINING_LOG_GROUP}:*]",
            "SageMaker names one log stream per training job and instance in its fixed TrainingJobs "
            "log group; the streams cannot be named in advance.",
        )


def training_job_state(
    scope: Construct,
    construct_id: str,
    *,
    config: LadderConfig,
    role: iam.IRole,
    artifacts_bucket: s3.IBucket,
    key: kms.IKey,
    code: s3_assets.Asset,
    image_uri: str,
    with_model_channel: bool,
    result_path: str,
) -> sfn.CustomState:
    """``CreateTrainingJob`` named after the execution; reads ``$.dataset`` (the validation output) and,
    ``with_model_channel``, ``$.baseModelS3Uri``; :func:`describe_training_job` follows it."""
    return sfn.CustomState(
        scope,
        construct_id,
        state_json=training_job_state_json(
            config,
            role_arn=role.role_arn,
            artifacts_bucket_name=artifacts_bucket.bucket_name,
            key_arn=key.key_arn,
            code_bucket_name=code.s3_bucket_name,
            code_object_key=code.s3_object_key,
            image_uri=image_uri,
            with_model_channel=with_model_channel,
            result_path=result_path,
        ),
    )


def _channel(name: str, **s3_uri: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "InputMode": "File",
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3DataDistributionType": "FullyReplicated", **s3_uri}
        },
    }


def training_job_state_json(
    config: LadderConfig,
    *,
    role_arn: str,
    artifacts_bucket_name: str,
    key_arn: str,
    code_bucket_name: str,
    code_object_key: str,
    image_uri: str,
    with_model_channel: bool,
    result_path: str,
) -> dict[str, Any]:
    """The Task state (Amazon States Language) that starts one training job."""
    # SageMaker copies an S3Prefix channel's objects by their key relative to the prefix's folder.
    submit_directory = f"{CODE_CHANNEL_DIR}/{code_object_key.rsplit('/', 1)[-1]}"
    channels = [
        _channel(CODE_CHANNEL, S3Uri=f"s3://{code_bucket_name}/{code_object_key}"),
        _channel(contract.CHANNEL_TRAIN, **{"S3Uri.$": "$.dataset.trainS3Uri"}),
        _channel(contract.CHANNEL_EVAL, **{"S3Uri.$": "$.dataset.evalS3Uri"}),
    ]
    if with_model_channel:
        channels.append(_channel(contract.CHANNEL_MODEL, **{"S3Uri.$": "$.baseModelS3Uri"}))
    stopping: dict[str, int] = {"MaxRuntimeInSeconds": config.fine_tune_max_runtime_hours * 3600}
    parameters: dict[str, Any] = {
        "TrainingJobName.$": "$$.Execution.Name",
        "RoleArn": role_arn,
        "AlgorithmSpecification": {
            "TrainingImage": image_uri,
            "TrainingInputMode": "File",
            "MetricDefinitions": [dict(d) for d in contract.METRIC_DEFINITIONS],
        },
        "HyperParameters": hyperparameters(config, submit_directory=submit_directory),
        "InputDataConfig": channels,
        "Environment": dict(JOB_ENVIRONMENT),
        "OutputDataConfig": {
            "S3OutputPath": f"s3://{artifacts_bucket_name}/{layout.MODELS_PREFIX}",
            # The key's ARN, not its id or an alias: with those SageMaker needs kms:Encrypt on the role too.
            "KmsKeyId": key_arn,
            # Bedrock Custom Model Import reads the Hugging Face folder, not a model.tar.gz.
            "CompressionType": "NONE",
        },
        "ResourceConfig": {
            "InstanceCount": config.fine_tune_instance_count,
            "InstanceType": config.fine_tune_instance_type,
            # No VolumeKmsKeyId: GPU instances with local NVMe storage reject it (the disks are
            # hardware-encrypted).
            "VolumeSizeInGB": VOLUME_SIZE_GB,
        },
        "StoppingCondition": stopping,
        "EnableNetworkIsolation": config.fine_tune_network_isolation,
        "Tags": [{"Key": COST_TAG_KEY, "Value": COST_TAG_VALUE}],
    }
    if config.fine_tune_spot:
        parameters["EnableManagedSpotTraining"] = True
        stopping["MaxWaitTimeInSeconds"] = config.fine_tune_max_wait_hours * 3600
        parameters["CheckpointConfig"] = {
            "S3Uri.$": (
                f"States.Format('s3://{artifacts_bucket_name}/{layout.CHECKPOINTS_PREFIX}{{}}/', "
                "$$.Execution.Name)"
            ),
            "LocalPath": contract.CHECKPOINT_LOCAL_PATH,
        }
    if config.fine_tune_subnet_ids:
        parameters["VpcConfig"] = {
            "Subnets": list(config.fine_tune_subnet_ids),
            "SecurityGroupIds": list(config.fine_tune_security_group_ids),
        }
    return {
        "Type": "Task",
        "Resource": f"arn:{cdk.Aws.PARTITION}:states:::aws-sdk:sagemaker:createTrainingJob",
        "Parameters": parameters,
        "ResultSelector": {"TrainingJobArn.$": "$.TrainingJobArn"},
        "ResultPath": result_path,
    }


def model_folder_s3_uri(artifacts_bucket_name: str) -> str:
    """Where a job named after the execution leaves its uncompressed model (``CompressionType`` NONE puts
    ``SM_MODEL_DIR`` under ``<S3OutputPath><job>/output/model/``): an intrinsic the import reads, built from
    the execution name rather than a field of the job's description whose form varies."""
    return (
        f"States.Format('s3://{artifacts_bucket_name}/{layout.MODELS_PREFIX}{{}}/output/model/', "
        "$$.Execution.Name)"
    )


def describe_training_job(scope: Construct, construct_id: str, *, result_path: str) -> sfn.CustomState:
    """``DescribeTrainingJob`` of the execution's job; its whole response lands at ``result_path``
    (``FailureReason`` exists only once the job failed, so no ResultSelector could name it)."""
    return sfn.CustomState(
        scope,
        construct_id,
        state_json={
            "Type": "Task",
            "Comment": "Follow the training job until it leaves InProgress / Stopping",
            "Resource": f"arn:{cdk.Aws.PARTITION}:states:::aws-sdk:sagemaker:describeTrainingJob",
            "Parameters": {"TrainingJobName.$": "$$.Execution.Name"},
            "ResultPath": result_path,
        },
    )


def stop_training_job(scope: Construct, construct_id: str) -> sfn.CustomState:
    """``StopTrainingJob`` of the execution's job, for the failure paths on which the job may still run. Its
    (empty) answer goes to ``$.trainingJobStop``, so the caught error stays at ``$.error`` (a null ResultPath
    would say the same, but the CDK drops null values from a custom state)."""
    return sfn.CustomState(
        scope,
        construct_id,
        state_json={
            "Type": "Task",
            "Comment": "The job can no longer be followed: stop it, or it bills until its runtime cap",
            "Resource": f"arn:{cdk.Aws.PARTITION}:states:::aws-sdk:sagemaker:stopTrainingJob",
            "Parameters": {"TrainingJobName.$": "$$.Execution.Name"},
            "ResultPath": STOP_RESULT_PATH,
        },
    )


def training_job_statements(training_role: iam.IRole) -> list[iam.PolicyStatement]:
    """What the state machine needs to start, follow and stop a training job and pass the role to SageMaker
    (``AddTags`` because CreateTrainingJob carries Tags).

    The jobs carry no name prefix of their own (each is named after its execution, whatever name that was
    started with), so training jobs of this account and region is the narrowest ARN pattern; the definition
    only ever names ``$$.Execution.Name``."""
    stack = cdk.Stack.of(training_role)
    jobs = stack.format_arn(service="sagemaker", resource="training-job", resource_name="*")
    return [
        iam.PolicyStatement(
            sid="RunTrainingJobs",
            actions=["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:AddTags"],
            resources=[jobs],
        ),
        iam.PolicyStatement(sid="StopTrainingJobs", actions=["sagemaker:StopTrainingJob"], resources=[jobs]),
        iam.PolicyStatement(
            sid="PassTrainingRole",
            actions=["iam:PassRole"],
            resources=[training_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        ),
    ]
