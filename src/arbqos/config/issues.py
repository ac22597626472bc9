"""Turn validation failures into operator messages: origin, key path, value, what is expected."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from arbqos.config.introspect import annotation_at, describe_bounds, unwrap
from arbqos.config.redact import redact, redact_text
from arbqos.config.schema import SECTIONS, ArbqosConfig
from arbqos.config.secrets import mentions_secret
from arbqos.errors import MISSING, REDACTED_VALUE, ConfigIssue

_KEY_PATH = re.compile(r"\b(?:" + "|".join(SECTIONS) + r")(?:\.[a-z0-9_]+)+")
_NUMBER_ERRORS = {"int_type", "int_parsing", "int_from_float", "float_type", "float_parsing"}
_EXPECTED = {
    "missing": "required key is missing; add it",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number, not a fraction",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number (not .inf or .nan)",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected text (quote it if YAML reads it as a number or date)",
    "list_type": "expected a list (YAML `- item` lines, or JSON/comma-separated in env and --set)",
    "dict_type": "expected a mapping of `key: value` lines",
    "model_type": "expected a mapping of `key: value` lines",
    "model_attributes_type": "expected a mapping of `key: value` lines",
}


def origin_of(path: str, origins: Mapping[str, str]) -> str:
    """Where `path` or its nearest ancestor was set, e.g. `config/exec.yml:3`; else `default`."""
    probe = path
    while probe:
        if probe in origins:
            return origins[probe].removeprefix("file:")
        probe = probe.rpartition(".")[0]
    return "default"


def issues_from_validation(err: ValidationError, origins: Mapping[str, str]) -> list[ConfigIssue]:
    """One issue per pydantic error, with the key path as the operator wrote it."""
    issues = []
    for item in err.errors():
        parts = [str(part) for part in item["loc"]]
        key_error = parts[-1:] == ["[key]"]
        if key_error:
            parts = parts[:-1]
        path = ".".join(parts)
        message = _explain(item, parts, key_error)
        value = _shown_value(item.get("input", MISSING), str(item["type"]))
        issues.append(ConfigIssue(origin_of(path, origins), path, value, message))
    return issues


def _shown_value(value: object, kind: str) -> object:
    """The value as the operator wrote it; nothing for a missing key or a whole mapping."""
    if kind == "missing" or value is None or isinstance(value, dict | BaseModel):
        return MISSING
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return hex(value)
    return value


def _explain(item: Any, parts: list[str], key_error: bool) -> str:
    kind = str(item["type"])
    ctx = item.get("ctx") or {}
    if key_error:
        return f"unknown entry name; expected one of {ctx.get('expected', '?')}"
    if kind == "extra_forbidden":
        return _unknown_key(parts)
    if kind in _NUMBER_ERRORS or kind.startswith(("greater", "less")):
        bounds = describe_bounds(parts)
        single = "a single value, " if isinstance(item.get("input"), list | dict) else ""
        if bounds is not None:
            return f"expected {single}{bounds}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}"
    if kind in ("too_short", "too_long"):
        limit = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        bound = "at least" if kind == "too_short" else "at most"
        return f"expected {bound} {limit} item(s)"
    if kind == "string_pattern_mismatch":
        return f"expected text matching {ctx.get('pattern')}"
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    msg = str(item["msg"]).removeprefix("Value error, ")
    if msg[1:2].islower():
        msg = msg[:1].lower() + msg[1:]
    return msg or kind


REPLACED_KEYS: dict[str, str] = {
    "orchestrator.auto_resume": (
        "replaced: infrastructure reasons now lift themselves after "
        "orchestrator.infra_resume_after_s, QoS and manual ones wait for an admin; remove it"
    ),
    "orchestrator.auto_resume_grace_s": "replaced by orchestrator.infra_resume_after_s; remove it",
}
"""Keys of earlier versions: say what replaced them instead of "unknown key"."""


def _unknown_key(parts: list[str]) -> str:
    key, parent = parts[-1], parts[:-1]
    if ".".join(parts) in REPLACED_KEYS:
        return REPLACED_KEYS[".".join(parts)]
    if len(parts) == 2 and key == parts[0]:
        return (
            f"unknown key; the file name is the section already: put the keys of {key}.yml at "
            f"its top level, without a `{key}:` line"
        )
    annotation = annotation_at(parent)
    base = unwrap(annotation)[0] if annotation is not None else None
    fields = sorted(getattr(base, "model_fields", {}) or [])
    if not fields:
        return "unknown key (a typo?); remove it"
    close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
    hint = f" did you mean {close[0]}?" if close else ""
    return f"unknown key (a typo?{hint}); known keys: {', '.join(fields)}"


def cross_section_issues(config: ArbqosConfig, origins: Mapping[str, str]) -> list[ConfigIssue]:
    """Rules that span several files."""
    return [
        *_repeat_interval(config, origins),
        *_disabled_chains(config, origins),
        *_ports(config, origins),
        *_watchdog_timeout(config, origins),
        *_bank_max_age(config, origins),
    ]


def _bank_max_age(config: ArbqosConfig, origins: Mapping[str, str]) -> list[ConfigIssue]:
    max_age, poll = config.risk.bank_max_age_s, config.balance_watcher.poll_interval_s
    if max_age >= 2 * poll:
        return []
    path = "risk.bank_max_age_s"
    message = (
        f"must be at least twice balance_watcher.poll_interval_s ({poll:g} s), or the engine "
        "forgets the bank between two polls and stops checking stakes against the cap"
    )
    return [ConfigIssue(origin_of(path, origins), path, max_age, message)]


def _watchdog_timeout(config: ArbqosConfig, origins: Mapping[str, str]) -> list[ConfigIssue]:
    timeout = config.orchestrator.watchdog_timeout_s
    repeat = config.alerting.watchdog_repeat_s + config.alerting.group_interval_s
    if timeout >= 2 * repeat:
        return []
    path = "orchestrator.watchdog_timeout_s"
    message = (
        f"must be at least twice the time between ArbWatchdog deliveries "
        f"(alerting.watchdog_repeat_s + group_interval_s = {repeat:g} s), or one late "
        "delivery reports the alert path down"
    )
    return [ConfigIssue(origin_of(path, origins), path, timeout, message)]


def _repeat_interval(config: ArbqosConfig, origins: Mapping[str, str]) -> list[ConfigIssue]:
    repeat, window = config.alerting.repeat_interval_s, config.exec.qos_window_s
    if repeat > window:
        return []
    path = "alerting.repeat_interval_s"
    message = (
        f"must be longer than exec.qos_window_s ({window} s) so a persisting breach is not "
        "re-sent inside one window"
    )
    return [ConfigIssue(origin_of(path, origins), path, repeat, message)]


def _disabled_chains(config: ArbqosConfig, origins: Mapping[str, str]) -> list[ConfigIssue]:
    issues = []
    for venue, wallet in sorted(config.risk.wallets.items()):
        endpoint = config.endpoints.chains.get(wallet.chain)
        if endpoint is not None and not endpoint.enabled:
            path = f"risk.wallets.{venue}.chain"
            message = (
                f"endpoints.chains.{wallet.chain}.enabled is false, so this wallet cannot be "
                "read; enable the chain or move the wallet"
            )
            issues.append(ConfigIssue(origin_of(path, origins), path, wallet.chain, message))
    return issues


def _ports(config: ArbqosConfig, origins: Mapping[str, str]) -> list[ConfigIssue]:
    listeners = {
        "orchestrator.port": (config.orchestrator.host, config.orchestrator.port),
        "heartbeat.metrics_port": (config.heartbeat.host, config.heartbeat.metrics_port),
        "balance_watcher.metrics_port": (
            config.balance_watcher.host,
            config.balance_watcher.metrics_port,
        ),
    }
    issues = []
    claimed: dict[int, tuple[str, str]] = {}
    for path, (host, port) in listeners.items():
        first = claimed.get(port)
        if first is not None and _hosts_overlap(first[1], host):
            message = f"port already used by {first[0]}; give each service its own port"
            issues.append(ConfigIssue(origin_of(path, origins), path, port, message))
        claimed.setdefault(port, (path, host))
    return issues


def _hosts_overlap(one: str, two: str) -> bool:
    return one == two or "0.0.0.0" in (one, two) or "::" in (one, two)  # noqa: S104


def finalize(issues: list[ConfigIssue], origins: Mapping[str, str]) -> list[ConfigIssue]:
    """Hide secrets and URL credentials, cite the origin of related keys, drop repeats."""
    out: list[ConfigIssue] = []
    seen: set[str] = set()
    for issue in issues:
        cleaned = ConfigIssue(
            issue.origin,
            issue.path,
            _scrub(issue.value),
            _cite_related(redact_text(issue.message), issue.path, origins),
        )
        key = cleaned.render()
        if key not in seen:
            seen.add(key)
            out.append(cleaned)
    return out


def _scrub(value: object) -> object:
    if value is MISSING or value is REDACTED_VALUE:
        return value
    if mentions_secret(value):
        return REDACTED_VALUE
    return redact(value)


def _cite_related(message: str, own_path: str, origins: Mapping[str, str]) -> str:
    cited = []
    for token in dict.fromkeys(_KEY_PATH.findall(message)):
        if token != own_path and annotation_at(token.split(".")) is not None:
            origin = origin_of(token, origins)
            shown = "the built-in default" if origin == "default" else f"from {origin}"
            cited.append(f"{token} is {shown}")
    return message + (f" ({'; '.join(cited)})" if cited else "")
