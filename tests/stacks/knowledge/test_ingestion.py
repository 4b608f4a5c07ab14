"""Ingestion: the function that starts a sync on document events, and the full sync of a new data source."""

from __future__ import annotations

from aws_cdk.assertions import Template

from tests.stacks.knowledge.templates import documents_bucket, full_sync, knowledge
from tests.support.synth import Synthesized, comes_before, only, references, resources


class TestIngestion:
    def test_rule_sends_document_changes_under_the_prefix_to_the_queue(self, sandbox: Synthesized) -> None:
        template = knowledge(sandbox)
        bucket_id, _ = documents_bucket(template)
        rules = [
            r for r in resources(template, "AWS::Events::Rule").values() if "EventPattern" in r["Properties"]
        ]
        assert len(rules) == 1
        pattern = rules[0]["Properties"]["EventPattern"]
        assert pattern["source"] == ["aws.s3"]
        assert set(pattern["detail-type"]) == {"Object Created", "Object Deleted"}
        assert pattern["detail"]["object"] == {"key": [{"prefix": "docs/"}]}
        assert references(pattern["detail"]["bucket"]) == {bucket_id}
        target_ids = references(rules[0]["Properties"]["Targets"])
        assert target_ids <= set(resources(template, "AWS::SQS::Queue"))

    def test_queue_retries_then_parks_in_a_dead_letter_queue(self, sandbox: Synthesized) -> None:
        template = knowledge(sandbox)
        queues = resources(template, "AWS::SQS::Queue")
        main = [q for q in queues.values() if "RedrivePolicy" in q["Properties"]]
        assert len(main) == 1 and len(queues) == 2
        redrive = main[0]["Properties"]["RedrivePolicy"]
        assert redrive["maxReceiveCount"] >= 10
        for queue in queues.values():
            assert queue["Properties"]["SqsManagedSseEnabled"] is True

    def test_function_consumes_batches_and_reports_item_failures(self, sandbox: Synthesized) -> None:
        Template.from_json(knowledge(sandbox)).has_resource_properties(
            "AWS::Lambda::EventSourceMapping",
            {
                "BatchSize": 500,
                "MaximumBatchingWindowInSeconds": 120,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "ScalingConfig": {"MaximumConcurrency": 2},
            },
        )

    def test_functions_are_python314_arm64_with_powertools_and_tracing(self, sandbox: Synthesized) -> None:
        template = knowledge(sandbox)
        functions = [
            f
            for f in resources(template, "AWS::Lambda::Function").values()
            if "Handler" in f["Properties"] and f["Properties"]["Handler"].startswith("ingest.")
        ]
        assert {f["Properties"]["Handler"] for f in functions} == {
            "ingest.handler.handler",
            "ingest.monitor.handler",
        }
        for function in functions:
            props = function["Properties"]
            assert props["Runtime"] == "python3.14" and props["Architectures"] == ["arm64"]
            assert props["TracingConfig"] == {"Mode": "Active"}
            assert len(props["Layers"]) == 1
            env = props["Environment"]["Variables"]
            assert {"KNOWLEDGE_BASE_ID", "DATA_SOURCE_ID", "POWERTOOLS_SERVICE_NAME"} <= set(env)

    def test_failures_are_alarmed(self, sandbox: Synthesized) -> None:
        template = knowledge(sandbox)
        alarms = resources(template, "AWS::CloudWatch::Alarm").values()
        metric_names = {a["Properties"].get("MetricName") for a in alarms}
        assert {
            "ApproximateNumberOfMessagesVisible",
            "IngestionJobsFailed",
            "IngestionDocumentsFailed",
            "Errors",
        } <= metric_names
        topic_id, _ = only(template, "AWS::SNS::Topic")
        for alarm in alarms:
            assert references(alarm["Properties"]["AlarmActions"]) == {topic_id}

    def test_monitor_runs_on_a_schedule(self, sandbox: Synthesized) -> None:
        Template.from_json(knowledge(sandbox)).has_resource_properties(
            "AWS::Events::Rule", {"ScheduleExpression": "rate(15 minutes)", "State": "ENABLED"}
        )

    def test_alarm_email_subscribes_when_given(self, synth) -> None:
        template = knowledge(synth({"alarmEmail": "ops@example.com"}))
        Template.from_json(template).has_resource_properties(
            "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
        )
        assert not resources(knowledge(synth()), "AWS::SNS::Subscription")


class TestFullSyncOfNewDataSource:
    def test_every_new_data_source_gets_one_ingestion_job(self, sandbox: Synthesized) -> None:
        # Given the custom resource that the deploy runs
        template = knowledge(sandbox)
        source_id, _ = only(template, "AWS::Bedrock::DataSource")
        kb_id, _ = only(template, "AWS::Bedrock::KnowledgeBase")
        sync = full_sync(template)
        for phase in ("Create", "Update"):
            call = sync["Properties"][phase]
            # Then on the first deploy and whenever the data source id changes, it starts a job on it
            text = "".join(part for part in call["Fn::Join"][1] if isinstance(part, str))
            assert '"service":"bedrock-agent"' in text and '"action":"StartIngestionJob"' in text
            # a job already running on the new data source syncs it as well: not a failed deploy
            assert '"ignoreErrorCodesMatching":"^ConflictException$"' in text
            assert {"Fn::GetAtt": [source_id, "DataSourceId"]} in call["Fn::Join"][1]
            assert {"Fn::GetAtt": [kb_id, "KnowledgeBaseId"]} in call["Fn::Join"][1]
        # and nothing on stack deletion
        assert "Delete" not in sync["Properties"]
        # and only after the data source exists
        sync_id = next(k for k, v in template["Resources"].items() if v is sync)
        assert comes_before(template, source_id, sync_id)

    def test_may_only_start_ingestion_jobs_on_this_knowledge_base(self, sandbox: Synthesized) -> None:
        template = knowledge(sandbox)
        kb_id, _ = only(template, "AWS::Bedrock::KnowledgeBase")
        sync = full_sync(template)
        policy_ids = [d for d in sync.get("DependsOn", []) if d in resources(template, "AWS::IAM::Policy")]
        assert len(policy_ids) == 1
        statements = template["Resources"][policy_ids[0]]["Properties"]["PolicyDocument"]["Statement"]
        assert statements == [
            {
                "Action": "bedrock:StartIngestionJob",
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [kb_id, "KnowledgeBaseArn"]},
            }
        ]
