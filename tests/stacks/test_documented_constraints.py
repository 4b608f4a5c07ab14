"""Documented AWS service constraints that cfn-lint, cdk-nag and checkov do not know, on every template.

cfn-lint checks each property against its own schema, cdk-nag and checkov check best practices; none of them
reads the sentences below, and each one broke (or would break) a real deploy or destroy. Every test names
the documentation it encodes. Add a test here whenever a deploy teaches a new constraint.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import boto3
import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from ladder_core.catalog import bedrock
from lambdas.rag import constants as rag_constants
from tests.stacks.conftest import COMBINATIONS
from tests.support.synth import Synthesized, comes_before, only, references, resources

Template = Mapping[str, Any]


def _templates(synthesized: Synthesized) -> list[tuple[str, Template]]:
    return sorted(synthesized.templates.items())


def render(value: Any) -> str:
    """A name built with Fn::Join / Ref as one string, references written ``${Ref}``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(render(part) for part in parts)
    return json.dumps(value, sort_keys=True)


def auto_deleted_buckets(template: Template) -> set[str]:
    """Buckets that the CDK's auto-delete custom resource empties when the stack is deleted."""
    return {
        target
        for custom in resources(template, "Custom::S3AutoDeleteObjects").values()
        for target in references(custom["Properties"]["BucketName"])
    }


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_waf_rule_priorities_are_unique_within_each_web_acl(synth, combination: str) -> None:
    """AWS WAF Developer Guide, "Setting rule priority"
    (docs.aws.amazon.com/waf/latest/developerguide/web-acl-processing-order.html): "You must give each rule in
    a protection pack (web ACL) a unique priority setting within that protection pack (web ACL)"."""
    synthesized = synth(COMBINATIONS[combination])
    acls = [acl for _, t in _templates(synthesized) for acl in resources(t, "AWS::WAFv2::WebACL").values()]
    # The web ACL exists exactly where the configuration asks for one (prod by default)
    assert len(acls) == (1 if synthesized.config.waf else 0)
    for acl in acls:
        priorities = [rule["Priority"] for rule in acl["Properties"]["Rules"]]
        assert len(priorities) == len(set(priorities)), f"{combination}: rule priorities {priorities}"


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_no_access_log_destination_is_emptied_by_auto_delete(synth, combination: str) -> None:
    """Amazon S3 User Guide, "Logging requests with server access logging": "Server access log records are
    delivered on a best effort basis. Most log records are delivered within a few hours of the time that they
    are recorded". A log object that lands after the auto-delete custom resource emptied the destination
    fails DeleteBucket with BucketNotEmpty (aws/aws-cdk#21776), so no bucket that the profile auto-deletes
    may be an access-log destination."""
    synthesized = synth(COMBINATIONS[combination])
    for name, template in _templates(synthesized):
        emptied = auto_deleted_buckets(template)
        for bucket_id, bucket in resources(template, "AWS::S3::Bucket").items():
            logging = bucket["Properties"].get("LoggingConfiguration")
            if logging is None:
                continue
            destination = references(logging["DestinationBucketName"])
            assert not destination & emptied, f"{combination}/{name}/{bucket_id} logs into {destination}"
        if synthesized.config.is_prod:
            # prod keeps its buckets and logs every data bucket
            assert not emptied, f"{combination}/{name}"


def create_only_paths(resource_type: str) -> list[tuple[str, ...]]:
    """Property paths whose change makes CloudFormation replace the resource (the provider schema's
    ``createOnlyProperties``; custom resources have none)."""
    return [tuple(path.split("/")[2:]) for path in _create_only(resource_type)]


@cache
def _schema(resource_type: str) -> dict[str, Any]:
    if resource_type.startswith("Custom::"):
        return {}
    schema: dict[str, Any] = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    return schema


def _create_only(resource_type: str) -> list[str]:
    return list(_schema(resource_type).get("createOnlyProperties", []))


# Names unique only inside a parent whose identifier is not part of the type's primaryIdentifier: S3 User
# Guide, "Deleting a vector index": "The index name becomes available for reuse within the bucket".
NAME_SCOPES = {"AWS::S3Vectors::Index": ("VectorBucketArn",)}


def name_scope(resource_type: str) -> tuple[str, ...]:
    """Properties that, with the name, identify the resource: a replaced parent frees the old name."""
    identifier = [path.split("/")[2] for path in _schema(resource_type).get("primaryIdentifier", [])]
    scope = tuple(prop for prop in identifier if not prop.endswith("Name")) if len(identifier) > 1 else ()
    return scope + NAME_SCOPES.get(resource_type, ())


