"""``ladder doctor``: a read-only preflight of the target account and region before ``make deploy``.

Each check calls only describe/get/list APIs with the caller's credentials and answers pass, fail (with
the fix) or skip (does not apply to this configuration). The configuration is the one the CDK app builds:
``cdk.json``'s context plus ``-c key=value`` overrides, parsed by :func:`stacks.config.from_context`
(pure Python, no CDK import), so doctor and ``cdk deploy`` never disagree on a value.

Configuration fields read: region, stack_prefix, deploy_role_arn, embedding_model_id, generation_model_ids
(and inference_profile_geo / foundation_generation_model_id), rerank_model_id, powertools_version,
reserved_concurrency, fine_tune, fine_tune_instance_type, fine_tune_spot, evaluation_judge_model_ids,
vector_store, vector_kms_key_arn and collection_name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ladder_core.catalog.bedrock import foundation_model_id, inference_profile_geo
from lambdas.imported_models import constants as import_constants
from lambdas.imported_models.housekeeping import read_imported_model_quota
from stacks.config import (
    POWERTOOLS_LAYER_PARAMETER,
    ConfigError,
    LadderConfig,
    from_context,
)
from stacks.marketplace_products import is_marketplace_model, marketplace_product_id

from .errors import LadderError, SetupError, network_problem

CDK_QUALIFIER = "hnb659fds"
"""The default bootstrap qualifier of CDK's DefaultStackSynthesizer (the app does not change it)."""
BOOTSTRAP_VERSION_PARAMETER = f"/cdk-bootstrap/{CDK_QUALIFIER}/version"
MIN_BOOTSTRAP_VERSION = 6
"""Templates synthesized with the DefaultStackSynthesizer refuse to deploy on a bootstrap older than 6."""
EXECUTION_ROLE_NAME = "cdk-{qualifier}-cfn-exec-role-{account}-{region}"
"""SSM public parameter holding the Powertools layer ARN; the same path stacks/constructs resolves."""
UNRESERVED_CONCURRENCY_FLOOR = 100
"""Lambda keeps this much account concurrency unreserved; a reservation that would go below it fails."""
SPOT_TRAINING_QUOTA = "{instance} for spot training job usage"
ON_DEMAND_TRAINING_QUOTA = "{instance} for training job usage"
IMPORTED_MODELS_QUOTA = "Imported models per account"
BEDROCK_SERVICE_CODE = "bedrock"
SAGEMAKER_SERVICE_CODE = "sagemaker"
DEFAULT_VECTOR_STORE = "opensearch"
AUTHORIZED = "AUTHORIZED"
AVAILABLE = "AVAILABLE"
ACCESS_DENIED_CODES = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")
NOT_FOUND_CODES = ("ResourceNotFoundException", "ValidationException")
S3_VECTORS_INDEXING_PRINCIPAL = "indexing.s3vectors.amazonaws.com"
"""S3 Vectors indexes asynchronously under this service principal, which must be able to decrypt with a
customer managed key (Amazon S3 user guide, "Data protection and encryption in S3 Vectors")."""

# Calls a check makes to a service other than its own, so a denial names the right IAM action.
_OPERATION_PREFIX = {
    "DescribeStacks": "cloudformation",
    "GetFunctionConcurrency": "lambda",
    "ListImportedModels": "bedrock",
}

PASS, FAIL, SKIP = "pass", "fail", "skip"
_MARK = {PASS: "✓", FAIL: "✗", SKIP: "-"}

Clients = Callable[[str], Any]
"""Returns the boto3 client of a service (``"ssm"``, ``"bedrock"``, ...) for the target account/region."""


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, the outcome, what was found and (on failure) the fix."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def format(self) -> str:
        line = f"{_MARK[self.status]} {self.name}: {self.detail}"
        return f"{line}\n    fix: {self.fix}" if self.status == FAIL and self.fix else line


def passed(name: str, detail: str) -> Check:
    return Check(name, PASS, detail)


def failed(name: str, detail: str, fix: str) -> Check:
    return Check(name, FAIL, detail, fix)


def skipped(name: str, detail: str) -> Check:
    return Check(name, SKIP, detail)


