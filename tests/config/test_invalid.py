"""Every invalid configuration is refused with its exact origin, key path, value and fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from arbqos.config import load_config
from arbqos.errors import ConfigError
from tests.config.conftest import TESTDATA, Invoke, copy_testdata

CHOICES = "exec, risk, endpoints, heartbeat, balance_watcher, orchestrator, alerting"
EXEC_KEYS = (
    "fill_ratio_min, guard_enabled, min_orders_in_window, p95_accept_time_ms_max, qos_window_s"
)
ADDRESS = "expected a 20-byte hex address: 0x followed by exactly 40 hex digits (0-9, a-f)"
BY_VALUE = (
    "this value looks like a private key or mnemonic (not shown): arbqos never needs one (it "
    "only reads balances and never signs); remove it and rotate the key if it was ever shared"
)


@dataclass(frozen=True)
class Case:
    """One broken rule: where it comes from, and the exact line the operator must read."""

    source: str
    """`<rule>__<section>.yml` under testdata/, or `env` / `cli` for an empty config dir."""
    origin: str
    """Expected origin; `{d}` is the config directory."""
    path: str
    tail: str
    """The rendered line after `<origin>: <path>`."""
    env: dict[str, str] = field(default_factory=dict)
    sets: tuple[str, ...] = ()
    hidden: str | None = None
    """Text that must never be printed (a secret)."""

    @property
    def name(self) -> str:
        return self.source.split("__", 1)[0] if "__" in self.source else self.path or "cli"


CASES = [
    Case(
        "fill_ratio_zero__exec.yml",
        "{d}/exec.yml:2",
        "exec.fill_ratio_min",
        " = 0: expected a number > 0 and <= 1",
    ),
    Case(
        "fill_ratio_above_one__exec.yml",
        "{d}/exec.yml:2",
        "exec.fill_ratio_min",
        " = 1.5: expected a number > 0 and <= 1",
    ),
    Case(
        "p95_zero__exec.yml",
        "{d}/exec.yml:3",
        "exec.p95_accept_time_ms_max",
        " = 0: expected a whole number > 0",
    ),
    Case(
        "p95_negative__exec.yml",
        "{d}/exec.yml:2",
        "exec.p95_accept_time_ms_max",
        " = -250: expected a whole number > 0",
    ),
    Case(
        "unknown_key__exec.yml",
        "{d}/exec.yml:2",
        "exec.fill_ration_min",
        f" = 0.9: unknown key (a typo? did you mean fill_ratio_min?); known keys: {EXEC_KEYS}",
    ),
    Case(
        "unknown_file_name__exce.yml",
        "{d}/exce.yml",
        "",
        ": unknown config file name (a typo?); expected one of exec.yml, risk.yml, "
        "endpoints.yml, heartbeat.yml, balance_watcher.yml, orchestrator.yml, alerting.yml",
    ),
    Case(
        "yaml_syntax__exec.yml",
        "{d}/exec.yml:3",
        "exec",
        ": YAML syntax error: expected ',' or ']', but got ':' (column 13), while parsing a "
        "flow sequence that starts at line 2; check indentation, colons and quoting",
    ),
    Case(
        "duplicate_key__exec.yml",
        "{d}/exec.yml:4",
        "exec.fill_ratio_min",
        ": duplicate key (first at line 2); keep only one",
    ),
    Case(
        "not_a_mapping__exec.yml",
        "{d}/exec.yml:2",
        "exec",
        ' = ["fill_ratio_min", 0.9]: the file holds a list, not a mapping; write `key: value` '
        "lines at the top level",
    ),
    Case(
        "address_short__risk.yml",
        "{d}/risk.yml:5",
        "risk.wallets.sx.address",
        f' = "0x70997970C51812dc3A010C7d01b50e0d17dc79": {ADDRESS}; got 38 digits',
    ),
    Case(
        "address_not_hex__risk.yml",
        "{d}/risk.yml:5",
        "risk.wallets.sx.address",
        f' = "0x70997970C51812dc3A010C7d01b50e0d17dc79Zz": {ADDRESS}; not hex: Zz',
    ),
    Case(
        "address_bad_checksum__risk.yml",
        "{d}/risk.yml:11",
        "risk.wallets.azuro.address",
        ' = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293Bc": mixed-case address fails its EIP-55 '
        "checksum (a typo?); write it all lowercase or with the correct checksum",
    ),
    Case(
        "decimals_37__risk.yml",
        "{d}/risk.yml:9",
        "risk.wallets.sx.decimals",
        " = 37: expected a whole number >= 0 and <= 36",
    ),
    Case(
        "decimals_negative__risk.yml",
        "{d}/risk.yml:15",
        "risk.wallets.azuro.decimals",
        " = -1: expected a whole number >= 0 and <= 36",
    ),
    Case(
        "bank_source_unknown__risk.yml",
        "{d}/risk.yml:2",
        "risk.bank_source",
        " = \"chain\": expected one of 'onchain', 'venue_api' or 'static'",
    ),
    Case(
        "bank_source_venue_api__risk.yml",
        "{d}/risk.yml:2",
        "risk.bank_source",
        ' = "venue_api": bank_source venue_api is not available: neither SX Bet nor Azuro '
        "documents a balance endpoint; use onchain (ERC-20 balanceOf) or static",
    ),
    Case(
        "static_without_balance__risk.yml",
        "{d}/risk.yml:3",
        "risk.wallets",
        ": risk.bank_source is static, so every wallet needs static_balance (token units); "
        "missing for: azuro (risk.bank_source is from {d}/risk.yml:2)",
    ),
    Case(
        "auto_bridge_true__risk.yml",
        "{d}/risk.yml:16",
        "risk.auto_bridge",
        " = true: must be false: arbqos never moves funds; bridging is a manual decision",
    ),
    Case(
        "auto_bridge_yes__risk.yml",
        "{d}/risk.yml:16",
        "risk.auto_bridge",
        ' = "yes": must be false: arbqos never moves funds; bridging is a manual decision',
    ),
    Case(
        "private_key_by_name__risk.yml",
        "{d}/risk.yml:16",
        "risk.wallet_private_key",
        " = <redacted>: this key name is for a private key or mnemonic: arbqos never needs one "
        "(it only reads balances and never signs or sends a transaction); remove it from the "
        "configuration",
        hidden="hunter2-very-secret-value",
    ),
    Case(
        "hex_key_value__orchestrator.yml",
        "{d}/orchestrator.yml:2",
        "orchestrator.state_dir",
        f" = <redacted>: {BY_VALUE}",
        hidden="4c0883a69102937d6231471b5dbb6204",
    ),
    Case(
        "hex_key_in_list__heartbeat.yml",
        "{d}/heartbeat.yml:4",
        "heartbeat.targets.1",
        f" = <redacted>: {BY_VALUE}",
        hidden="4c0883a69102937d6231471b5dbb6204",
    ),
    Case(
        "mnemonic_value__orchestrator.yml",
        "{d}/orchestrator.yml:3",
        "orchestrator.state_dir",
        f" = <redacted>: {BY_VALUE}",
        hidden="test test test",
    ),
    Case(
        "probe_timeout_not_below_interval__heartbeat.yml",
        "{d}/heartbeat.yml:3",
        "heartbeat.probe_timeout_s",
        " = 5: must be below heartbeat.interval_s (5.0 s) so a hung probe never delays the "
        "next tick (heartbeat.interval_s is from {d}/heartbeat.yml:2)",
    ),
    Case(
        "retries_not_fitting_interval__heartbeat.yml",
        "{d}/heartbeat.yml:4",
        "heartbeat.retry_interval_s",
        " = 12: (heartbeat.failure_threshold - 1) x retry_interval_s + heartbeat.probe_timeout_s "
        "= (3 - 1) x 12 + 10 = 34 s does not fit in heartbeat.interval_s (30 s), so a failing "
        "target could not be confirmed down before the next tick; set retry_interval_s to at "
        "most 10, or lower heartbeat.failure_threshold or heartbeat.probe_timeout_s "
        "(heartbeat.failure_threshold is from {d}/heartbeat.yml:2; heartbeat.probe_timeout_s "
        "is from {d}/heartbeat.yml:3; heartbeat.interval_s is from {d}/heartbeat.yml:2)",
    ),
    Case(
        "read_timeout_not_below_poll__balance_watcher.yml",
        "{d}/balance_watcher.yml:3",
        "balance_watcher.read_timeout_s",
        " = 12: must be below balance_watcher.poll_interval_s (10.0 s) so a hung read never "
        "delays the next poll (balance_watcher.poll_interval_s is from "
        "{d}/balance_watcher.yml:2)",
    ),
    Case(
        "missing_wallet_venue__risk.yml",
        "{d}/risk.yml:3",
        "risk.wallets",
        ": needs one wallet per venue (sx and azuro); missing: azuro",
    ),
    Case(
        "non_stablecoin_without_price__risk.yml",
        "{d}/risk.yml:10",
        "risk.wallets.azuro.usd_price",
        ": token WPOL has stablecoin: false, so usd_price (USD per token) is required; give "
        "usd_price or set stablecoin: true",
    ),
    Case(
        "rpc_urls_empty__endpoints.yml",
        "{d}/endpoints.yml:5",
        "endpoints.chains.sx_rollup.rpc_urls",
        " = []: expected at least 1 item(s)",
    ),
    Case(
        "rpc_urls_not_http__endpoints.yml",
        "{d}/endpoints.yml:15",
        "endpoints.chains.polygon.rpc_urls.1",
        ' = "ws://REDACTED@polygon.example.org/ws": expected an http:// or https:// URL with '
        "a host, e.g. https://rpc.example.org",
        hidden="s3cretpass",
    ),
    Case(
        "repeat_interval_not_above_window__alerting.yml",
        "{d}/alerting.yml:2",
        "alerting.repeat_interval_s",
        " = 300.0: must be longer than exec.qos_window_s (300 s) so a persisting breach is "
        "not re-sent inside one window (exec.qos_window_s is the built-in default)",
    ),
    Case(
        "env",
        "env:ARBQOS__EXEC__QOS_WINDOW_S",
        "exec.qos_window_s",
        ' = "5 min": expected a whole number > 0',
        env={"ARBQOS__EXEC__QOS_WINDOW_S": "5 min"},
    ),
    Case(
        "env",
        "env:ARBQOS__HEARTBEAT__TARGETS",
        "heartbeat.targets",
        ' = "[\\"sx_rollup\\",": expected JSON here: Expecting value at column 14',
        env={"ARBQOS__HEARTBEAT__TARGETS": '["sx_rollup",'},
    ),
    Case(
        "cli",
        "cli",
        "exec.fill_ratio_min",
        ": expected --set section.key=value, got 'exec.fill_ratio_min' (no '=')",
        sets=("exec.fill_ratio_min",),
    ),
    Case(
        "cli",
        "cli",
        "exe.fill_ratio_min",
        f" = \"0.9\": unknown section 'exe'; expected <section>.<key> with section one of "
        f"{CHOICES}",
        sets=("exe.fill_ratio_min=0.9",),
    ),
]


def _config_dir(case: Case, tmp_path: Path) -> Path:
    config_dir = tmp_path / "config"
    if "__" in case.source:
        return copy_testdata(case.source, config_dir)
    config_dir.mkdir()
    return config_dir


def _expected(case: Case, config_dir: Path) -> tuple[str, str]:
    origin = case.origin.format(d=config_dir)
    return origin, f"{origin}: {case.path}{case.tail.format(d=config_dir)}" if case.path else (
        f"{origin}{case.tail.format(d=config_dir)}"
    )


def test_every_testdata_file_has_a_case() -> None:
    used = {case.source for case in CASES}
    assert sorted(p.name for p in TESTDATA.glob("*.yml")) == sorted(
        (used | {"several_errors__exec.yml"}) - {"env", "cli"}
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_invalid_config_names_origin_path_value_and_fix(case: Case, tmp_path: Path) -> None:
    config_dir = _config_dir(case, tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir, case.env, case.sets)
    origin, line = _expected(case, config_dir)
    assert [(i.origin, i.path) for i in caught.value.issues] == [(origin, case.path)]
    assert [i.render() for i in caught.value.issues] == [line]
    if case.hidden:
        assert case.hidden not in str(caught.value)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_config_validate_exits_2_with_the_message(
    case: Case, tmp_path: Path, invoke: Invoke
) -> None:
    config_dir = _config_dir(case, tmp_path)
    sets = [arg for s in case.sets for arg in ("--set", s)]
    result = invoke(["config", "validate", "--config-dir", str(config_dir), *sets], case.env)
    assert result.exit_code == 2
    _, line = _expected(case, config_dir)
    assert result.stderr.splitlines() == ["invalid configuration (1 error):", f"  {line}"]
    assert result.stdout == ""
    if case.hidden:
        assert case.hidden not in result.output


def test_one_file_with_several_errors_reports_all_of_them(tmp_path: Path, invoke: Invoke) -> None:
    config_dir = copy_testdata("several_errors__exec.yml", tmp_path / "config")
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir)
    issues = caught.value.issues
    assert len(issues) == 4
    assert [(i.origin, i.path) for i in issues] == [
        (f"{config_dir}/exec.yml:2", "exec.fill_ratio_min"),
        (f"{config_dir}/exec.yml:3", "exec.p95_accept_time_ms_max"),
        (f"{config_dir}/exec.yml:4", "exec.qos_window_s"),
        (f"{config_dir}/exec.yml:5", "exec.min_order_in_window"),
    ]
    assert "did you mean min_orders_in_window?" in issues[3].message
    result = invoke(["config", "validate", "--config-dir", str(config_dir)])
    assert result.exit_code == 2
    assert result.stderr.startswith("invalid configuration (4 errors):\n")
    assert all(f"  {issue.render()}" in result.stderr.splitlines() for issue in issues)


def test_errors_from_every_layer_are_reported_together(tmp_path: Path, invoke: Invoke) -> None:
    config_dir = copy_testdata("fill_ratio_zero__exec.yml", tmp_path / "config")
    env = {"ARBQOS__HEARTBEAT__INTERVAL_S": "often"}
    result = invoke(
        ["config", "validate", "--config-dir", str(config_dir), "--set", "risk.stake_pct_cap=2"],
        env,
    )
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "invalid configuration (3 errors):"
    assert (
        f"  {config_dir}/exec.yml:2: exec.fill_ratio_min = 0: expected a number > 0 and <= 1"
        in lines
    )
    assert (
        '  env:ARBQOS__HEARTBEAT__INTERVAL_S: heartbeat.interval_s = "often": expected a number > 0'
        in lines
    )
    assert '  cli: risk.stake_pct_cap = "2": expected a number > 0 and <= 1' in lines
