"""The knowledge base's vector store: an OpenSearch Serverless collection or an S3 vector index.

Both expose the same three things to the knowledge base: the resource it must be created after
(``index``), its ``storage_configuration()`` and the IAM statements its service role needs
(``role_statements()``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_opensearchserverless as aoss
from aws_cdk import aws_s3vectors as s3vectors
from constructs import Construct

from ladder_core.examples import NON_FILTERABLE_METADATA_KEYS
from stacks.config import LadderConfig
from stacks.knowledge.naming import examples_index_name, index_name
from stacks.nag import acknowledge

VECTOR_FIELD = "bedrock-knowledge-base-default-vector"
TEXT_FIELD = "AMAZON_BEDROCK_TEXT_CHUNK"
METADATA_FIELD = "AMAZON_BEDROCK_METADATA"
# HNSW on FAISS (Bedrock Knowledge Bases reject nmslib); parameters as Bedrock's own quick-create uses.
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 512
HNSW_EF_SEARCH = 512

# What each principal may do in the data plane, and no more.
KB_INDEX_PERMISSIONS = ["aoss:DescribeIndex", "aoss:ReadDocument", "aoss:WriteDocument", "aoss:UpdateIndex"]
KB_COLLECTION_PERMISSIONS = ["aoss:DescribeCollectionItems"]
DEPLOY_INDEX_PERMISSIONS = ["aoss:CreateIndex", "aoss:DescribeIndex", "aoss:UpdateIndex", "aoss:DeleteIndex"]
DEPLOY_COLLECTION_PERMISSIONS = ["aoss:DescribeCollectionItems", "aoss:CreateCollectionItems"]

# S3 Vectors: what Bedrock does with the index during ingestion (put, replace, delete) and retrieval (query).
S3_VECTORS_DATA_TYPE = "float32"
S3_VECTORS_DISTANCE_METRIC = "cosine"
KB_S3_VECTORS_ACTIONS = [
    "s3vectors:GetIndex",
    "s3vectors:PutVectors",
    "s3vectors:GetVectors",
    "s3vectors:DeleteVectors",
    "s3vectors:QueryVectors",
]
# Bedrock writes the chunk text and its source metadata as these keys; S3 Vectors limits filterable metadata
# per vector (2 KB), so Bedrock's own keys must be non-filterable. The user's metadata stays filterable.
BEDROCK_NON_FILTERABLE_KEYS = ["AMAZON_BEDROCK_TEXT", "AMAZON_BEDROCK_METADATA"]
KB_KMS_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]


def deploy_principal_arn(stack: cdk.Stack, config: LadderConfig) -> str:
    """The principal CloudFormation uses to create the index: the bootstrap execution role by default."""
    if config.deploy_role_arn:
        return config.deploy_role_arn
    synthesizer = stack.synthesizer
    if isinstance(synthesizer, cdk.DefaultStackSynthesizer):
        # The synthesizer's ARN carries ${AWS::AccountId}-style placeholders.
        return cdk.Fn.sub(synthesizer.cloud_formation_execution_role_arn)
    raise ValueError(
        "deployRoleArn: this stack synthesizer has no CloudFormation execution role; "
        "pass -c deployRoleArn=<ARN of the principal that deploys the stack>"
    )


class VectorCollection(Construct):
    """Collection + encryption/network/data-access policies + vector index, in a fixed deploy order.

    The vector side is derived data: it is destroyed with the stack in every profile (the documents bucket,
    the source of truth, is what prod retains) and rebuilt by a full ingestion on the next deploy.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: LadderConfig, kb_role: iam.IRole
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        name = config.collection_name
        self.collection_name = name
        self.index_name = index_name(config)
        collection_resource = [f"collection/{name}"]

        self.encryption_policy = aoss.CfnSecurityPolicy(
            self,
            "EncryptionPolicy",
            name=f"{name}-enc",
            type="encryption",
            description="AWS-owned key encryption for the Ladder vector collection",
            policy=json.dumps(
                {
                    "Rules": [{"ResourceType": "collection", "Resource": collection_resource}],
                    "AWSOwnedKey": True,
                }
            ),
        )
        # The data plane stays IAM (SigV4) + data-access-policy gated; public network access is needed so
        # CloudFormation can create the index and Bedrock can reach the collection without a VPC endpoint.
        self.network_policy = aoss.CfnSecurityPolicy(
            self,
            "NetworkPolicy",
            name=f"{name}-net",
            type="network",
            description="Collection endpoint reachable with SigV4; no dashboards",
            policy=json.dumps(
                [
                    {
                        "Rules": [{"ResourceType": "collection", "Resource": collection_resource}],
                        "AllowFromPublic": True,
                    }
                ]
            ),
        )
        self.collection = aoss.CfnCollection(
            self,
            "Collection",
            name=name,
            type="VECTORSEARCH",
            description="Ladder knowledge base vectors",
            standby_replicas="ENABLED" if config.standby_replicas else "DISABLED",
        )
        self.collection.add_resource_dependency(self.encryption_policy)
        self.collection.add_resource_dependency(self.network_policy)
        # Tags are create-only on a collection: a stack-wide tag change would replace it (and its vectors).
        self.collection.add_property_deletion_override("Tags")
        self.collection.apply_removal_policy(cdk.RemovalPolicy.DESTROY)

        def grant(description: str, principal: str, on_collection: list[str], on_index: list[str]) -> dict:
            return {
                "Description": description,
                "Rules": [
                    {
                        "ResourceType": "collection",
                        "Resource": [f"collection/{name}"],
                        "Permission": on_collection,
                    },
                    {"ResourceType": "index", "Resource": [f"index/{name}/*"], "Permission": on_index},
                ],
                "Principal": [principal],
            }

        self.access_policy = aoss.CfnAccessPolicy(
            self,
            "DataAccessPolicy",
            name=f"{name}-data",
            type="data",
            description="Knowledge base role reads/writes vectors; the deploy role creates the index",
            policy=stack.to_json_string(
                [
                    grant(
                        "Bedrock Knowledge Base service role",
                        kb_role.role_arn,
                        KB_COLLECTION_PERMISSIONS,
                        KB_INDEX_PERMISSIONS,
                    ),
                    grant(
                        "Principal that creates the vector index at deploy time",
                        deploy_principal_arn(stack, config),
                        DEPLOY_COLLECTION_PERMISSIONS,
                        DEPLOY_INDEX_PERMISSIONS,
                    ),
                ]
            ),
        )

        vector_field = aoss.CfnIndex.PropertyMappingProperty(
            type="knn_vector",
            dimension=config.embedding_dimensions,
            method=aoss.CfnIndex.MethodProperty(
                name="hnsw",
                engine="faiss",
                space_type="l2",
                parameters=aoss.CfnIndex.ParametersProperty(m=HNSW_M, ef_construction=HNSW_EF_CONSTRUCTION),
            ),
        )
        self.index = aoss.CfnIndex(
            self,
            "VectorIndex",
            collection_endpoint=self.collection.attr_collection_endpoint,
            index_name=self.index_name,
            settings=aoss.CfnIndex.IndexSettingsProperty(
                index=aoss.CfnIndex.IndexProperty(knn=True, knn_algo_param_ef_search=HNSW_EF_SEARCH)
            ),
            mappings=aoss.CfnIndex.MappingsProperty(
                properties={
                    VECTOR_FIELD: vector_field,
                    TEXT_FIELD: aoss.CfnIndex.PropertyMappingProperty(type="text", index=True),
                    METADATA_FIELD: aoss.CfnIndex.PropertyMappingProperty(type="text", index=False),
                }
            ),
        )
        self.index.add_resource_dependency(self.access_policy)

    @property
    def collection_arn(self) -> str:
        return self.collection.attr_arn

    @property
    def collection_endpoint(self) -> str:
        return self.collection.attr_collection_endpoint

    def storage_configuration(self) -> bedrock.CfnKnowledgeBase.StorageConfigurationProperty:
        return bedrock.CfnKnowledgeBase.StorageConfigurationProperty(
            type="OPENSEARCH_SERVERLESS",
            opensearch_serverless_configuration=bedrock.CfnKnowledgeBase.OpenSearchServerlessConfigurationProperty(
                collection_arn=self.collection_arn,
                vector_index_name=self.index_name,
                field_mapping=bedrock.CfnKnowledgeBase.OpenSearchServerlessFieldMappingProperty(
                    vector_field=VECTOR_FIELD, text_field=TEXT_FIELD, metadata_field=METADATA_FIELD
                ),
            ),
        )

    def role_statements(self) -> list[iam.PolicyStatement]:
        """Data-plane access for the knowledge base role, scoped by collection *name*.

        The collection's ARN carries its generated id, so naming it would make the role's policy wait for
        the collection; the name is known at synth time, so the policy is created at the start of the
        deploy, in parallel with the collection, and has propagated long before Bedrock uses it.
        """
        stack = cdk.Stack.of(self)
        return [
            iam.PolicyStatement(
                sid="UseVectorCollection",
                actions=["aoss:APIAccessAll"],
                resources=[
                    stack.format_arn(service="aoss", resource="collection", resource_name="*"),
                ],
                conditions={"StringEquals": {"aoss:collection": self.collection_name}},
            )
        ]

    def acknowledge_role_findings(self, policy: iam.Policy) -> None:
        stack = cdk.Stack.of(self)

        def part(value: str, pseudo: str) -> str:
            return f"<AWS::{pseudo}>" if cdk.Token.is_unresolved(value) else value

        arn = (
            f"arn:{part(stack.partition, 'Partition')}:aoss:{part(stack.region, 'Region')}:"
            f"{part(stack.account, 'AccountId')}:collection/*"
        )
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{arn}]",
            "A collection ARN carries an id generated at creation; the statement is narrowed to this one "
            "collection by the aoss:collection name condition, so it does not wait for the collection.",
        )