@dataclass(frozen=True)
class Report:
    account: str
    region: str
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.status != FAIL for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "account": self.account,
            "region": self.region,
            "checks": [asdict(check) for check in self.checks],
        }

    def format(self) -> str:
        lines = [f"Ladder preflight for account {self.account} in {self.region}", ""]
        lines += [check.format() for check in self.checks]
        failures = sum(check.status == FAIL for check in self.checks)
        lines.append("")
        lines.append(
            "All checks passed: `make deploy` next."
            if not failures
            else f"{failures} check{'s' if failures > 1 else ''} failed: fix them before `make deploy`."
        )
        return "\n".join(lines)


def load_config(cdk_json: Path, overrides: list[str]) -> LadderConfig:
    """The app's configuration: ``cdk_json``'s context with ``KEY=VALUE`` overrides (as ``cdk -c``)."""
    try:
        return from_context(read_context(cdk_json, overrides))
    except ConfigError as err:
        raise LadderError(str(err)) from None


def read_context(cdk_json: Path | None, overrides: list[str]) -> dict[str, Any]:
    """``cdk_json``'s context (none when None) with ``KEY=VALUE`` overrides applied, not yet validated."""
    document: Any = {}
    try:
        if cdk_json is not None:
            document = json.loads(cdk_json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SetupError(
            f"{cdk_json} not found: run doctor from the project folder or pass --cdk-json"
        ) from None
    except (OSError, json.JSONDecodeError) as err:
        raise SetupError(f"{cdk_json} cannot be read: {err}") from None
    context = dict(document.get("context", {})) if isinstance(document, dict) else {}
    for override in overrides:
        key, separator, value = override.partition("=")
        if not separator or not key:
            raise LadderError(f"-c {override}: expected KEY=VALUE, such as -c profile=prod")
        context[key] = value
    return context


def run(clients: Clients, config: LadderConfig) -> Report:
    """Run every check against the account of the caller's credentials in ``config.region``."""
    identity = clients("sts").get_caller_identity()
    account = identity["Account"]
    partition = identity["Arn"].split(":")[1]
    checks: list[Check] = []
    for name, service, check in _checks(clients, config, account, partition):
        try:
            checks.extend(check())
        except ClientError as err:
            checks.append(_client_error(name, service, err))
        except BotoCoreError as err:
            problem = network_problem(err)
            if problem is None:
                raise
            checks.append(failed(name, f"could not check: {problem}", f"let this machine reach {service}"))
    return Report(account=account, region=config.region, checks=checks)


def _checks(
    clients: Clients, config: LadderConfig, account: str, partition: str
) -> Iterator[tuple[str, str, Callable[[], list[Check]]]]:
    """(check name, IAM prefix of the service it reads, the check) in report order."""
    yield "CDK bootstrap", "ssm", lambda: [check_bootstrap(clients("ssm"))]
    yield (
        "CloudFormation execution role",
        "iam",
        lambda: [check_execution_role(clients("iam"), config, account, partition)],
    )
    yield "Bedrock models", "bedrock", lambda: check_models(clients("bedrock"), config)
    yield "Powertools layer", "ssm", lambda: [check_powertools(clients("ssm"), config.powertools_version)]
    yield (
        "Lambda concurrency",
        "lambda",
        lambda: [_check_concurrency(clients, config)],
    )
    if config.fine_tune:
        yield (
            "Training instance quota",
            "servicequotas",
            lambda: [check_training_quota(clients("service-quotas"), config)],
        )
        yield (
            "Custom Model Import quota",
            "servicequotas",
            lambda: [check_import_quota(clients("service-quotas"), clients("bedrock"))],
        )
    yield (
        "Vector store name",
        "aoss",
        lambda: [check_vector_store_name(clients, config)],
    )
    if config.vector_store == "s3vectors" and config.vector_kms_key_arn:
        yield (
            "Vector store key policy",
            "kms",
            lambda: [check_vector_key_policy(clients("kms"), config.vector_kms_key_arn)],
        )


def check_bootstrap(ssm: Any) -> Check:
    """The CDK bootstrap stack's version parameter exists and is recent enough for these templates."""
    name = "CDK bootstrap"
    fix = "run `make bootstrap` (cdk bootstrap) once for this account and region"
    try:
        value = ssm.get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)["Parameter"]["Value"]
    except ClientError as err:
        if _code(err) != "ParameterNotFound":
            raise
        return failed(
            name, f"not bootstrapped ({BOOTSTRAP_VERSION_PARAMETER} not found; no CDKToolkit stack)", fix
        )
    version = int(value) if str(value).isdigit() else 0
    if version < MIN_BOOTSTRAP_VERSION:
        return failed(name, f"bootstrap version {value} is older than {MIN_BOOTSTRAP_VERSION}", fix)
    return passed(name, f"bootstrap version {version} (CDKToolkit)")


