"""Knowledge stack: the user's documents become searchable knowledge."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.config import LadderConfig
from stacks.constructs.alarm_topic import AlarmTopic
from stacks.constructs.buckets import access_logs_bucket, data_bucket
from stacks.knowledge.ingestion import IngestionPipeline
from stacks.knowledge.knowledge_base import KnowledgeBase, knowledge_base_service_role
from stacks.knowledge.vector_store import S3VectorIndex, VectorCollection, VectorStore, examples_store
from stacks.rag.rerank import grant_rerank


class KnowledgeStack(cdk.Stack):
    """Documents bucket -> Bedrock Knowledge Base -> vector index (OpenSearch Serverless or S3 Vectors).

    Teardown: the documents bucket (the source of truth) is retained in prod; the vector side (OpenSearch
    collection or S3 vector bucket and index) is derived data, destroyed with the stack in every profile and
    rebuilt from the documents by the full sync that every new data source gets.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: LadderConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.alarm_topic = AlarmTopic(self, "Alarms", config=config, purpose="knowledge alarms")
        self.access_logs_bucket = access_logs_bucket(self, "AccessLogsBucket", config=config)
        self.documents_bucket = data_bucket(
            self,
            "DocumentsBucket",
            config=config,
            logs_bucket=self.access_logs_bucket,
            log_prefix="documents/",
            event_bridge=True,
        )
        self.kb_role = knowledge_base_service_role(self, "KnowledgeBaseRole")
        grant_rerank(self.kb_role, config)  # Retrieve with a reranker also runs under the KB's role
        self.vector_store: VectorStore = (
            VectorCollection(self, "VectorCollection", config=config, kb_role=self.kb_role)
            if config.vector_store == "opensearch"
            else S3VectorIndex(self, "S3Vectors", config=config)
        )
        self.knowledge_base = KnowledgeBase(
            self,
            "KnowledgeBase",
            config=config,
            role=self.kb_role,
            vectors=self.vector_store,
            documents_bucket=self.documents_bucket,
        )
        # The few-shot rung's examples live in their own S3 vector index whatever the documents use: it has
        # no idle cost, and its vectors are written by `ladder examples upload`, never by ingestion.
        self.examples_store = (
            examples_store(self, "ExamplesVectors", config=config) if config.few_shot else None
        )
        self.ingestion = IngestionPipeline(
            self,
            "Ingestion",
            config=config,
            documents_bucket=self.documents_bucket,
            knowledge_base_id=self.knowledge_base.knowledge_base_id,
            knowledge_base_arn=self.knowledge_base.knowledge_base_arn,
            data_source_id=self.knowledge_base.data_source_id,
            alarms=self.alarm_topic,
        )

        cdk.CfnOutput(self, "DocumentsBucketName", value=self.documents_bucket.bucket_name)
        cdk.CfnOutput(self, "DocumentsPrefix", value=config.documents_prefix)
        cdk.CfnOutput(self, "KnowledgeBaseId", value=self.knowledge_base.knowledge_base_id)
        cdk.CfnOutput(self, "DataSourceId", value=self.knowledge_base.data_source_id)
        if isinstance(self.vector_store, VectorCollection):
            cdk.CfnOutput(self, "CollectionEndpoint", value=self.vector_store.collection_endpoint)
        else:
            cdk.CfnOutput(self, "VectorIndexArn", value=self.vector_store.index_arn)
        if self.examples_store is not None:
            examples = {
                "ExamplesIndexArn": (
                    self.examples_store.index_arn,
                    "S3 vector index of the few-shot examples",
                ),
                "ExamplesIndexName": (self.examples_store.index_name, "name of that index"),
                # The vector bucket has no name attribute; its ARN is ...:bucket/<name>/index/<index>.
                "ExamplesVectorBucketName": (
                    cdk.Fn.select(1, cdk.Fn.split("/", self.examples_store.index_arn)),
                    "vector bucket of that index",
                ),
                "EmbeddingModelId": (config.embedding_model_id, "model that embeds questions and examples"),
                "EmbeddingDimensions": (str(config.embedding_dimensions), "dimension of those vectors"),
            }
            for key, (value, description) in examples.items():
                cdk.CfnOutput(self, key, value=value, description=description)
        cdk.CfnOutput(self, "IngestionQueueUrl", value=self.ingestion.queue.queue_url)
        cdk.CfnOutput(self, "IngestionDeadLetterQueueUrl", value=self.ingestion.dead_letter_queue.queue_url)
