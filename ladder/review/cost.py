"""The idle monthly floor, computed from the templates with the dated price table in
``ladder_core.catalog.idle``, and the per-query cost of the latest evaluation run when there is one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ladder.review.model import Assembly
from ladder_core.catalog import idle


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
    }
