"""Pause/resume workflow through HTTP: idempotency, scopes, 409 and force, journal, restart."""

from __future__ import annotations

from tests.services.conftest import ADMIN, PAUSE, Orchestrator, am_alert


async def test_pause_resume_workflow(orch: Orchestrator) -> None:
    status = await orch.status()
    assert status["state"] == "running"
    assert status["reasons"] == []
    assert status["config_hash"] == "c" * 64
    assert orch.metric("arb_orchestrator_paused") == 0

    first = await orch.pause("maintenance", detail="venue upgrade")
    assert first.status_code == 200
    assert first.json()["state"] == "paused"
    assert first.json()["changed"] is True
    again = await orch.pause("maintenance", detail="venue upgrade")
    assert again.json() == {"state": "paused", "changed": False, "persisted": True}

    status = await orch.status()
    assert status["state"] == "paused"
    [reason] = status["reasons"]
    assert reason["source"] == "manual"
    assert reason["name"] == "maintenance"
    assert reason["detail"] == "venue upgrade"
    assert reason["active"] is True
    assert reason["since"] == "2026-11-26T00:00:00.000Z"
    assert orch.metric("arb_orchestrator_paused") == 1
    assert orch.metric("arb_orchestrator_pauses_total", source="manual", reason="maintenance") == 1

    resumed = await orch.resume()
    assert resumed.status_code == 200
    assert resumed.json()["state"] == "running"
    assert resumed.json()["changed"] is True
    assert [r["name"] for r in resumed.json()["cleared"]] == ["maintenance"]
    again = await orch.resume()
    assert again.json()["changed"] is False
    assert (await orch.status())["state"] == "running"
    assert orch.metric("arb_orchestrator_paused") == 0


async def test_same_reason_from_two_sources_are_two_reasons(orch: Orchestrator) -> None:
    assert (await orch.pause("ArbFillRatioLow", source="guard")).json()["changed"] is True
    assert (await orch.pause("ArbFillRatioLow", source="manual")).json()["changed"] is True
    keys = {(r["source"], r["name"]) for r in (await orch.status())["reasons"]}
    assert keys == {("guard", "ArbFillRatioLow"), ("manual", "ArbFillRatioLow")}