def execution_role_arn(config: LadderConfig, account: str, partition: str) -> str:
    """The principal that creates the vector index: deployRoleArn, else the bootstrap execution role."""
    if config.deploy_role_arn:
        return config.deploy_role_arn
    role = EXECUTION_ROLE_NAME.format(qualifier=CDK_QUALIFIER, account=account, region=config.region)
    return f"arn:{partition}:iam::{account}:role/{role}"


def check_execution_role(iam: Any, config: LadderConfig, account: str, partition: str) -> Check:
    """The role the vector store's data-access policy names exists (else the index cannot be created)."""
    name = "CloudFormation execution role"
    arn = execution_role_arn(config, account, partition)
    role_name = arn.rsplit("/", 1)[-1]
    try:
        iam.get_role(RoleName=role_name)
    except ClientError as err:
        if _code(err) != "NoSuchEntity":
            raise
        fix = (
            "pass -c deployRoleArn=<ARN of the role that deploys the stacks>"
            if config.deploy_role_arn
            else "run `make bootstrap`, or pass -c deployRoleArn=<ARN of the role that deploys the stacks>"
        )
        return failed(name, f"{arn} does not exist; the vector store's access policy names it", fix)
    return passed(name, arn)


def model_ids(config: LadderConfig) -> list[tuple[str, str]]:
    """(purpose, model or inference profile id) of every Bedrock model the configuration calls."""
    models = [("embedding", config.embedding_model_id)]
    models += [("generation", model) for model in config.generation_model_ids]
    if config.rerank_model_id:
        models.append(("reranker", config.rerank_model_id))
    models += [("judge", judge) for judge in config.evaluation_judge_model_ids]
    return models


def check_models(bedrock: Any, config: LadderConfig) -> list[Check]:
    checks = []
    for purpose, model_id in model_ids(config):
        try:
            checks.append(check_model(bedrock, purpose, model_id))
        except ClientError as err:
            checks.append(_client_error(f"Bedrock {purpose} model", "bedrock", err))
    return checks


def check_model(bedrock: Any, purpose: str, model_id: str) -> Check:
    """The model (or the foundation model behind an inference profile) is offered here and usable."""
    name = f"Bedrock {purpose} model"
    foundation_id = model_id
    via = ""
    if inference_profile_geo(model_id):
        try:
            profile = bedrock.get_inference_profile(inferenceProfileIdentifier=model_id)
        except ClientError as err:
            if _code(err) not in NOT_FOUND_CODES:
                raise
            return failed(
                name,
                f"inference profile {model_id} is not offered in this region",
                "pick a profile listed by `aws bedrock list-inference-profiles` (-c generationModelId=...)",
            )
        foundation_id = foundation_model_id(model_id)
        via = f" via {profile['inferenceProfileId']}"
    try:
        details = bedrock.get_foundation_model(modelIdentifier=foundation_id)["modelDetails"]
    except ClientError as err:
        if _code(err) not in NOT_FOUND_CODES:
            raise
        return failed(
            name,
            f"{foundation_id} is not offered in this region",
            "pick a model listed by `aws bedrock list-foundation-models` in this region, or deploy elsewhere",
        )
    if not via and "ON_DEMAND" not in details.get("inferenceTypesSupported", []):
        return failed(
            name,
            f"{foundation_id} cannot be called on demand in this region",
            "use one of its cross-region inference profiles (us., eu., apac., global., ... prefix) instead",
        )
    availability = bedrock.get_foundation_model_availability(modelId=foundation_id)
    problem = _availability_problem(availability)
    if problem:
        return failed(
            name,
            f"{foundation_id}{via}: {problem}",
            "enable access to the model in the Bedrock console (Model access / model catalog) "
            "and accept its terms, or ask an account administrator",
        )
    status = availability.get("agreementAvailability", {}).get("status")
    if is_marketplace_model(foundation_id) and status != AVAILABLE:
        return failed(
            name,
            f"{foundation_id}{via}: this account has no AWS Marketplace subscription to it yet; the first "
            "call subscribes only if every prerequisite holds, and otherwise fails AccessDenied",
            subscription_fix(foundation_id),
        )
    lifecycle = details.get("modelLifecycle", {}).get("status", "ACTIVE")
    note = " (LEGACY: plan a replacement)" if lifecycle == "LEGACY" else ""
    subscribed = " and subscribed" if is_marketplace_model(foundation_id) else ""
    return passed(name, f"{foundation_id}{via} is available{subscribed}{note}")


