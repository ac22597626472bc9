"""The config hash: invariant under formatting and layer choice, sensitive to every value."""

from __future__ import annotations

import random
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from arbqos.config import ArbqosConfig, config_hash, load_config
from arbqos.config.layers import flatten
from tests.config.conftest import RISK_YML, Invoke

WriteConfig = Callable[..., Path]

BLOCK = """\
# thresholds
fill_ratio_min: 0.9           # pause below
p95_accept_time_ms_max: 8000
qos_window_s: 300
"""
EQUIVALENT = {
    "key order": "qos_window_s: 300\np95_accept_time_ms_max: 8000\nfill_ratio_min: 0.9\n",
    "no comments": "fill_ratio_min: 0.9\np95_accept_time_ms_max: 8000\nqos_window_s: 300\n",
    "quoting": "fill_ratio_min: '0.9'\np95_accept_time_ms_max: \"8000\"\nqos_window_s: 300\n",
    "whitespace": "\n\nfill_ratio_min:    0.9   \n\n\np95_accept_time_ms_max:  8000\n"
    "qos_window_s:      300\n\n",
    "flow style": "{fill_ratio_min: 0.9, p95_accept_time_ms_max: 8000, qos_window_s: 300}\n",
    "float as 9.0e-1": "fill_ratio_min: 9.0e-1\np95_accept_time_ms_max: 8000\nqos_window_s: 300\n",
    "int as 8000.0": "fill_ratio_min: 0.9\np95_accept_time_ms_max: 8000.0\nqos_window_s: 300\n",
}


def _hash(config_dir: Path, env: dict[str, str] | None = None, *sets: str) -> str:
    return load_config(config_dir, env or {}, sets).hash


@pytest.mark.parametrize("variant", sorted(EQUIVALENT))
def test_formatting_does_not_change_the_hash(variant: str, write_config: WriteConfig) -> None:
    reference = _hash(write_config(exec=BLOCK))
    assert _hash(write_config(exec=EQUIVALENT[variant])) == reference


def test_block_and_flow_style_of_nested_mappings_hash_alike(write_config: WriteConfig) -> None:
    block = _hash(write_config(risk=RISK_YML))
    flow = yaml.safe_dump(yaml.safe_load(RISK_YML), default_flow_style=True, width=60)
    assert flow.startswith("{")
    assert _hash(write_config(risk=flow)) == block


def test_one_and_one_point_zero_hash_alike_for_a_float_key(write_config: WriteConfig) -> None:
    as_int = load_config(write_config(alerting="scrape_interval_s: 1\n"))
    as_float = load_config(write_config(alerting="scrape_interval_s: 1.0\n"))
    assert as_int.config.alerting.scrape_interval_s == 1.0
    assert isinstance(as_int.config.alerting.scrape_interval_s, float)
    assert as_int.hash == as_float.hash
    assert as_int.hash == _hash(write_config(), {"ARBQOS__ALERTING__SCRAPE_INTERVAL_S": "1"})


def test_the_hash_is_sha256_of_canonical_json(write_config: WriteConfig) -> None:
    import hashlib
    import json

    loaded = load_config(write_config(exec=BLOCK))
    dump = loaded.config.model_dump(mode="json")
    del dump["alerting"]["notify_urls_file"]
    canonical = json.dumps(dump, sort_keys=True, separators=(",", ":"))
    assert loaded.hash == hashlib.sha256(canonical.encode()).hexdigest()


NOT_GENERIC = ("bank_source", ".chain", ".stablecoin")
"""Keys whose other values need a second key too; covered one by one further down."""
SKIPPED = {
    "risk.bank_source",
    "risk.auto_bridge",
    "endpoints.chains.sx_rollup.head_age_max_s",
    "endpoints.sx_api_key_file",
    "alerting.default_webhook_url",
    "alerting.notify_urls_file",
    "alerting.direct_receivers",
    "orchestrator.heartbeat_ping_url_file",
    *(
        f"risk.wallets.{venue}.{key}"
        for venue in ("sx", "azuro")
        for key in ("chain", "stablecoin", "usd_price", "static_balance")
    ),
}


