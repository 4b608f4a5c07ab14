"""Bedrock Knowledge Base over the vector store, its service role, the S3 data source and its first sync."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.config import LadderConfig
from stacks.constructs.bedrock_principal import bedrock_service_principal
from stacks.constructs.log_group import log_group
from stacks.knowledge.naming import data_source_name, knowledge_base_name
from stacks.knowledge.vector_store import VectorCollection, VectorStore
from stacks.nag import acknowledge, resource_finding

# The vector store is destroyed with the stack (sandbox) or deliberately kept (prod, S3 Vectors): either
# way Bedrock must not purge vectors while the stack is deleted. A purge that runs after the store or the
# documents are gone ends in DELETE_UNSUCCESSFUL and leaves the store billing.
DATA_DELETION_POLICY = "RETAIN"
# StartIngestionJob's answer while a job already runs on the data source (its ``name`` in the SDK v3 error
# that AwsCustomResource's ignoreErrorCodesMatching is tested against).
INGESTION_JOB_RUNNING = "ConflictException"
# Construct id aws-cdk-lib gives the singleton provider function of AwsCustomResource.
AWS_CUSTOM_RESOURCE_SINGLETON_ID = "AWS679f53fac002430cb0da5b7982bd2287"


def foundation_model_arn(model_id: str, region: str = cdk.Aws.REGION) -> str:
    return f"arn:{cdk.Aws.PARTITION}:bedrock:{region}::foundation-model/{model_id}"


def knowledge_base_service_role(scope: Construct, construct_id: str) -> iam.Role:
    """Role Bedrock assumes for this account's knowledge bases only (confused-deputy conditions)."""
    return iam.Role(
        scope,
        construct_id,
        description="Bedrock Knowledge Base service role (Ladder)",
        assumed_by=bedrock_service_principal("knowledge-base"),
    )


def chunking_configuration(config: LadderConfig) -> bedrock.CfnDataSource.ChunkingConfigurationProperty:
    strategy = config.chunking_strategy
    if strategy == "FIXED_SIZE":
        return bedrock.CfnDataSource.ChunkingConfigurationProperty(
            chunking_strategy=strategy,
            fixed_size_chunking_configuration=bedrock.CfnDataSource.FixedSizeChunkingConfigurationProperty(
                max_tokens=config.chunk_max_tokens, overlap_percentage=config.chunk_overlap_percentage
            ),
        )
    if strategy == "SEMANTIC":
        return bedrock.CfnDataSource.ChunkingConfigurationProperty(
            chunking_strategy=strategy,
            semantic_chunking_configuration=bedrock.CfnDataSource.SemanticChunkingConfigurationProperty(
                max_tokens=config.semantic_max_tokens,
                buffer_size=config.semantic_buffer_size,
                breakpoint_percentile_threshold=config.semantic_breakpoint_percentile,
            ),
        )
    if strategy == "HIERARCHICAL":
        return bedrock.CfnDataSource.ChunkingConfigurationProperty(
            chunking_strategy=strategy,
            hierarchical_chunking_configuration=bedrock.CfnDataSource.HierarchicalChunkingConfigurationProperty(
                level_configurations=[
                    bedrock.CfnDataSource.HierarchicalChunkingLevelConfigurationProperty(
                        max_tokens=config.hierarchical_parent_max_tokens
                    ),
                    bedrock.CfnDataSource.HierarchicalChunkingLevelConfigurationProperty(
                        max_tokens=config.hierarchical_child_max_tokens
                    ),
                ],
                overlap_tokens=config.hierarchical_overlap_tokens,
            ),
        )
    return bedrock.CfnDataSource.ChunkingConfigurationProperty(chunking_strategy="NONE")