def _at(properties: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = properties
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def replaced_resources(before: Template, after: Template) -> set[str]:
    """Logical ids CloudFormation replaces when ``before`` is updated to ``after``: a create-only property
    that changed, or that points (Ref / GetAtt) at a resource that is itself replaced."""
    replaced: set[str] = set()
    grew = True
    while grew:
        grew = False
        for logical_id, resource in after["Resources"].items():
            old = before["Resources"].get(logical_id)
            if logical_id in replaced or old is None or old["Type"] != resource["Type"]:
                continue
            for path in create_only_paths(resource["Type"]):
                new_value = _at(resource.get("Properties", {}), path)
                if new_value != _at(old.get("Properties", {}), path) or references(new_value) & replaced:
                    replaced.add(logical_id)
                    grew = True
                    break
    return replaced


# Names a service requires to be unique that CloudFormation nonetheless updates in place.
UNIQUE_NAMES = {"AWS::Bedrock::KnowledgeBase": ("Name",), "AWS::Bedrock::DataSource": ("Name",)}
VECTOR_INDEX_TYPES = ("AWS::OpenSearchServerless::Index", "AWS::S3Vectors::Index")
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
S3_VECTORS = {"vectorStore": "s3vectors"}
# Settings that replace part of the knowledge base, for each vector store (the same overrides the knowledge
# stack's own tests synthesize, so the session cache serves both).
REPLACING_CHANGES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "opensearch-embedding-dimensions": ({}, {"embeddingDimensions": "512"}),
    "opensearch-embedding-model": ({}, {"embeddingModelId": "cohere.embed-english-v3"}),
    "opensearch-chunk-size": ({}, {"chunkMaxTokens": "512"}),
    "opensearch-chunking-strategy": ({}, {"chunkingStrategy": "SEMANTIC"}),
    "opensearch-standby-replicas": ({}, {"standbyReplicas": "true"}),
    "s3vectors-embedding-dimensions": (S3_VECTORS, {**S3_VECTORS, "embeddingDimensions": "512"}),
    "s3vectors-chunk-size": (S3_VECTORS, {**S3_VECTORS, "chunkMaxTokens": "512"}),
    "s3vectors-kms-key": (S3_VECTORS, {**S3_VECTORS, "vectorKmsKeyArn": KEY_ARN}),
    # and a chunking change, which replaces the most, on every other flag combination
    **{
        f"{combination}-chunk-size": (base, {**base, "chunkMaxTokens": "512"})
        for combination, base in COMBINATIONS.items()
        if combination not in ("sandbox", "sandbox-s3vectors")
    },
}


def _changed(old: Template, new: Template, logical_id: str, prop: str, replaced: set[str]) -> bool:
    value = new["Resources"][logical_id]["Properties"].get(prop)
    return value != old["Resources"][logical_id]["Properties"].get(prop) or bool(references(value) & replaced)


@pytest.mark.parametrize("change", sorted(REPLACING_CHANGES))
def test_every_replaced_resource_gets_a_new_name(synth, change: str) -> None:
    """CloudFormation Template Reference, "CloudFormation resource custom naming"
    (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html): "You can't
    perform an update that causes a custom-named resource to be replaced. If you must replace the resource,
    specify a new name." Replacement is read from each type's ``createOnlyProperties``."""
    base, changed = REPLACING_CHANGES[change]
    before, after = synth(base), synth(changed)
    replaced_any = False
    for name, template in _templates(after):
        old = before.templates[name]
        replaced = replaced_resources(old, template)
        replaced_any |= bool(replaced)
        for logical_id in sorted(replaced):
            kind = template["Resources"][logical_id]["Type"]
            named = [
                path[0] for path in create_only_paths(kind) if len(path) == 1 and path[0].endswith("Name")
            ] + list(UNIQUE_NAMES.get(kind, ()))
            if any(_changed(old, template, logical_id, parent, replaced) for parent in name_scope(kind)):
                continue  # created in a new parent, where the old name is free
            for prop in named:
                if prop not in template["Resources"][logical_id]["Properties"]:
                    continue  # CloudFormation generates the name
                assert _changed(old, template, logical_id, prop, replaced), (
                    f"{change}: {name}/{logical_id}.{prop}"
                )
    assert replaced_any, f"{change} replaces nothing: not a replacing change"


