"""What a deployed Ladder costs per month while nobody uses it: the fixed prices of the resource types it
creates, dated, for one region. ``ladder review``'s cost section multiplies these by what the templates
declare.

Prices are AWS list prices in USD for us-east-1 (N. Virginia), checked on ``PRICES_AS_OF``; other regions
differ by a few percent. Free tiers are ignored on purpose: a reviewer signs for the account that already
uses them. Pay-per-request services (Lambda, API Gateway, SQS, SNS, Step Functions, S3 requests, Bedrock)
have no idle price and appear only in the per-query cost.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_AS_OF = "2026-12-01"
PRICE_REGION = "us-east-1"
HOURS_PER_MONTH = 730
"""AWS's own convention for turning hourly prices into monthly ones."""


@dataclass(frozen=True)
class Price:
    """One fixed price: ``usd`` per ``unit``; ``source`` says where the number is published."""

    usd: float
    unit: str
    source: str


OCU_HOUR = Price(0.24, "OCU-hour", "aws.amazon.com/opensearch-service/pricing (Serverless)")
OCU_MIN_WITHOUT_STANDBY = 1.0
"""0.5 indexing OCU + 0.5 search OCU: the account floor when standby replicas are disabled."""
OCU_MIN_WITH_STANDBY = 2.0
"""1 indexing OCU + 1 search OCU (0.5 x 2 each): the floor with standby replicas (redundancy) on."""

KMS_KEY_MONTH = Price(1.00, "customer managed key-month", "aws.amazon.com/kms/pricing")
ALARM_METRIC_MONTH = Price(
    0.10, "standard-resolution alarm metric-month", "aws.amazon.com/cloudwatch/pricing"
)
DASHBOARD_MONTH = Price(3.00, "dashboard-month", "aws.amazon.com/cloudwatch/pricing")
WAF_WEB_ACL_MONTH = Price(5.00, "web ACL-month", "aws.amazon.com/waf/pricing")
WAF_RULE_MONTH = Price(1.00, "rule or managed rule group-month", "aws.amazon.com/waf/pricing")
SECRET_MONTH = Price(0.40, "secret-month", "aws.amazon.com/secrets-manager/pricing")

# Prices that scale with stored data, not with the stack's shape: shown next to the floor, never in it.
STORAGE_PRICES: dict[str, Price] = {
    "S3 Standard storage": Price(0.023, "GB-month", "aws.amazon.com/s3/pricing"),
    "S3 Vectors storage": Price(
        0.06, "GB-month (logical vector data)", "aws.amazon.com/s3/pricing (Vectors)"
    ),
    "OpenSearch Serverless managed storage": Price(
        0.024, "GB-month", "aws.amazon.com/opensearch-service/pricing (Serverless)"
    ),
    "CloudWatch Logs ingestion": Price(0.50, "GB ingested", "aws.amazon.com/cloudwatch/pricing"),
}

# Resource types whose idle price is zero on purpose (recorded so the report can say so, not forget them).
NO_IDLE_PRICE = {
    "AWS::S3Vectors::VectorBucket": "S3 Vectors bills stored vectors and queries only; no idle floor",
    "AWS::S3Vectors::Index": "S3 Vectors bills stored vectors and queries only; no idle floor",
    "AWS::S3Vectors::VectorBucketPolicy": "a policy has no price",
}
