"""End to end on a second real stack: the faults an operator must be able to trust.

A blip and a flaky RPC must not pause; an SX Rollup stall must; an RPC outage pauses and then
lifts itself; a frozen engine raises ArbEngineMetricsAbsent and a person hears of it; a stopped
Prometheus is noticed and announced by the orchestrator. The tests run in file order on one
stack, the automatic resume first (the orchestrator allows three an hour).
"""

from __future__ import annotations

import dataclasses

import pytest

from arbqos_harness.demo.notices import NoticeSeen, notices
from arbqos_harness.demo.scenarios import SCENARIOS, recover
from arbqos_harness.demo.stack import DemoStack
from tests.harness.demo.scenario_runs import NO_STOP, reasons, run
from tests.support.wait import eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def test_an_rpc_outage_pauses_then_lifts_itself_after_recovery(stack: DemoStack) -> None:
    report = run(stack, "infra-recovery")
    try:
        assert reasons(report)["heartbeat"] == 'ArbRpcDown{chain="sx_rollup"}'
        assert 'ArbRpcDown{chain="sx_rollup"}' in {p.name for p in report.pauses}
        follow = report.followup
        assert follow.resumed_by.startswith("auto_resume"), follow
        orch = stack.config.orchestrator
        assert orch.infra_resume_after_s <= report.latencies["resume"] <= report.targets["resume"]
        kinds = [n.kind for n in report.notices]
        assert NoticeSeen.PAUSED in kinds and NoticeSeen.RESUMED_AUTOMATICALLY in kinds
        assert report.ok, report.problems
        entries = stack.journal(limit=50)
        assert any(e.action == "auto_resume" for e in entries)
        assert stack.status().state == "running"
    finally:
        recover(stack, SCENARIOS["infra-recovery"], stop=NO_STOP, timeout_s=90, say=print)


def test_a_short_rpc_blip_neither_pauses_nor_alerts(stack: DemoStack) -> None:
    report = run(stack, "rpc-blip")
    try:
        assert report.pauses == [] and report.alerts == []
        assert report.attempts is not None
        assert report.attempts.failed >= 1  # the heartbeat saw the blip...
        assert report.attempts.longest_failing_run < stack.config.heartbeat.failure_threshold
        assert report.ok, report.problems  # ...and did not call it an outage
    finally:
        recover(stack, SCENARIOS["rpc-blip"], stop=NO_STOP, timeout_s=60, say=print)


def test_a_flaky_rpc_does_not_pause(stack: DemoStack) -> None:
    # one minute of the three-minute scenario: 2 % of requests still fail, one in fifty
    flaky = dataclasses.replace(SCENARIOS["rpc-flaky"], fault_s=60.0)
    report = run(stack, flaky)
    try:
        assert report.pauses == []
        assert report.attempts is not None and report.attempts.proxy_failures >= 1
        assert report.ok, report.problems
    finally:
        recover(stack, flaky, stop=NO_STOP, timeout_s=60, say=print)


def test_an_sx_rollup_stall_pauses_through_the_heartbeat_and_the_alert(stack: DemoStack) -> None:
    report = run(stack, "sx-stall")
    try:
        assert reasons(report) == {
            "heartbeat": 'ArbSequencerDown{chain="sx_rollup"}',
            "alert": 'ArbSequencerDown{chain="sx_rollup"}',
        }
        assert report.ok, report.problems
    finally:
        recover(stack, SCENARIOS["sx-stall"], stop=NO_STOP, timeout_s=90, say=print)
    assert stack.status().state == "running"


def test_a_frozen_engine_raises_engine_metrics_absent_and_tells_a_person(
    stack: DemoStack,
) -> None:
    report = run(stack, "engine-metrics-gone")
    try:
        assert report.pauses == []
        assert "ArbEngineMetricsAbsent" in {a["alertname"] for a in report.alerts}
        firing = [n for n in report.notices if n.kind is NoticeSeen.FIRING]
        assert firing and "engine" in firing[0].headline
        assert report.ok, report.problems
    finally:
        recover(stack, SCENARIOS["engine-metrics-gone"], stop=NO_STOP, timeout_s=60, say=print)


def test_a_dead_prometheus_is_noticed_and_announced_by_the_orchestrator(
    stack: DemoStack,
) -> None:
    report = run(stack, "alerting-dead")
    try:
        assert report.pauses == []
        silent = [n for n in report.notices if n.kind is NoticeSeen.PATH_SILENT]
        assert silent and "silent since" in silent[0].headline
        timeout = stack.config.orchestrator.watchdog_timeout_s
        assert (
            silent[0].at - report.injected_at
            <= timeout + 3 * stack.config.alerting.watchdog_repeat_s + 2
        )
        assert report.ok, report.problems
    finally:
        recover(stack, SCENARIOS["alerting-dead"], stop=NO_STOP, timeout_s=90, say=print)
    status = stack.status()
    assert status.alerting is not None and status.alerting.pipeline_up
    assert eventually(
        lambda: [n for n in notices(stack.notifications()) if n.kind is NoticeSeen.PATH_BACK],
        15,
        0.2,
        what="the alert-path-back notice",
    )
