"""Alarms and a dashboard for the RAG API."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from lambdas.rag import constants as rag
from stacks.constructs.alarm_topic import AlarmTopic
from stacks.constructs.python_function import METRICS_NAMESPACE

SERVICE = "ladder-rag"
PERIOD = cdk.Duration.minutes(5)
P99_LATENCY_ALARM_MS = 20_000
CLIENT_ERROR_RATE_ALARM = 0.25  # a quarter of requests rejected in 5 minutes is a spike worth a look
CLIENT_ERROR_MIN_REQUESTS = 20
GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD


def service_metric(name: str, statistic: str = "Sum") -> cloudwatch.Metric:
    """A metric the RAG function emits with Powertools (namespace Ladder, dimension service)."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE},
        statistic=statistic,
        period=PERIOD,
    )


class RagObservability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: apigw.RestApi,
        function: lambda_.Function,
        alarms: AlarmTopic,
        dashboard_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        requests = api.metric_count(period=PERIOD, statistic="Sum")
        client_errors = api.metric_client_error(period=PERIOD, statistic="Sum")
        client_error_rate = cloudwatch.MathExpression(
            expression=f"IF(requests >= {CLIENT_ERROR_MIN_REQUESTS}, errors / requests, 0)",
            using_metrics={"errors": client_errors, "requests": requests},
            label="4XX rate",
            period=PERIOD,
        )
        self.alarms = {
            "ServerErrors": alarms.alarm(
                self,
                "ServerErrorsAlarm",
                api.metric_server_error(period=PERIOD, statistic="Sum"),
                "The API returned 5XX responses",
            ),
            "ClientErrorSpike": alarms.alarm(
                self,
                "ClientErrorSpikeAlarm",
                client_error_rate,
                f"More than {CLIENT_ERROR_RATE_ALARM:.0%} of requests were rejected (4XX)",
                threshold=CLIENT_ERROR_RATE_ALARM,
                evaluation_periods=2,
                comparison=GT,
            ),
            "Throttles": alarms.alarm(
                self,
                "ThrottlesAlarm",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                "The RAG function was throttled",
            ),
            "LatencyP99": alarms.alarm(
                self,
                "LatencyP99Alarm",
                api.metric_latency(period=PERIOD, statistic="p99"),
                f"p99 latency above {P99_LATENCY_ALARM_MS} ms",
                threshold=P99_LATENCY_ALARM_MS,
                evaluation_periods=3,
                comparison=GT,
            ),
            "FunctionErrors": alarms.alarm(
                self,
                "FunctionErrorsAlarm",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                "The RAG function raised errors",
            ),
        }

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=dashboard_name)
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Requests and errors",
                left=[requests, client_errors, api.metric_server_error(period=PERIOD, statistic="Sum")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="API latency (ms)",
                left=[api.metric_latency(period=PERIOD, statistic=s) for s in ("p50", "p90", "p99")],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Stage latency (ms, p90)",
                left=[
                    service_metric(n, "p90")
                    for n in (
                        rag.METRIC_RETRIEVE_LATENCY,
                        rag.METRIC_GENERATE_LATENCY,
                        rag.METRIC_TOTAL_LATENCY,
                    )
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Tokens",
                left=[service_metric(rag.METRIC_INPUT_TOKENS), service_metric(rag.METRIC_OUTPUT_TOKENS)],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Retrieval and guardrail",
                left=[
                    service_metric(rag.METRIC_RETRIEVED_PASSAGES),
                    service_metric(rag.METRIC_NO_CONTEXT_ANSWERS),
                    service_metric(rag.METRIC_GUARDRAIL_INTERVENTIONS),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Function",
                left=[
                    function.metric_invocations(period=PERIOD),
                    function.metric_errors(period=PERIOD),
                    function.metric_throttles(period=PERIOD),
                ],
                right=[function.metric_duration(period=PERIOD, statistic="p99")],
                width=12,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24),
        )