class S3VectorIndex(Construct):
    """An S3 vector bucket with one vector index (cosine, float32); no idle cost, semantic search only.

    Both are derived data, destroyed with the stack in every profile, as the OpenSearch side is: the
    documents bucket (retained in prod) is the source of truth, and the next deploy's full sync rebuilds the
    vectors. A retained pair would bill for storage forever, and could never be re-attached usefully: a
    CloudFormation create does not adopt an existing resource, and an index kept with the destroyed
    knowledge base's vectors (its data source RETAINs them) would serve chunks of documents since deleted.
    Their names are generated by CloudFormation, so a replacement never collides with the old pair.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: LadderConfig,
        name: str | None = None,
        non_filterable_keys: Sequence[str] = BEDROCK_NON_FILTERABLE_KEYS,
    ) -> None:
        """``name`` and ``non_filterable_keys`` default to the knowledge base's index; the examples store
        passes its own (``examples_store``)."""
        super().__init__(scope, construct_id)
        self.index_name = name or index_name(config)
        self.kms_key_arn = config.vector_kms_key_arn
        encryption = (
            s3vectors.CfnVectorBucket.EncryptionConfigurationProperty(
                sse_type="aws:kms", kms_key_arn=self.kms_key_arn
            )
            if self.kms_key_arn
            else s3vectors.CfnVectorBucket.EncryptionConfigurationProperty(sse_type="AES256")
        )
        self.vector_bucket = s3vectors.CfnVectorBucket(
            self, "VectorBucket", encryption_configuration=encryption
        )
        self.index = s3vectors.CfnIndex(
            self,
            "VectorIndex",
            vector_bucket_arn=self.vector_bucket.attr_vector_bucket_arn,
            index_name=self.index_name,
            data_type=S3_VECTORS_DATA_TYPE,
            dimension=config.embedding_dimensions,
            distance_metric=S3_VECTORS_DISTANCE_METRIC,
            metadata_configuration=s3vectors.CfnIndex.MetadataConfigurationProperty(
                non_filterable_metadata_keys=list(non_filterable_keys)
            ),
        )
        for resource in (self.vector_bucket, self.index):
            resource.apply_removal_policy(cdk.RemovalPolicy.DESTROY)

    @property
    def vector_bucket_arn(self) -> str:
        return self.vector_bucket.attr_vector_bucket_arn

    @property
    def index_arn(self) -> str:
        return self.index.attr_index_arn

    def storage_configuration(self) -> bedrock.CfnKnowledgeBase.StorageConfigurationProperty:
        return bedrock.CfnKnowledgeBase.StorageConfigurationProperty(
            type="S3_VECTORS",
            s3_vectors_configuration=bedrock.CfnKnowledgeBase.S3VectorsConfigurationProperty(
                index_arn=self.index_arn
            ),
        )

    def role_statements(self) -> list[iam.PolicyStatement]:
        statements = [
            iam.PolicyStatement(
                sid="UseVectorIndex", actions=KB_S3_VECTORS_ACTIONS, resources=[self.index_arn]
            )
        ]
        if self.kms_key_arn:
            statements.append(
                iam.PolicyStatement(sid="UseVectorKey", actions=KB_KMS_ACTIONS, resources=[self.kms_key_arn])
            )
        return statements

    def acknowledge_role_findings(self, policy: iam.Policy) -> None:
        """Nothing to acknowledge: every statement names its exact resource."""


VectorStore = VectorCollection | S3VectorIndex


def examples_store(scope: Construct, construct_id: str, *, config: LadderConfig) -> S3VectorIndex:
    """The few-shot examples' vector bucket and index, whatever store the documents use: cosine, the
    embedding's dimension, encrypted as the document store's S3 vector bucket is, and the example text
    (``ladder_core.examples``) non-filterable so a query returns it. Like the documents' vectors, derived
    data: destroyed with the stack, rebuilt by ``ladder examples upload`` from the user's file."""
    return S3VectorIndex(
        scope,
        construct_id,
        config=config,
        name=examples_index_name(config),
        non_filterable_keys=NON_FILTERABLE_METADATA_KEYS,
    )