async def test_tokens_and_scopes(orch: Orchestrator) -> None:
    body = {"reason": "x"}
    missing = await orch.client.post("/v1/pause", json=body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "Bearer" in missing.json()["message"]
    wrong = await orch.client.post("/v1/pause", json=body, headers={"Authorization": "Bearer no"})
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "unauthorized"
    basic = await orch.client.post("/v1/pause", json=body, headers={"Authorization": "Basic eA=="})
    assert basic.status_code == 401
    assert (await orch.client.post("/v1/pause", json=body, headers=ADMIN)).status_code == 200
    assert (await orch.client.post("/v1/resume", headers=PAUSE)).status_code == 403
    assert (await orch.client.post("/v1/resume")).status_code == 401
    assert (await orch.status())["state"] == "paused"
    for path in ("/v1/alertmanager", "/v1/heartbeat", "/v1/registry/balances"):
        method = orch.client.put if "registry" in path else orch.client.post
        assert (await method(path, json={})).status_code == 401, path
    assert (await orch.client.get("/v1/journal")).status_code == 200


async def test_resume_refuses_while_automatic_reason_active(orch: Orchestrator) -> None:
    await orch.pause("operator check", source="manual")
    await orch.pause("ArbFillRatioLow", source="guard")
    assert (await orch.alerts(am_alert(venue="sx"))).status_code == 200

    refused = await orch.resume()
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "reasons_active"
    assert [(r["source"], r["name"]) for r in body["active_reasons"]] == [
        ("alert", 'ArbFillRatioLow{venue="sx"}')
    ]
    assert 'alert:ArbFillRatioLow{venue="sx"}' in body["message"]
    assert "force" in body["message"]
    # Nothing changed: the latched reasons are still there too.
    assert len((await orch.status())["reasons"]) == 3

    forced = await orch.resume(force=True)
    assert forced.status_code == 200
    assert forced.json()["changed"] is True
    assert len(forced.json()["cleared"]) == 3
    assert (await orch.status())["state"] == "running"


async def test_force_resume_ignores_repeats_of_the_same_occurrence(orch: Orchestrator) -> None:
    await orch.alerts(am_alert(venue="sx"))
    assert (await orch.resume(force=True)).status_code == 200
    repeat = await orch.alerts(am_alert(venue="sx"))
    assert repeat.json()["results"][0]["action"] == "ignored"
    assert (await orch.status())["state"] == "running"
    # A new occurrence (new startsAt) pauses again.
    fresh = await orch.alerts(am_alert(venue="sx", starts_at="2026-11-26T15:00:00Z"))
    assert fresh.json()["results"][0]["action"] == "paused"
    assert (await orch.status())["state"] == "paused"


async def test_guard_and_manual_reasons_are_latched(orch: Orchestrator) -> None:
    await orch.pause("ArbAcceptTimeP95High", source="guard", detail="p95 13.1 s > 12 s")
    [reason] = (await orch.status())["reasons"]
    assert reason["active"] is True
    resumed = await orch.resume()
    assert resumed.status_code == 200
    assert resumed.json()["state"] == "running"


async def test_journal_records_who_when_where_why(orch: Orchestrator) -> None:
    await orch.pause("maintenance", detail="venue upgrade")
    await orch.pause("maintenance")
    await orch.client.post("/v1/resume", json={"detail": "upgrade done"}, headers=ADMIN)
    entries = await orch.journal()
    actions = [(e["kind"], e["action"]) for e in reversed(entries)]
    assert actions == [
        ("request", "pause"),
        ("reason", "reason_activated"),
        ("transition", "pause"),
        ("request", "pause"),
        ("request", "resume"),
        ("reason", "reason_cleared"),
        ("transition", "resume"),
    ]
    first = entries[-1]
    assert first["who"] == "pause"
    assert first["client"] == "127.0.0.1"
    assert first["ts"] == "2026-11-26T00:00:00.000Z"
    assert first["reason"] == "maintenance"
    assert first["detail"] == "venue upgrade"
    assert first["changed"] is True
    assert entries[-4]["changed"] is False
    resume_request = entries[2]
    assert resume_request["who"] == "admin"
    assert resume_request["detail"] == "upgrade done"
    transitions = await orch.journal(kind="transition")
    assert [t["detail"] for t in transitions] == ["paused -> running", "running -> paused"]
    assert len(await orch.journal(limit=2)) == 2
    dumped = str(entries)
    assert "a" * 32 not in dumped and "p" * 32 not in dumped


async def test_state_survives_restart(orch: Orchestrator) -> None:
    await orch.pause("maintenance", detail="upgrade")
    await orch.alerts(am_alert(venue="azuro"))
    before = await orch.status()
    journal = await orch.journal()
    await orch.restart()
    after = await orch.status()
    assert after["state"] == "paused"
    assert after["reasons"] == before["reasons"]
    assert after["since"] == before["since"]
    assert (await orch.journal())[: len(journal)] == journal
    # The alert instance survived too: a duplicate delivery changes nothing.
    repeat = await orch.alerts(am_alert(venue="azuro"))
    assert repeat.json()["results"][0]["action"] == "already_paused"


async def test_api_docs_are_self_hosted_and_run_no_script(orch: Orchestrator) -> None:
    page = await orch.client.get("/docs")
    assert page.status_code == 200
    html = page.text
    assert "<script" not in html.lower()
    assert "cdn" not in html.lower()
    assert "/v1/pause" in html and "/v1/resume" in html
    assert "default-src 'none'" in html
    assert (await orch.client.get("/redoc")).status_code == 404


async def test_each_listed_reason_has_a_series_until_cleared(orch: Orchestrator) -> None:
    metric = "arb_orchestrator_reason_since_timestamp_seconds"
    await orch.alerts(am_alert(venue="sx"))
    await orch.pause("maintenance")
    labels = {"source": "alert", "reason": 'ArbFillRatioLow{venue="sx"}', "class": "qos"}
    assert orch.metric(metric, **labels, active="true") == orch.clock.now_utc().timestamp()
    assert (
        orch.metric(
            metric, source="manual", reason="maintenance", **{"class": "manual"}, active="true"
        )
        is not None
    )
    await orch.alerts(am_alert(venue="sx", status="resolved"), status="resolved")
    assert orch.metric(metric, **labels, active="true") is None
    assert orch.metric(metric, **labels, active="false") is not None
    await orch.resume()
    assert orch.metric(metric, **labels, active="false") is None
    await orch.pause("free text with spaces, not a label")
    assert (
        orch.metric(metric, source="manual", reason="other", **{"class": "manual"}, active="true")
        is not None
    )
