"""The eight rules that turn an evaluation run into a rung, applied in the order 1, 2, 3, 8, 4, 5, 6, 7
(README: "Deciding the rung"). Rule numbers and their place in the verdict's ``rules`` never change between
verdict versions, so the few-shot rung, added later, is rule 8 and listed last though it applies fourth.

1. No measurement: fewer than ``min_items`` scored items in the ``rag`` arm, or no ``rag`` arm -> ``none``.
2. Prompt suffices: the ``prompt`` arm meets both targets -> ``prompt``.
3. Retrieval suffices: the ``rag`` arm meets both targets -> ``rag``.
8. Few-shot suffices: the ``fewshot`` arm meets both targets -> ``fewshot``. A ``fewshot`` arm counts as
   measured only when the run recorded its examples' manifest (``run.examples``) with a clean overlap
   check against the run's own evaluation set (same ``evalSetSha256``, no exact or near match); otherwise
   it is left out of every rule.
4. Knowledge gap: the best non-fine-tuned arm misses correctness but meets format -> ``rag``, not justified.
5. Behaviour gap: it misses the format target -> ``finetune`` only when a measured ``fewshot`` arm misses
   the format target too and there are enough clean examples, none of which is an evaluation question;
   without a measured ``fewshot`` arm, measure the few-shot rung first.
6. Scale case (with ``queries_per_day``): the cheapest arm that meets the targets against a fine-tuned
   small model; justified when the model is at least 30 % cheaper a month and the examples suffice.
7. A fine-tuned model was measured: kept only when an exact McNemar test over at least ``min_items`` paired
   items, ``min_disagreements`` of them disagreeing, shows it better (one-sided p <= 0.025) than the
   non-fine-tuned arm that is best on the metric that failed, and the paired 95 % interval of its
   correctness drop from the best non-fine-tuned arm lies below 0.05.

Every rate is compared with its target through its interval, a seeded bootstrap over the items (each item's
repeats averaged first): it **meets** the target when the interval's lower bound clears it, **misses** it
when the upper bound is below it, and is **undecided** between (the rule then says how many items would
decide it at the observed rate). An arm meets the targets when both rates meet them (a format compliance
with no format checks in the set meets it); it misses them when either rate misses. A "scored item" has
an answered repeat with a non-null ``correct``. The "best non-fine-tuned arm" is, among ``prompt``,
``rag`` and a measured ``fewshot``, the one with the higher correctness, then the higher format
compliance; ``rag`` on a tie.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ladder_core.api import FEWSHOT, FINETUNED, PROMPT, RAG
from ladder_core.evaluation.summary import describe_causes
from ladder_core.metrics import CORRECTNESS, FORMAT_COMPLIANCE, MRR, SOURCE_HIT_RATE, Metric
from ladder_core.overlap import Overlap
from ladder_core.paired import (
    ALPHA,
    POWER,
    McNemar,
    detectable_difference,
    items_to_decide,
    mcnemar,
    sample_variance,
)
from ladder_core.stats import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    Estimate,
    Interval,
    bootstrap_mean,
    paired_bootstrap,
)
from training_jobs import dataprep

from .. import hints
from ..examples import EXAMPLES_UPLOAD, manifest_problem
from .economics import FineTuneEconomics, ScaleCase, scale_case
from .runs import ArmSummary, EvalRun, ItemScore

MAX_CORRECTNESS_DROP = 0.05
DEFAULT_VALID_DAYS = 90
"""Days a verdict stays valid: base models keep improving, so a decision is measured again after it."""
DEFAULT_MIN_DISAGREEMENTS = 10
"""Paired items on which the arms must disagree before a comparison may call one better. With 6 to 9 the
exact test passes only a unanimous or near-unanimous handful (6-0, 7-0, 8-0, 9-0 or 8-1), which one item
answered differently on a re-run (generation varies between runs) overturns; and the bootstrap interval
printed beside the test is generous that small (4 won, 0 lost lies above zero). From 10, a 9-1 split
passes (p = 0.011) and 8-2 does not (p = 0.055)."""
MISSED_ITEMS_SHOWN = 10

MET, NOT_MET, DECIDES, UNDECIDED, SKIPPED = "met", "not met", "decides", "undecided", "skipped"
OUTCOMES = (MET, NOT_MET, DECIDES, UNDECIDED, SKIPPED)
"""What a rule found: its condition holds and it sets the verdict (``decides``); holds without changing the
verdict (``met``); does not hold (``not met``); cannot be told from the run (``undecided``); or was not
reached (``skipped``)."""

MEETS, MISSES, UNDECIDED_RATE = "meets", "misses", "undecided"
"""A rate against its target, by its interval: lower bound clears it, upper bound below it, or between."""

SUFFICES = ((2, PROMPT), (3, RAG), (8, FEWSHOT))
"""The rules that stop at a rung whose arm meets the targets, lowest rung first; a new rung below
fine-tuning is one more entry here and in :data:`RULE_NAMES`."""
NON_FINE_TUNED = tuple(arm for _, arm in SUFFICES)
"""The arms a fine-tuned model is compared with."""
MEASURE_FEWSHOT = ("eval", "run", "--set", "SET", "--arms", f"{PROMPT},{RAG},{FEWSHOT}")
FEWSHOT_MEETS = (
    "your examples in the prompt reach the targets; fine-tuning would add cost and upkeep for nothing "
    "measured"
)

RULE_NAMES = {
    1: "No measurement",
    2: "Prompt suffices",
    3: "Retrieval suffices",
    4: "Knowledge gap",
    5: "Behaviour gap",
    6: "Scale case",
    7: "Fine-tuned model measured",
    8: "Few-shot suffices",
}


@dataclass(frozen=True)
class Targets:
    """What an arm must reach to meet the targets; the defaults are ``ladder justify``'s defaults."""

    correctness: float = 0.8
    format_compliance: float = 0.95
    min_items: int = 30
    min_disagreements: int = DEFAULT_MIN_DISAGREEMENTS

    def to_json(self) -> dict[str, float | int]:
        return {
            CORRECTNESS.summary_key: self.correctness,
            FORMAT_COMPLIANCE.summary_key: self.format_compliance,
            "minItems": self.min_items,
            "minDisagreements": self.min_disagreements,
            "alphaOneSided": ALPHA,
        }

    def of(self, metric: Metric) -> float:
        return self.correctness if metric == CORRECTNESS else self.format_compliance