def subscription_fix(foundation_id: str) -> str:
    """How to subscribe the account to a third-party model once, before the first request needs it."""
    steps = []
    if foundation_id.startswith("anthropic."):
        steps.append(
            "submit Anthropic's one-time use-case form (its model card in the Bedrock console, or "
            "`aws bedrock put-use-case-for-model-access`)"
        )
    steps.append(
        f"run `aws bedrock list-foundation-model-agreement-offers --model-id {foundation_id}` and then "
        f"`aws bedrock create-foundation-model-agreement --model-id {foundation_id} "
        "--offer-token <offerToken>` "
        "(or invoke the model once) with credentials allowed aws-marketplace:Subscribe and "
        "aws-marketplace:ViewSubscriptions; the account needs a payment method for AWS Marketplace"
    )
    product = marketplace_product_id(foundation_id)
    steps.append(
        f"the deployed role that calls it may subscribe too (aws-marketplace:Subscribe on {product}), but "
        "subscribing now keeps the first requests from failing while the subscription completes"
        if product
        else "Ladder does not know its AWS Marketplace product id, so no deployed role may subscribe to it"
    )
    return "; ".join(steps)


def _availability_problem(availability: dict[str, Any]) -> str:
    if availability.get("regionAvailability") != AVAILABLE:
        return "not available in this region"
    if availability.get("authorizationStatus") != AUTHORIZED:
        return "this account is not authorized to use it"
    if availability.get("entitlementAvailability") != AVAILABLE:
        return "no entitlement: model access not granted"
    agreement = availability.get("agreementAvailability", {})
    if agreement.get("status") in ("PENDING", "ERROR"):
        message = agreement.get("errorMessage") or agreement["status"].lower()
        return f"model agreement {message}"
    return ""


def check_powertools(ssm: Any, version: str) -> Check:
    """AWS publishes the configured Powertools layer version in this region (resolved at deploy)."""
    name = "Powertools layer"
    parameter = POWERTOOLS_LAYER_PARAMETER.format(version=version)
    try:
        arn = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    except ClientError as err:
        if _code(err) != "ParameterNotFound":
            raise
        return failed(
            name,
            f"{parameter} not found: Powertools {version} is not published in this region",
            "set -c powertoolsVersion=<a 3.x.y release published here> "
            "(aws ssm get-parameters-by-path --path /aws/service/powertools/python/arm64/python3.14)",
        )
    return passed(name, f"Powertools {version}: {arn}")


def check_concurrency(lambda_client: Any, reserved: int, held: int = 0) -> Check:
    """The RAG function's reserved concurrency leaves the account's unreserved floor intact.

    ``held`` is what the deployed RAG function reserves already (an update releases it first).
    """
    name = "Lambda concurrency"
    limit = lambda_client.get_account_settings()["AccountLimit"]
    total = limit.get("ConcurrentExecutions", 0)
    unreserved = limit.get("UnreservedConcurrentExecutions", 0) + held
    if not reserved:
        return passed(
            name, f"no reserved concurrency requested (account limit {total}, {unreserved} unreserved)"
        )
    left = unreserved - reserved
    if left < UNRESERVED_CONCURRENCY_FLOOR:
        return failed(
            name,
            f"reserving {reserved} of {unreserved} unreserved would leave {left}, below the "
            f"{UNRESERVED_CONCURRENCY_FLOOR} Lambda keeps unreserved (account limit {total})",
            "pass -c reservedConcurrency=0, or request a higher 'Concurrent executions' quota "
            "(Service Quotas, AWS Lambda)",
        )
    return passed(name, f"reserving {reserved} leaves {left} of {total} unreserved")


