"""OpenSearch Serverless VECTORSEARCH collection, its policies and the native vector index."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_opensearchserverless as aoss
from constructs import Construct

from stacks.config import LadderConfig

INDEX_NAME = "ladder-kb-index"
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
    """Collection + encryption/network/data-access policies + vector index, in a fixed deploy order."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: LadderConfig, kb_role: iam.IRole
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        name = config.collection_name
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
        removal = cdk.RemovalPolicy.RETAIN if config.is_prod else cdk.RemovalPolicy.DESTROY
        self.collection.apply_removal_policy(removal)

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
            index_name=INDEX_NAME,
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
