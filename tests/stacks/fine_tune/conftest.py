"""Fine-tune synths shared by the tests of the stack and of its pipeline: the default one and one for each
setting that changes what the pipeline builds."""

from __future__ import annotations

import pytest

from tests.stacks.conftest import COMBINATIONS, FINE_TUNE_ON
from tests.support.synth import Synthesized

UNGATED_MODEL = "Qwen/Qwen2.5-1.5B-Instruct"
TRAINING_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ladder-training:2.9.0-pinned"

# One synth with every tunable changed, one with spot off; the default ones come from COMBINATIONS.
CUSTOM = {
    **FINE_TUNE_ON,
    "fineTuneMaxRuntimeHours": "2",
    "fineTuneMaxWaitHours": "3",
    "fineTuneInstanceType": "ml.g6.xlarge",
    "fineTuneNetworkIsolation": "false",
    "fineTuneMonthlyBudgetUsd": "250",
    "fineTuneLoraR": "8",
    "fineTuneLearningRate": "0.00001",
    "fineTuneBaseModelId": UNGATED_MODEL,
    # Bedrock serves no Converse for imported Qwen2.5 models
    "fineTunedModelApi": "invoke_model",
    "fineTuneSubnetIds": "subnet-0123456789abcdef0",
    "fineTuneSecurityGroupIds": "sg-0123456789abcdef0",
    "alarmEmail": "ml-team@example.com",
}
NO_SPOT = {**FINE_TUNE_ON, "fineTuneSpot": "false"}
# Two 4-GPU instances sharding the base model: 8 training processes.
DISTRIBUTED = {
    **FINE_TUNE_ON,
    "fineTuneInstanceType": "ml.g5.12xlarge",
    "fineTuneInstanceCount": "2",
    "fineTuneStrategy": "fsdp-lora",
    # One run may cost 2 x $7.09 x 4 h = $56.72 on demand: more than this budget
    "fineTuneMonthlyBudgetUsd": "50",
}
# An 8-GPU instance the catalogue has no training price for
UNPRICED = {**FINE_TUNE_ON, "fineTuneInstanceType": "ml.p5.48xlarge"}
ISOLATED = {**FINE_TUNE_ON, "fineTuneNetworkIsolation": "true", "fineTuneTrainingImageUri": TRAINING_IMAGE}


@pytest.fixture(scope="module")
def default(synth) -> Synthesized:
    return synth(COMBINATIONS["sandbox-finetune"])


@pytest.fixture(scope="module")
def custom(synth) -> Synthesized:
    return synth(CUSTOM)


@pytest.fixture(scope="module")
def distributed(synth) -> Synthesized:
    return synth(DISTRIBUTED)


@pytest.fixture(scope="module")
def unpriced(synth) -> Synthesized:
    return synth(UNPRICED)


@pytest.fixture(scope="module")
def no_spot(synth) -> Synthesized:
    return synth(NO_SPOT)


@pytest.fixture(scope="module")
def isolated(synth) -> Synthesized:
    return synth(ISOLATED)