@pytest.mark.parametrize("change", sorted(REPLACING_CHANGES))
def test_a_replaced_data_source_never_leaves_its_vectors_in_the_live_index(synth, change: str) -> None:
    """Bedrock API Reference, CreateDataSource ``dataDeletionPolicy``: "RETAIN: Retains all data from your
    data source that's converted into vector embeddings upon deletion of a knowledge base or data source
    resource." The data source keeps its vectors (RETAIN, for a safe stack deletion), so whenever it is
    replaced the vector index must be replaced with it; otherwise the old chunks, and documents deleted from
    S3 later, stay retrievable next to the new ones."""
    base, changed = REPLACING_CHANGES[change]
    before, after = synth(base), synth(changed)
    template = after.template("Knowledge")
    replaced = replaced_resources(before.template("Knowledge"), template)
    source_replaced = bool(replaced & set(resources(template, "AWS::Bedrock::DataSource")))
    # The documents' index only: the examples store's S3 vector index is not the knowledge base's.
    _, kb = only(template, "AWS::Bedrock::KnowledgeBase")
    stored_in = references(kb["Properties"]["StorageConfiguration"])
    document_indexes = {
        logical_id
        for kind in VECTOR_INDEX_TYPES
        for logical_id in resources(template, kind)
        if kind == "AWS::OpenSearchServerless::Index" or logical_id in stored_in
    }
    index_replaced = bool(replaced & document_indexes)
    assert source_replaced, f"{change}: every knowledge-base change replaces the data source"
    assert index_replaced, f"{change}: the data source is replaced but its vectors stay in the same index"


def get_stack_outputs(value: Any) -> set[tuple[str, str]]:
    """(stack name, output name) of every Fn::GetStackOutput in ``value``."""
    found: set[tuple[str, str]] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Fn::GetStackOutput":
                found.add((inner["StackName"], inner["OutputName"]))
            else:
                found |= get_stack_outputs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= get_stack_outputs(inner)
    return found


@pytest.mark.parametrize("change", sorted(REPLACING_CHANGES))
def test_a_stack_reading_a_replaced_resource_through_a_weak_reference_is_updated(synth, change: str) -> None:
    """CloudFormation Template Reference, ``Fn::GetStackOutput``: "The referenced value is resolved at stack
    create or update time. If the referenced stack or output is later deleted or modified, the consuming
    stack is not automatically updated or notified." So when the producer replaces the resource behind an
    output, the consumer's template must change too, or the consumer keeps the deleted resource's id."""
    base, changed = REPLACING_CHANGES[change]
    before, after = synth(base), synth(changed)
    replaced_outputs = set()
    for name, template in _templates(after):
        replaced = replaced_resources(before.templates[name], template)
        replaced_outputs |= {
            (name, output)
            for output, spec in template.get("Outputs", {}).items()
            if references(spec["Value"]) & replaced
        }
    assert replaced_outputs, f"{change}: expected the knowledge base behind an output to be replaced"
    consumers = [
        name for name, template in _templates(after) if get_stack_outputs(template) & replaced_outputs
    ]
    assert consumers, "the RAG API reads the knowledge base through Fn::GetStackOutput"
    for name in consumers:
        assert after.templates[name] != before.templates[name], f"{change}: {name} would keep the old id"


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_log_groups_that_services_would_create_themselves_are_resources_of_the_stack(
    synth, combination: str
) -> None:
    """A log group a service creates on first write has no expiry and outlives the stack. Lambda Developer
    Guide, "Configuring CloudWatch log groups": "By default, CloudWatch automatically creates a log group
    named /aws/lambda/<function name> for your function when it's first invoked" (unless the function's
    LoggingConfig names another). API Gateway Developer Guide, "Execution logging for REST APIs": "When you
    enable execution logging on a stage, API Gateway automatically creates and manages a CloudWatch Logs log
    group. The log group is named API-Gateway-Execution-Logs_{rest-api-id}/{stage_name}." Each must be the
    stack's own, with the profile's retention and removal, and exist before its writer."""
    synthesized = synth(COMBINATIONS[combination])
    config = synthesized.config
    for name, template in _templates(synthesized):
        groups = resources(template, "AWS::Logs::LogGroup")
        names = {render(g["Properties"].get("LogGroupName")): k for k, g in groups.items()}
        owned: dict[str, str] = {}
        for function_id, function in resources(template, "AWS::Lambda::Function").items():
            configured = references(function["Properties"].get("LoggingConfig", {}).get("LogGroup")) & set(
                groups
            )
            default = names.get("/aws/lambda/${" + function_id + "}")
            group = next(iter(configured), default)
            assert group, f"{combination}/{name}/{function_id}: Lambda would create /aws/lambda/<name> itself"
            owned[group] = function_id
        for stage_id, stage in resources(template, "AWS::ApiGateway::Stage").items():
            levels = {s.get("LoggingLevel", "OFF") for s in stage["Properties"].get("MethodSettings", [])}
            if levels <= {"OFF"}:
                continue
            api = stage["Properties"]["RestApiId"]["Ref"]
            expected = f"API-Gateway-Execution-Logs_${{{api}}}/{stage['Properties']['StageName']}"
            group = names.get(expected)
            assert group, f"{combination}/{name}/{stage_id}: API Gateway would create {expected} itself"
            assert comes_before(template, group, stage_id), "the group must exist before logging starts"
            owned[group] = stage_id
        for group, writer in owned.items():
            resource = groups[group]
            assert resource["Properties"]["RetentionInDays"] == config.log_retention_days, (name, writer)
            assert resource["DeletionPolicy"] == ("Retain" if config.is_prod else "Delete"), (name, writer)


