"""The idle monthly floor, computed from the templates with the dated price table in
``ladder_core.catalog.idle``, and the per-query cost of the latest evaluation run when there is one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ladder.evaluation.runner import read_answers
from ladder.pricing.models import PriceTable, load_prices
from ladder.review.model import Assembly
from ladder_core import drift
from ladder_core.catalog import idle
from ladder_core.evaluation import costs

WATCH_HANDLER = "watch.handler.handler"
WATCH_EXCLUDES = (
    "Step Functions state transitions, the evaluation and watch functions' Lambda time, S3 requests, SNS "
    "messages, and the Ladder/Evaluation custom metrics (CloudWatch bills each metric per month it receives "
    "data: 3 per arm plus DriftFindings). Items are at most driftWatchMaxItems (fewer when the staged set "
    "is smaller); finetuned is counted as if a model were published."
)


def _line(
    stack: str, logical_id: str, resource_type: str, quantity: float, price: idle.Price, detail: str
) -> dict[str, Any]:
    return {
        "stack": stack,
        "logicalId": logical_id,
        "type": resource_type,
        "quantity": quantity,
        "unit": price.unit,
        "unitUsd": price.usd,
        "monthlyUsd": round(quantity * price.usd, 2),
        "detail": detail,
        "source": price.source,
    }


def _alarm_metrics(props: dict[str, Any]) -> int:
    """CloudWatch bills an alarm per metric it watches; a metric-math alarm watches each MetricStat."""
    metrics = props.get("Metrics")
    if not metrics:
        return 1
    return sum(1 for metric in metrics if "MetricStat" in metric) or 1


def idle_lines(assembly: Assembly) -> list[dict[str, Any]]:
    """One line per resource with a fixed monthly price, naming the resource it comes from."""
    lines = []
    for stack in assembly.stacks:
        for logical_id, resource in stack.resources.items():
            kind = resource["Type"]
            props = resource.get("Properties", {})
            if kind == "AWS::OpenSearchServerless::Collection":
                standby = props.get("StandbyReplicas", "ENABLED") == "ENABLED"
                ocus = idle.OCU_MIN_WITH_STANDBY if standby else idle.OCU_MIN_WITHOUT_STANDBY
                lines.append(
                    _line(
                        stack.name,
                        logical_id,
                        kind,
                        ocus * idle.HOURS_PER_MONTH,
                        idle.OCU_HOUR,
                        f"{ocus:g} OCU minimum (standby replicas {'on' if standby else 'off'}) x "
                        f"{idle.HOURS_PER_MONTH} h; collections sharing one KMS key share this floor",
                    )
                )
            elif kind == "AWS::KMS::Key":
                lines.append(
                    _line(stack.name, logical_id, kind, 1, idle.KMS_KEY_MONTH, "customer managed key")
                )
            elif kind == "AWS::CloudWatch::Alarm":
                metrics = _alarm_metrics(props)
                lines.append(
                    _line(
                        stack.name, logical_id, kind, metrics, idle.ALARM_METRIC_MONTH, f"{metrics} metric(s)"
                    )
                )
            elif kind == "AWS::CloudWatch::Dashboard":
                lines.append(_line(stack.name, logical_id, kind, 1, idle.DASHBOARD_MONTH, "dashboard"))
            elif kind == "AWS::WAFv2::WebACL":
                rules = len(props.get("Rules", []))
                lines.append(_line(stack.name, logical_id, kind, 1, idle.WAF_WEB_ACL_MONTH, "web ACL"))
                if rules:
                    lines.append(
                        _line(
                            stack.name,
                            logical_id,
                            kind,
                            rules,
                            idle.WAF_RULE_MONTH,
                            f"{rules} rule(s) in the ACL",
                        )
                    )
            elif kind == "AWS::SecretsManager::Secret":
                lines.append(_line(stack.name, logical_id, kind, 1, idle.SECRET_MONTH, "secret"))
    return lines


def no_idle_price(assembly: Assembly) -> list[dict[str, str]]:
    """Resources that exist but are priced at zero while idle on purpose (S3 Vectors), with why."""
    return [
        {
            "stack": stack.name,
            "logicalId": logical_id,
            "type": resource["Type"],
            "why": idle.NO_IDLE_PRICE[resource["Type"]],
        }
        for stack in assembly.stacks
        for logical_id, resource in stack.resources.items()
        if resource["Type"] in idle.NO_IDLE_PRICE
    ]


def latest_eval_summary(eval_runs: Path) -> Path | None:
    """The newest ``eval-runs/<run>/summary.json`` (run folders sort by their timestamped names)."""
    summaries = sorted(eval_runs.glob("*/summary.json")) if eval_runs.is_dir() else []
    return summaries[-1] if summaries else None


def per_query(eval_runs: Path) -> dict[str, Any] | None:
    """``arms.<arm>.costPerQueryUsd`` of the latest evaluation run, or None when there is no run."""
    summary_file = latest_eval_summary(eval_runs)
    if summary_file is None:
        return None
    summary = json.loads(summary_file.read_text())
    arms = {
        name: arm["costPerQueryUsd"]
        for name, arm in sorted(summary.get("arms", {}).items())
        if isinstance(arm, dict) and isinstance(arm.get("costPerQueryUsd"), int | float)
    }
    return {"summary": str(summary_file), "costPerQueryUsd": arms}


def watch_environment(assembly: Assembly) -> dict[str, Any] | None:
    """The drift watch function's environment in the templates; None when the watch is off."""
    for stack in assembly.stacks:
        for resource in stack.resources.values():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::Lambda::Function" and props.get("Handler") == WATCH_HANDLER:
                return dict(props.get("Environment", {}).get("Variables", {}))
    return None