def _perturb(path: str, value: Any) -> Any:
    """A different valid value for the leaf at `path` (None: no generic change exists)."""
    if isinstance(value, bool):
        return None if path.endswith(NOT_GENERIC) else not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float) and path.endswith("interval_s"):
        return value * 2  # halving an interval could break a rule that other keys fit in it
    if isinstance(value, float):
        return value / 2 if value > 0 else 1.0
    if isinstance(value, list) and path.endswith("_tags"):
        return [*value, "ops"]
    if isinstance(value, list):
        return value[:-1] if len(value) > 1 else [*value, "https://extra.example.org"]
    if not isinstance(value, str) or path.endswith(NOT_GENERIC):
        return None
    if re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        return "0x" + "ab" * 20
    if "://" in value:
        return value + "/other"
    if re.fullmatch(r"[\d.]+:\d+", value):
        host, port = value.rsplit(":", 1)
        return f"{host}:{int(port) + 1}"
    return value + "x"


def _set_leaf(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data[part]
    data[last] = value


def test_changing_any_value_changes_the_hash() -> None:
    base = ArbqosConfig().model_dump(mode="json")
    reference = config_hash(ArbqosConfig.model_validate(base))
    skipped, changed = [], 0
    for path, value in flatten(base, "").items():
        new = _perturb(path, value)
        if new is None:
            skipped.append(path)
            continue
        data = ArbqosConfig().model_dump(mode="json")
        _set_leaf(data, path, new)
        assert config_hash(ArbqosConfig.model_validate(data)) != reference, path
        changed += 1
    assert set(skipped) == SKIPPED
    assert changed == len(flatten(base, "")) - len(SKIPPED)


@pytest.mark.parametrize(
    "assignment",
    [
        "risk.bank_source=static",
        "risk.wallets.sx.chain=arbitrum",
        "risk.wallets.sx.usd_price=1.01",
        "risk.wallets.azuro.static_balance=5",
        "risk.wallets.azuro.stablecoin=false",
        "endpoints.chains.sx_rollup.head_age_max_s=120",
        "alerting.default_webhook_url=https://hooks.example.org/arb",
        "endpoints.sx_api_key_file=/run/secrets/sx",
        "risk.auto_bridge=false",
    ],
)
def test_setting_an_empty_or_enum_key_changes_the_hash(
    assignment: str, write_config: WriteConfig
) -> None:
    config_dir = write_config()
    extra: tuple[str, ...] = ()
    if assignment == "risk.bank_source=static":
        extra = ("risk.wallets.sx.static_balance=10", "risk.wallets.azuro.static_balance=10")
    if assignment.endswith("stablecoin=false"):
        extra = ("risk.wallets.azuro.usd_price=1",)
    assert _hash(config_dir, None, assignment, *extra) != _hash(config_dir)


def test_same_value_from_file_env_or_cli_hashes_alike_with_its_source(
    write_config: WriteConfig,
) -> None:
    by_file_dir = write_config(exec="fill_ratio_min: 0.9\n")
    by_file = load_config(by_file_dir)
    empty = Path(tempfile.mkdtemp())
    by_env = load_config(empty, {"ARBQOS__EXEC__FILL_RATIO_MIN": "0.9"})
    by_cli = load_config(empty, {}, ["exec.fill_ratio_min=0.9"])
    assert by_file.hash == by_env.hash == by_cli.hash
    assert by_file.hash != load_config(empty).hash
    assert by_file.sources["exec.fill_ratio_min"] == f"file:{by_file_dir}/exec.yml"
    assert by_env.sources["exec.fill_ratio_min"] == "env:ARBQOS__EXEC__FILL_RATIO_MIN"
    assert by_cli.sources["exec.fill_ratio_min"] == "cli"
    assert by_file.source_kinds == "default,file"
    assert by_env.source_kinds == "default,env"
    assert by_cli.source_kinds == "default,cli"


def test_higher_layers_win_key_by_key(write_config: WriteConfig) -> None:
    config_dir = write_config(exec="fill_ratio_min: 0.8\nqos_window_s: 600\n")
    env = {"ARBQOS__EXEC__FILL_RATIO_MIN": "0.9", "ARBQOS__EXEC__QOS_WINDOW_S": "900"}
    loaded = load_config(config_dir, env, ["exec.fill_ratio_min=0.95"])
    assert loaded.config.exec.fill_ratio_min == 0.95
    assert loaded.config.exec.qos_window_s == 900
    assert loaded.sources["exec.fill_ratio_min"] == "cli"
    assert loaded.sources["exec.qos_window_s"] == "env:ARBQOS__EXEC__QOS_WINDOW_S"
    assert loaded.sources["exec.p95_accept_time_ms_max"] == "default"
    assert loaded.source_kinds == "default,env,cli"


POLYGON = "https://polygon-mainnet.g.alchemy.com/v2/{key}"
KEY_ONE, KEY_TWO = "Xy3kTq9LmN2pR7sWvB4cD8eF", "Qw5eRt6YuI7oP8aS9dF0gH1j"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (POLYGON.format(key=KEY_ONE), POLYGON.format(key=KEY_TWO)),
        ("https://alice:pw-one@rpc.example.org/x", "https://bob:pw-two@rpc.example.org/x"),
        ("https://rpc.example.org/?apikey=one", "https://rpc.example.org/?apikey=two"),
        (
            "https://rpc.ankr.com/polygon/" + "a1" * 32,
            "https://rpc.ankr.com/polygon/" + "b2" * 32,
        ),
    ],
)
def test_url_credentials_do_not_change_the_hash(
    first: str, second: str, write_config: WriteConfig, invoke: Invoke
) -> None:
    config_dir = write_config()
    var = "ARBQOS__ENDPOINTS__CHAINS__POLYGON__RPC_URLS"
    one = load_config(config_dir, {var: first})
    two = load_config(config_dir, {var: second})
    assert one.hash == two.hash
    assert one.config.endpoints.chains["polygon"].rpc_urls == [first]
    other_host = load_config(config_dir, {var: first.replace("example.org", "example.net")})
    if "example.org" in first:
        assert other_host.hash != one.hash
    for args in (["config", "show"], ["config", "show", "--json"]):
        result = invoke([*args, "--config-dir", str(config_dir)], {var: first})
        assert result.exit_code == 0, result.output
        assert "REDACTED" in result.output
        for secret in (KEY_ONE, "pw-one", "apikey=one", "a1" * 32):
            assert secret not in result.output


