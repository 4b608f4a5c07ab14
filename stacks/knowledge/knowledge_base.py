"""Bedrock Knowledge Base over the vector collection, its service role and the S3 data source."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.config import LadderConfig
from stacks.knowledge.vector_store import (
    INDEX_NAME,
    METADATA_FIELD,
    TEXT_FIELD,
    VECTOR_FIELD,
    VectorCollection,
)
from stacks.nag import acknowledge, resource_finding


def foundation_model_arn(model_id: str, region: str = cdk.Aws.REGION) -> str:
    return f"arn:{cdk.Aws.PARTITION}:bedrock:{region}::foundation-model/{model_id}"


def knowledge_base_service_role(scope: Construct, construct_id: str) -> iam.Role:
    """Role Bedrock assumes for this account's knowledge bases only (confused-deputy conditions)."""
    return iam.Role(
        scope,
        construct_id,
        description="Bedrock Knowledge Base service role (Ladder)",
        assumed_by=iam.ServicePrincipal(
            "bedrock.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
                "ArnLike": {
                    "aws:SourceArn": (
                        f"arn:{cdk.Aws.PARTITION}:bedrock:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:knowledge-base/*"
                    )
                },
            },
        ),
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
    """Knowledge base + S3 data source. Deploy order: index -> knowledge base -> data source."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: LadderConfig,
        role: iam.Role,
        vectors: VectorCollection,
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
                iam.PolicyStatement(
                    sid="UseVectorCollection",
                    actions=["aoss:APIAccessAll"],
                    resources=[vectors.collection_arn],
                ),
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
        acknowledge(
            policy,
            resource_finding("AwsSolutions-IAM5", documents_bucket, f"/{prefix}*"),
            "Ingestion reads every document under the configured inclusion prefix; the object keys are the "
            "users' documents and cannot be enumerated at deploy time.",
        )

        self.knowledge_base = bedrock.CfnKnowledgeBase(
            self,
            "Resource",
            name=f"{config.stack_prefix.lower()}-knowledge-base",
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
            storage_configuration=bedrock.CfnKnowledgeBase.StorageConfigurationProperty(
                type="OPENSEARCH_SERVERLESS",
                opensearch_serverless_configuration=bedrock.CfnKnowledgeBase.OpenSearchServerlessConfigurationProperty(
                    collection_arn=vectors.collection_arn,
                    vector_index_name=INDEX_NAME,
                    field_mapping=bedrock.CfnKnowledgeBase.OpenSearchServerlessFieldMappingProperty(
                        vector_field=VECTOR_FIELD, text_field=TEXT_FIELD, metadata_field=METADATA_FIELD
                    ),
                ),
            ),
        )
        # The role must be able to embed and write before Bedrock validates the vector store.
        self.knowledge_base.add_resource_dependency(vectors.index)
        self.knowledge_base.node.add_dependency(policy)

        self.data_source = bedrock.CfnDataSource(
            self,
            "DocumentsDataSource",
            name=f"{config.stack_prefix.lower()}-documents",
            description=f"s3://<documents bucket>/{prefix}",
            knowledge_base_id=self.knowledge_base.attr_knowledge_base_id,
            data_deletion_policy="DELETE",
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

    @property
    def knowledge_base_id(self) -> str:
        return self.knowledge_base.attr_knowledge_base_id

    @property
    def knowledge_base_arn(self) -> str:
        return self.knowledge_base.attr_knowledge_base_arn

    @property
    def data_source_id(self) -> str:
        return self.data_source.attr_data_source_id