def watch_run(assembly: Assembly, eval_runs: Path, prices: PriceTable | None = None) -> dict[str, Any] | None:
    """The cost of one scheduled drift-watch run: items x (the sum over the arms the schedule runs at most
    of each arm's cost per query). An arm measured by the latest evaluation run costs what it cost there;
    ``MODE@MODEL`` measured only as ``MODE`` costs that run's ``MODE`` queries with the generation priced at
    MODEL's token prices; any other arm is unknown (``runUsd`` None, ``knownRunUsd`` the rest). None when
    the watch is off."""
    environment = watch_environment(assembly)
    if environment is None:
        return None
    model_ids = tuple(v for v in str(environment.get("MODEL_IDS", "")).split(",") if v)
    arms = drift.watch_arms(
        examples=bool(environment.get("EXAMPLES_MANIFEST_BUCKET")),
        fine_tuned_published=bool(environment.get("MODEL_PARAMETER")),
        model_ids=model_ids,
    )
    items = int(environment["MAX_ITEMS"])
    measured = _arm_costs(eval_runs, arms, prices or load_prices())
    known = [usd for usd, _ in measured.values() if usd is not None]
    per_arm = [{"arm": arm, "costPerQueryUsd": measured[arm][0], "basis": measured[arm][1]} for arm in arms]
    return {
        "items": items,
        "arms": per_arm,
        "runUsd": round(items * sum(known), 4) if len(known) == len(arms) else None,
        "knownRunUsd": round(items * sum(known), 4),
        "unknownArms": [row["arm"] for row in per_arm if row["costPerQueryUsd"] is None],
        "metrics": 3 * len(arms) + 1,
        "excludes": WATCH_EXCLUDES,
    }


def _arm_costs(eval_runs: Path, arms: list[str], prices: PriceTable) -> dict[str, tuple[float | None, str]]:
    """Per arm: its cost per query and where it comes from."""
    found: dict[str, tuple[float | None, str]] = dict.fromkeys(arms, (None, "not measured yet"))
    summary_file = latest_eval_summary(eval_runs)
    if summary_file is None:
        return found
    summary = json.loads(summary_file.read_text())
    run_arms = summary.get("arms", {})
    records = read_answers(summary_file.parent / "responses.jsonl")
    for arm in arms:
        usd = (run_arms.get(arm) or {}).get("costPerQueryUsd")
        if isinstance(usd, int | float):
            found[arm] = (float(usd), f"measured in {summary_file.parent.name}")
            continue
        mode, _, model = arm.partition("@")
        if model and mode in run_arms:
            ok = [r for (_, a, _), r in records.items() if a == mode and r.get("status") == "ok"]
            usd = costs.query_total(costs.arm_breakdown(_repriced(r, model, prices) for r in ok)[0])
            if usd is not None:
                found[arm] = (usd, f"{mode}'s tokens in {summary_file.parent.name} at {model}'s prices")
    return found


def _repriced(record: dict[str, Any], model_id: str, prices: PriceTable) -> dict[str, float | None]:
    """The record's cost breakdown with its tokens generated by ``model_id`` instead."""
    response = {**record["response"], "modelId": model_id}
    return costs.query_breakdown(prices, {**record, "response": response})


def cost(assembly: Assembly, eval_runs: Path) -> dict[str, Any]:
    lines = idle_lines(assembly)
    return {
        "pricesAsOf": idle.PRICES_AS_OF,
        "priceRegion": idle.PRICE_REGION,
        "lines": lines,
        "idleMonthlyUsd": round(sum(line["monthlyUsd"] for line in lines), 2),
        "noIdlePrice": no_idle_price(assembly),
        "usagePrices": [
            {"what": what, "usd": price.usd, "unit": price.unit, "source": price.source}
            for what, price in idle.STORAGE_PRICES.items()
        ],
        "perQuery": per_query(eval_runs),
        "watchRun": watch_run(assembly, eval_runs),
    }
