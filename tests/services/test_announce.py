"""The orchestrator tells a person: transitions, alerts and a silent alert path, delivered by
real apprise to a real loopback sink."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from arbqos.config import ArbqosConfig, OrchestratorConfig
from arbqos.notify import load_channels
from arbqos_harness.sink import NotificationSink, SinkRecord
from tests.services.conftest import Orchestrator, am_alert, chain_health

SECRET = "123456:FAKE-TOKEN-abcdef"


@pytest.fixture
def sink() -> Iterator[NotificationSink]:
    with NotificationSink() as started:
        yield started


def channels_file(tmp_path: Path, sink: NotificationSink) -> Path:
    path = tmp_path / "notify_urls"
    path.write_text(f"ops={sink.apprise_url('/ops')}?secret={SECRET}\n")
    return path


@pytest.fixture
async def announced(
    tmp_path: Path, sink: NotificationSink, make_orchestrator: Callable[..., Orchestrator]
) -> AsyncIterator[Orchestrator]:
    channels = load_channels(channels_file(tmp_path, sink)).channels
    config = ArbqosConfig(
        orchestrator=OrchestratorConfig(watchdog_timeout_s=180, pause_on_pipeline_down=True)
    )
    orch = make_orchestrator(config, channels)
    yield orch
    await orch.close()


def texts(records: list[SinkRecord]) -> list[str]:
    return [r.text for r in records]


async def test_pause_and_admin_resume_are_announced_once(
    announced: Orchestrator, sink: NotificationSink
) -> None:
    await announced.pause("ArbFillRatioLow", source="guard", detail="fill 0.41 < 0.85")
    await announced.pause("ArbFillRatioLow", source="guard")  # idempotent: no second notice
    [paused] = texts(sink.wait_for(1))
    assert "guard:ArbFillRatioLow" in paused
    assert "fill 0.41 < 0.85" in paused
    assert "/v1/resume" in paused and "ARBQOS_ADMIN_TOKEN" in paused
    await announced.resume()
    resumed = texts(sink.wait_for(2))[1]
    assert "resumed" in resumed.lower()
    assert "admin" in resumed
    assert len(sink.records) == 2


async def test_reason_added_while_paused_and_automatic_resume(
    announced: Orchestrator, sink: NotificationSink
) -> None:
    await announced.heartbeat(sx_rollup=chain_health("sx_rollup", rpc_up=False))
    first = texts(sink.wait_for(1))[0]
    assert "ArbRpcDown" in first
    assert "resumes by itself 60 s after every infrastructure reason recovered" in first
    await announced.heartbeat(arbitrum=chain_health("arbitrum", sequencer_up=False))
    added = texts(sink.wait_for(2))[1]
    assert "ArbSequencerDown" in added
    await announced.heartbeat()
    announced.clock.advance(61)
    assert announced.service.check_auto_resume() is True
    resumed = texts(sink.wait_for(3))[2]
    assert "automatic" in resumed.lower()


async def test_alerts_reach_a_person_once_per_state(
    announced: Orchestrator, sink: NotificationSink
) -> None:
    low = am_alert(
        "ArbWalletBalanceLow", action=None, fingerprint="bbbb", severity="critical", wallet="azuro"
    )
    await announced.alerts(low)
    await announced.alerts(low)  # Alertmanager repeats: one notice
    [firing] = texts(sink.wait_for(1))
    assert "ArbWalletBalanceLow" in firing and "wallet=azuro" in firing
    resolved = dict(low, status="resolved")
    await announced.alerts(resolved, status="resolved")
    assert "resolved" in texts(sink.wait_for(2))[1].lower()
    assert (await announced.status())["state"] == "running"


async def test_a_pause_alert_is_announced_by_its_transition(
    announced: Orchestrator, sink: NotificationSink
) -> None:
    await announced.alerts(am_alert(venue="sx"))
    [notice] = texts(sink.wait_for(1))
    assert 'ArbFillRatioLow{venue="sx"}' in notice
    await announced.alerts(am_alert(venue="sx", status="resolved"), status="resolved")
    resolved = texts(sink.wait_for(2))[1]
    assert "resolved" in resolved.lower() and "an admin resumes" in resolved


async def test_silent_alert_path_is_announced_and_can_pause(
    announced: Orchestrator, sink: NotificationSink
) -> None:
    watchdog = am_alert("ArbWatchdog", action=None, fingerprint="dddd", severity="none")
    await announced.alerts(watchdog)
    assert sink.records == [], "the watchdog itself never reaches a person"
    announced.clock.advance(181)
    await announced.heartbeat()  # the heartbeat still reports: only the alert path is silent
    announced.service.tick()
    records = sink.wait_for(2)
    joined = "\n".join(texts(records))
    assert "the backstop pause path is blind" in joined
    status = await announced.status()
    assert status["alerting"]["pipeline_up"] is False
    assert ("system", "AlertPipelineDown", True) in {
        (r["source"], r["name"], r["active"]) for r in status["reasons"]
    }
    assert announced.metric("arb_alerting_pipeline_up") == 0
    await announced.alerts(watchdog)
    back = sink.wait_for(3)
    assert any("back" in r.text.lower() for r in back)
    assert (await announced.status())["alerting"]["pipeline_up"] is True
    announced.clock.advance(61)
    assert announced.service.check_auto_resume() is True


async def test_no_secret_in_status_metrics_or_journal(
    announced: Orchestrator, sink: NotificationSink, caplog: pytest.LogCaptureFixture
) -> None:
    await announced.pause("maintenance")
    sink.wait_for(1)
    status = await announced.client.get("/v1/status")
    metrics = await announced.client.get("/metrics")
    journal = await announced.client.get("/v1/journal")
    for text in (status.text, metrics.text, journal.text, caplog.text):
        assert SECRET not in text
    assert "json#1" in status.text
