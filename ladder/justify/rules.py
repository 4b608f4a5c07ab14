"""The seven rules that turn an evaluation run into a rung, applied in order (README: "Deciding the rung").

1. No measurement: fewer than ``min_items`` scored items in the ``rag`` arm, or no ``rag`` arm -> ``none``.
2. Prompt suffices: the ``prompt`` arm meets both targets -> ``prompt``.
3. Retrieval suffices: the ``rag`` arm meets both targets -> ``rag``.
4. Knowledge gap: the best non-fine-tuned arm misses correctness but meets format -> ``rag``, not justified.
5. Behaviour gap: its format compliance is below target -> ``finetune`` only with enough clean examples.
6. Scale case (with ``queries_per_day``): the arm that meets the targets against a fine-tuned small model;
   justified when the model is at least 30 % cheaper a month and the examples suffice.
7. A fine-tuned model was measured: kept only when a paired bootstrap shows it better than the best
   non-fine-tuned arm on the metric that failed (95 % interval above zero) and its correctness is not
   lower by more than 0.05.

A "scored item" has status ``ok`` and a non-null ``correct``. An arm "meets the targets" when its
correctness is at least the correctness target and its format compliance at least the format target, or
is null (no format checks in the set). The "best non-fine-tuned arm" is, among ``prompt`` and ``rag``,
the one with the higher correctness, then the higher format compliance; ``rag`` on a tie.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ladder_core.api import FINETUNED, PROMPT, RAG
from ladder_core.metrics import CORRECTNESS, FORMAT_COMPLIANCE, MRR, SOURCE_HIT_RATE, Metric
from ladder_core.stats import DEFAULT_RESAMPLES, DEFAULT_SEED, Interval, paired_bootstrap
from training_jobs import dataprep

from .. import hints
from ..evaluation.summary import describe_causes
from .economics import FineTuneEconomics, ScaleCase, scale_case
from .runs import ArmSummary, EvalRun, Score

MAX_CORRECTNESS_DROP = 0.05
DEFAULT_VALID_DAYS = 90
"""Days a verdict stays valid: base models keep improving, so a decision is measured again after it."""
MISSED_ITEMS_SHOWN = 10

MET, NOT_MET, DECIDES, UNDECIDED, SKIPPED = "met", "not met", "decides", "undecided", "skipped"
OUTCOMES = (MET, NOT_MET, DECIDES, UNDECIDED, SKIPPED)
"""What a rule found: its condition holds and it sets the verdict (``decides``); holds without changing the
verdict (``met``); does not hold (``not met``); cannot be told from the run (``undecided``); or was not
reached (``skipped``)."""

RULE_NAMES = {
    1: "No measurement",
    2: "Prompt suffices",
    3: "Retrieval suffices",
    4: "Knowledge gap",
    5: "Behaviour gap",
    6: "Scale case",
    7: "Fine-tuned model measured",
}


@dataclass(frozen=True)
class Targets:
    """What an arm must reach to meet the targets; the defaults are ``ladder justify``'s defaults."""

    correctness: float = 0.8
    format_compliance: float = 0.95
    min_items: int = 30

    def to_json(self) -> dict[str, float | int]:
        return {
            CORRECTNESS.summary_key: self.correctness,
            FORMAT_COMPLIANCE.summary_key: self.format_compliance,
            "minItems": self.min_items,
        }


@dataclass(frozen=True)
class Inputs:
    """Everything the rules decide on; ``data`` is the ``ladder data check`` report of ``--data``."""

    run: EvalRun
    targets: Targets
    data: dataprep.Report | None = None
    queries_per_day: int | None = None
    valid_days: int = DEFAULT_VALID_DAYS
    resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED
    economics: FineTuneEconomics = field(default_factory=FineTuneEconomics)


@dataclass(frozen=True)
class RuleOutcome:
    """One rule as printed: its number, its outcome (one of :data:`OUTCOMES`) and the numbers behind it."""

    number: int
    outcome: str
    detail: str

    @property
    def name(self) -> str:
        return RULE_NAMES[self.number]

    def line(self) -> str:
        return f"Rule {self.number} ({self.name}): {self.outcome} - {self.detail}"


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


