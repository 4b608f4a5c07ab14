"""What changed since an earlier ``review.json``: resources added, removed, replaced or changed,
permissions gained or lost, and the idle-cost delta."""

from __future__ import annotations

from typing import Any


def _resources(review: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (stack["name"], resource["logicalId"]): resource
        for stack in review["stacks"]
        for resource in stack["resources"]
    }


def _grants(review: dict[str, Any]) -> set[tuple[str, str, str]]:
    found = set()
    for row in review["permissions"]["roles"]:
        for statement in row["statements"]:
            if statement["effect"] != "Allow":
                continue
            for action in statement["actions"]:
                for resource in statement["resources"]:
                    found.add((f"{row['stack']}/{row['logicalId']}", action, resource["text"]))
    return found


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    old, new = _resources(before), _resources(after)
    changed, replaced = [], []
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        row = {"stack": key[0], "logicalId": key[1], "type": b["type"]}
        if a["type"] != b["type"]:
            replaced.append(row | {"why": f"type {a['type']} -> {b['type']}"})
        elif "replaceKey" in a and a["replaceKey"] != b.get("replaceKey"):
            replaced.append(row | {"why": "a create-only property changed"})
        elif a["fingerprint"] != b["fingerprint"]:
            changed.append(row)
    lost = _grants(before) - _grants(after)
    gained = _grants(after) - _grants(before)

    def rows(
        keys: set[tuple[str, str]], source: dict[tuple[str, str], dict[str, Any]]
    ) -> list[dict[str, Any]]:
        return [{"stack": k[0], "logicalId": k[1], "type": source[k]["type"]} for k in sorted(keys)]

    def grant_rows(grants: set[tuple[str, str, str]]) -> list[dict[str, str]]:
        return [
            {"role": role, "action": action, "resource": resource}
            for role, action, resource in sorted(grants)
        ]

    before_cost = before["cost"]["idleMonthlyUsd"]
    after_cost = after["cost"]["idleMonthlyUsd"]
    return {
        "added": rows(new.keys() - old.keys(), new),
        "removed": rows(old.keys() - new.keys(), old),
        "replaced": replaced,
        "changed": changed,
        "permissionsGained": grant_rows(gained),
        "permissionsLost": grant_rows(lost),
        "idleMonthlyUsdBefore": before_cost,
        "idleMonthlyUsdAfter": after_cost,
        "idleMonthlyUsdDelta": round(after_cost - before_cost, 2),
    }