@dataclass(frozen=True)
class Inputs:
    """Everything the rules decide on; ``data`` is the ``ladder data check`` report of ``--data`` and
    ``overlap`` its contamination check against the run's evaluation set (None when not checked, with
    ``overlap_problem`` saying why when ``--data`` was given)."""

    run: EvalRun
    targets: Targets
    data: dataprep.Report | None = None
    queries_per_day: int | None = None
    valid_days: int = DEFAULT_VALID_DAYS
    resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED
    economics: FineTuneEconomics = field(default_factory=FineTuneEconomics)
    overlap: Overlap | None = None
    overlap_problem: str | None = None


@dataclass(frozen=True)
class RuleOutcome:
    """One rule as printed: its number, its outcome (one of :data:`OUTCOMES`), the numbers behind it, and
    the same numbers for machines (intervals, p-values) in ``evidence``."""

    number: int
    outcome: str
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return RULE_NAMES[self.number]

    def line(self) -> str:
        return f"Rule {self.number} ({self.name}): {self.outcome} - {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "outcome": self.outcome,
            "detail": self.detail,
            **self.evidence,
        }


@dataclass(frozen=True)
class RateCheck:
    """One arm's rate against its target, decided by the rate's interval over the arm's items."""

    arm: str
    metric: Metric
    target: float
    interval: Estimate | None
    """None when no item has the metric (a set without format checks)."""
    variance: float = 0.0

    @property
    def value(self) -> float | None:
        return None if self.interval is None else self.interval.mean

    @property
    def status(self) -> str:
        if self.interval is None:
            # A set without format checks meets the format target; an arm without a single scored
            # answer has not been measured on correctness.
            return MEETS if self.metric == FORMAT_COMPLIANCE else UNDECIDED_RATE
        if self.interval.low >= self.target:
            return MEETS
        if self.interval.high < self.target:
            return MISSES
        return UNDECIDED_RATE

    @property
    def more_items(self) -> int | None:
        """Items beyond those measured that would decide an undecided rate at the observed rate; None when
        decided, or when the rate equals the target (no number of items decides it)."""
        if self.status != UNDECIDED_RATE or self.interval is None:
            return None
        total = items_to_decide(self.interval.mean, self.target, self.variance)
        return None if total is None else max(1, total - self.interval.items)

    def describe(self) -> str:
        name = self.metric.label.lower()
        if self.interval is None:
            return f"no {name} checks" if self.metric == FORMAT_COMPLIANCE else f"{name} not measured"
        interval = self.interval
        text = f"{name} {_range(interval)} "
        if self.status == MEETS:
            return text + f"meets {self.target:.2f}"
        if self.status == MISSES:
            return text + f"misses {self.target:.2f}"
        return text + f"undecided against {self.target:.2f} ({self._more_text()})"

    def _more_text(self) -> str:
        more = self.more_items
        if more is None:
            return "it sits on the target: more items narrow the interval but decide nothing at this rate"
        return f"about {more:,} more items would decide it at the observed rate"

    def to_dict(self) -> dict[str, Any]:
        interval = self.interval
        return {
            "value": None if interval is None else round(interval.mean, 6),
            "ci95": None if interval is None else [round(interval.low, 6), round(interval.high, 6)],
            "items": 0 if interval is None else interval.items,
            "target": self.target,
            "status": self.status,
            "moreItems": self.more_items,
        }


