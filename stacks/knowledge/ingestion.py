"""Uploads reach the knowledge base on their own: S3 -> EventBridge -> SQS -> Lambda -> StartIngestionJob.

Bursts are coalesced by the SQS batching window into few ingestion jobs. A job that cannot start now (one
is already running, or Bedrock throttles) leaves its messages on the queue to be retried; after
``MAX_RECEIVES`` they are parked in a dead-letter queue with an alarm. Nothing is dropped.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambdas.ingest import constants as ingest_constants
from stacks.config import LadderConfig
from stacks.constructs.alarm_topic import AlarmTopic
from stacks.constructs.python_function import METRICS_NAMESPACE, PythonFunction

SERVICE = "ladder-ingest"
BATCH_SIZE = 500
BATCHING_WINDOW_SECONDS = 120
MAX_CONCURRENCY = 2  # the minimum SQS allows; one ingestion job runs per data source anyway
FUNCTION_TIMEOUT_SECONDS = ingest_constants.FUNCTION_TIMEOUT_S
# SQS visibility must cover the batching window plus the function timeout; 10 minutes also spaces retries
# while a long ingestion job runs.
VISIBILITY_TIMEOUT_SECONDS = 600
MAX_RECEIVES = 24  # about four hours of retries before a message is parked
RETENTION_DAYS = 14
MONITOR_RATE_MINUTES = 15


class IngestionPipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: LadderConfig,
        documents_bucket: s3.IBucket,
        knowledge_base_id: str,
        knowledge_base_arn: str,
        data_source_id: str,
        alarms: AlarmTopic,
    ) -> None:
        super().__init__(scope, construct_id)
        retention = cdk.Duration.days(RETENTION_DAYS)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=retention,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=retention,
            visibility_timeout=cdk.Duration.seconds(VISIBILITY_TIMEOUT_SECONDS),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=MAX_RECEIVES
            ),
        )
        self.rule = events.Rule(
            self,
            "DocumentChanges",
            description=f"Documents created or deleted under {config.documents_prefix} (not by lifecycle)",
            event_pattern=events.EventPattern(
                source=[ingest_constants.S3_EVENT_SOURCE],
                detail_type=sorted(ingest_constants.CHANGE_DETAIL_TYPES),
                detail={
                    "bucket": {"name": [documents_bucket.bucket_name]},
                    "object": {"key": [{"prefix": config.documents_prefix}]},
                    # Every S3 event carries detail.reason; lifecycle expirations change nothing ingested.
                    "reason": [{"anything-but": [ingest_constants.REASON_LIFECYCLE_EXPIRATION]}],
                },
            ),
            targets=[targets.SqsQueue(self.queue)],
        )

        environment = {
            "KNOWLEDGE_BASE_ID": knowledge_base_id,
            "DATA_SOURCE_ID": data_source_id,
            "DOCUMENTS_PREFIX": config.documents_prefix,
        }
        self.starter = PythonFunction(
            self,
            "StartIngestion",
            config=config,
            name="ingest",
            service=SERVICE,
            description="Starts one knowledge-base ingestion job per burst of document changes",
            environment=environment,
            timeout=cdk.Duration.seconds(FUNCTION_TIMEOUT_SECONDS),
        )
        self.starter.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["bedrock:StartIngestionJob"], resources=[knowledge_base_arn])
        )
        self.starter.function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=BATCH_SIZE,
                max_batching_window=cdk.Duration.seconds(BATCHING_WINDOW_SECONDS),
                report_batch_item_failures=True,
                max_concurrency=MAX_CONCURRENCY,
            )
        )

        self.monitor = PythonFunction(
            self,
            "MonitorIngestion",
            config=config,
            name="ingest",
            module="monitor",
            service=SERVICE,
            description="Reports finished ingestion jobs: failures and failed documents become metrics",
            environment={**environment, "LOOKBACK_MINUTES": str(MONITOR_RATE_MINUTES)},
            timeout=cdk.Duration.seconds(FUNCTION_TIMEOUT_SECONDS),
        )
        self.monitor.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["bedrock:ListIngestionJobs", "bedrock:GetIngestionJob"],
                resources=[knowledge_base_arn],
            )
        )
        events.Rule(
            self,
            "MonitorSchedule",
            description="Checks recent ingestion jobs",
            schedule=events.Schedule.rate(cdk.Duration.minutes(MONITOR_RATE_MINUTES)),
            targets=[targets.LambdaFunction(self.monitor.function)],
        )

        period = cdk.Duration.minutes(5)
        dlq_depth = self.dead_letter_queue.metric_approximate_number_of_messages_visible(
            period=period, statistic="Maximum"
        )
        self.alarms = [
            alarms.alarm(self, "DeadLetterAlarm", dlq_depth, "Document changes could not be ingested (DLQ)"),
            alarms.alarm(
                self,
                "JobsFailedAlarm",
                _service_metric(ingest_constants.METRIC_JOBS_FAILED),
                "An ingestion job failed",
            ),
            alarms.alarm(
                self,
                "DocumentsFailedAlarm",
                _service_metric(ingest_constants.METRIC_DOCUMENTS_FAILED),
                "Documents failed to ingest",
            ),
            alarms.alarm(
                self,
                "MalformedEventsAlarm",
                _service_metric(ingest_constants.METRIC_MALFORMED),
                "Queue messages that are not S3 events",
            ),
            *(
                alarms.alarm(
                    function, "ErrorsAlarm", function.function.metric_errors(period=period), "Function errors"
                )
                for function in (self.starter, self.monitor)
            ),
        ]


def _service_metric(metric_name: str) -> cloudwatch.Metric:
    """A metric the ingestion functions emit with Powertools (namespace Ladder, dimension service)."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=metric_name,
        dimensions_map={"service": SERVICE},
        statistic="Sum",
        period=cdk.Duration.minutes(MONITOR_RATE_MINUTES),
    )
