"""Names, limits and defaults of the ingestion functions, in one place, with units."""

# EventBridge envelope of an S3 notification (see the S3 user guide, "EventBridge event message structure").
S3_EVENT_SOURCE = "aws.s3"
DETAIL_TYPE_CREATED = "Object Created"
DETAIL_TYPE_DELETED = "Object Deleted"
CHANGE_DETAIL_TYPES = frozenset({DETAIL_TYPE_CREATED, DETAIL_TYPE_DELETED})
# detail.reason of an "Object Deleted" event sent by a lifecycle rule. The documents bucket's lifecycle only
# expires noncurrent versions and incomplete uploads: nothing the knowledge base reads changes.
REASON_LIFECYCLE_EXPIRATION = "Lifecycle Expiration"

# StartIngestionJob constraints from the bedrock-agent service model.
CLIENT_TOKEN_MIN_CHARS = 33
CLIENT_TOKEN_MAX_CHARS = 256
DESCRIPTION_MAX_CHARS = 200
RESOURCE_ID_PATTERN = r"[0-9a-zA-Z]{10}"

# Error codes that mean "not now": Bedrock runs one ingestion job per data source at a time.
CONFLICT_ERROR_CODE = "ConflictException"
BUSY_ERROR_CODES = frozenset({CONFLICT_ERROR_CODE, "ThrottlingException", "ServiceQuotaExceededException"})

# Both functions' timeout (the stack sets it from here).
FUNCTION_TIMEOUT_S = 60
# Client behaviour: a few fast retries inside one invocation; SQS redelivery is the long-term retry. The
# worst case, every attempt timing out plus the standard mode's backoff between attempts, must end well
# before FUNCTION_TIMEOUT_S, so the handler still returns its batch item failures instead of being killed.
BEDROCK_MAX_ATTEMPTS = 3
BEDROCK_CONNECT_TIMEOUT_S = 3
BEDROCK_READ_TIMEOUT_S = 10

# Ingestion job statuses (bedrock-agent IngestionJobStatus).
JOB_STATUS_COMPLETE = "COMPLETE"
JOB_FAILURE_STATUSES = frozenset({"FAILED", "STOPPED"})
JOB_FINISHED_STATUSES = JOB_FAILURE_STATUSES | {JOB_STATUS_COMPLETE}

# Monitor: how far back a run looks and how much of the job history it may read.
DEFAULT_LOOKBACK_MINUTES = 15
LIST_JOBS_PAGE_SIZE = 50
LIST_JOBS_MAX_PAGES = 10

DEFAULT_METRICS_NAMESPACE = "Ladder"

# CloudWatch metric names (the alarms in the stack are written against these).
METRIC_EVENTS_RECEIVED = "IngestionEventsReceived"
METRIC_JOBS_STARTED = "IngestionJobsStarted"
METRIC_DEFERRED = "IngestionDeferred"
METRIC_MALFORMED = "IngestionMalformedEvents"
METRIC_JOBS_FAILED = "IngestionJobsFailed"
METRIC_JOBS_COMPLETED = "IngestionJobsCompleted"
METRIC_DOCUMENTS_FAILED = "IngestionDocumentsFailed"
