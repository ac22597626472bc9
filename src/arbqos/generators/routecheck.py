"""Check the rendered routing: no alert may reach a receiver that has no integration.

A receiver without any `*_configs` swallows what reaches it. Routing is followed the way
Alertmanager does (first matching child unless `continue`, the node itself when no child
matches). A rule's own labels, `alertname`, `severity` and `action` are known; a matcher on any
other label (those come from the series) may go either way, so both outcomes are followed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from arbqos.generators.receivers import has_integration

_MATCHER = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$')
ALWAYS_KNOWN = frozenset({"alertname", "severity", "action"})
"""Labels set by the rules themselves: absent from a rule means absent from its alerts."""


def matcher_result(matcher: str, labels: Mapping[str, str]) -> bool | None:
    """Evaluate one matcher on an alert's known labels; None when the label is unknown."""
    found = _MATCHER.match(matcher)
    if found is None:
        raise ValueError(f"cannot read matcher {matcher!r}")
    name, op, raw = found.groups()
    value = raw.encode().decode("unicode_escape")
    if name not in labels and name not in ALWAYS_KNOWN:
        return None
    actual = labels.get(name, "")
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    hit = re.fullmatch(value, actual) is not None
    return hit if op == "=~" else not hit


def route_result(route: Mapping[str, Any], labels: Mapping[str, str]) -> bool | None:
    """True when every matcher holds, False when one fails, None when it depends on series."""
    results = [matcher_result(m, labels) for m in route.get("matchers", [])]
    if False in results:
        return False
    return None if None in results else True


def reachable_receivers(
    route: Mapping[str, Any], labels: Mapping[str, str], inherited: str = ""
) -> set[str]:
    """Every receiver an alert with `labels` can reach from `route` (which it matched)."""
    receiver = str(route.get("receiver", inherited))
    found: set[str] = set()
    surely_matched = False
    for child in route.get("routes", []):
        result = route_result(child, labels)
        if result is False:
            continue
        found |= reachable_receivers(child, labels, receiver)
        if result is True:
            surely_matched = True
            if not child.get("continue", False):
                break
    if not surely_matched:
        found.add(receiver)
    return found


def swallowed_routes(rules: Iterable[Mapping[str, Any]], config: Mapping[str, Any]) -> list[str]:
    """One message per (alert, receiver) where an alert can reach a receiver with no integration."""
    empty = {r["name"] for r in config.get("receivers", []) if not has_integration(r)}
    problems: list[str] = []
    for rule in rules:
        if "alert" not in rule:
            continue
        labels = {"alertname": str(rule["alert"]), **rule.get("labels", {})}
        for receiver in sorted(reachable_receivers(config["route"], labels) & empty):
            shown = ", ".join(f"{k}={v}" for k, v in labels.items() if k != "alertname")
            message = (
                f"alert {labels['alertname']} ({shown}) can route to receiver {receiver!r}, "
                "which has no integration: its notifications would reach nobody"
            )
            if message not in problems:
                problems.append(message)
    return problems
