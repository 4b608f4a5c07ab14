"""The RAG API dashboard and alarms."""

from __future__ import annotations

import json

from tests.stacks.rag.templates import rag
from tests.support.synth import Synthesized, only, references, resources


class TestObservability:
    def test_alarms_cover_errors_throttles_and_latency(self, sandbox: Synthesized) -> None:
        template = rag(sandbox)
        alarms = list(resources(template, "AWS::CloudWatch::Alarm").values())
        metric_names = {a["Properties"].get("MetricName") for a in alarms}
        assert {"5XXError", "Throttles", "Latency", "Errors"} <= metric_names
        spike = [a for a in alarms if "Metrics" in a["Properties"]]
        assert any("4XXError" in json.dumps(a["Properties"]["Metrics"]) for a in spike)
        latency = next(a for a in alarms if a["Properties"].get("MetricName") == "Latency")
        assert latency["Properties"]["ExtendedStatistic"] == "p99"
        topic_id, _ = only(template, "AWS::SNS::Topic")
        for alarm in alarms:
            assert references(alarm["Properties"]["AlarmActions"]) == {topic_id}

    def test_dashboard_shows_the_function_metrics(self, sandbox: Synthesized) -> None:
        _, dashboard = only(rag(sandbox), "AWS::CloudWatch::Dashboard")
        body = json.dumps(dashboard["Properties"]["DashboardBody"])
        for metric in (
            "RetrievedPassages",
            "NoContextAnswers",
            "GuardrailInterventions",
            "InputTokens",
            "OutputTokens",
            "RetrieveLatency",
            "GenerateLatency",
            "TotalLatency",
        ):
            assert metric in body