# Bedrock User Guide, "Use contextual grounding check to filter hallucinations in responses": the check
# accepts at most this many characters of each part.
GROUNDING_LIMITS_CHARS = {"QUERY": 1_000, "SOURCE": 100_000, "RESPONSE": 5_000}


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_generation_and_grounding_stay_within_the_model_and_the_guardrail_limits(
    synth, combination: str
) -> None:
    """Bedrock model cards: a request's maxTokens may not exceed the model's maximum output tokens (a larger
    value is a ValidationException on every request). Bedrock User Guide, "Use contextual grounding check to
    filter hallucinations in responses": the grounding source, the query and the response are limited to
    100,000, 1,000 and 5,000 characters; every such limit the RAG function applies must fit inside them."""
    synthesized = synth(COMBINATIONS[combination])
    rag = synthesized.template("RagApi")
    (function,) = [
        f
        for f in resources(rag, "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "rag.handler.handler"
    ]
    env = function["Properties"]["Environment"]["Variables"]
    model = bedrock.model(env["MODEL_ID"])
    limit = model.max_output_tokens if model else None
    assert limit is not None, f"no known output limit for {env['MODEL_ID']}"
    assert int(env["MAX_TOKENS"]) <= limit
    applied = {
        part: getattr(rag_constants, f"GROUNDING_{part}_MAX_CHARS")
        for part in GROUNDING_LIMITS_CHARS
        if hasattr(rag_constants, f"GROUNDING_{part}_MAX_CHARS")
    }
    assert "QUERY" in applied, "the function trims the grounding query"
    for part, limit in applied.items():
        assert limit <= GROUNDING_LIMITS_CHARS[part], part


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_the_imported_model_arns_a_function_builds_are_ones_bedrock_accepts(synth, combination: str) -> None:
    """Amazon Bedrock API Reference, GetImportedModel: ``modelIdentifier`` is the model's name or its ARN,
    pattern ``arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:imported-model/[a-z0-9]{12}`` (botocore's
    copy of the model, read here). The evaluation function builds that ARN from IMPORTED_MODEL_ARN_PREFIX and
    the answer's ``imported-model/<id>``; its grant must cover exactly such ARNs."""
    operation = boto3.client("bedrock", region_name="us-east-1").meta.service_model.operation_model(
        "GetImportedModel"
    )
    arn_pattern = operation.input_shape.members["modelIdentifier"].metadata["pattern"].split("|")[0]
    pseudo = {"${AWS::Partition}": "aws", "${AWS::Region}": "us-east-1", "${AWS::AccountId}": "123456789012"}

    def concrete(value: Any) -> str:
        text = render(value)
        for reference, example in pseudo.items():
            text = text.replace(reference, example)
        return text

    synthesized = synth(COMBINATIONS[combination])
    prefixes = 0
    for _, template in _templates(synthesized):
        for function in resources(template, "AWS::Lambda::Function").values():
            variables = function["Properties"].get("Environment", {}).get("Variables", {})
            prefix = variables.get("IMPORTED_MODEL_ARN_PREFIX")
            if prefix:
                prefixes += 1
                assert re.fullmatch(arn_pattern, f"{concrete(prefix)}imported-model/abcdef123456"), prefix
        for policy in resources(template, "AWS::IAM::Policy").values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if "bedrock:GetImportedModel" not in statement["Action"]:
                    continue
                for resource in (
                    statement["Resource"]
                    if isinstance(statement["Resource"], list)
                    else [statement["Resource"]]
                ):
                    assert concrete(resource).endswith(":imported-model/*"), resource
    # The evaluation function builds such ARNs exactly when the fine-tune stack exists
    assert prefixes == (1 if synthesized.config.fine_tune else 0)