@dataclass(frozen=True)
class ArmCheck:
    """An arm's correctness and format compliance against the targets."""

    arm: str
    correctness: RateCheck
    format: RateCheck

    @property
    def status(self) -> str:
        statuses = (self.correctness.status, self.format.status)
        if MISSES in statuses:
            return MISSES
        return MEETS if statuses == (MEETS, MEETS) else UNDECIDED_RATE

    def describe(self) -> str:
        return f"{self.arm} {self.correctness.describe()}, {self.format.describe()}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "arm": self.arm,
            "status": self.status,
            CORRECTNESS.summary_key: self.correctness.to_dict(),
            FORMAT_COMPLIANCE.summary_key: self.format.to_dict(),
        }


@dataclass(frozen=True)
class Comparison:
    """The fine-tuned arm against a baseline arm on one metric, over the items scored in both."""

    baseline: str
    metric: Metric
    test: McNemar
    interval: Interval
    detectable: float | None

    def describe(self) -> str:
        return (
            f"finetuned - {self.baseline} on {self.metric.label.lower()}: {self.interval.describe()}; "
            f"{self.test.describe()}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate": FINETUNED,
            "baseline": self.baseline,
            "metric": self.metric.summary_key,
            "diff": round(self.interval.mean, 6),
            "ci95": [round(self.interval.low, 6), round(self.interval.high, 6)],
            **self.test.to_dict(),
            "alphaOneSided": ALPHA,
            "detectableDifference": None if self.detectable is None else round(self.detectable, 4),
            "power": POWER,
        }


@dataclass(frozen=True)
class DropCheck:
    """How much correctness the fine-tuned arm loses against the best non-fine-tuned arm, paired."""

    baseline: str
    interval: Interval | None
    """Of baseline - finetuned per item; None when no item has correctness in both."""
    variance: float
    min_items: int

    @property
    def status(self) -> str:
        """``keeps`` (upper bound <= the allowed drop), ``loses`` (lower bound above it) or undecided."""
        if self.interval is None or self.interval.items < self.min_items:
            return UNDECIDED_RATE
        if self.interval.high <= MAX_CORRECTNESS_DROP:
            return "keeps"
        if self.interval.low > MAX_CORRECTNESS_DROP:
            return "loses"
        return UNDECIDED_RATE

    def describe(self) -> str:
        if self.interval is None:
            return f"no item has correctness in both {self.baseline} and finetuned"
        interval = self.interval
        text = (
            f"correctness drop from {self.baseline} {interval.mean:+.3f} "
            f"(95% interval {interval.low:+.3f} to {interval.high:+.3f} over {interval.items} paired items)"
        )
        if interval.items < self.min_items:
            return text + f", fewer than {self.min_items} paired items (--min-items)"
        if self.status == "keeps":
            return text + f" stays within {MAX_CORRECTNESS_DROP:.2f}"
        if self.status == "loses":
            return text + f" exceeds {MAX_CORRECTNESS_DROP:.2f}"
        total = items_to_decide(interval.mean, MAX_CORRECTNESS_DROP, self.variance)
        more = (
            "no number of items decides it at the observed drop"
            if total is None
            else f"about {max(1, total - interval.items):,} more paired items would decide it"
        )
        return text + f" may exceed {MAX_CORRECTNESS_DROP:.2f} ({more})"

    def to_dict(self) -> dict[str, Any]:
        interval = self.interval
        return {
            "baseline": self.baseline,
            "drop": None if interval is None else round(interval.mean, 6),
            "ci95": None if interval is None else [round(interval.low, 6), round(interval.high, 6)],
            "items": 0 if interval is None else interval.items,
            "maxDrop": MAX_CORRECTNESS_DROP,
            "status": self.status,
        }


@dataclass(frozen=True)
class Decision:
    rung: str
    fine_tune_justified: bool
    conclusions: tuple[str, ...]
    """The deciding reasons, the first one first (the gate and the template quote it)."""
    rules: tuple[RuleOutcome, ...]
    assumptions: tuple[str, ...] = ()
    interval: Interval | None = None
    scale: ScaleCase | None = None

    @property
    def reasons(self) -> list[str]:
        """The verdict's ``reasons``: conclusions, every rule with its numbers, then assumptions."""
        return [*self.conclusions, *(rule.line() for rule in self.rules), *self.assumptions]


def decide(inputs: Inputs) -> Decision:
    return _Decider(inputs).run()


def scored_items(items: dict[str, ItemScore]) -> int:
    return sum(1 for item in items.values() if item.correct is not None)


