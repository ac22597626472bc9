"""`connect()` loads the services' layers and refuses what cannot work, saying how to fix it."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from arbqos.daemon.listen import ListenFailed
from arbqos.engine import connect
from arbqos.errors import ConfigError, TokenError
from arbqos_harness.process import free_port
from tests.conftest import REPO_ROOT
from tests.engine.conftest import ENV

CONFIG = REPO_ROOT / "config"


def nowhere(*more: str) -> list[str]:
    """Overrides pointing at a closed orchestrator port and a free metrics port."""
    return [
        f"endpoints.orchestrator_url=http://127.0.0.1:{free_port()}",
        f"alerting.engine_target=127.0.0.1:{free_port()}",
        "orchestrator.client_timeout_s=0.5",
        *more,
    ]


def test_layers_env_and_overrides_like_the_services() -> None:
    env = {**ENV, "ARBQOS__EXEC__FILL_RATIO_MIN": "0.93"}
    registry = CollectorRegistry()
    with connect(
        CONFIG, env=env, overrides=nowhere("exec.qos_window_s=120"), registry=registry
    ) as qos:
        assert (qos.config.exec.fill_ratio_min, qos.config.exec.qos_window_s) == (0.93, 120)
        assert qos.registry is registry and qos.guard is not None
        scraped = httpx.get(qos.exporter.url if qos.exporter else "", timeout=5).text
    assert 'arb_config_info{config_hash="' + qos.config_hash in scraped
    assert 'service="engine"' in scraped and 'sources="default,file,env,cli"' in scraped
    assert "arb_engine_bank_known 0.0" in scraped
    assert 'arb_stake_unchecked_total{venue="sx"} 0.0' in scraped


def test_closed_after_close_and_the_port_is_free_again() -> None:
    overrides = nowhere()
    qos = connect(CONFIG, env=ENV, overrides=overrides)
    port = int(overrides[1].rpartition(":")[2])
    qos.close()
    qos.close()
    assert not qos.trading_allowed() and "closed" in str(qos.why_not())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_no_pause_token_with_the_guard_on_is_refused() -> None:
    with pytest.raises(TokenError) as err:
        connect(CONFIG, env={}, overrides=nowhere())
    message = str(err.value)
    assert "ARBQOS_PAUSE_TOKEN or ARBQOS_PAUSE_TOKEN_FILE" in message
    assert "exec.guard_enabled=false" in message


def test_without_the_guard_no_token_is_needed() -> None:
    with connect(CONFIG, env={}, overrides=nowhere("exec.guard_enabled=false")) as qos:
        assert qos.guard is None and qos.guard_requests == (0, 0)


def test_an_unreadable_token_file_names_the_variable(tmp_path: Path) -> None:
    env = {"ARBQOS_PAUSE_TOKEN_FILE": str(tmp_path / "missing")}
    with pytest.raises(TokenError, match=r"ARBQOS_PAUSE_TOKEN_FILE=.*cannot read the token file"):
        connect(CONFIG, env=env, overrides=nowhere())


def test_an_invalid_config_lists_the_problem() -> None:
    with pytest.raises(
        ConfigError, match=r"cli: exec.fill_ratio_min = \"2\": expected a number > 0 and <= 1"
    ):
        connect(CONFIG, env=ENV, overrides=nowhere("exec.fill_ratio_min=2"))


def test_a_taken_metrics_port_names_the_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        target = f"127.0.0.1:{taken.getsockname()[1]}"
        with pytest.raises(ListenFailed) as err:
            connect(CONFIG, env=ENV, overrides=[*nowhere(), f"alerting.engine_target={target}"])
    assert f"alerting.engine_target = '{target}'" in str(err.value)
    assert "serve_metrics=False" in str(err.value)


def test_a_fixed_bank_is_used_as_given() -> None:
    with connect(CONFIG, env=ENV, overrides=nowhere(), bank=2_000.0, serve_metrics=False) as qos:
        assert qos.exporter is None
        assert qos.bank == 2_000.0 and qos.bank_reading.usd == 2_000.0
        with pytest.raises(ValueError, match="fixed bank"):
            qos.refresh_bank()
