"""Settings (stacks/config/settings.py): the defaults, what a profile derives and what overrides it."""

from __future__ import annotations

from tests.stacks.config.context import config_with


def test_defaults_are_a_sandbox_without_fine_tuning() -> None:
    config = config_with()
    assert config.profile == "sandbox"
    assert config.fine_tune is False
    assert config.standby_replicas is False
    assert config.waf is False
    assert config.reserved_concurrency == 0
    assert config.log_retention_days == 14
    assert config.embedding_model_id == "amazon.titan-embed-text-v2:0"
    assert config.chunking_strategy == "FIXED_SIZE"


def test_prod_derives_replicas_waf_concurrency_and_retention() -> None:
    # No reserved concurrency even in prod: a reservation fails the deploy on small concurrency quotas.
    config = config_with(profile="prod")
    assert (config.standby_replicas, config.waf, config.reserved_concurrency, config.log_retention_days) == (
        True,
        True,
        0,
        365,
    )


def test_explicit_values_override_what_the_profile_derives() -> None:
    config = config_with(
        profile="prod", standbyReplicas="false", waf="false", reservedConcurrency="3", logRetentionDays="30"
    )
    assert (config.standby_replicas, config.waf, config.reserved_concurrency, config.log_retention_days) == (
        False,
        False,
        3,
        30,
    )


def test_few_shot_is_on_by_default_with_four_examples_and_parses_strictly() -> None:
    config = config_with()
    assert (config.few_shot, config.few_shot_k) == (True, 4)
    assert (config_with(fewShot="false").few_shot, config_with(fewShotK="16").few_shot_k) == (False, 16)


def test_the_default_base_model_is_the_training_scripts_default() -> None:
    from training_jobs import job_contract

    assert config_with().fine_tune_base_model_id == job_contract.DEFAULT_BASE_MODEL_ID