def test_readable_path_segments_still_change_the_hash(write_config: WriteConfig) -> None:
    config_dir = write_config()
    var = "ARBQOS__ENDPOINTS__AZURO_SUBGRAPH_URL"
    base = "https://thegraph.onchainfeed.org/subgraphs/name/azuro-protocol/"
    polygon = load_config(config_dir, {var: base + "azuro-api-polygon-v3"})
    gnosis = load_config(config_dir, {var: base + "azuro-api-gnosis-v3"})
    assert polygon.hash != gnosis.hash


def test_config_hash_prints_64_hex_and_a_newline(write_config: WriteConfig, invoke: Invoke) -> None:
    config_dir = write_config(exec=BLOCK)
    result = invoke(["config", "hash", "--config-dir", str(config_dir)])
    assert result.exit_code == 0
    assert re.fullmatch(r"[0-9a-f]{64}\n", result.stdout)
    assert result.stdout.strip() == load_config(config_dir).hash


def _shuffled(data: Any, rng: random.Random) -> Any:
    if isinstance(data, dict):
        items = list(data.items())
        rng.shuffle(items)
        return {key: _shuffled(value, rng) for key, value in items}
    return data


FULL = {
    "exec": {"fill_ratio_min": 0.9, "qos_window_s": 240, "guard_enabled": False},
    "risk": yaml.safe_load(RISK_YML) | {"stake_pct_cap": 0.04},
    "heartbeat": {"interval_s": 20, "probe_timeout_s": 5, "targets": ["polygon", "sx_rollup"]},
    "alerting": {"repeat_interval_s": 1800, "warn_for_s": 30},
}


def _write_sections(config_dir: Path, sections: dict[str, Any]) -> None:
    for section, data in sections.items():
        text = yaml.safe_dump(data, sort_keys=False)
        (config_dir / f"{section}.yml").write_text(text)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), flow=st.booleans())
def test_hash_is_stable_under_random_key_permutations(seed: int, flow: bool) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        reference_dir, shuffled_dir = Path(tmp, "a"), Path(tmp, "b")
        reference_dir.mkdir()
        shuffled_dir.mkdir()
        _write_sections(reference_dir, FULL)
        shuffled = _shuffled(FULL, rng)
        for section, data in shuffled.items():
            text = yaml.safe_dump(data, sort_keys=False, default_flow_style=flow)
            (shuffled_dir / f"{section}.yml").write_text(text)
        assert load_config(shuffled_dir).hash == load_config(reference_dir).hash
