"""The scale case: a fine-tuned small model's monthly cost at a given volume, from stated assumptions.

A Custom Model Import model is billed per Custom Model Unit (CMU) per minute while a model copy is
active, in 5-minute windows from the first call, and scales to zero after a 5-minute idle window
(Bedrock user guide, "Calculate the cost of running a custom model"); its weights are billed per CMU
per month while imported. A training run is a one-off cost, spread over the verdict's lifetime because
the decision (and the model) is re-measured when the verdict expires.

Every number here is an assumption, dated, with its source; the verdict repeats them in its reasons. The
prices come from the catalog (``ladder_core.catalog``): Custom Model Import's (which ``ladder eval`` prices
imported-model answers with too) and the training instance's, for the run the configuration describes
(``fineTuneInstanceType`` x ``fineTuneInstanceCount`` x ``fineTuneMaxRuntimeHours``).

The comparison is of whole costs. The arm's cost per query is the summary's ``costPerQueryUsd``, the sum of
its known components (``costBreakdownUsd``); a fine-tuned model replaces only the generation, so it pays the
arm's other components too (guardrail, embedding, rerank, vector query, requests: the same API, guardrail
and retrieval serve it), and both sides pay the vector store's idle floor (OpenSearch Serverless bills
OCU-hours, not queries). Leaving a cost both sides pay out of the comparison would inflate the relative
saving. A model copy's CMUs are the imported model's own when ``GetImportedModel`` could be read
(``customModelUnits.customModelUnitsPerModelCopy``), else the default for an 8B Llama, which the reasons say.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ladder_core.catalog import idle, training
from ladder_core.catalog.bedrock import CUSTOM_MODEL_IMPORT, CUSTOM_MODEL_IMPORT_STORAGE
from ladder_core.evaluation.costs import COMPONENTS, GENERATION

from ..pricing.imported import ImportedModelUnits

DAYS_PER_MONTH = 30
MINUTES_PER_DAY = 24 * 60
BILLING_WINDOW_MINUTES = 5
CLEARLY_CHEAPER = 0.30
"""The fine-tuned model must cost at least 30 % less a month than the arm it replaces: the estimate is
rough (throughput, traffic shape, price changes), so a small saving is within its error."""
DEFAULT_CMUS_NOTE = (
    "the default for a Llama 3.1 8B-class model: no imported model's customModelUnits were read "
    "(GetImportedModel); a smaller model uses fewer"
)
SHARED_COMPONENTS = tuple(component for component in COMPONENTS if component != GENERATION)
"""The per-query costs a fine-tuned model pays as well as the arm it replaces."""


def vector_store_floor_monthly_usd(context: Mapping[str, Any]) -> tuple[float, str]:
    """The vector store's idle floor a month and what it is: OpenSearch Serverless bills its minimum OCUs
    every hour (with standby replicas, ``standbyReplicas`` or the ``prod`` profile, twice as many); S3
    Vectors has no floor (its queries are priced per query)."""
    if context.get("vectorStore", "opensearch") != "opensearch":
        return 0.0, ""
    standby = context.get("standbyReplicas")
    with_standby = (
        context.get("profile") == "prod" if standby in (None, "") else str(standby).lower() == "true"
    )
    ocus = idle.OCU_MIN_WITH_STANDBY if with_standby else idle.OCU_MIN_WITHOUT_STANDBY
    usd = ocus * idle.OCU_HOUR.usd * idle.HOURS_PER_MONTH
    return usd, (
        f"OpenSearch Serverless {ocus:g} OCU x ${idle.OCU_HOUR.usd}/OCU-hour x {idle.HOURS_PER_MONTH} h "
        f"({'with' if with_standby else 'without'} standby replicas, {idle.PRICE_REGION}, "
        f"as of {idle.PRICES_AS_OF})"
    )


@dataclass(frozen=True)
class FineTuneEconomics:
    """Assumptions behind the monthly cost of serving a fine-tuned small model (us-east-1 prices)."""

    cmu_price_per_minute_usd: float = CUSTOM_MODEL_IMPORT.usd_per_cmu_minute
    """Custom Model Import per CMU per minute, us-east-1: the price table's entry, dated, with its source."""
    cmus_per_copy: int = CUSTOM_MODEL_IMPORT.cmus_per_copy
    """CMUs per model copy for a Llama 3.1 8B-class model (Bedrock sets it at import; GetImportedModel's
    ``customModelUnits.customModelUnitsPerModelCopy`` gives the real value). Smaller models need fewer."""
    storage_per_cmu_month_usd: float = CUSTOM_MODEL_IMPORT_STORAGE.usd
    """Imported-model storage per CMU per month, us-east-1: the catalog's entry."""
    queries_per_copy_minute: float = 30.0
    """Queries one model copy serves per minute (assumed: ~2 s per answer, one request at a time per
    copy, half a copy's minute busy) - the throughput a load test of the imported model should confirm."""
    training_run_usd: float | None = None
    """One training run's on-demand cost, spot savings ignored; None when it is unknown (no configured run,
    or no catalogued price for its instance): the scale case then says so and claims no saving."""
    training_run: str = "no training run configured (no fineTune* settings: no cdk.json here)"
    """What ``training_run_usd`` is the cost of, as the verdict's assumptions say it."""
    cmus_note: str = DEFAULT_CMUS_NOTE
    """Where ``cmus_per_copy`` comes from, as the verdict's assumptions say it."""
    vector_floor_monthly_usd: float = 0.0
    """The vector store's idle floor a month (OpenSearch Serverless OCUs), paid by both sides."""
    vector_floor: str = ""
    """What ``vector_floor_monthly_usd`` is, as the verdict says it; empty when there is none."""

    @classmethod
    def configured(cls, context: Mapping[str, Any]) -> FineTuneEconomics:
        """The assumptions with the training run of the configuration's ``fineTuneInstanceType``,
        ``fineTuneInstanceCount`` and ``fineTuneMaxRuntimeHours`` (cdk.json with -c overrides), priced on
        demand from the catalog for the full runtime cap (the most one run may bill)."""
        instance_type = context.get("fineTuneInstanceType")
        try:
            count = int(context.get("fineTuneInstanceCount", 1))
            hours = int(context["fineTuneMaxRuntimeHours"])
        except (KeyError, TypeError, ValueError):
            return cls()
        floor, floor_text = vector_store_floor_monthly_usd(context)
        store = cls(vector_floor_monthly_usd=floor, vector_floor=floor_text)
        if not isinstance(instance_type, str) or not instance_type:
            return store
        run = f"{count} x {instance_type} for {hours} h, the fineTuneMaxRuntimeHours cap, on demand"
        if instance_type not in training.INSTANCES:
            unknown = f"{run}; {instance_type} is not a catalogued training instance"
            return replace(store, training_run=unknown)
        cost = training.run_cost_usd(instance_type, count, hours)
        if cost is None:
            return replace(store, training_run=f"{run}; the catalog has no price for {instance_type}")
        rate = training.instance(instance_type).usd_per_hour
        return replace(
            store,
            training_run_usd=cost,
            training_run=(
                f"{run} at ${rate}/h; SageMaker training, us-east-1, as of {training.PRICES_AS_OF}: "
                f"{training.PRICES_SOURCE}"
            ),
        )

    def with_imported_model(self, units: ImportedModelUnits | None, note: str = "") -> FineTuneEconomics:
        """The assumptions with the imported model's own CMUs per copy; without units, the default and
        ``note`` (why they could not be read)."""
        if units is None:
            return replace(self, cmus_note=f"{DEFAULT_CMUS_NOTE}; {note}" if note else self.cmus_note)
        version = f", CMU version {units.version}" if units.version else ""
        return replace(
            self,
            cmus_per_copy=units.cmus_per_copy,
            cmus_note=f"read from GetImportedModel for {units.model_id}{version}",
        )

    def describe(self) -> list[str]:
        training_cost = (
            f"one training run costs ${self.training_run_usd:.2f}, spread over the verdict's lifetime: "
            f"{self.training_run}."
            if self.training_run_usd is not None
            else f"the cost of a training run is unknown, so no saving is claimed: {self.training_run}."
        )
        return [
            f"Assumption: Custom Model Import bills ${self.cmu_price_per_minute_usd}/CMU/minute in "
            f"{BILLING_WINDOW_MINUTES}-minute windows while a copy is active (us-east-1, price as of "
            f"{CUSTOM_MODEL_IMPORT.as_of}, {CUSTOM_MODEL_IMPORT.source}), with "
            f"{self.cmus_per_copy} CMUs per copy ({self.cmus_note}) and "
            f"${self.storage_per_cmu_month_usd}/CMU/month storage.",
            f"Assumption: one model copy serves {self.queries_per_copy_minute:g} queries per minute; queries "
            "arrive evenly over 24 hours.",
            f"Assumption: {training_cost}",
            "Assumption: the fine-tuned model is served by the same API, guardrail and retrieval, so it pays "
            "the arm's guardrail, embedding, rerank, vector query and request costs per query too; only the "
            "generation is replaced."
            + (
                f" Both sides pay the vector store's floor, ${self.vector_floor_monthly_usd:,.2f}/month: "
                f"{self.vector_floor}."
                if self.vector_floor
                else ""
            ),
        ]


