"""Env and --set values are converted by the schema; layers merge key by key."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from arbqos.config import load_config
from arbqos.config.layers import convert_by_schema
from arbqos.errors import ConfigError
from tests.config.conftest import RISK_YML

WriteConfig = Callable[..., Path]
TARGETS = "ARBQOS__HEARTBEAT__TARGETS"
POLYGON_RPC = "ARBQOS__ENDPOINTS__CHAINS__POLYGON__RPC_URLS"


def _issues(config_dir: Path, env: dict[str, str] | None = None, *sets: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir, env or {}, sets)
    return [issue.render() for issue in caught.value.issues]


@pytest.mark.parametrize("raw", ["0001", "true", "1e3", "null"])
def test_a_text_key_keeps_the_text_as_given(raw: str, write_config: WriteConfig) -> None:
    config_dir = write_config()
    by_env = load_config(config_dir, {"ARBQOS__ORCHESTRATOR__STATE_DIR": raw})
    by_cli = load_config(config_dir, {}, [f"risk.wallets.sx.token={raw}".replace("1e3", "E3")])
    assert by_env.config.orchestrator.state_dir == raw
    assert by_cli.config.risk.wallets["sx"].token == raw.replace("1e3", "E3")


@pytest.mark.parametrize(
    "raw",
    [
        '["polygon", "arbitrum"]',
        "polygon,arbitrum",
        " polygon , arbitrum ",
        '["polygon","arbitrum"]',
    ],
)
def test_lists_take_json_or_comma_separated_items(raw: str, write_config: WriteConfig) -> None:
    loaded = load_config(write_config(), {TARGETS: raw})
    assert loaded.config.heartbeat.targets == ["polygon", "arbitrum"]
    assert loaded.sources["heartbeat.targets"] == f"env:{TARGETS}"


def test_an_empty_list_is_refused_where_one_item_is_required(write_config: WriteConfig) -> None:
    assert _issues(write_config(), {POLYGON_RPC: ""}) == [
        f"env:{POLYGON_RPC}: endpoints.chains.polygon.rpc_urls = []: expected at least 1 item(s)"
    ]


@pytest.mark.parametrize(("raw", "expected"), [("false", False), ("0", False), ("true", True)])
def test_booleans_are_parsed_by_the_schema(
    raw: str, expected: bool, write_config: WriteConfig
) -> None:
    loaded = load_config(write_config(), {}, [f"exec.guard_enabled={raw}"])
    assert loaded.config.exec.guard_enabled is expected


def test_blanks_around_numbers_booleans_and_choices_are_ignored(
    write_config: WriteConfig,
) -> None:
    env = {
        "ARBQOS__EXEC__FILL_RATIO_MIN": " 0.9 ",
        "ARBQOS__EXEC__GUARD_ENABLED": " false\n",
        "ARBQOS__RISK__BANK_SOURCE": "onchain ",
        "ARBQOS__ORCHESTRATOR__STATE_DIR": " state ",
    }
    loaded = load_config(write_config(), env, ["exec.qos_window_s= 200"])
    assert loaded.config.exec.fill_ratio_min == 0.9
    assert loaded.config.exec.guard_enabled is False
    assert loaded.config.exec.qos_window_s == 200
    assert loaded.config.risk.bank_source == "onchain"
    assert loaded.config.orchestrator.state_dir == " state "


def test_a_word_that_is_no_boolean_is_refused(write_config: WriteConfig) -> None:
    assert _issues(write_config(), {"ARBQOS__EXEC__GUARD_ENABLED": "maybe"}) == [
        'env:ARBQOS__EXEC__GUARD_ENABLED: exec.guard_enabled = "maybe": expected true or false'
    ]


@pytest.mark.parametrize("raw", ["null", "~", ""])
def test_null_clears_an_optional_key(raw: str, write_config: WriteConfig) -> None:
    config_dir = write_config(alerting="default_webhook_url: https://hooks.example.org/arb\n")
    assert load_config(config_dir).config.alerting.default_webhook_url is not None
    var = "ARBQOS__ALERTING__DEFAULT_WEBHOOK_URL"
    loaded = load_config(config_dir, {var: raw})
    assert loaded.config.alerting.default_webhook_url is None
    assert loaded.sources["alerting.default_webhook_url"] == f"env:{var}"
    cleared = load_config(config_dir, {}, ["endpoints.chains.polygon.head_age_max_s=null"])
    assert cleared.config.endpoints.chains["polygon"].head_age_max_s is None


def test_null_on_a_required_key_is_an_error(write_config: WriteConfig) -> None:
    assert _issues(write_config(), {}, "exec.qos_window_s=null") == [
        'cli: exec.qos_window_s = "null": expected a whole number > 0'
    ]


@pytest.mark.parametrize(
    ("raw", "shape"), [("[300]", "list"), ("[300, 600]", "list"), ('{"s": 300}', "mapping")]
)
def test_a_list_for_a_number_key_is_refused_clearly(
    raw: str, shape: str, write_config: WriteConfig
) -> None:
    var = "ARBQOS__EXEC__QOS_WINDOW_S"
    assert _issues(write_config(), {var: raw}) == [
        f"env:{var}: exec.qos_window_s = {json.dumps(raw)}: expected a single value "
        f"(whole number), got a JSON {shape}"
    ]


def test_a_yaml_list_for_a_number_key_is_refused_clearly(write_config: WriteConfig) -> None:
    config_dir = write_config(exec="qos_window_s: [300, 600]\n")
    assert _issues(config_dir) == [
        f"{config_dir}/exec.yml:1: exec.qos_window_s = [300, 600]: "
        "expected a single value, a whole number > 0"
    ]


def test_conversion_follows_the_schema_not_the_looks_of_the_value() -> None:
    assert convert_by_schema(["orchestrator", "port"], "8700") == "8700"
    assert convert_by_schema(["orchestrator", "state_dir"], "[1]") == "[1]"
    assert convert_by_schema(["heartbeat", "targets"], "polygon") == ["polygon"]
    assert convert_by_schema(["risk", "wallets", "sx", "usd_price"], "null") is None
    assert convert_by_schema(["risk", "wallets", "sx"], '{"decimals": 6}') == {"decimals": 6}
    assert convert_by_schema(["exec", "no_such_key"], "1") == "1"


def test_env_changes_one_wallet_entry_without_a_file(write_config: WriteConfig) -> None:
    address = "0x90f79bf6eb2c4f870365e785982e1f101e93b906"
    loaded = load_config(write_config(), {"ARBQOS__RISK__WALLETS__SX__ADDRESS": address})
    wallet = loaded.config.risk.wallets["sx"]
    assert wallet.address == "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
    assert wallet.token == "USDC"
    assert loaded.sources["risk.wallets.sx.address"] == "env:ARBQOS__RISK__WALLETS__SX__ADDRESS"
    assert loaded.sources["risk.wallets.sx.token"] == "default"


def test_env_changes_one_chain_entry_on_top_of_a_file(write_config: WriteConfig) -> None:
    config_dir = write_config(endpoints="chains:\n  polygon:\n    chain_id: 137\n")
    assert _issues(config_dir, {POLYGON_RPC: "https://polygon.example.org"}) == [
        f"{config_dir}/endpoints.yml:1: endpoints.chains: needs an entry for each chain "
        "(sx_rollup, arbitrum and polygon); missing: arbitrum, sx_rollup"
    ]
    full = write_config(endpoints=(Path(__file__).parents[2] / "config/endpoints.yml").read_text())
    url = "https://polygon.example.org"
    loaded = load_config(full, {POLYGON_RPC: url})
    assert loaded.config.endpoints.chains["polygon"].rpc_urls == [url]
    assert loaded.config.endpoints.chains["polygon"].head_age_max_s == 60
    assert loaded.sources["endpoints.chains.polygon.chain_id"] == f"file:{full}/endpoints.yml"


def test_a_wallets_block_in_a_file_replaces_the_demo_wallets(write_config: WriteConfig) -> None:
    only_sx = RISK_YML.split("  azuro:")[0]
    config_dir = write_config(risk=only_sx)
    assert _issues(config_dir) == [
        f"{config_dir}/risk.yml:2: risk.wallets: needs one wallet per venue (sx and azuro); "
        "missing: azuro"
    ]


def test_a_json_wallet_entry_is_located_at_its_variable(write_config: WriteConfig) -> None:
    var = "ARBQOS__RISK__WALLETS__SX"
    assert _issues(write_config(), {var: '{"decimals": 99}'}) == [
        f"env:{var}: risk.wallets.sx.decimals = 99: expected a whole number >= 0 and <= 36"
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("yes: 1\n", 1, "YAML does not read this key as plain text; quote it or fix the typo"),
        ("exec:\n  fill_ratio_min: 0.9\n", 1, None),
        ("interval_s: .inf\n", 1, "expected a finite number (not .inf or .nan)"),
        ("interval_s: true\n", 1, "expected a number, got the boolean true"),
    ],
)
def test_yaml_traps_are_explained(
    text: str, line: int, message: str | None, write_config: WriteConfig
) -> None:
    section = "exec" if text.startswith("exec") else "heartbeat"
    config_dir = write_config(**{section: text})
    [issue] = _issues(config_dir)
    assert issue.startswith(f"{config_dir}/{section}.yml:{line}: ")
    if message is None:
        assert "put the keys of exec.yml at its top level, without a `exec:` line" in issue
    else:
        assert issue.endswith(message)


def test_yml_and_yaml_for_one_section_is_an_error(write_config: WriteConfig) -> None:
    config_dir = write_config(exec="qos_window_s: 300\n")
    (config_dir / "exec.yaml").write_text("qos_window_s: 600\n")
    assert _issues(config_dir) == [
        f"{config_dir}/exec.yml: second file for section exec (also {config_dir}/exec.yaml); "
        "keep one"
    ]


def test_a_file_that_is_not_utf8_is_an_error_not_a_crash(write_config: WriteConfig) -> None:
    config_dir = write_config()
    (config_dir / "exec.yml").write_bytes(b"fill_ratio_min: \xff\xfe\n")
    [issue] = _issues(config_dir)
    assert issue.startswith(f"{config_dir}/exec.yml: exec: cannot read the file")
    assert issue.endswith("it must be UTF-8 text")


def test_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    assert _issues(tmp_path / "nope") == [
        f"{tmp_path / 'nope'}: config directory not found; pass --config-dir DIR (default: config)"
    ]


def test_an_empty_file_means_defaults(write_config: WriteConfig) -> None:
    config_dir = write_config(exec="# nothing set yet\n")
    assert load_config(config_dir).hash == load_config(write_config()).hash


def test_a_wallet_on_a_disabled_chain_is_an_error(write_config: WriteConfig) -> None:
    issues = _issues(write_config(), {}, "endpoints.chains.polygon.enabled=false")
    assert issues == [
        'default: risk.wallets.azuro.chain = "polygon": endpoints.chains.polygon.enabled is '
        "false, so this wallet cannot be read; enable the chain or move the wallet "
        "(endpoints.chains.polygon.enabled is from cli)"
    ]


def test_two_services_on_one_port_is_an_error(write_config: WriteConfig) -> None:
    config_dir = write_config(heartbeat="metrics_port: 8700\n")
    assert _issues(config_dir) == [
        f"{config_dir}/heartbeat.yml:1: heartbeat.metrics_port = 8700: port already used by "
        "orchestrator.port; give each service its own port (orchestrator.port is the "
        "built-in default)"
    ]
    other_host = ["heartbeat.host=127.0.0.2"]
    assert load_config(config_dir, {}, other_host).config.heartbeat.metrics_port == 8700
