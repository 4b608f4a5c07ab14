"""Powertools logger, metrics and tracer shared by the function's modules.

Namespace and service come from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME; the metrics
carry only the default ``service`` dimension, which the stack's alarms and dashboard select on.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()
tracer = Tracer()
