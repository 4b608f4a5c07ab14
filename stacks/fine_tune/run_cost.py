"""What one training run may cost at most, recorded in the fine-tune template and checked against the budget.

A run is capped by ``fineTuneMaxRuntimeHours`` (SageMaker stops the job then), so its worst case is that many
hours of every instance at the on-demand price; managed spot bills less. Scaling out (more or bigger
instances) multiplies it, which is easy to miss: synth warns when one run may cost more than the monthly
budget that is meant to alert on fine-tune spend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ladder_core.catalog.training import PRICES_AS_OF, PRICES_SOURCE, instance, run_cost_usd
from stacks.config import LadderConfig

RUN_METADATA_KEY = "Ladder::TrainingRun"
OVER_BUDGET_WARNING = "ladder:training-run-over-budget"
UNPRICED_WARNING = "ladder:training-run-unpriced"


@dataclass(frozen=True)
class TrainingRun:
    """The job's shape and its cost cap."""

    instance_type: str
    instance_count: int
    gpus: int
    strategy: str
    max_runtime_hours: int
    usd_per_hour: float | None
    spot: bool

    @classmethod
    def of(cls, config: LadderConfig) -> TrainingRun:
        chosen = instance(config.fine_tune_instance_type)
        return cls(
            instance_type=chosen.name,
            instance_count=config.fine_tune_instance_count,
            gpus=config.fine_tune_total_gpus,
            strategy=config.fine_tune_strategy,
            max_runtime_hours=config.fine_tune_max_runtime_hours,
            usd_per_hour=chosen.usd_per_hour,
            spot=config.fine_tune_spot,
        )

    @property
    def max_cost_usd(self) -> float | None:
        """On-demand price x instances x the runtime cap; None when the catalogue has no price."""
        cost = run_cost_usd(self.instance_type, self.instance_count, self.max_runtime_hours)
        return None if cost is None else round(cost, 2)

    def to_metadata(self) -> dict[str, Any]:
        """Template metadata; amounts are decimal strings (CloudFormation metadata holds no floats), ''
        where the catalogue has no price."""
        return {
            "instanceType": self.instance_type,
            "instanceCount": self.instance_count,
            "trainingProcesses": self.gpus,
            "strategy": self.strategy,
            "maxRuntimeHours": self.max_runtime_hours,
            "managedSpot": self.spot,
            "onDemandUsdPerInstanceHour": _usd(self.usd_per_hour),
            "maxRunCostUsd": _usd(self.max_cost_usd),
            "prices": f"SageMaker training on demand, us-east-1, as of {PRICES_AS_OF}: {PRICES_SOURCE}",
        }

    def budget_warning(self, monthly_budget_usd: int) -> str | None:
        """A warning when one run may cost more than the monthly budget; None otherwise."""
        cost = self.max_cost_usd
        if cost is None or cost <= monthly_budget_usd:
            return None
        return (
            f"one fine-tune run may cost up to ${cost:,.2f} on demand ({self.instance_count} x "
            f"{self.instance_type} x {self.max_runtime_hours} h, fineTuneMaxRuntimeHours), more than "
            f"fineTuneMonthlyBudgetUsd={monthly_budget_usd}: the budget alerts after the money is spent. "
            "Raise the budget, lower fineTuneMaxRuntimeHours or fineTuneInstanceCount, or size the run with "
            "'ladder finetune plan'"
        )

    def price_warning(self) -> str | None:
        """A warning when the catalogue has no price for the instance type: the run's cost is unknown, not
        zero, and the budget check above cannot run; None when it has one."""
        if self.usd_per_hour is not None:
            return None
        return (
            f"no catalogued SageMaker training price for {self.instance_type}: the cost cap of one run "
            f"({self.instance_count} x {self.instance_type} x {self.max_runtime_hours} h) is unknown, so it "
            "is not checked against fineTuneMonthlyBudgetUsd. Look the rate up on the SageMaker pricing page "
            "and size the run with 'ladder finetune plan --usd-per-hour RATE'"
        )


def _usd(amount: float | None) -> str:
    return "" if amount is None else str(amount)