@dataclass(frozen=True)
class ScaleCase:
    """Monthly cost of the arm that meets the targets against a fine-tuned small model at the same volume."""

    queries_per_day: int
    arm: str
    arm_monthly_usd: float
    copies: int
    active_minutes_per_day: float
    serving_monthly_usd: float
    storage_monthly_usd: float
    training_monthly_usd: float | None
    """None when a training run's cost is unknown."""
    breakdown: Mapping[str, float | None] | None = None
    """The arm's ``costBreakdownUsd`` per query; None for a run summarised before it existed."""
    shared_monthly_usd: float = 0.0
    """The arm's per-query costs other than generation, at this volume: the fine-tuned model pays them too."""
    floor_monthly_usd: float = 0.0
    """The vector store's idle floor, paid by both sides."""

    @property
    def arm_total_monthly_usd(self) -> float:
        """The arm's queries and the vector store's floor."""
        return self.arm_monthly_usd + self.floor_monthly_usd

    @property
    def fine_tuned_monthly_usd(self) -> float:
        """Serving, storage, training, the same guardrail/retrieval/request costs and the floor; without a
        known training cost, a lower bound."""
        return (
            self.serving_monthly_usd
            + self.storage_monthly_usd
            + (self.training_monthly_usd or 0.0)
            + self.shared_monthly_usd
            + self.floor_monthly_usd
        )

    @property
    def saving(self) -> float:
        """Share of the arm's monthly cost the fine-tuned model saves (negative when it costs more)."""
        if self.arm_monthly_usd <= 0:
            return -math.inf
        return 1 - self.fine_tuned_monthly_usd / self.arm_total_monthly_usd

    @property
    def clearly_cheaper(self) -> bool:
        """At least :data:`CLEARLY_CHEAPER` saved, counting a training run whose cost is known."""
        return self.training_monthly_usd is not None and self.saving >= CLEARLY_CHEAPER

    def describe(self) -> str:
        known = self.training_monthly_usd is not None
        training_text = f"${self.training_monthly_usd:,.2f}" if known else "unknown, left out"
        floor = f" + vector store floor ${self.floor_monthly_usd:,.2f}" if self.floor_monthly_usd else ""
        shared = (
            f", the same guardrail, retrieval and requests ${self.shared_monthly_usd:,.2f}"
            if self.breakdown is not None
            else ", guardrail, retrieval and requests not in this run's summary, left out of both sides"
        )
        return (
            f"at {self.queries_per_day:,} queries/day the {self.arm} arm costs "
            f"${self.arm_monthly_usd:,.2f}/month{floor} ({self._per_query_text()}); "
            f"a fine-tuned small model {'' if known else 'at least '}"
            f"${self.fine_tuned_monthly_usd:,.2f}/month "
            f"({self.copies} copy x {self.active_minutes_per_day:,.0f} active min/day = "
            f"${self.serving_monthly_usd:,.2f}, storage ${self.storage_monthly_usd:,.2f}, training "
            f"{training_text}{shared}{floor.replace(' + ', ', ')}): {_saving_text(self.saving)} "
            f"(clearly cheaper needs >= {CLEARLY_CHEAPER:.0%}{'' if known else ' and a known training cost'})"
        )

    def _per_query_text(self) -> str:
        if self.breakdown is None:
            return "per query: generation only, the summary has no costBreakdownUsd"
        parts = [
            f"{component} {_usd(self.breakdown.get(component))}"
            for component in COMPONENTS
            if self.breakdown.get(component) != 0.0
        ]
        return "per query: " + ", ".join(parts)