class _Decider:
    def __init__(self, inputs: Inputs) -> None:
        self.inputs = inputs
        self.targets = inputs.targets
        self.arms = inputs.run.arms
        self.items = {name: inputs.run.arm_items(name) for name in self.arms}
        self.checks: dict[str, ArmCheck] = {}
        self.rules: list[RuleOutcome] = []
        self.assumptions: list[str] = []
        self.interval: Interval | None = None
        self.scale: ScaleCase | None = None
        self.fallback_rung = "none"
        """The rung when a justification falls (the arm that met the targets, else the best arm)."""
        self.fewshot_problem = (
            manifest_problem(inputs.run.examples, inputs.run.eval_set_sha256)
            if FEWSHOT in self.arms
            else None
        )
        self.candidates = tuple(
            arm
            for arm in NON_FINE_TUNED
            if arm in self.arms and not (arm == FEWSHOT and self.fewshot_problem is not None)
        )
        """The non-fine-tuned arms the rules decide on: those the run measured, a ``fewshot`` arm only
        when its examples were checked clean against the run's evaluation set."""

    def run(self) -> Decision:
        rag = self.arms.get(RAG)
        rag_scored = scored_items(self.items[RAG]) if rag else 0
        if rag is None or rag_scored < self.targets.min_items:
            why = (
                "the run has no rag arm"
                if rag is None
                else f"rag has {rag_scored} scored items < {self.targets.min_items} (--min-items)"
            )
            self._rule(1, DECIDES, why)
            for number in range(2, len(RULE_NAMES) + 1):
                self._rule(number, SKIPPED, "nothing to decide on without a measurement")
            return self._decision("none", False, [f"No measurement: {why}. {self._measure_next(rag)}"])
        self._rule(1, NOT_MET, f"rag has {rag_scored} scored items >= {self.targets.min_items} (--min-items)")

        meeting: ArmCheck | None = None
        maybe: list[ArmCheck] = []
        for number, name in SUFFICES:
            if name not in self.arms:
                self._rule(number, SKIPPED, f"the run has no {name} arm")
                continue
            if name not in self.candidates:
                self._rule(
                    number, UNDECIDED, f"the {name} arm does not count as measured: {self.fewshot_problem}"
                )
                continue
            check = self._arm_check(name)
            evidence = {"check": check.to_dict()}
            if meeting is not None:
                self._rule(number, SKIPPED, f"{meeting.arm} already meets the targets")
            elif check.status == MEETS:
                meeting = check
                self._rule(number, DECIDES, f"{check.describe()}: both targets met", evidence)
            elif check.status == MISSES:
                self._rule(number, NOT_MET, f"{check.describe()}: a target is missed", evidence)
            else:
                maybe.append(check)
                self._rule(number, UNDECIDED, f"{check.describe()}: measure more items", evidence)

        best = self._best_non_fine_tuned()
        self.fallback_rung = meeting.arm if meeting is not None else best.name
        if meeting is not None:
            decision = self._targets_met(meeting, maybe)
        else:
            decision = self._gap(self._arm_check(best.name))
        decision = self._contamination(decision)
        unfinished = self._unfinished()
        if unfinished:
            decision = replace(
                decision,
                conclusions=(
                    *decision.conclusions,
                    f"The run is unfinished ({unfinished}); continue it before relying on this verdict: "
                    f"{self._continue_command()}",
                ),
            )
        return decision

    def _arm_check(self, arm: str) -> ArmCheck:
        if arm not in self.checks:
            self.checks[arm] = ArmCheck(
                arm, self._rate_check(arm, CORRECTNESS), self._rate_check(arm, FORMAT_COMPLIANCE)
            )
        return self.checks[arm]

    def _rate_check(self, arm: str, metric: Metric) -> RateCheck:
        values = [
            value for item in self.items[arm].values() if (value := item.value(metric.score_key)) is not None
        ]
        target = self.targets.of(metric)
        if not values:
            return RateCheck(arm, metric, target, None)
        interval = bootstrap_mean(values, resamples=self.inputs.resamples, seed=self.inputs.seed)
        return RateCheck(arm, metric, target, interval, sample_variance(values))

    def _unfinished(self) -> str:
        """``rag 4 of 45 answers, ...`` for the arms with answers still to fetch; empty when none."""
        expected = self.inputs.run.eval_set_items
        return ", ".join(
            f"{arm.name} {arm.n} of {expected} answers" for arm in self.arms.values() if arm.n < expected
        )

    def _continue_command(self) -> str:
        return hints.command("eval", "run", "--out", str(self.inputs.run.dir))

    def _measure_next(self, rag: ArmSummary | None) -> str:
        """What to do when there is no measurement: finish this run, fix its errors, or measure."""
        if rag is not None and rag.n < self.inputs.run.eval_set_items:
            return (
                f"The run is unfinished (rag has {rag.n} of {self.inputs.run.eval_set_items} answers): "
                f"continue it with: {self._continue_command()}"
            )
        if rag is not None and rag.errors:
            return (
                f"{rag.errors} rag answers ended in an error"
                + (f" ({describe_causes(list(rag.error_causes))})" if rag.error_causes else "")
                + f": fix the cause, then retry them with: {self._continue_command()}"
            )
        return f"Measure first: {hints.command('eval', 'run', '--set', 'EVAL.jsonl')}"

    def _targets_met(self, meeting: ArmCheck, maybe: list[ArmCheck]) -> Decision:
        """An arm meets the targets: no knowledge or behaviour gap (rules 4, 5); the scale case (rule 6) may
        still justify fine-tuning; then rule 7."""
        self._rule(4, SKIPPED, f"{meeting.arm} meets the targets")
        self._rule(5, SKIPPED, f"{meeting.arm} meets the targets")
        rung = meeting.arm
        stay = FEWSHOT_MEETS if rung == FEWSHOT else f"stay on the {rung} rung, fine-tuning is not needed"
        conclusions = [
            f"{RULE_NAMES[{arm: number for number, arm in SUFFICES}[rung]]}: {meeting.describe()}; {stay}."
        ]
        conclusions += [
            f"{check.arm} may meet the targets too ({check.describe()}); measure more items to tell."
            for check in maybe
        ]
        justified = False
        cheapest = self._cheapest_meeting(meeting)
        scale_ok, scale_text = self._scale(self.arms[cheapest.arm])
        if scale_ok:
            rung, justified = "finetune", True
            conclusions = [
                f"Scale case: {scale_text}: fine-tuning is justified by cost.",
                f"{cheapest.describe()}: the fine-tuned model must keep meeting the targets.",
            ]
        elif scale_text:
            conclusions.append(f"Scale case: {scale_text}.")
        return self._measured(rung, justified, conclusions, failed_metric=None, established=True)

    def _cheapest_meeting(self, meeting: ArmCheck) -> ArmCheck:
        """Of the arms that meet the targets (``meeting``, the lowest rung, and any higher one), the one with
        the lowest known cost per query: the scale case replaces the cheapest way to meet them. ``meeting``
        when no other arm that meets them has a known, lower cost."""
        best, best_cost = meeting, self.arms[meeting.arm].cost_per_query_usd
        for arm in self.candidates:
            cost = self.arms[arm].cost_per_query_usd
            if arm == meeting.arm or cost is None or self._arm_check(arm).status != MEETS:
                continue
            if best_cost is None or cost < best_cost:
                best, best_cost = self._arm_check(arm), cost
        return best

    def _gap(self, best: ArmCheck) -> Decision:
        """No arm meets the targets: a knowledge gap (rule 4) or a behaviour gap (rule 5) decides when the
        intervals establish it, else both are undecided; the scale case (rule 6) has nothing to replace;
        then rule 7."""
        self._rule(6, SKIPPED, "no arm meets the targets, so there is nothing cheaper to replace")
        correctness, fmt = best.correctness, best.format
        evidence = {"check": best.to_dict()}
        if fmt.status == MISSES:
            return self._behaviour_gap(best, evidence)
        if correctness.status == MISSES and fmt.status == MEETS:
            text = self._knowledge_gap(best)
            self._rule(4, DECIDES, text, evidence)
            self._rule(5, SKIPPED, f"{best.arm} meets the format target")
            return self._measured(
                RAG, False, [f"Knowledge gap: {text}"], failed_metric=CORRECTNESS, established=True
            )
        # Some rate is undecided, and none of the decided ones shows a gap fine-tuning could close.
        if correctness.status == MEETS:
            self._rule(4, NOT_MET, f"{best.arm} {correctness.describe()}: no knowledge gap", evidence)
        else:
            self._rule(4, UNDECIDED, f"{best.describe()}: measure more items", evidence)
        self._rule(5, UNDECIDED, f"{best.arm} {fmt.describe()}: measure more items", evidence)
        conclusions = [
            f"Undecided: {best.describe()}. Measure more items before deciding (grow the set, then "
            f"{hints.command('eval', 'run', '--set', 'EVAL.jsonl')}); fine-tuning is not justified by a "
            "gap the run cannot show."
        ]
        if correctness.status == MISSES:
            conclusions.append(f"Knowledge gap meanwhile: {self._knowledge_gap(best)}")
        failed = FORMAT_COMPLIANCE if fmt.status == UNDECIDED_RATE else CORRECTNESS
        return self._measured(best.arm, False, conclusions, failed_metric=failed, established=False)

    def _behaviour_gap(self, best: ArmCheck, evidence: dict[str, Any]) -> Decision:
        self._rule(4, NOT_MET, f"{best.arm} {best.format.describe()}: not only a knowledge problem", evidence)
        gap = f"{best.arm} {best.format.describe()}, a behaviour fine-tuning can teach"
        fewshot_stop = self._fewshot_first(best, gap, evidence)
        if fewshot_stop is not None:
            return fewshot_stop
        if best.arm != FEWSHOT:
            fewshot = self._arm_check(FEWSHOT).format.describe()
            gap += f"; {FEWSHOT} {fewshot} too, with the examples in the prompt"
        data_ok, data_text = self._data_check()
        data_evidence = {**evidence, "data": self._data_evidence()}
        self._rule(5, DECIDES, f"{gap}; {data_text}", data_evidence)
        if data_ok:
            conclusions = [f"Behaviour gap: {gap}; {data_text}: fine-tuning is justified."]
            rung, justified = "finetune", True
        else:
            conclusions = [f"Behaviour gap: {gap}, but {data_text}: fine-tuning is not justified yet."]
            rung, justified = best.arm, False
        correctness = best.correctness
        if correctness.status == MISSES:
            conclusions.append(
                f"Knowledge gap as well: {best.arm} {correctness.describe()}; fine-tuning does not add "
                "knowledge: " + self._knowledge_gap(best)
            )
        elif correctness.status == UNDECIDED_RATE:
            conclusions.append(f"Correctness undecided: {best.arm} {correctness.describe()}.")
        return self._measured(rung, justified, conclusions, failed_metric=FORMAT_COMPLIANCE, established=True)

    def _fewshot_first(self, best: ArmCheck, gap: str, evidence: dict[str, Any]) -> Decision | None:
        """A behaviour gap justifies fine-tuning only once the examples in the prompt were measured and
        still miss the format target: the decision when they were not (or did not miss), else None."""
        if FEWSHOT not in self.candidates:
            why = self.fewshot_problem or "the run has no fewshot arm"
            if FEWSHOT in self.arms:
                why = f"the fewshot arm does not count as measured: {why}"
            first = (
                "measure the few-shot rung first: upload your examples with "
                f"`{hints.command(*EXAMPLES_UPLOAD)}`, then measure them with "
                f"`{hints.command(*MEASURE_FEWSHOT)}`"
            )
            self._rule(5, DECIDES, f"{gap}; but {why}: {first}", evidence)
            conclusions = [f"Behaviour gap: {gap}, but {why}; {first}. Fine-tuning is not justified yet."]
            return self._measured(
                best.arm,
                False,
                conclusions,
                failed_metric=FORMAT_COMPLIANCE,
                established=False,
                unestablished=(
                    "better, but the few-shot rung, which may close the gap for less, was not measured"
                ),
            )
        fewshot = self._arm_check(FEWSHOT)
        status = fewshot.format.status
        if status == MISSES:
            return None
        check = {**evidence, "fewshot": fewshot.to_dict()}
        if status == MEETS:
            text = f"{gap}; but {FEWSHOT} {fewshot.format.describe()}: the examples in the prompt teach it"
            self._rule(5, NOT_MET, text, check)
            conclusions = [f"No behaviour gap left: {text}; fine-tuning is not justified."]
            if fewshot.correctness.status == MISSES:
                conclusions.append(f"Knowledge gap: {self._knowledge_gap(fewshot)}")
            return self._measured(FEWSHOT, False, conclusions, failed_metric=CORRECTNESS, established=False)
        text = f"{gap}; {FEWSHOT} {fewshot.format.describe()}"
        self._rule(5, UNDECIDED, text, check)
        conclusions = [
            f"Undecided: {text}. Measure more items before deciding; fine-tuning is not justified by a gap "
            "the examples in the prompt may close."
        ]
        return self._measured(
            best.arm, False, conclusions, failed_metric=FORMAT_COMPLIANCE, established=False
        )

    def _knowledge_gap(self, best: ArmCheck) -> str:
        rag = self.arms[RAG]
        missed = sorted(
            item.id for item in self.items[RAG].values() if item.correct is not None and item.correct < 1
        )
        shown = ", ".join(missed[:MISSED_ITEMS_SHOWN]) + (
            f" and {len(missed) - MISSED_ITEMS_SHOWN} more" if len(missed) > MISSED_ITEMS_SHOWN else ""
        )
        return (
            f"{best.describe()}; this is a knowledge problem, not a behaviour one. Retrieval: "
            f"{SOURCE_HIT_RATE.column} {_rate(rag.source_hit_rate)}, {MRR.label} {_rate(rag.mrr)}; "
            f"rag missed {len(missed)} items"
            + (f" ({shown})" if missed else "")
            + ". Try: chunking (chunkingStrategy, chunkMaxTokens), topK, reranking (rerankModelId), "
            "hybrid search (searchType), and documents missing from the corpus."
        )

    def _data_check(self) -> tuple[bool, str]:
        report = self.inputs.data
        if report is None:
            return False, "no --data was given to count clean examples"
        if not report.usable:
            return False, (
                f"--data has {report.clean} clean examples < {report.min_examples} needed: "
                f"{report.missing} more clean examples are needed"
            )
        counted = f"--data has {report.clean} clean examples >= {report.min_examples} needed"
        if self.inputs.overlap is None:
            problem = self.inputs.overlap_problem or "the data was not checked for evaluation questions"
            return False, f"{counted}, but {problem}"
        if not self.inputs.overlap.clean:
            return False, f"{counted}, but {self.inputs.overlap.describe()}"
        return True, f"{counted}, none of them an evaluation question"

    def _data_evidence(self) -> dict[str, Any] | None:
        report = self.inputs.data
        if report is None:
            return None
        overlap = self.inputs.overlap
        return {
            "clean": report.clean,
            "minExamples": report.min_examples,
            "evalOverlap": None if overlap is None else overlap.to_dict(),
        }

    def _contamination(self, decision: Decision) -> Decision:
        """Evaluation questions in ``--data`` make fine-tuning not justified, whatever rule justified it: a
        model trained on its own test scores high on it."""
        overlap = self.inputs.overlap
        if self.inputs.data is None or overlap is None or overlap.clean:
            return decision
        text = f"Evaluation questions in --data: {overlap.describe()}."
        if not decision.fine_tune_justified:
            if any(overlap.describe() in conclusion for conclusion in decision.conclusions):
                return decision
            return replace(decision, conclusions=(*decision.conclusions, text))
        return replace(
            decision,
            rung=self.fallback_rung,
            fine_tune_justified=False,
            conclusions=(
                f"{text} Fine-tuning is not justified until they are removed.",
                *decision.conclusions,
            ),
        )

    def _scale(self, meeting: ArmSummary) -> tuple[bool, str]:
        qpd = self.inputs.queries_per_day
        if qpd is None:
            self._rule(6, SKIPPED, "no --queries-per-day")
            return False, ""
        if meeting.cost_per_query_usd is None:
            text = f"{meeting.name} has no costPerQueryUsd in the summary, so no cost can be compared"
            self._rule(6, UNDECIDED, text)
            return False, text
        self.scale = scale_case(
            queries_per_day=qpd,
            arm=meeting.name,
            arm_cost_per_query_usd=meeting.cost_per_query_usd,
            valid_days=self.inputs.valid_days,
            economics=self.inputs.economics,
            arm_breakdown=meeting.cost_breakdown_usd,
        )
        self.assumptions = self.inputs.economics.describe()
        text = self.scale.describe()
        if not self.scale.clearly_cheaper:
            self._rule(6, NOT_MET, f"{text}; not clearly cheaper")
            return False, f"{text}; not clearly cheaper"
        data_ok, data_text = self._data_check()
        evidence = {"data": self._data_evidence()}
        if not data_ok:
            self._rule(6, NOT_MET, f"{text}; but {data_text}", evidence)
            return False, f"{text}; but {data_text}"
        self._rule(6, DECIDES, f"{text}; {data_text}", evidence)
        return True, f"{text}; {data_text}"

    def _measured(
        self,
        rung: str,
        justified: bool,
        conclusions: list[str],
        *,
        failed_metric: Metric | None,
        established: bool,
        unestablished: str = "better, but the gap it closes is itself undecided (measure more items first)",
    ) -> Decision:
        """Rule 7: the fine-tuned arm, where the run measured it, confirms or overturns the decision so far
        (``rung``, ``justified``); ``failed_metric`` is the target the best arm missed (or could not be
        shown to meet), None when an arm met both; ``established`` is False when that miss is undecided,
        so no comparison can justify fine-tuning, and ``unestablished`` then says why for a model shown
        better."""
        finetuned = self.arms.get(FINETUNED)
        if finetuned is None:
            self._rule(7, SKIPPED, "the run has no finetuned arm")
            return self._decision(rung, justified, conclusions)
        if not scored_items(self.items[FINETUNED]):
            causes = describe_causes(list(finetuned.error_causes))
            text = (
                f"the finetuned arm was not measured: {finetuned.errors} of {finetuned.n} answers ended in "
                "an error" + (f" ({causes})" if causes else "") + " and none was scored"
            )
            self._rule(7, UNDECIDED, text)
            return self._decision(
                rung,
                justified,
                [
                    *conclusions,
                    f"Fine-tuned model not measured: {text}. Check it is published "
                    f"(`{hints.command('finetune', 'status')}`), then retry those answers with: "
                    f"{self._continue_command()}",
                ],
            )
        best = self._best_non_fine_tuned()
        drop = self._drop(best.name)
        evidence: dict[str, Any] = {"correctnessDrop": drop.to_dict()}
        switch_off = "switch the flag off (-c fineTune=false)"
        if failed_metric is None:
            tuned = self._arm_check(FINETUNED)
            evidence["check"] = tuned.to_dict()
            if justified and drop.status == "keeps" and tuned.status == MEETS:
                text = f"{tuned.describe()}; {drop.describe()}: keep it for the scale case"
                self._rule(7, MET, text, evidence)
                return self._decision(rung, justified, [*conclusions, f"Fine-tuned model measured: {text}."])
            text = f"{best.name} meets the targets without it ({drop.describe()}); {switch_off}"
            self._rule(7, DECIDES, text, evidence)
            return self._decision(best.name, False, [f"Fine-tuned model not needed: {text}.", *conclusions])
        fallback = best.name if rung == "finetune" else rung
        baseline = self._best_on(failed_metric)
        metric_name = failed_metric.label.lower()
        comparison = self._compare(baseline, failed_metric)
        if comparison is None:
            text = f"no items scored on {metric_name} in both {baseline} and finetuned"
            self._rule(7, DECIDES, f"{text}; {switch_off}", evidence)
            return self._decision(
                fallback,
                False,
                [f"Fine-tuned model not shown better: {text}; switch the flag off.", *conclusions],
            )
        self.interval = comparison.interval
        evidence["comparison"] = comparison.to_dict()
        test = comparison.test
        measured = f"{comparison.describe()}; {drop.describe()}"
        shortfalls = []
        if test.items < self.targets.min_items:
            shortfalls.append(f"only {test.items} paired items < {self.targets.min_items} (--min-items)")
        if test.disagreeing < self.targets.min_disagreements:
            shortfalls.append(
                f"only {test.disagreeing} of them disagree < {self.targets.min_disagreements} "
                "(--min-disagreements)"
            )
        if not test.better():
            shortfalls.append(f"p = {test.p_greater:.4f} > {ALPHA:.3f}")
        if not shortfalls and drop.status == "keeps" and established:
            self._rule(7, DECIDES, f"{measured}: better, keep it", evidence)
            return self._decision(
                "finetune", True, [f"Fine-tuned model shown better: {measured}.", *conclusions]
            )
        if shortfalls:
            detectable = (
                "no difference"
                if comparison.detectable is None
                else f"a difference of {comparison.detectable:+.2f} or more"
            )
            why = (
                f"not shown better with n = {test.items} ({'; '.join(shortfalls)}); this run could detect "
                f"{detectable} ({POWER:.0%} power, {test.disagreeing} of its items disagreeing); "
                "more items would show a smaller one"
            )
        elif drop.status != "keeps":
            why = f"better on {metric_name}, but its correctness is not shown to stay within the allowed drop"
        else:
            why = unestablished
        self._rule(7, DECIDES, f"{measured}: {why}; {switch_off}", evidence)
        return self._decision(
            fallback,
            False,
            [f"Fine-tuned model {why}: {measured}. Switch the flag off.", *conclusions],
        )

    def _pairs(self, baseline: str, metric: Metric) -> tuple[list[float], list[float]]:
        """Per-item values of finetuned and ``baseline`` on ``metric`` over the items both have it on."""
        base, tuned = self.items[baseline], self.items[FINETUNED]
        candidate: list[float] = []
        reference: list[float] = []
        for item, score in tuned.items():
            other = base.get(item)
            if other is None:
                continue
            a, b = score.value(metric.score_key), other.value(metric.score_key)
            if a is not None and b is not None:
                candidate.append(a)
                reference.append(b)
        return candidate, reference

    def _compare(self, baseline: str, metric: Metric) -> Comparison | None:
        candidate, reference = self._pairs(baseline, metric)
        if not candidate:
            return None
        test = mcnemar(candidate, reference)
        return Comparison(
            baseline=baseline,
            metric=metric,
            test=test,
            interval=paired_bootstrap(
                candidate, reference, resamples=self.inputs.resamples, seed=self.inputs.seed
            ),
            detectable=detectable_difference(test.items, test.disagreeing / test.items),
        )

    def _drop(self, baseline: str) -> DropCheck:
        tuned, reference = self._pairs(baseline, CORRECTNESS)
        if not tuned:
            return DropCheck(baseline, None, 0.0, self.targets.min_items)
        interval = paired_bootstrap(reference, tuned, resamples=self.inputs.resamples, seed=self.inputs.seed)
        variance = sample_variance([b - a for a, b in zip(tuned, reference, strict=True)])
        return DropCheck(baseline, interval, variance, self.targets.min_items)

    def _best_non_fine_tuned(self) -> ArmSummary:
        return self.arms[self._best_on(CORRECTNESS)]

    def _best_on(self, metric: Metric) -> str:
        """The non-fine-tuned arm with the highest ``metric``, then the highest other headline rate, ``rag``
        on a tie (measured over the items, repeats averaged). For format compliance this is the arm a
        fine-tuned model must beat, so a better format is never credited against a worse-format arm."""
        other = FORMAT_COMPLIANCE if metric == CORRECTNESS else CORRECTNESS

        def rank(name: str) -> tuple[float, float, bool]:
            check = self._arm_check(name)
            first = check.correctness if metric == CORRECTNESS else check.format
            second = check.correctness if other == CORRECTNESS else check.format
            # No format checks count as full compliance when ranking on correctness (as meeting the
            # target does), and as nothing to beat when ranking on format itself.
            missing = 1.0 if other == FORMAT_COMPLIANCE else -1.0
            return (
                -1.0 if first.value is None else first.value,
                missing if second.value is None else second.value,
                name == RAG,
            )

        return max(self.candidates, key=rank)

    def _rule(self, number: int, outcome: str, detail: str, evidence: dict[str, Any] | None = None) -> None:
        self.rules = [rule for rule in self.rules if rule.number != number]
        self.rules.append(RuleOutcome(number, outcome, detail, evidence or {}))

    def _decision(self, rung: str, justified: bool, conclusions: Sequence[str]) -> Decision:
        return Decision(
            rung=rung,
            fine_tune_justified=justified,
            conclusions=tuple(conclusions),
            rules=tuple(sorted(self.rules, key=lambda rule: rule.number)),
            assumptions=tuple(self.assumptions),
            interval=self.interval,
            scale=self.scale,
        )


def _range(interval: Interval | Estimate) -> str:
    """``0.85 (95% 0.74-0.94)``: the rate and its interval."""
    return f"{interval.mean:.2f} ({interval.confidence:.0%} {interval.low:.2f}-{interval.high:.2f})"


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
