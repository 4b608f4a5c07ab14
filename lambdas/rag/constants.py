"""Names, limits and defaults of the RAG function, with their units in the name."""

from __future__ import annotations

# The modes and the no-context answer are the API's contract with its callers: the CLI and the scoring rules
# read the same module, which the function's asset bundles (stacks/rag_api_stack.py RAG_SHARED_FILES).
from ladder_core.api import DEFAULT_MODE as DEFAULT_MODE
from ladder_core.api import FEWSHOT as FEWSHOT
from ladder_core.api import FINETUNED as FINETUNED
from ladder_core.api import INCLUDE_PASSAGES as INCLUDE_PASSAGES
from ladder_core.api import MODEL_MODES as MODEL_MODES
from ladder_core.api import MODES as MODES
from ladder_core.api import NO_CONTEXT_ANSWER as NO_CONTEXT_ANSWER

ROUTE_ASK = "/ask"
ALLOWED_METHODS = ("POST",)

DEFAULT_MAX_QUESTION_CHARS = 2_000
DEFAULT_MAX_BODY_BYTES = 16_384
DEFAULT_MAX_TOKENS = 1_024
DEFAULT_TEMPERATURE = 0.2
DEFAULT_MIN_RELEVANCE_SCORE = 0.4
# API Gateway REST gives up after 29 s; leave room to shape and send the response.
DEFAULT_DEADLINE_MS = 25_000
MAX_DEADLINE_MS = 28_000
DEFAULT_BEDROCK_MAX_ATTEMPTS = 3
MAX_BEDROCK_MAX_ATTEMPTS = 10

DEFAULT_TOP_K = 5
MIN_TOP_K = 1
MAX_TOP_K = 20

SEARCH_TYPES = ("HYBRID", "SEMANTIC")
FINETUNED_MODEL_APIS = ("converse", "invoke_model")
DEFAULT_FINETUNED_MODEL_API = "converse"

CONNECT_TIMEOUT_S = 2
RETRIEVE_READ_TIMEOUT_S = 10
GENERATE_READ_TIMEOUT_S = 20
SSM_READ_TIMEOUT_S = 3
SSM_MAX_ATTEMPTS = 2

FINETUNED_PARAMETER_TTL_S = 300

# Few-shot: how many uploaded examples a prompt shows (config fewShotK, validated 1..16 at synth), and how
# long a container trusts the examples manifest it read (an upload shows within this time).
DEFAULT_FEW_SHOT_K = 4
MIN_FEW_SHOT_K = 1
MAX_FEW_SHOT_K = 16
EXAMPLES_MANIFEST_TTL_S = 60
EXAMPLES_READ_TIMEOUT_S = 5
EMBEDDING_DIMENSIONS_MAX = 4_096

# Time each stage needs at least; below it the request ends with 504 rather than starting work
# whose answer would arrive after API Gateway has already given up.
LAMBDA_SAFETY_MARGIN_MS = 500
RETRIEVE_MIN_REMAINING_MS = 1_000
EXAMPLES_MIN_REMAINING_MS = 1_000
GENERATE_MIN_REMAINING_MS = 2_000
GUARDRAIL_MIN_REMAINING_MS = 500
# Threads that run Bedrock calls bounded by the deadline: one per call of a request, plus room for calls
# still finishing after an earlier request stopped waiting for them.
BOUNDED_CALL_WORKERS = 8

RETRY_AFTER_THROTTLED_S = 5
RETRY_AFTER_UNAVAILABLE_S = 10
RETRY_AFTER_MODEL_NOT_READY_S = 30
RETRY_AFTER_DEADLINE_S = 5