class KnowledgeBase(Construct):
    """Knowledge base + S3 data source + a full sync of every new data source.

    Deploy order: role policy and vector index -> knowledge base -> data source -> first sync. Deletion is
    the reverse: the data source goes first (keeping its vectors: ``DATA_DELETION_POLICY``), the store last.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: LadderConfig,
        role: iam.Role,
        vectors: VectorStore,
        documents_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        prefix = config.documents_prefix
        embedding_model_arn = foundation_model_arn(config.embedding_model_id)

        policy = iam.Policy(
            self,
            "ServiceRolePolicy",
            statements=[
                iam.PolicyStatement(
                    sid="EmbedDocuments", actions=["bedrock:InvokeModel"], resources=[embedding_model_arn]
                ),
                *vectors.role_statements(),
                iam.PolicyStatement(
                    sid="ListDocuments",
                    actions=["s3:ListBucket"],
                    resources=[documents_bucket.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
                ),
                iam.PolicyStatement(
                    sid="ReadDocuments",
                    actions=["s3:GetObject"],
                    resources=[documents_bucket.arn_for_objects(f"{prefix}*")],
                ),
            ],
        )
        policy.attach_to_role(role)
        vectors.acknowledge_role_findings(policy)
        acknowledge(
            policy,
            resource_finding("AwsSolutions-IAM5", documents_bucket, f"/{prefix}*"),
            "Ingestion reads every document under the configured inclusion prefix; the object keys are the "
            "users' documents and cannot be enumerated at deploy time.",
        )

        self.knowledge_base = bedrock.CfnKnowledgeBase(
            self,
            "Resource",
            name=knowledge_base_name(config),
            description="Ladder: the user's documents, searchable with their sources",
            role_arn=role.role_arn,
            knowledge_base_configuration=bedrock.CfnKnowledgeBase.KnowledgeBaseConfigurationProperty(
                type="VECTOR",
                vector_knowledge_base_configuration=bedrock.CfnKnowledgeBase.VectorKnowledgeBaseConfigurationProperty(
                    embedding_model_arn=embedding_model_arn,
                    embedding_model_configuration=bedrock.CfnKnowledgeBase.EmbeddingModelConfigurationProperty(
                        bedrock_embedding_model_configuration=bedrock.CfnKnowledgeBase.BedrockEmbeddingModelConfigurationProperty(
                            dimensions=config.embedding_dimensions, embedding_data_type="FLOAT32"
                        )
                    ),
                ),
            ),
            storage_configuration=vectors.storage_configuration(),
        )
        # The role must be able to embed and write before Bedrock validates the vector store.
        if isinstance(vectors, VectorCollection):
            # The storage configuration names the OpenSearch index only by name: make the order explicit.
            # (An S3 vector index is referenced by its ARN, which orders it already.)
            self.knowledge_base.add_resource_dependency(vectors.index)
        self.knowledge_base.node.add_dependency(policy)

        self.data_source = bedrock.CfnDataSource(
            self,
            "DocumentsDataSource",
            name=data_source_name(config),
            description=f"s3://<documents bucket>/{prefix}",
            knowledge_base_id=self.knowledge_base.attr_knowledge_base_id,
            data_deletion_policy=DATA_DELETION_POLICY,
            data_source_configuration=bedrock.CfnDataSource.DataSourceConfigurationProperty(
                type="S3",
                s3_configuration=bedrock.CfnDataSource.S3DataSourceConfigurationProperty(
                    bucket_arn=documents_bucket.bucket_arn, inclusion_prefixes=[prefix]
                ),
            ),
            vector_ingestion_configuration=bedrock.CfnDataSource.VectorIngestionConfigurationProperty(
                chunking_configuration=chunking_configuration(config)
            ),
        )

        self.first_sync = _full_sync_of_new_data_source(
            self, config, self.knowledge_base_arn, self.knowledge_base_id, self.data_source_id
        )

    @property
    def name(self) -> str:
        """The knowledge base's name, known at synth time; it changes whenever the knowledge base is replaced
        (naming.py), unlike its id, which exists only after the deploy."""
        return self.knowledge_base.name

    @property
    def knowledge_base_id(self) -> str:
        return self.knowledge_base.attr_knowledge_base_id

    @property
    def knowledge_base_arn(self) -> str:
        return self.knowledge_base.attr_knowledge_base_arn

    @property
    def data_source_id(self) -> str:
        return self.data_source.attr_data_source_id


def _full_sync_of_new_data_source(
    scope: Construct,
    config: LadderConfig,
    knowledge_base_arn: str,
    knowledge_base_id: str,
    data_source_id: str,
) -> cr.AwsCustomResource:
    """Start one ingestion job whenever the data source is new (first deploy, or replaced by a chunking or
    embedding change): a new data source is empty, and no S3 event would ever fill it from the documents
    already in the bucket. CloudFormation sends Create on the first deploy and Update when the data source
    id changes; the same call serves both. Deleting the stack starts nothing.

    ``ConflictException`` (a job already runs on this data source: the ingestion queue's function may start
    one as soon as the deploy points it at the new data source) counts as done: any ingestion job scans the
    whole data source, so the running one syncs the documents this call would have. Failing the deploy on
    it would roll back the whole update instead.
    """
    call = cr.AwsSdkCall(
        service="bedrock-agent",
        action="StartIngestionJob",
        parameters={
            "knowledgeBaseId": knowledge_base_id,
            "dataSourceId": data_source_id,
            "description": "Ladder: full sync of a new data source (deploy)",
        },
        physical_resource_id=cr.PhysicalResourceId.of(data_source_id),
        ignore_error_codes_matching=f"^{INGESTION_JOB_RUNNING}$",
    )
    sync = cr.AwsCustomResource(
        scope,
        "FullSyncOfNewDataSource",
        on_create=call,
        on_update=call,
        policy=cr.AwsCustomResourcePolicy.from_statements(
            [iam.PolicyStatement(actions=["bedrock:StartIngestionJob"], resources=[knowledge_base_arn])]
        ),
        install_latest_aws_sdk=False,
        # Its own log group, so the provider's logs follow the profile's retention and a sandbox destroy
        # leaves no log group behind (the provider's default one is retained).
        log_group=log_group(scope, "FullSyncLogs", config=config),
    )
    # The provider function is the CDK's singleton for every AwsCustomResource in the stack.
    provider = cdk.Stack.of(scope).node.try_find_child(AWS_CUSTOM_RESOURCE_SINGLETON_ID)
    if provider is not None:
        acknowledge(
            provider,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "The CDK's AwsCustomResource provider function; the AWS managed basic execution policy only lets "
            "it write its own CloudWatch Logs.",
        )
    return sync
