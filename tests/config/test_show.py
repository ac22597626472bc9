"""`arbqos config show` lists every effective key with its source and never a secret."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from arbqos.config import load_config
from arbqos.config.layers import flatten
from tests.config.conftest import Invoke

WriteConfig = Callable[..., Path]
API_KEY = "Kq8RzT2wXv5NmB7cLp3YdF6g"
ENV = {
    "ARBQOS__ENDPOINTS__CHAINS__POLYGON__RPC_URLS": (
        f"https://polygon-mainnet.g.alchemy.com/v2/{API_KEY},https://ops:hunter22@rpc.example.org"
    ),
    "ARBQOS__EXEC__QOS_WINDOW_S": "240",
}
LINE = re.compile(r"^(?P<path>[a-z0-9_.]+) = (?P<value>.+)  # (?P<source>\S+)$")


def _setup(write_config: WriteConfig) -> Path:
    return write_config(exec="fill_ratio_min: 0.9\n")


def test_show_prints_every_key_with_its_source(write_config: WriteConfig, invoke: Invoke) -> None:
    config_dir = _setup(write_config)
    sets = ["--set", "heartbeat.interval_s=20"]
    result = invoke(["config", "show", "--config-dir", str(config_dir), *sets], ENV)
    assert result.exit_code == 0, result.output
    header, *lines = result.stdout.splitlines()
    loaded = load_config(config_dir, ENV, ["heartbeat.interval_s=20"])
    assert header == f"# config_hash {loaded.hash}  sources default,file,env,cli"
    shown = {m["path"]: (m["value"], m["source"]) for m in map(LINE.match, lines) if m}
    assert len(shown) == len(lines)
    assert set(shown) == set(flatten(loaded.config.model_dump(mode="json"), ""))
    assert {path: source for path, (_, source) in shown.items()} == dict(loaded.sources)
    assert shown["exec.fill_ratio_min"] == ("0.9", f"file:{config_dir}/exec.yml")
    assert shown["exec.qos_window_s"] == ("240", "env:ARBQOS__EXEC__QOS_WINDOW_S")
    assert shown["heartbeat.interval_s"] == ("20.0", "cli")
    assert shown["exec.min_orders_in_window"] == ("20", "default")


def test_show_json_has_config_sources_and_hash(write_config: WriteConfig, invoke: Invoke) -> None:
    config_dir = _setup(write_config)
    result = invoke(["config", "show", "--json", "--config-dir", str(config_dir)], ENV)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"config", "sources", "config_hash"}
    loaded = load_config(config_dir, ENV)
    assert payload["config_hash"] == loaded.hash
    assert payload["sources"] == dict(loaded.sources)
    assert payload["config"]["exec"]["fill_ratio_min"] == 0.9
    assert payload["config"]["endpoints"]["chains"]["polygon"]["rpc_urls"] == [
        "https://polygon-mainnet.g.alchemy.com/v2/REDACTED",
        "https://REDACTED@rpc.example.org",
    ]


def test_show_never_prints_a_secret(write_config: WriteConfig, invoke: Invoke) -> None:
    config_dir = _setup(write_config)
    for extra in ([], ["--json"]):
        result = invoke(["config", "show", *extra, "--config-dir", str(config_dir)], ENV)
        assert result.exit_code == 0
        assert API_KEY not in result.output
        assert "hunter22" not in result.output
        assert "ops:" not in result.output
        assert "ops@" not in result.output