def scale_case(
    *,
    queries_per_day: int,
    arm: str,
    arm_cost_per_query_usd: float,
    valid_days: int,
    economics: FineTuneEconomics | None = None,
    arm_breakdown: Mapping[str, float | None] | None = None,
) -> ScaleCase:
    """The monthly costs of both sides at ``queries_per_day`` (see :class:`FineTuneEconomics`);
    ``arm_breakdown`` is the arm's ``costBreakdownUsd``, whose non-generation components the fine-tuned
    model pays as well."""
    economics = economics or FineTuneEconomics()
    queries_per_month = queries_per_day * DAYS_PER_MONTH
    shared_per_query = sum(
        value for c in SHARED_COMPONENTS if (value := (arm_breakdown or {}).get(c)) is not None
    )
    per_minute = queries_per_day / MINUTES_PER_DAY
    copies = max(1, math.ceil(per_minute / economics.queries_per_copy_minute))
    # Even traffic: a 5-minute window is billed when at least one query falls into it.
    windows_per_day = MINUTES_PER_DAY / BILLING_WINDOW_MINUTES
    active_minutes = min(windows_per_day, float(queries_per_day)) * BILLING_WINDOW_MINUTES
    serving = (
        copies
        * economics.cmus_per_copy
        * economics.cmu_price_per_minute_usd
        * active_minutes
        * DAYS_PER_MONTH
    )
    storage = economics.cmus_per_copy * economics.storage_per_cmu_month_usd
    months = max(valid_days / DAYS_PER_MONTH, 1.0)
    return ScaleCase(
        queries_per_day=queries_per_day,
        arm=arm,
        arm_monthly_usd=arm_cost_per_query_usd * queries_per_month,
        copies=copies,
        active_minutes_per_day=active_minutes,
        serving_monthly_usd=serving,
        storage_monthly_usd=storage,
        training_monthly_usd=(
            None if economics.training_run_usd is None else economics.training_run_usd / months
        ),
        breakdown=arm_breakdown,
        shared_monthly_usd=shared_per_query * queries_per_month,
        floor_monthly_usd=economics.vector_floor_monthly_usd,
    )


def _usd(value: float | None) -> str:
    # Seven decimals: an embedding costs a few ten-millionths of a dollar per query.
    return "unknown" if value is None else f"${value:.7f}"


def _saving_text(saving: float) -> str:
    if saving == -math.inf:
        return "no saving (the arm costs nothing per query)"
    return f"{saving:.0%} cheaper" if saving >= 0 else f"{-saving:.0%} more expensive"