EXCERPT_MAX_CHARS = 500
# What a request may ask to add to the answer ("include": [...]): the full passages travel on request only,
# so that ordinary answers stay small.
INCLUDE_OPTIONS = (INCLUDE_PASSAGES,)
# Bedrock's guardrail usage (GuardrailUsage in Converse's trace and in ApplyGuardrail's response): the text
# units each policy processed, the figures guardrail pricing is billed on. Returned under these names.
GUARDRAIL_USAGE_FIELDS = (
    "topicPolicyUnits",
    "contentPolicyUnits",
    "wordPolicyUnits",
    "sensitiveInformationPolicyUnits",
    "sensitiveInformationPolicyFreeUnits",
    "contextualGroundingPolicyUnits",
)
# Retrieve reports no embedding usage, so the query's embedding tokens are estimated from its characters.
EMBEDDING_TOKENS_MEASURED = "measured"
EMBEDDING_TOKENS_ESTIMATED = "estimated"
# With reranking, Retrieve returns this many times topK candidates (Bedrock allows at most 100).
RERANK_CANDIDATE_FACTOR = 3
RERANK_CANDIDATES_MAX = 100
# Bedrock's contextual grounding check accepts at most this much grounding source, query and response
# ("Use contextual grounding check to filter hallucinations in responses", Bedrock user guide).
GROUNDING_SOURCE_MAX_CHARS = 100_000
GROUNDING_QUERY_MAX_CHARS = 1_000
GROUNDING_RESPONSE_MAX_CHARS = 5_000
# A token of English text averages about four characters (an estimate, not a bound).
ESTIMATED_CHARS_PER_TOKEN = 4
# maxTokens is counted in tokens, the check's limit in characters: an answer of at most this many tokens
# fits the check.
GROUNDING_CHARS_PER_TOKEN = ESTIMATED_CHARS_PER_TOKEN
GROUNDING_MAX_TOKENS = GROUNDING_RESPONSE_MAX_CHARS // GROUNDING_CHARS_PER_TOKEN
PROMPT_VERSION_HEX_CHARS = 12

FILTER_LEAF_OPERATORS = (
    "equals",
    "notEquals",
    "greaterThan",
    "greaterThanOrEquals",
    "lessThan",
    "lessThanOrEquals",
    "in",
    "notIn",
    "startsWith",
    "stringContains",
    "listContains",
)
FILTER_GROUP_OPERATORS = ("andAll", "orAll")
VECTOR_STORES = ("opensearch", "s3vectors")
DEFAULT_VECTOR_STORE = "opensearch"
VECTOR_STORE_NAMES = {"opensearch": "OpenSearch Serverless", "s3vectors": "S3 Vectors"}
# Bedrock's RetrievalFilter documents startsWith as "currently only supported for Amazon OpenSearch
# Serverless vector stores"; S3 Vectors filters know $eq $ne $gt $gte $lt $lte $in $nin $exists $and $or,
# none of which matches a substring (stringContains). listContains has no documented S3 Vectors form either,
# so a request that needs one is refused rather than failing inside Bedrock.
S3_VECTORS_UNSUPPORTED_OPERATORS = ("startsWith", "stringContains", "listContains")
FILTER_LEAF_OPERATORS_BY_STORE = {
    "opensearch": FILTER_LEAF_OPERATORS,
    "s3vectors": tuple(op for op in FILTER_LEAF_OPERATORS if op not in S3_VECTORS_UNSUPPORTED_OPERATORS),
}
FILTER_KEY_MAX_CHARS = 100
FILTER_GROUP_MIN_ITEMS = 2
FILTER_GROUP_MAX_ITEMS = 5
FILTER_MAX_DEPTH = 3
FILTER_LIST_MAX_VALUES = 20
FILTER_STRING_MAX_CHARS = 1_000

METRIC_RETRIEVED_PASSAGES = "RetrievedPassages"
METRIC_NO_CONTEXT_ANSWERS = "NoContextAnswers"
METRIC_GUARDRAIL_INTERVENTIONS = "GuardrailInterventions"
METRIC_INPUT_TOKENS = "InputTokens"
METRIC_OUTPUT_TOKENS = "OutputTokens"
METRIC_RETRIEVE_LATENCY = "RetrieveLatency"
METRIC_GENERATE_LATENCY = "GenerateLatency"
METRIC_TOTAL_LATENCY = "TotalLatency"
