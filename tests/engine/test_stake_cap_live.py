"""The stake cap end to end, with the bank the balance watcher reported: real processes.

`arbqos orchestrator` and `arbqos balance-watcher` (static balances: 300 + 200 USD) run as
processes; the engine connects with `connect()` and takes its bank from the orchestrator's
registry; a real Prometheus evaluates the rendered rules on the engine's `/metrics`. A 50 USD
leg (10 % of the 500 USD bank) fires ArbStakeCapExceeded; once the watcher is gone and its
balances are older than `risk.bank_max_age_s`, the bank is unknown and a leg fires
ArbStakeCapUnchecked instead.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from arbqos.config import load_config
from arbqos.engine import connect
from arbqos.generators import render_all
from arbqos.generators.render import PROMETHEUS_PATH
from arbqos_harness.process import ManagedProcess, find_tool, free_port, wait_for_http
from tests.conftest import REPO_ROOT
from tests.engine.conftest import ENV, PAUSE_TOKEN, Orchestrator
from tests.generators.conftest import write_tree

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

WINDOW_S = 30
ARBQOS = str(REPO_ROOT / ".venv" / "bin" / "arbqos")


def static_risk() -> dict[str, Any]:
    """risk.yml with static balances: 300 USDC on SX, 200 USDT on Azuro (bank 500 USD)."""
    risk = yaml.safe_load((REPO_ROOT / "config" / "risk.yml").read_text())
    risk.update(bank_source="static", bank_max_age_s=2)
    risk["wallets"]["sx"]["static_balance"] = 300
    risk["wallets"]["azuro"]["static_balance"] = 200
    return dict(risk)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Path]:
    """A config dir for the whole stack, with its orchestrator running."""
    orchestrator = Orchestrator(tmp_path / "orchestrator")
    config_dir = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", config_dir)
    (config_dir / "risk.yml").write_text(yaml.safe_dump(static_risk()))
    sections = {
        "exec": {"qos_window_s": WINDOW_S},
        "endpoints": {"orchestrator_url": orchestrator.url},
        "balance_watcher": {
            "poll_interval_s": 1,
            "read_timeout_s": 0.5,
            "metrics_port": free_port(),
            "log_path": str(tmp_path / "balance_watcher.log"),
        },
        "alerting": {
            "prometheus_listen": f"127.0.0.1:{free_port()}",
            "alertmanager_listen": f"127.0.0.1:{free_port()}",
            "engine_target": f"127.0.0.1:{free_port()}",
            "pause_token_file": str(tmp_path / "pause_token"),
        },
    }
    for section, values in sections.items():
        path = config_dir / f"{section}.yml"
        data = yaml.safe_load(path.read_text()) if path.exists() else {}
        path.write_text(yaml.safe_dump({**(data or {}), **values}))
    orchestrator.start()
    try:
        yield config_dir
    finally:
        orchestrator.stop()


def firing(prom: str, name: str) -> list[dict[str, str]]:
    alerts = httpx.get(f"{prom}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return [
        a["labels"] for a in alerts if a["labels"]["alertname"] == name and a["state"] == "firing"
    ]


def query(prom: str, expr: str) -> list[float]:
    result = httpx.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=5).json()
    return [float(r["value"][1]) for r in result["data"]["result"]]


def wait_until(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (got := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return got


def test_the_stake_cap_uses_the_watchers_bank_and_says_when_it_cannot(
    tmp_path: Path, stack: Path
) -> None:
    config_dir = stack
    cfg = load_config(config_dir, {}, ()).config
    root = write_tree(render_all(cfg), tmp_path / "rendered")
    prom_listen = cfg.alerting.prometheus_listen
    prom = f"http://{prom_listen}"
    watcher = ManagedProcess(
        "balance-watcher",
        [ARBQOS, "balance-watcher", "--config-dir", str(config_dir)],
        tmp_path / "logs",
        env={"ARBQOS_PAUSE_TOKEN": PAUSE_TOKEN},
        cwd=tmp_path,
    ).start()
    prometheus = ManagedProcess(
        "prometheus",
        [
            find_tool("prometheus"),
            f"--config.file={root / PROMETHEUS_PATH}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address={prom_listen}",
        ],
        tmp_path / "logs",
    )
    try:
        with connect(config_dir, env=ENV) as qos, prometheus:
            wait_until(lambda: qos.refresh_bank().usd, 15, "no bank from the watcher")
            assert qos.bank == 500.0
            wait_for_http(f"{prom}/-/ready", timeout_s=20)
            wait_until(
                lambda: query(prom, 'arb_engine_bank_known{job="engine"}') == [1.0],
                20,
                "Prometheus never scraped a known bank from the engine",
            )
            time.sleep(2 * cfg.alerting.scrape_interval_s)  # the counters' zero is on record
            qos.tracker.submit("sx", "live", 50.0, 0.5)  # 10 % of 500 USD: above 5 %
            qos.tracker.submit("azuro", "live", 10.0, 0.5)  # 2 %: below
            exceeded = wait_until(
                lambda: firing(prom, "ArbStakeCapExceeded"), 20, "ArbStakeCapExceeded never fired"
            )
            assert firing(prom, "ArbStakeCapUnchecked") == []

            watcher.stop()  # its balances age past risk.bank_max_age_s (2 s)
            wait_until(lambda: qos.refresh_bank().usd is None, 15, "the bank never went stale")
            assert qos.bank_reading.stale == ("azuro", "sx")
            qos.tracker.submit("azuro", "pregame", 10.0, 0.5)
            unchecked = wait_until(
                lambda: firing(prom, "ArbStakeCapUnchecked"), 20, "ArbStakeCapUnchecked never fired"
            )
            bank_known = query(prom, 'arb_engine_bank_known{job="engine"}')
    finally:
        watcher.stop()
    assert [(a["venue"], a["severity"], a.get("action")) for a in exceeded] == [
        ("sx", "warning", None)
    ]
    assert [(a["venue"], a["severity"], a.get("action")) for a in unchecked] == [
        ("azuro", "warning", None)
    ]
    assert bank_known == [0.0]
