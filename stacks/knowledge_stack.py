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
from stacks.knowledge.vector_store import VectorCollection
from stacks.rag.rerank import grant_rerank


class KnowledgeStack(cdk.Stack):
    """Documents bucket -> Bedrock Knowledge Base -> OpenSearch Serverless vector index, with ingestion."""

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
        self.vector_collection = VectorCollection(
            self, "VectorCollection", config=config, kb_role=self.kb_role
        )
        self.knowledge_base = KnowledgeBase(
            self,
            "KnowledgeBase",
            config=config,
            role=self.kb_role,
            vectors=self.vector_collection,
            documents_bucket=self.documents_bucket,
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
        cdk.CfnOutput(self, "CollectionEndpoint", value=self.vector_collection.collection_endpoint)
        cdk.CfnOutput(self, "IngestionQueueUrl", value=self.ingestion.queue.queue_url)
        cdk.CfnOutput(self, "IngestionDeadLetterQueueUrl", value=self.ingestion.dead_letter_queue.queue_url)