def deployed_reservation(cloudformation: Any, lambda_client: Any, config: LadderConfig) -> int:
    """Reserved concurrency the deployed RAG function holds now; 0 when the RagApi stack is not deployed."""
    function = _stack_outputs(cloudformation, f"{config.stack_prefix}RagApi").get("RagFunctionName")
    if not function:
        return 0
    return int(
        lambda_client.get_function_concurrency(FunctionName=function).get("ReservedConcurrentExecutions", 0)
    )


def _check_concurrency(clients: Clients, config: LadderConfig) -> Check:
    reserved = config.reserved_concurrency
    held = deployed_reservation(clients("cloudformation"), clients("lambda"), config) if reserved else 0
    return check_concurrency(clients("lambda"), reserved, held)


def check_training_quota(quotas: Any, config: LadderConfig) -> Check:
    """The SageMaker quota for the training instance type (spot or on-demand) covers one job's instances."""
    instance = config.fine_tune_instance_type
    count = config.fine_tune_instance_count
    kind = "spot" if config.fine_tune_spot else "on-demand"
    quota_name = (SPOT_TRAINING_QUOTA if config.fine_tune_spot else ON_DEMAND_TRAINING_QUOTA).format(
        instance=instance
    )
    name = "Training instance quota"
    value = find_quota(quotas, SAGEMAKER_SERVICE_CODE, quota_name)
    fix = (
        f"request '{quota_name}' of at least {count} in Service Quotas (Amazon SageMaker); "
        "approval can take days"
    )
    if value is None:
        return failed(name, f"no quota '{quota_name}' in this region: {instance} may not train here", fix)
    if value < count:
        return failed(name, f"'{quota_name}' is {value:g}; one {kind} job needs {count}", fix)
    return passed(name, f"'{quota_name}' is {value:g} ({count} needed)")


IMPORT_QUOTA_ACTIONS = ("servicequotas:GetServiceQuota", "servicequotas:GetAWSDefaultServiceQuota")


def check_import_quota(quotas: Any, bedrock: Any) -> Check:
    """Bedrock Custom Model Import has room for one more imported model.

    The quota is read by its code, as the pipeline's capacity check reads it: the applied value, else the AWS
    default. When neither can be read the check fails: a deploy that cannot know whether an import fits would
    find out after paying for the GPU.
    """
    name = "Custom Model Import quota"
    label = f"'{IMPORTED_MODELS_QUOTA}' ({import_constants.QUOTA_SERVICE_CODE} {import_constants.QUOTA_CODE})"
    value, _, problems = read_imported_model_quota(quotas)
    if value is None:
        return failed(
            name,
            f"could not read the quota {label}: {'; '.join(problems)}",
            f"run doctor with credentials allowed {' and '.join(IMPORT_QUOTA_ACTIONS)} (read-only; e.g. the "
            "ReadOnlyAccess managed policy)",
        )
    fix = (
        f"request a higher '{IMPORTED_MODELS_QUOTA}' in Service Quotas (Amazon Bedrock), "
        "or delete unused imports"
    )
    imported = sum(
        len(page.get("modelSummaries", []))
        for page in bedrock.get_paginator("list_imported_models").paginate()
    )
    if imported >= value:
        return failed(
            name, f"{imported} of {value:g} imported models used; the pipeline imports one more", fix
        )
    return passed(name, f"{imported} of {value:g} imported models used")


