"""Alertmanager webhook: firing pauses, resolved makes resumable, duplicates are harmless."""

from __future__ import annotations

from arbqos.services.state import alert_reason_name
from tests.services.conftest import PAUSE, Orchestrator, am_alert, am_payload


def test_reason_name_keeps_identifying_labels_only() -> None:
    labels = {
        "alertname": "ArbFillRatioLow",
        "venue": "sx",
        "instance": "127.0.0.1:9101",
        "job": "arb",
        "severity": "critical",
        "action": "pause",
    }
    assert alert_reason_name(labels) == 'ArbFillRatioLow{venue="sx"}'
    assert alert_reason_name({"alertname": "ArbHeartbeatStale", "job": "x"}) == "ArbHeartbeatStale"
    both = alert_reason_name({"alertname": "A", "venue": "sx", "chain": 'a"b'})
    assert both == 'A{chain="a\\"b",venue="sx"}'


async def test_firing_pauses_and_resolved_makes_resumable(orch: Orchestrator) -> None:
    fired = await orch.alerts(am_alert(venue="sx"))
    assert fired.status_code == 200
    assert fired.json()["state"] == "paused"
    [result] = fired.json()["results"]
    assert result["action"] == "paused"
    assert result["reason"] == 'ArbFillRatioLow{venue="sx"}'
    [reason] = (await orch.status())["reasons"]
    assert reason["source"] == "alert"
    assert reason["detail"] == "ArbFillRatioLow summary"
    assert reason["active"] is True
    assert (
        orch.metric("arb_orchestrator_pauses_total", source="alert", reason="ArbFillRatioLow") == 1
    )
    assert (await orch.resume()).status_code == 409

    resolved = await orch.alerts(am_alert(venue="sx", status="resolved"), status="resolved")
    assert resolved.json()["results"][0]["action"] == "reason_resolved"
    status = await orch.status()
    assert status["state"] == "paused"
    assert status["reasons"][0]["active"] is False
    assert status["reasons"][0]["inactive_since"] is not None
    resumed = await orch.resume()
    assert resumed.status_code == 200
    assert resumed.json()["state"] == "running"

    events = orch.alert_events()
    assert [(e["event"], e["status"], e["action"]) for e in events] == [
        ("alert", "firing", "paused"),
        ("alert", "resolved", "reason_resolved"),
    ]
    first = events[0]
    assert first["alertname"] == "ArbFillRatioLow"
    assert first["fingerprint"] == "c9a334cdadbe7bf0"
    assert first["labels"]["venue"] == "sx"
    assert first["starts_at"] == "2026-11-26T13:56:03.870Z"
    assert first["config_hash"] == "c" * 64
    assert first["ts"] == "2026-11-26T00:00:00.000Z"


async def test_duplicate_deliveries_are_harmless(orch: Orchestrator) -> None:
    alert = am_alert(venue="sx")
    for _ in range(3):  # an HA pair delivers twice, and Alertmanager repeats
        assert (await orch.alerts(alert)).status_code == 200
    results = [e["action"] for e in orch.alert_events()]
    assert results == ["paused", "already_paused", "already_paused"]
    transitions = await orch.journal(kind="transition")
    assert len(transitions) == 1
    reason_rows = await orch.journal(kind="reason")
    assert len(reason_rows) == 1
    requests = await orch.journal(kind="request")
    assert [r["changed"] for r in requests] == [False, False, True]
    assert (
        orch.metric("arb_orchestrator_pauses_total", source="alert", reason="ArbFillRatioLow") == 1
    )

    resolved = am_alert(venue="sx", status="resolved")
    await orch.alerts(resolved, status="resolved")
    again = await orch.alerts(resolved, status="resolved")
    assert again.json()["results"][0]["action"] == "ignored"
    # The slower HA peer's stale firing copy arrives after the resolve: it must not re-pause.
    stale = await orch.alerts(alert)
    assert stale.json()["results"][0]["action"] == "ignored"
    assert "already resolved" in stale.json()["results"][0]["detail"]
    assert (await orch.status())["reasons"][0]["active"] is False
    assert (await orch.resume()).status_code == 200


