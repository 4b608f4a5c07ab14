"""`ladder doctor`: every preflight check's pass and fail path, the report and the exit codes.

moto serves STS, IAM and the bootstrap SSM parameter. SSM *public* parameters (``/aws/service/...``) are
reserved names moto refuses to create, so the Powertools check and the end-to-end runs stub SSM with a
botocore Stubber, as they do Bedrock, Lambda's account settings, Service Quotas and OpenSearch Serverless:
the Stubber checks every request and answer against the service's model.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ladder import cli, doctor
from stacks.config import LadderConfig

from .conftest import ACCOUNT, REGION

ROOT = Path(__file__).resolve().parents[2]
CDK_JSON = ROOT / "cdk.json"
EXEC_ROLE = f"cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-{REGION}"
EMBEDDING = "amazon.titan-embed-text-v2:0"
PROFILE = "us.amazon.nova-lite-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"
POWERTOOLS = "3.37.0"
JUDGE = "amazon.nova-pro-v1:0"
PINNED = [
    f"evaluationJudgeModelIds={JUDGE}",
    f"embeddingModelId={EMBEDDING}",
    "embeddingDimensions=1024",
    f"generationModelId={PROFILE}",
    f"powertoolsVersion={POWERTOOLS}",
    "rerankModelId=",
    "region=us-east-1",
    "stackPrefix=Ladder",
    "deployRoleArn=",
    "reservedConcurrency=0",
]
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def config(*overrides: str) -> LadderConfig:
    return doctor.load_config(CDK_JSON, [*PINNED, *overrides])


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name=REGION)
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


# --- responses, shaped as each service answers -----------------------------------------------------------


def foundation_model(
    model_id: str, inference_types: tuple[str, ...] = ("ON_DEMAND",), lifecycle: str = "ACTIVE"
):
    return {
        "modelDetails": {
            "modelArn": f"arn:aws:bedrock:{REGION}::foundation-model/{model_id}",
            "modelId": model_id,
            "inferenceTypesSupported": list(inference_types),
            "modelLifecycle": {"status": lifecycle},
        }
    }


def availability(model_id: str, **changes: Any) -> dict[str, Any]:
    answer = {
        "modelId": model_id,
        "agreementAvailability": {"status": "AVAILABLE"},
        "authorizationStatus": "AUTHORIZED",
        "entitlementAvailability": "AVAILABLE",
        "regionAvailability": "AVAILABLE",
    }
    answer.update(changes)
    return answer


def inference_profile(profile_id: str) -> dict[str, Any]:
    return {
        "inferenceProfileName": f"US {profile_id}",
        "inferenceProfileArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{profile_id}",
        "inferenceProfileId": profile_id,
        "models": [{"modelArn": f"arn:aws:bedrock:{REGION}::foundation-model/{profile_id.split('.', 1)[1]}"}],
        "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    }


def quota(name: str, value: float) -> dict[str, Any]:
    return {"QuotaName": name, "Value": value, "QuotaCode": "L-00000000", "ServiceCode": "x"}


class Bedrock:
    def __init__(self) -> None:
        self.client, self.stubber = stubbed("bedrock")

    def usable(self, model_id: str, **availability_changes: Any) -> None:
        """A foundation model called directly: GetFoundationModel then GetFoundationModelAvailability."""
        self.stubber.add_response(
            "get_foundation_model", foundation_model(model_id), {"modelIdentifier": model_id}
        )
        self.stubber.add_response(
            "get_foundation_model_availability",
            availability(model_id, **availability_changes),
            {"modelId": model_id},
        )

    def profile(self, profile_id: str) -> None:
        self.stubber.add_response(
            "get_inference_profile", inference_profile(profile_id), {"inferenceProfileIdentifier": profile_id}
        )

    def generation(self, **availability_changes: Any) -> None:
        self.profile(PROFILE)
        self.usable(NOVA_LITE, **availability_changes)


# --- the checks one by one -------------------------------------------------------------------------------


def test_bootstrap_passes_with_a_recent_bootstrap_stack(aws):
    # Given a bootstrapped account (CDKToolkit writes its version to SSM)
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=doctor.BOOTSTRAP_VERSION_PARAMETER, Value="30", Type="String")

    # When the bootstrap is checked
    check = doctor.check_bootstrap(ssm)

    # Then it passes and names the version
    assert check.status == doctor.PASS
    assert "bootstrap version 30" in check.detail


@pytest.mark.parametrize(("value", "expected"), [(None, "not bootstrapped"), ("5", "older than 6")])
def test_bootstrap_fails_when_missing_or_too_old_and_says_to_bootstrap(aws, value, expected):
    # Given no bootstrap, or one older than the templates need
    ssm = boto3.client("ssm", region_name=REGION)
    if value is not None:
        ssm.put_parameter(Name=doctor.BOOTSTRAP_VERSION_PARAMETER, Value=value, Type="String")

    # When the bootstrap is checked
    check = doctor.check_bootstrap(ssm)

    # Then it fails with the reason and the command that fixes it
    assert check.status == doctor.FAIL
    assert expected in check.detail
    assert "make bootstrap" in check.fix


def test_bootstrap_names_match_the_cdk_default_synthesizer():
    # The parameter and role doctor looks for are the ones the synthesized templates use
    import aws_cdk as cdk

    synthesizer = cdk.DefaultStackSynthesizer
    qualifier = synthesizer.DEFAULT_QUALIFIER
    assert qualifier == doctor.CDK_QUALIFIER
    assert synthesizer.DEFAULT_BOOTSTRAP_STACK_VERSION_SSM_PARAMETER.replace("${Qualifier}", qualifier) == (
        doctor.BOOTSTRAP_VERSION_PARAMETER
    )
    role = (
        synthesizer.DEFAULT_CLOUDFORMATION_ROLE_ARN.replace("${Qualifier}", qualifier)
        .replace("${AWS::AccountId}", ACCOUNT)
        .replace("${AWS::Region}", REGION)
        .replace("${AWS::Partition}", "aws")
    )
    assert role == doctor.execution_role_arn(config(), ACCOUNT, "aws")


def test_execution_role_passes_when_the_bootstrap_role_exists(aws):
    # Given the bootstrap's CloudFormation execution role
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(RoleName=EXEC_ROLE, AssumeRolePolicyDocument="{}")

    # When it is checked
    check = doctor.check_execution_role(iam, config(), ACCOUNT, "aws")

    # Then it passes, naming the ARN the vector policy uses
    assert check.status == doctor.PASS
    assert check.detail == f"arn:aws:iam::{ACCOUNT}:role/{EXEC_ROLE}"


def test_execution_role_fails_when_the_configured_deploy_role_does_not_exist(aws):
    # Given a deployRoleArn naming a role that does not exist (while the bootstrap role does)
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(RoleName=EXEC_ROLE, AssumeRolePolicyDocument="{}")
    missing = f"arn:aws:iam::{ACCOUNT}:role/ci-deployer"

    # When it is checked
    check = doctor.check_execution_role(iam, config(f"deployRoleArn={missing}"), ACCOUNT, "aws")

    # Then it fails on the configured role, which is the one the vector policy would name
    assert check.status == doctor.FAIL
    assert missing in check.detail
    assert "deployRoleArn" in check.fix


def test_models_pass_for_the_embedding_model_and_the_profiles_foundation_model():
    # Given both models usable; the generation model through its inference profile
    bedrock = Bedrock()
    bedrock.usable(EMBEDDING)
    bedrock.generation()
    bedrock.usable(JUDGE)

    # When the models are checked
    checks = doctor.check_models(bedrock.client, config())

    # Then all pass, the generation one naming the profile
    assert [c.status for c in checks] == [doctor.PASS, doctor.PASS, doctor.PASS]
    assert checks[1].detail == f"{NOVA_LITE} via {PROFILE} is available"
    bedrock.stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"authorizationStatus": "NOT_AUTHORIZED"}, "not authorized"),
        ({"entitlementAvailability": "NOT_AVAILABLE"}, "model access not granted"),
        ({"regionAvailability": "NOT_AVAILABLE"}, "not available in this region"),
        ({"agreementAvailability": {"status": "PENDING"}}, "agreement pending"),
        ({"agreementAvailability": {"status": "ERROR", "errorMessage": "payment"}}, "agreement payment"),
    ],
)
def test_model_without_access_fails_with_the_console_fix(changes, expected):
    # Given a generation model this account cannot use
    bedrock = Bedrock()
    bedrock.generation(**changes)

    # When it is checked
    check = doctor.check_model(bedrock.client, "generation", PROFILE)

    # Then it fails saying why and how to get access
    assert check.status == doctor.FAIL
    assert expected in check.detail
    assert "Model access" in check.fix


def test_an_inference_profile_not_offered_in_the_region_fails():
    # Given a profile Bedrock does not know here
    bedrock = Bedrock()
    bedrock.stubber.add_client_error("get_inference_profile", service_error_code="ResourceNotFoundException")

    # When it is checked
    check = doctor.check_model(bedrock.client, "generation", "eu.amazon.nova-lite-v1:0")

    # Then it fails naming the profile
    assert check.status == doctor.FAIL
    assert "inference profile eu.amazon.nova-lite-v1:0 is not offered" in check.detail


def test_a_model_only_callable_through_a_profile_fails_when_called_directly():
    # Given a model id used without a profile, which this region does not serve on demand
    bedrock = Bedrock()
    bedrock.stubber.add_response("get_foundation_model", foundation_model(NOVA_LITE, ("PROVISIONED",)))

    # When it is checked
    check = doctor.check_model(bedrock.client, "generation", NOVA_LITE)

    # Then it fails pointing at the cross-region profile
    assert check.status == doctor.FAIL
    assert "cannot be called on demand" in check.detail
    assert "inference profile" in check.fix


def test_a_model_not_offered_in_the_region_fails():
    bedrock = Bedrock()
    bedrock.stubber.add_client_error("get_foundation_model", service_error_code="ValidationException")

    check = doctor.check_model(bedrock.client, "reranker", "amazon.rerank-v1:0")

    assert check.status == doctor.FAIL
    assert check.name == "Bedrock reranker model"
    assert "amazon.rerank-v1:0 is not offered in this region" in check.detail


def test_a_reranker_is_checked_only_when_configured():
    # Given a configured reranker
    ids = doctor.model_ids(config("rerankModelId=cohere.rerank-v3-5:0"))

    # Then it is one of the models checked; without it, only embedding and generation are
    assert ("reranker", "cohere.rerank-v3-5:0") in ids
    assert [purpose for purpose, _ in doctor.model_ids(config())] == ["embedding", "generation", "judge"]


def test_every_allowed_judge_model_is_checked():
    # Given two judge models the evaluation role may invoke
    judges = "us.anthropic.claude-3-5-haiku-20241022-v1:0,amazon.nova-pro-v1:0"

    # Then each is one of the models checked
    ids = doctor.model_ids(config(f"evaluationJudgeModelIds={judges}"))
    assert [purpose for purpose, _ in ids].count("judge") == 2
    assert ("judge", "us.anthropic.claude-3-5-haiku-20241022-v1:0") in ids
    assert ("judge", "amazon.nova-pro-v1:0") in ids


def test_every_model_a_request_may_name_is_checked_as_a_generation_model():
    # Given a model a request may name besides the configured one
    ids = doctor.model_ids(config("allowedGenerationModelIds=us.amazon.nova-pro-v1:0"))

    # Then both are checked, each once, the configured one first
    generation = [model for purpose, model in ids if purpose == "generation"]
    assert generation == ["us.amazon.nova-lite-v1:0", "us.amazon.nova-pro-v1:0"]


# Bedrock user guide, "Request access to models": on a third-party model's first call Bedrock subscribes the
# account through AWS Marketplace; "If any prerequisites are missing, the subscription attempt fails and
# subsequent API calls will return AccessDeniedException". GetFoundationModelAvailability's
# agreementAvailability.status is AVAILABLE once the account has the agreement ("Manage model access using
# SDK and CLI", step 4); steps 1 and 3 are ListFoundationModelAgreementOffers and
# CreateFoundationModelAgreement, step 2 Anthropic's use-case form (PutUseCaseForModelAccess).
RERANKER = "cohere.rerank-v3-5:0"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"


@pytest.mark.parametrize(
    ("purpose", "model_id", "product", "use_case_form"),
    [("reranker", RERANKER, "prod-2o5bej62oxkbi", False), ("judge", SONNET, "prod-m5ilt4siql27k", True)],
)
def test_a_third_party_model_without_a_subscription_fails_with_how_to_subscribe(
    purpose, model_id, product, use_case_form
):
    # Given a third-party model this account has never subscribed to
    bedrock = Bedrock()
    bedrock.usable(model_id, agreementAvailability={"status": "NOT_AVAILABLE"})

    # When it is checked
    check = doctor.check_model(bedrock.client, purpose, model_id)

    # Then it fails saying so, with the one-time subscription commands and what the deployed role may do
    assert check.status == doctor.FAIL
    assert "no AWS Marketplace subscription" in check.detail
    assert f"list-foundation-model-agreement-offers --model-id {model_id}" in check.fix
    assert f"create-foundation-model-agreement --model-id {model_id}" in check.fix
    assert f"aws-marketplace:Subscribe on {product}" in check.fix
    assert ("put-use-case-for-model-access" in check.fix) is use_case_form
    bedrock.stubber.assert_no_pending_responses()


def test_a_subscribed_third_party_model_passes_and_says_so():
    bedrock = Bedrock()
    bedrock.usable(RERANKER)

    check = doctor.check_model(bedrock.client, "reranker", RERANKER)

    assert check.status == doctor.PASS
    assert check.detail == f"{RERANKER} is available and subscribed"


def test_a_first_party_model_needs_no_marketplace_subscription():
    # Given an Amazon model: not sold through AWS Marketplace, so no agreement to have
    bedrock = Bedrock()
    bedrock.usable(JUDGE, agreementAvailability={"status": "NOT_AVAILABLE"})

    check = doctor.check_model(bedrock.client, "judge", JUDGE)

    assert check.status == doctor.PASS


def test_a_third_party_model_whose_product_is_unknown_says_no_role_can_subscribe():
    bedrock = Bedrock()
    model = "anthropic.claude-instant-v1"
    bedrock.usable(model, agreementAvailability={"status": "NOT_AVAILABLE"})

    check = doctor.check_model(bedrock.client, "judge", model)

    assert check.status == doctor.FAIL
    assert "does not know its AWS Marketplace product id" in check.fix


# S3 Vectors indexes asynchronously under the indexing.s3vectors.amazonaws.com service principal; with a
# customer managed key, the key policy must let it decrypt (Amazon S3 user guide, "Data protection and
# encryption in S3 Vectors", as applied by awslabs/generative-ai-cdk-constructs' VectorBucket), or indexing
# fails "Insufficient access to perform asynchronous indexing".
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ADMIN = {
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def key_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {
        "Policy": json.dumps({"Version": "2012-10-17", "Statement": [ADMIN, *statements]}),
        "PolicyName": "default",
    }


@pytest.mark.parametrize(
    "statement",
    [
        {
            "Effect": "Allow",
            "Principal": {"Service": "indexing.s3vectors.amazonaws.com"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        },
        {
            "Effect": "Allow",
            "Principal": {"Service": ["logs.amazonaws.com", "indexing.s3vectors.amazonaws.com"]},
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": "*",
        },
    ],
)
def test_a_key_that_lets_s3_vectors_indexing_decrypt_passes(statement):
    kms, stubber = stubbed("kms")
    stubber.add_response("get_key_policy", key_policy(statement), {"KeyId": KEY_ARN, "PolicyName": "default"})

    check = doctor.check_vector_key_policy(kms, KEY_ARN)

    assert check.status == doctor.PASS
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    "statement",
    [
        {
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        },
        {
            "Effect": "Deny",
            "Principal": {"Service": "indexing.s3vectors.amazonaws.com"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Principal": {"Service": "indexing.s3vectors.amazonaws.com"},
            "Action": "kms:Encrypt",
            "Resource": "*",
        },
    ],
)
def test_a_key_without_decrypt_for_s3_vectors_indexing_fails_with_the_statement_to_add(statement):
    kms, stubber = stubbed("kms")
    stubber.add_response("get_key_policy", key_policy(statement), {"KeyId": KEY_ARN, "PolicyName": "default"})

    check = doctor.check_vector_key_policy(kms, KEY_ARN)

    assert check.status == doctor.FAIL
    assert "does not let indexing.s3vectors.amazonaws.com decrypt" in check.detail
    added = json.loads(check.fix.split("put-key-policy): ", 1)[1])
    assert added["Principal"] == {"Service": "indexing.s3vectors.amazonaws.com"}
    assert added["Action"] == "kms:Decrypt"
    assert added["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_a_missing_key_fails_naming_the_setting():
    kms, stubber = stubbed("kms")
    stubber.add_client_error("get_key_policy", service_error_code="NotFoundException")

    check = doctor.check_vector_key_policy(kms, KEY_ARN)

    assert check.status == doctor.FAIL
    assert "vectorKmsKeyArn" in check.fix


def test_powertools_passes_when_aws_publishes_the_version():
    ssm, stubber = stubbed("ssm")
    name = doctor.POWERTOOLS_LAYER_PARAMETER.format(version=POWERTOOLS)
    arn = f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:27"
    stubber.add_response("get_parameter", {"Parameter": {"Name": name, "Value": arn}}, {"Name": name})

    check = doctor.check_powertools(ssm, POWERTOOLS)

    assert check.status == doctor.PASS
    assert arn in check.detail


def test_powertools_fails_for_a_version_not_published_in_the_region():
    # Given a version AWS has not published here
    ssm, stubber = stubbed("ssm")
    stubber.add_client_error("get_parameter", service_error_code="ParameterNotFound")

    # When it is checked
    check = doctor.check_powertools(ssm, "3.99.0")

    # Then it fails naming the parameter and the key to change
    assert check.status == doctor.FAIL
    assert "/aws/service/powertools/python/arm64/python3.14/3.99.0 not found" in check.detail
    assert "powertoolsVersion" in check.fix


def _account_settings(unreserved: int, total: int = 1000) -> tuple[Any, Stubber]:
    client, stubber = stubbed("lambda")
    stubber.add_response(
        "get_account_settings",
        {"AccountLimit": {"ConcurrentExecutions": total, "UnreservedConcurrentExecutions": unreserved}},
        {},
    )
    return client, stubber


@pytest.mark.parametrize(
    ("reserved", "unreserved", "status"),
    [
        (0, 10, doctor.PASS),  # a new account with a tiny quota, nothing reserved
        (20, 120, doctor.PASS),  # exactly 100 stay unreserved
        (20, 119, doctor.FAIL),  # one short of the floor
        (20, 10, doctor.FAIL),
    ],
)
def test_reserved_concurrency_must_leave_100_unreserved(reserved, unreserved, status):
    client, _ = _account_settings(unreserved)

    check = doctor.check_concurrency(client, reserved)

    assert check.status == status
    if status == doctor.FAIL:
        assert "reservedConcurrency=0" in check.fix


def test_an_update_counts_the_reservation_the_deployed_function_already_holds(stacks):
    # Given a deployed RAG function holding 20 of an account whose unreserved pool is now 100
    stacks.deployed("LadderRagApi", {"RagFunctionName": "LadderRagApi-Rag"})
    client, stubber = stubbed("lambda")
    stubber.add_response(
        "get_function_concurrency", {"ReservedConcurrentExecutions": 20}, {"FunctionName": "LadderRagApi-Rag"}
    )
    stubber.add_response(
        "get_account_settings",
        {"AccountLimit": {"ConcurrentExecutions": 120, "UnreservedConcurrentExecutions": 100}},
    )

    # When the same reservation is checked for an update
    held = doctor.deployed_reservation(stacks.client, client, config())
    check = doctor.check_concurrency(client, 20, held)

    # Then it passes: the update releases the 20 it holds before reserving 20 again
    assert held == 20
    assert check.status == doctor.PASS
    assert "leaves 100 of 120 unreserved" in check.detail


def test_a_first_deploy_holds_no_reservation(stacks):
    stacks.missing("LadderRagApi")

    assert doctor.deployed_reservation(stacks.client, None, config()) == 0


def _quotas(*pages: tuple[str, str, list[dict[str, Any]]]) -> Any:
    """Service Quotas answering (operation, service code, quotas) in order, one page each."""
    client, stubber = stubbed("service-quotas")
    for operation, code, quotas in pages:
        stubber.add_response(operation, {"Quotas": quotas}, {"ServiceCode": code})
    return client


def test_spot_training_quota_passes_when_one_instance_is_allowed():
    # Given a spot quota of 1 for the configured instance type
    quotas = _quotas(
        (
            "list_service_quotas",
            "sagemaker",
            [
                quota("ml.g5.2xlarge for training job usage", 0),
                quota("ml.g5.2xlarge for spot training job usage", 1),
            ],
        )
    )

    # When the fine-tune configuration (spot on) is checked
    check = doctor.check_training_quota(quotas, config("fineTuneSpot=true"))

    # Then the spot quota, not the on-demand one, decides
    assert check.status == doctor.PASS
    assert "'ml.g5.2xlarge for spot training job usage' is 1" in check.detail


def test_a_spot_quota_below_the_instance_count_of_the_job_fails():
    # Given a spot quota of 1 instance
    quotas = _quotas(
        (
            "list_service_quotas",
            "sagemaker",
            [quota("ml.g5.12xlarge for spot training job usage", 1)],
        )
    )

    # When the job runs on 2 instances
    check = doctor.check_training_quota(
        quotas, config("fineTuneSpot=true", "fineTuneInstanceType=ml.g5.12xlarge", "fineTuneInstanceCount=2")
    )

    # Then 1 is not enough, and the fix asks for 2
    assert check.status == doctor.FAIL
    assert "is 1; one spot job needs 2" in check.detail
    assert "of at least 2" in check.fix


def test_on_demand_training_quota_of_zero_fails_with_the_quota_to_request():
    # Given no applied value, and a default of 0 on-demand instances
    quotas = _quotas(
        ("list_service_quotas", "sagemaker", []),
        ("list_aws_default_service_quotas", "sagemaker", [quota("ml.g5.2xlarge for training job usage", 0)]),
    )

    # When the on-demand configuration is checked
    check = doctor.check_training_quota(quotas, config("fineTuneSpot=false"))

    # Then it fails naming the quota to raise
    assert check.status == doctor.FAIL
    assert "is 0; one on-demand job needs 1" in check.detail
    assert "request 'ml.g5.2xlarge for training job usage' of at least 1" in check.fix


def test_training_quota_missing_altogether_fails():
    quotas = _quotas(
        ("list_service_quotas", "sagemaker", []), ("list_aws_default_service_quotas", "sagemaker", [])
    )

    check = doctor.check_training_quota(quotas, config("fineTuneInstanceType=ml.p5.48xlarge"))

    assert check.status == doctor.FAIL
    assert "no quota 'ml.p5.48xlarge for spot training job usage'" in check.detail


def _collections(*details: dict[str, Any]) -> Any:
    aoss, stubber = stubbed("opensearchserverless")
    stubber.add_response(
        "batch_get_collection",
        {"collectionDetails": list(details), "collectionErrorDetails": []},
        {"names": [config().collection_name]},
    )
    return aoss


def test_a_free_collection_name_passes(stacks):
    check = doctor.check_collection_name(_collections(), stacks.client, config())

    assert check.status == doctor.PASS
    assert check.detail == f"{config().collection_name} is free"


def test_a_collection_of_the_deployed_stack_is_an_update_not_a_collision(stacks):
    # Given the collection exists and the deployed Knowledge stack's output names its endpoint
    endpoint = "https://abc123.us-east-1.aoss.amazonaws.com"
    stacks.deployed("LadderKnowledge", {"CollectionEndpoint": endpoint})

    # When the name is checked
    check = doctor.check_collection_name(
        _collections({"name": config().collection_name, "collectionEndpoint": endpoint}),
        stacks.client,
        config(),
    )

    # Then it passes as an update
    assert check.status == doctor.PASS
    assert "belongs to the deployed LadderKnowledge stack" in check.detail


def test_a_collection_name_taken_by_something_else_fails(stacks):
    # Given a leftover collection with the name and no Knowledge stack
    stacks.missing("LadderKnowledge")

    # When the name is checked
    check = doctor.check_collection_name(
        _collections(
            {"name": config().collection_name, "collectionEndpoint": "https://old.aoss.amazonaws.com"}
        ),
        stacks.client,
        config(),
    )

    # Then it fails, saying it bills and how to avoid it
    assert check.status == doctor.FAIL
    assert "already exists" in check.detail
    assert "stackPrefix" in check.fix


def test_a_generated_vector_bucket_name_is_skipped():
    # Given the S3 Vectors store, whose bucket CloudFormation names
    check = doctor.check_vector_store_name(lambda service: None, config("vectorStore=s3vectors"))

    # Then there is no name to collide with
    assert check.status == doctor.SKIP


# --- the whole run through the CLI -----------------------------------------------------------------------


class Account:
    """An account where every check passes unless a test queues a different answer first."""

    def __init__(self, stacks: Any) -> None:
        self.stacks = stacks
        self.ssm, self.ssm_stub = stubbed("ssm")
        self.bedrock = Bedrock()
        self.lambda_client, self.lambda_stub = stubbed("lambda")
        self.quotas, self.quotas_stub = stubbed("service-quotas")
        self.aoss, self.aoss_stub = stubbed("opensearchserverless")
        self.kms, self.kms_stub = stubbed("kms")
        boto3.client("iam", region_name=REGION).create_role(RoleName=EXEC_ROLE, AssumeRolePolicyDocument="{}")

    def bootstrap(self, version: str | None = "30") -> None:
        if version is None:
            self.ssm_stub.add_client_error("get_parameter", service_error_code="ParameterNotFound")
        else:
            self.ssm_stub.add_response(
                "get_parameter",
                {"Parameter": {"Name": doctor.BOOTSTRAP_VERSION_PARAMETER, "Value": version}},
                {"Name": doctor.BOOTSTRAP_VERSION_PARAMETER},
            )

    def models(self, **generation_changes: Any) -> None:
        self.bedrock.usable(EMBEDDING)
        self.bedrock.generation(**generation_changes)
        self.bedrock.usable(JUDGE)

    def powertools(self) -> None:
        name = doctor.POWERTOOLS_LAYER_PARAMETER.format(version=POWERTOOLS)
        self.ssm_stub.add_response(
            "get_parameter", {"Parameter": {"Name": name, "Value": "arn:layer"}}, {"Name": name}
        )

    def concurrency(self, unreserved: int = 1000) -> None:
        self.lambda_stub.add_response(
            "get_account_settings",
            {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": unreserved}},
        )

    def collection(self) -> None:
        self.aoss_stub.add_response(
            "batch_get_collection", {"collectionDetails": [], "collectionErrorDetails": []}
        )

    def all_pass(self) -> None:
        self.bootstrap()
        self.models()
        self.powertools()
        self.concurrency()
        self.collection()

    def client(self, session: boto3.session.Session, service: str) -> Any:
        return {
            "ssm": self.ssm,
            "bedrock": self.bedrock.client,
            "lambda": self.lambda_client,
            "service-quotas": self.quotas,
            "opensearchserverless": self.aoss,
            "kms": self.kms,
        }.get(service) or self.stacks.client_factory(session, service)

    def doctor(self, capsys: Any, *argv: str) -> tuple[int, str, str]:
        context = [arg for item in PINNED for arg in ("-c", item)]
        code = cli.main(["doctor", "--cdk-json", str(CDK_JSON), *context, *argv], client_factory=self.client)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    def assert_all_answered(self) -> None:
        for stubber in (
            self.ssm_stub,
            self.bedrock.stubber,
            self.lambda_stub,
            self.quotas_stub,
            self.aoss_stub,
            self.kms_stub,
        ):
            stubber.assert_no_pending_responses()


@pytest.fixture
def account(aws, stacks) -> Iterator[Account]:
    ready = Account(stacks)
    yield ready
    ready.assert_all_answered()


def test_doctor_exits_0_when_every_check_passes(account, capsys):
    # Given an account ready for the default (sandbox, no fine-tune) deployment
    account.all_pass()

    # When doctor runs
    code, out, err = account.doctor(capsys)

    # Then every line is a pass and it exits 0
    assert code == 0, err
    assert f"Ladder preflight for account {ACCOUNT} in us-east-1" in out
    lines = [line for line in out.splitlines() if line[:2] in ("✓ ", "✗ ", "- ")]
    assert [line.split(":")[0] for line in lines] == [
        "✓ CDK bootstrap",
        "✓ CloudFormation execution role",
        "✓ Bedrock embedding model",
        "✓ Bedrock generation model",
        "✓ Bedrock judge model",
        "✓ Powertools layer",
        "✓ Lambda concurrency",
        "✓ OpenSearch Serverless collection name",
    ]
    assert "All checks passed" in out


def test_doctor_exits_1_and_prints_the_fix_when_a_check_fails(account, capsys):
    # Given an account that was never bootstrapped and has no access to the generation model
    account.bootstrap(None)
    account.models(entitlementAvailability="NOT_AVAILABLE")
    account.powertools()
    account.concurrency()
    account.collection()

    # When doctor runs
    code, out, _ = account.doctor(capsys)

    # Then it exits 1, every check still ran, and each failure carries its fix
    assert code == 1
    assert "✗ CDK bootstrap: not bootstrapped" in out
    assert "    fix: run `make bootstrap`" in out
    assert "✗ Bedrock generation model" in out
    assert "✓ Powertools layer" in out
    assert "2 checks failed" in out


def test_doctor_json_prints_only_the_machine_readable_result(account, capsys):
    # Given a prod configuration whose reserved concurrency does not fit the account
    account.bootstrap()
    account.models()
    account.powertools()
    account.stacks.missing("LadderRagApi")
    account.concurrency(unreserved=50)
    account.collection()

    # When doctor runs for CI
    code, out, _ = account.doctor(capsys, "-c", "reservedConcurrency=20", "--json")

    # Then stdout is one JSON document, and it says which check failed
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False
    assert report["account"] == ACCOUNT
    by_name = {check["name"]: check for check in report["checks"]}
    assert by_name["Lambda concurrency"]["status"] == "fail"
    assert by_name["CDK bootstrap"]["status"] == "pass"


def test_doctor_with_fine_tune_checks_the_training_and_import_quotas(account, capsys):
    # Given the fine-tune stack switched on and enough quota for both
    account.bootstrap()
    account.models()
    account.powertools()
    account.concurrency()
    account.quotas_stub.add_response(
        "list_service_quotas", {"Quotas": [quota("ml.g5.2xlarge for spot training job usage", 2)]}
    )
    account.quotas_stub.add_response(
        "get_service_quota",
        {"Quota": quota("Imported models per account", 3)},
        {"ServiceCode": "bedrock", "QuotaCode": "L-45B04988"},
    )
    account.bedrock.stubber.add_response("list_imported_models", {"modelSummaries": []})
    account.collection()

    # When doctor runs with fineTune=true
    code, out, err = account.doctor(capsys, "-c", "fineTune=true", "-c", "fineTuneSpot=true")

    # Then both quota checks ran and passed
    assert code == 0, out + err
    assert "✓ Training instance quota" in out
    assert "✓ Custom Model Import quota" in out


def test_a_denied_call_fails_its_check_naming_the_permission(account, capsys):
    # Given credentials that may not read Lambda's account settings
    account.bootstrap()
    account.models()
    account.powertools()
    account.lambda_stub.add_client_error("get_account_settings", service_error_code="AccessDeniedException")
    account.collection()

    # When doctor runs
    code, out, _ = account.doctor(capsys)

    # Then that check fails with the permission to grant, and the others still run
    assert code == 1
    assert "✗ Lambda concurrency: could not check: access denied to GetAccountSettings" in out
    assert "lambda:GetAccountSettings" in out
    assert "✓ OpenSearch Serverless collection name" in out


def test_doctor_on_s3_vectors_with_a_customer_key_checks_its_policy(account, capsys):
    # Given the S3 Vectors store encrypted with a customer key whose policy forgets the indexing principal
    account.bootstrap()
    account.models()
    account.powertools()
    account.concurrency()
    account.kms_stub.add_response("get_key_policy", key_policy(), {"KeyId": KEY_ARN, "PolicyName": "default"})

    # When doctor runs
    code, out, _ = account.doctor(capsys, "-c", "vectorStore=s3vectors", "-c", f"vectorKmsKeyArn={KEY_ARN}")

    # Then the key policy line fails with the statement to add, after the vector store name line
    assert code == 1
    assert "- S3 vector bucket name" in out
    assert "✗ Vector store key policy" in out
    assert '"Service": "indexing.s3vectors.amazonaws.com"' in out


def test_an_invalid_configuration_value_exits_1_with_the_configs_message(capsys):
    code = cli.main(["doctor", "--cdk-json", str(CDK_JSON), "-c", "profile=staging"])

    assert code == 1
    assert "-c profile=staging is invalid: expected one of: sandbox, prod" in capsys.readouterr().err


def test_a_context_argument_without_a_value_is_refused(capsys):
    code = cli.main(["doctor", "--cdk-json", str(CDK_JSON), "-c", "profile"])

    assert code == 1
    assert "expected KEY=VALUE" in capsys.readouterr().err


def test_a_missing_cdk_json_exits_2(tmp_path, capsys):
    code = cli.main(["doctor", "--cdk-json", str(tmp_path / "cdk.json")])

    assert code == 2
    assert "not found" in capsys.readouterr().err


def test_doctor_reads_the_same_configuration_as_the_app():
    # Given the repository's cdk.json and an override, as `cdk deploy -c profile=prod` would see them
    loaded = doctor.load_config(CDK_JSON, ["profile=prod"])

    # Then values derive from the profile exactly as in the app
    assert loaded.profile == "prod"
    assert loaded.standby_replicas is True


def test_the_operator_cli_imports_the_configuration_without_the_cdk():
    # stacks.config must stay pure Python: the operator CLI is installed without aws-cdk-lib
    script = (
        "import sys, ladder.cli, ladder.doctor; print('aws_cdk' in sys.modules, 'constructs' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert result.stdout.split() == ["False", "False"]


def test_the_installed_cli_ships_the_configuration_module():
    # `make cli` installs the packages pyproject.toml lists; doctor imports stacks.config from there
    import tomllib

    from setuptools import find_packages

    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = find_packages(where=str(ROOT), include=include["include"])

    assert "stacks" in packages


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["doctor", "--help"], "before `make deploy`"),
        (["docs", "status", "--help"], "dead-letter queue"),
        (["docs", "sync", "--help"], "or say which is running"),
        (["docs", "redrive", "--help"], "Safe to repeat"),
    ],
)
def test_the_new_commands_explain_themselves(capsys, argv, expected):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)

    assert exit_info.value.code == 0
    assert expected in " ".join(capsys.readouterr().out.split())


def test_a_denied_stack_lookup_names_the_cloudformation_permission(stacks):
    # Given a taken collection name and credentials that may not describe stacks
    stacks.stubber.add_client_error(
        "describe_stacks", service_error_code="AccessDenied", http_status_code=403
    )
    aoss = _collections(
        {"name": config().collection_name, "collectionEndpoint": "https://x.aoss.amazonaws.com"}
    )
    with pytest.raises(ClientError) as denied:
        doctor.check_collection_name(aoss, stacks.client, config())

    # When the run turns the denial into the check's line
    check = doctor._client_error("Vector store name", "aoss", denied.value)

    # Then the fix names cloudformation:DescribeStacks, not an aoss action
    assert check.status == doctor.FAIL
    assert "cloudformation:DescribeStacks" in check.fix