def find_quota(quotas: Any, service_code: str, quota_name: str) -> float | None:
    """The account's applied value of the quota named ``quota_name``, else its default; None if no such quota.

    Service Quotas lists only quotas with an applied value in ListServiceQuotas; the rest are defaults.
    """
    for operation in ("list_service_quotas", "list_aws_default_service_quotas"):
        for page in quotas.get_paginator(operation).paginate(ServiceCode=service_code):
            for quota in page.get("Quotas", []):
                if quota.get("QuotaName", "").lower() == quota_name.lower():
                    return float(quota["Value"])
    return None


def check_vector_store_name(clients: Clients, config: LadderConfig) -> Check:
    """The vector store's fixed name is free, or already belongs to this deployment's Knowledge stack."""
    if config.vector_store != DEFAULT_VECTOR_STORE:
        return skipped(
            "S3 vector bucket name", "the vector bucket's name is generated at deploy, so it cannot collide"
        )
    return check_collection_name(clients("opensearchserverless"), clients("cloudformation"), config)


def check_collection_name(aoss: Any, cloudformation: Any, config: LadderConfig) -> Check:
    name = "OpenSearch Serverless collection name"
    collection = config.collection_name
    details = aoss.batch_get_collection(names=[collection]).get("collectionDetails", [])
    if not details:
        return passed(name, f"{collection} is free")
    endpoint = details[0].get("collectionEndpoint", "")
    if endpoint and endpoint in _knowledge_outputs(cloudformation, config).values():
        return passed(
            name, f"{collection} belongs to the deployed {config.stack_prefix}Knowledge stack (an update)"
        )
    return failed(
        name,
        f"a collection named {collection} already exists and is not this deployment's "
        "(a retained collection or another stack)",
        "delete it if it is a leftover (it bills while it exists), or deploy with another -c stackPrefix=...",
    )


def check_vector_key_policy(kms: Any, key_arn: str) -> Check:
    """The customer managed key of the S3 vector bucket lets S3 Vectors' indexing principal decrypt, without
    which indexing fails ("Insufficient access to perform asynchronous indexing")."""
    name = "Vector store key policy"
    try:
        document = json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    except ClientError as err:
        if _code(err) != "NotFoundException":
            raise
        return failed(name, f"{key_arn} does not exist", "pass -c vectorKmsKeyArn=<ARN of an existing key>")
    for statement in _as_list(document.get("Statement")):
        principal = statement.get("Principal")
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        actions = _as_list(statement.get("Action"))
        if (
            statement.get("Effect") == "Allow"
            and S3_VECTORS_INDEXING_PRINCIPAL in services
            and {"kms:Decrypt", "kms:*"} & set(actions)
        ):
            return passed(name, f"{key_arn} lets {S3_VECTORS_INDEXING_PRINCIPAL} decrypt")
    statement = {
        "Sid": "AllowS3VectorsIndexing",
        "Effect": "Allow",
        "Principal": {"Service": S3_VECTORS_INDEXING_PRINCIPAL},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": key_arn.split(":")[4]}},
    }
    return failed(
        name,
        f"the policy of {key_arn} does not let {S3_VECTORS_INDEXING_PRINCIPAL} decrypt: S3 Vectors could not "
        "index the knowledge base's vectors",
        f"add this statement to the key policy (aws kms put-key-policy): {json.dumps(statement)}",
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _knowledge_outputs(cloudformation: Any, config: LadderConfig) -> dict[str, str]:
    return _stack_outputs(cloudformation, f"{config.stack_prefix}Knowledge")


def _stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """A deployed stack's outputs, or {} when it is not deployed."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as err:
        if _code(err) != "ValidationError":
            raise
        return {}
    return {o["OutputKey"]: o["OutputValue"] for o in (stacks[0].get("Outputs", []) if stacks else [])}


def _client_error(name: str, iam_prefix: str, err: ClientError) -> Check:
    code = _code(err)
    operation = err.operation_name
    if code in ACCESS_DENIED_CODES:
        return failed(
            name,
            f"could not check: access denied to {operation}",
            f"run doctor with credentials allowed {_OPERATION_PREFIX.get(operation, iam_prefix)}:{operation} "
            "(read-only; e.g. the ReadOnlyAccess managed policy)",
        )
    message = err.response.get("Error", {}).get("Message", "")
    return failed(
        name, f"could not check: {code} in {operation}: {message}", "retry; if it persists, check the error"
    )


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))