async def test_reason_stays_active_while_another_instance_fires(orch: Orchestrator) -> None:
    a = am_alert(fingerprint="aaaa", instance="10.0.0.1:9101", venue="sx")
    b = am_alert(fingerprint="bbbb", instance="10.0.0.2:9101", venue="sx")
    response = await orch.alerts(a, b)
    assert [r["action"] for r in response.json()["results"]] == ["paused", "already_paused"]
    [reason] = (await orch.status())["reasons"]
    resolved_a = dict(a, status="resolved", endsAt="2026-11-26T14:00:00Z")
    partial = await orch.alerts(resolved_a, status="resolved")
    assert partial.json()["results"][0]["action"] == "ignored"
    assert (await orch.status())["reasons"][0]["active"] is True
    resolved_b = dict(b, status="resolved", endsAt="2026-11-26T14:00:00Z")
    done = await orch.alerts(resolved_b, status="resolved")
    assert done.json()["results"][0]["action"] == "reason_resolved"
    assert reason["name"] == 'ArbFillRatioLow{venue="sx"}'


async def test_alerts_without_pause_action_are_logged_and_ignored(orch: Orchestrator) -> None:
    watchdog = am_alert("ArbWatchdog", action=None, fingerprint="ffff")
    balance = am_alert("ArbWalletBalanceLow", action="none", fingerprint="eeee", wallet="sx")
    response = await orch.alerts(watchdog, balance)
    assert [r["action"] for r in response.json()["results"]] == ["ignored", "ignored"]
    assert (await orch.status())["state"] == "running"
    assert [e["alertname"] for e in orch.alert_events()] == ["ArbWatchdog", "ArbWalletBalanceLow"]


async def test_new_occurrence_after_resume_pauses_again(orch: Orchestrator) -> None:
    await orch.alerts(am_alert(venue="sx"))
    await orch.alerts(am_alert(venue="sx", status="resolved"), status="resolved")
    await orch.resume()
    again = await orch.alerts(am_alert(venue="sx", starts_at="2026-11-26T14:30:00Z"))
    assert again.json()["results"][0]["action"] == "paused"
    # A late copy of the first occurrence's resolve must not clear the second occurrence.
    late = am_alert(venue="sx", status="resolved")
    stale = await orch.alerts(late, status="resolved")
    assert stale.json()["results"][0]["action"] == "ignored"
    assert "stale" in stale.json()["results"][0]["detail"]
    assert (await orch.status())["reasons"][0]["active"] is True


async def test_resolve_counts_when_alertmanager_merged_an_earlier_start(
    orch: Orchestrator,
) -> None:
    """HA Prometheus replicas fire at slightly different times; Alertmanager keeps the earliest."""
    await orch.alerts(am_alert(venue="sx", starts_at="2026-11-26T13:56:03.870Z"))
    merged = am_alert(venue="sx", status="resolved", starts_at="2026-11-26T13:56:03.120Z")
    resolved = await orch.alerts(merged, status="resolved")
    assert resolved.json()["results"][0]["action"] == "reason_resolved"
    assert (await orch.resume()).status_code == 200


async def test_webhook_validation(orch: Orchestrator) -> None:
    payload = am_payload([am_alert()])
    payload["version"] = "3"
    wrong = await orch.client.post("/v1/alertmanager", json=payload, headers=PAUSE)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "body.version"

    no_name = am_payload([am_alert()])
    del no_name["alerts"][0]["labels"]["alertname"]
    bad = await orch.client.post("/v1/alertmanager", json=no_name, headers=PAUSE)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.alerts.0.labels"
    assert "alertname" in bad.json()["message"]

    no_ts = am_payload([am_alert()])
    no_ts["alerts"][0]["startsAt"] = "yesterday"
    bad_ts = await orch.client.post("/v1/alertmanager", json=no_ts, headers=PAUSE)
    assert bad_ts.status_code == 422
    assert bad_ts.json()["errors"][0]["field"] == "body.alerts.0.startsAt"

    # Fields a newer Alertmanager may add are accepted.
    extra = am_payload([am_alert()])
    extra["someNewField"] = {"x": 1}
    extra["alerts"][0]["someNewField"] = 1
    ok = await orch.client.post("/v1/alertmanager", json=extra, headers=PAUSE)
    assert ok.status_code == 200
    assert (await orch.status())["state"] == "paused"