def meets_targets(arm: ArmSummary, targets: Targets) -> bool:
    if arm.correctness is None or arm.correctness < targets.correctness:
        return False
    return arm.format_compliance is None or arm.format_compliance >= targets.format_compliance


def scored_items(scores: dict[str, Score]) -> int:
    return sum(1 for score in scores.values() if score.ok and score.correct is not None)


class _Decider:
    def __init__(self, inputs: Inputs) -> None:
        self.inputs = inputs
        self.targets = inputs.targets
        self.arms = inputs.run.arms
        self.rules: list[RuleOutcome] = []
        self.assumptions: list[str] = []
        self.interval: Interval | None = None
        self.scale: ScaleCase | None = None

    def run(self) -> Decision:
        rag = self.arms.get(RAG)
        rag_scored = scored_items(self.inputs.run.arm_scores(RAG)) if rag else 0
        if rag is None or rag_scored < self.targets.min_items:
            why = (
                "the run has no rag arm"
                if rag is None
                else f"rag has {rag_scored} scored items < {self.targets.min_items} (--min-items)"
            )
            self._rule(1, DECIDES, why)
            for number in range(2, 8):
                self._rule(number, SKIPPED, "nothing to decide on without a measurement")
            return self._decision("none", False, [f"No measurement: {why}. {self._measure_next(rag)}"])
        self._rule(1, NOT_MET, f"rag has {rag_scored} scored items >= {self.targets.min_items} (--min-items)")

        meeting: ArmSummary | None = None
        for number, name in ((2, PROMPT), (3, RAG)):
            arm = self.arms.get(name)
            if arm is None:
                self._rule(number, SKIPPED, f"the run has no {name} arm")
            elif meeting is not None:
                self._rule(number, SKIPPED, f"{meeting.name} already meets the targets")
            elif meets_targets(arm, self.targets):
                meeting = arm
                self._rule(number, DECIDES, f"{self._against_targets(arm)}: both targets met")
            else:
                self._rule(number, NOT_MET, f"{self._against_targets(arm)}: a target is missed")

        best = self._best_non_fine_tuned()
        decision = self._targets_met(meeting) if meeting is not None else self._gap(best)
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

    def _targets_met(self, meeting: ArmSummary) -> Decision:
        """An arm meets the targets: no knowledge or behaviour gap (rules 4, 5); the scale case (rule 6) may
        still justify fine-tuning; then rule 7."""
        self._rule(4, SKIPPED, f"{meeting.name} meets the targets")
        self._rule(5, SKIPPED, f"{meeting.name} meets the targets")
        rung = meeting.name
        conclusions = [
            f"{RULE_NAMES[2 if rung == PROMPT else 3]}: {self._against_targets(meeting)}; "
            f"stay on the {rung} rung, fine-tuning is not needed."
        ]
        justified = False
        scale_ok, scale_text = self._scale(meeting)
        if scale_ok:
            rung, justified = "finetune", True
            conclusions = [
                f"Scale case: {scale_text}: fine-tuning is justified by cost.",
                f"{self._against_targets(meeting)}: the fine-tuned model must keep meeting the targets.",
            ]
        elif scale_text:
            conclusions.append(f"Scale case: {scale_text}.")
        return self._measured(rung, justified, conclusions, failed_metric=None, best=meeting)

    def _gap(self, best: ArmSummary) -> Decision:
        """No arm meets the targets: a knowledge gap (rule 4) or a behaviour gap (rule 5) decides, the scale
        case (rule 6) has nothing to replace; then rule 7."""
        self._rule(6, SKIPPED, "no arm meets the targets, so there is nothing cheaper to replace")
        correctness_ok = best.correctness is not None and best.correctness >= self.targets.correctness
        format_ok = best.format_compliance is None or best.format_compliance >= self.targets.format_compliance
        if not correctness_ok and format_ok:
            text = self._knowledge_gap(best)
            self._rule(4, DECIDES, text)
            self._rule(5, SKIPPED, f"{best.name} meets the format target")
            return self._measured(
                RAG, False, [f"Knowledge gap: {text}"], failed_metric=CORRECTNESS, best=best
            )
        self._rule(
            4,
            NOT_MET,
            f"{best.name} format compliance {_rate(best.format_compliance)} < target "
            f"{self.targets.format_compliance:.2f}: not only a knowledge problem",
        )
        gap = (
            f"{best.name} format compliance {_rate(best.format_compliance)} < target "
            f"{self.targets.format_compliance:.2f}, a behaviour fine-tuning can teach"
        )
        conclusions: list[str] = []
        data_ok, data_text = self._data_check()
        if data_ok:
            self._rule(5, DECIDES, f"{gap}; {data_text}")
            conclusions.append(f"Behaviour gap: {gap}; {data_text}: fine-tuning is justified.")
            rung, justified = "finetune", True
        else:
            self._rule(5, DECIDES, f"{gap}; {data_text}")
            conclusions.append(f"Behaviour gap: {gap}, but {data_text}: fine-tuning is not justified yet.")
            rung, justified = best.name, False
        if not correctness_ok:
            conclusions.append(
                f"Knowledge gap as well: {best.name} correctness {_rate(best.correctness)} < target "
                f"{self.targets.correctness:.2f}; fine-tuning does not add knowledge: "
                + self._knowledge_gap(best)
            )
        return self._measured(rung, justified, conclusions, failed_metric=FORMAT_COMPLIANCE, best=best)

    def _knowledge_gap(self, best: ArmSummary) -> str:
        rag = self.arms[RAG]
        missed = sorted(
            score.id
            for score in self.inputs.run.arm_scores(RAG).values()
            if score.ok and score.correct is False
        )
        shown = ", ".join(missed[:MISSED_ITEMS_SHOWN]) + (
            f" and {len(missed) - MISSED_ITEMS_SHOWN} more" if len(missed) > MISSED_ITEMS_SHOWN else ""
        )
        return (
            f"{best.name} correctness {_rate(best.correctness)} < target "
            f"{self.targets.correctness:.2f} while "
            f"format compliance {_rate(best.format_compliance)} meets {self.targets.format_compliance:.2f}; "
            f"this is a knowledge problem, not a behaviour one. Retrieval: {SOURCE_HIT_RATE.column} "
            f"{_rate(rag.source_hit_rate)}, {MRR.label} {_rate(rag.mrr)}; rag missed {len(missed)} items"
            + (f" ({shown})" if missed else "")
            + ". Try: chunking (chunkingStrategy, chunkMaxTokens), topK, reranking (rerankModelId), "
            "hybrid search (searchType), and documents missing from the corpus."
        )

    def _data_check(self) -> tuple[bool, str]:
        report = self.inputs.data
        if report is None:
            return False, "no --data was given to count clean examples"
        if report.usable:
            return True, f"--data has {report.clean} clean examples >= {report.min_examples} needed"
        return False, (
            f"--data has {report.clean} clean examples < {report.min_examples} needed: "
            f"{report.missing} more clean examples are needed"
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
        if not data_ok:
            self._rule(6, NOT_MET, f"{text}; but {data_text}")
            return False, f"{text}; but {data_text}"
        self._rule(6, DECIDES, f"{text}; {data_text}")
        return True, f"{text}; {data_text}"

    def _measured(
        self,
        rung: str,
        justified: bool,
        conclusions: list[str],
        *,
        failed_metric: Metric | None,
        best: ArmSummary,
    ) -> Decision:
        """Rule 7: the fine-tuned arm, where the run measured it, confirms or overturns the decision so far
        (``rung``, ``justified``); ``failed_metric`` is the target ``best`` missed, None when it met both."""
        finetuned = self.arms.get(FINETUNED)
        if finetuned is None:
            self._rule(7, SKIPPED, "the run has no finetuned arm")
            return self._decision(rung, justified, conclusions)
        if not scored_items(self.inputs.run.arm_scores(FINETUNED)):
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
        drop = _drop(best, finetuned)
        drop_text = (
            f"finetuned correctness {_rate(finetuned.correctness)} vs {best.name} {_rate(best.correctness)}"
        )
        drop_ok = drop is not None and drop <= MAX_CORRECTNESS_DROP
        if failed_metric is None:
            if justified and drop_ok and meets_targets(finetuned, self.targets):
                text = f"{drop_text}, meets the targets: keep it for the scale case"
                self._rule(7, MET, text)
                return self._decision(rung, justified, [*conclusions, f"Fine-tuned model measured: {text}."])
            text = (
                f"{best.name} meets the targets without it ({drop_text}); "
                "switch the flag off (-c fineTune=false)"
            )
            self._rule(7, DECIDES, text)
            return self._decision(best.name, False, [f"Fine-tuned model not needed: {text}.", *conclusions])
        interval = self._bootstrap(best.name, failed_metric)
        metric_name = failed_metric.label.lower()
        if interval is None:
            text = f"no items scored on {metric_name} in both {best.name} and finetuned"
            self._rule(7, DECIDES, f"{text}; switch the flag off (-c fineTune=false)")
            return self._decision(
                best.name if rung == "finetune" else rung,
                False,
                [f"Fine-tuned model not shown better: {text}; switch the flag off.", *conclusions],
            )
        self.interval = interval
        measured = f"finetuned - {best.name} on {metric_name}: {interval.describe()}; {drop_text}"
        if interval.above_zero and drop_ok:
            self._rule(7, DECIDES, f"{measured}: measurably better, keep it")
            return self._decision(
                "finetune",
                True,
                [f"Fine-tuned model measurably better: {measured}.", *conclusions],
            )
        why = (
            "the interval does not lie above zero"
            if not interval.above_zero
            else f"its correctness is lower by more than {MAX_CORRECTNESS_DROP:.2f}"
        )
        self._rule(7, DECIDES, f"{measured}: {why}; switch the flag off (-c fineTune=false)")
        return self._decision(
            best.name if rung == "finetune" else rung,
            False,
            [
                f"Fine-tuned model not measurably better: {measured}; {why}. Switch the flag off.",
                *conclusions,
            ],
        )

    def _bootstrap(self, baseline: str, metric: Metric) -> Interval | None:
        base = self.inputs.run.arm_scores(baseline)
        tuned = self.inputs.run.arm_scores(FINETUNED)
        pairs = []
        for item, candidate in sorted(tuned.items()):
            reference = base.get(item)
            if reference is None or not (candidate.ok and reference.ok):
                continue
            a, b = _metric(candidate, metric), _metric(reference, metric)
            if a is not None and b is not None:
                pairs.append((a, b))
        if not pairs:
            return None
        return paired_bootstrap(
            [float(a) for a, _ in pairs],
            [float(b) for _, b in pairs],
            resamples=self.inputs.resamples,
            seed=self.inputs.seed,
        )

    def _best_non_fine_tuned(self) -> ArmSummary:
        candidates = [self.arms[name] for name in (PROMPT, RAG) if name in self.arms]
        return max(
            candidates,
            key=lambda arm: (
                -1.0 if arm.correctness is None else arm.correctness,
                1.0 if arm.format_compliance is None else arm.format_compliance,
                arm.name == RAG,
            ),
        )

    def _against_targets(self, arm: ArmSummary) -> str:
        fmt = (
            "no format checks"
            if arm.format_compliance is None
            else f"format compliance {arm.format_compliance:.2f} "
            f"{'>=' if arm.format_compliance >= self.targets.format_compliance else '<'} "
            f"{self.targets.format_compliance:.2f}"
        )
        correctness = arm.correctness
        sign = ">=" if correctness is not None and correctness >= self.targets.correctness else "<"
        return f"{arm.name} correctness {_rate(correctness)} {sign} {self.targets.correctness:.2f}, {fmt}"

    def _rule(self, number: int, outcome: str, detail: str) -> None:
        self.rules = [rule for rule in self.rules if rule.number != number]
        self.rules.append(RuleOutcome(number, outcome, detail))

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


def _metric(score: Score, metric: Metric) -> bool | None:
    return score.format_ok if metric == FORMAT_COMPLIANCE else score.correct


def _drop(best: ArmSummary, finetuned: ArmSummary) -> float | None:
    if best.correctness is None or finetuned.correctness is None:
        return None
    return best.correctness - finetuned.correctness


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
