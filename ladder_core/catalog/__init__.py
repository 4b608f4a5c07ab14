"""The catalog of AWS facts Ladder relies on, one table for each, dated once with its sources:

- :mod:`ladder_core.catalog.bedrock`: Bedrock models (output limits, prices, Converse support), embedding
  and rerank models and their prices, guardrail and Custom Model Import prices, and the inference-profile
  prefix rule;
- :mod:`ladder_core.catalog.training`: SageMaker GPU training instances (GPUs, memory, prices);
- :mod:`ladder_core.catalog.idle`: what a deployed stack costs per month while nobody uses it;
- :mod:`ladder_core.catalog.requests`: what one request costs outside Bedrock (API Gateway, Lambda, the
  vector query);
- :mod:`ladder_core.catalog.logs`: the retention periods CloudWatch Logs accepts;
- :mod:`ladder_core.catalog.powertools`: the SSM public parameter naming AWS's Powertools layer;
- :mod:`ladder_core.catalog.s3vectors`: where S3 Vectors is offered and its API limits.

The stacks validate the configuration against it, the CLI prices evaluation runs, plans and verdicts with
it, and a Lambda function may bundle it (standard library only).
"""
