"""The demo's terminal view: what one screen says, and how it is drawn on a terminal or a pipe."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from arbqos.clock import FakeClock
from arbqos.config import ArbqosConfig
from arbqos.wire import StatusResponse
from arbqos_harness.demo.notices import headline
from arbqos_harness.demo.summary import (
    Screen,
    SummaryData,
    alert_label,
    one_line,
    render,
)
from arbqos_harness.sink import SinkRecord

NOW = datetime(2026, 11, 26, 13, 50, 58, 123000, tzinfo=UTC)
WINDOW = {
    "submitted": 42,
    "accepts": 40,
    "slow_accepts": 3,
    "fill_ratio": 0.8125,
    "p95_accept_s": 1.4567,
    "gate_open": True,
    "fill_ratio_low": True,
    "accept_p95_high": True,
}
DATA = SummaryData(
    at=NOW,
    status=StatusResponse.model_validate(
        {
            "state": "paused",
            "since": "2026-11-26T13:50:50.000Z",
            "reasons": [
                {
                    "source": "guard",
                    "name": "ArbAcceptTimeP95High",
                    "since": "2026-11-26T13:50:50.000Z",
                    "detail": "venue=sx p95_accept_time_ms=1457 > 1200",
                    "active": True,
                }
            ],
            "heartbeat": {
                "deadman_enabled": True,
                "deadman_window_s": 90.0,
                "silent_s": 2.0,
                "last_report": {
                    "tick": 9,
                    "received_at": "2026-11-26T13:50:56.123Z",
                    "ts": "2026-11-26T13:50:56.000Z",
                    "config_hash": "c" * 64,
                },
            },
        }
    ),
    engine={
        "trading_allowed": False,
        "inflight": 1,
        "bank_usd": 1000.0,
        "engine": {"opportunities": 50, "skipped_paused": 7},
        "guard": {"sx": WINDOW},
    },
    balances=[("azuro", "polygon", "USDT", 10.0), ("sx", "sx_rollup", "USDC", 500.0)],
    heartbeat_age_s=2.04,
    firing=['ArbAcceptTimeP95High{venue="sx"}'],
    watchdog=True,
)


def test_one_screen_names_state_reasons_window_balances_heartbeat_and_alerts() -> None:
    lines = render(DATA, ArbqosConfig(), "arbqos demo")
    text = "\n".join(lines)
    assert lines[:3] == [
        "arbqos demo",
        "TRADING: PAUSED  since 2026-11-26T13:50:50.000Z",
        "  reason [guard] ArbAcceptTimeP95High (active, since 2026-11-26T13:50:50.000Z): "
        "venue=sx p95_accept_time_ms=1457 > 1200",
    ]
    assert "  sx         42       0.812     1457 ms    3/40    open  FILL LOW  P95 HIGH" in lines
    assert "bank 1000.00 USD" in text and "stopped (paused)" in text
    assert "azuro 10.00 USDT (polygon) LOW; sx 500.00 USDC (sx_rollup)" in text
    assert "last tick 2.0s ago" in text and "last report tick 9 2.0s ago" in text
    assert 'alerts firing: ArbAcceptTimeP95High{venue="sx"}  [alert path alive' in text


def test_a_silent_source_is_shown_as_unknown_not_raised() -> None:
    lines = render(SummaryData(at=NOW, problems=["prometheus: ConnectError"]), ArbqosConfig(), "")
    assert "TRADING: unknown (orchestrator not answering)" in lines
    assert "engine: no status yet" in lines
    assert lines[-1] == "unreachable: prometheus: ConnectError"


def test_pipe_prints_a_line_every_few_seconds_and_events_at_once() -> None:
    out, clock = io.StringIO(), FakeClock(start=NOW)
    screen = Screen(out, clock, tty=False, every_s=5.0)
    for _ in range(6):
        screen.draw(DATA, ArbqosConfig(), "header")
        clock.advance(1.0)
    screen.say("injecting slow-accept")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("2026-11-26T13:50:58.123Z state=paused reasons=guard:ArbAccept")
    assert "sx: n=42 fill=0.812 p95=1457ms hb=2.0s" in lines[0]
    assert lines[2] == "2026-11-26T13:51:04.123Z injecting slow-accept"
    assert one_line(SummaryData(at=NOW)) == "state=? reasons=- alerts=- notices=0"


def test_terminal_redraws_in_place_with_the_latest_events() -> None:
    out = io.StringIO()
    screen = Screen(out, FakeClock(start=NOW), tty=True)
    screen.draw(DATA, ArbqosConfig(), "first")
    drawn = out.getvalue().count("\n")
    screen.say("paused by guard")
    screen.draw(DATA, ArbqosConfig(), "second")
    second = out.getvalue().split("\x1b[J")[-1]
    assert out.getvalue().startswith("\x1b[J")
    assert f"\x1b[{drawn}F" in out.getvalue()
    assert second.splitlines()[0] == "second"
    assert "  2026-11-26T13:50:58.123Z paused by guard" in second.splitlines()
    assert (
        alert_label({"alertname": "A", "severity": "x", "action": "pause", "b": "2"}) == 'A{b="2"}'
    )


def test_the_last_notifications_are_shown_with_their_headline() -> None:
    records = [
        SinkRecord(NOW, "POST", "/notify", "application/json", "", {"title": t, "message": m}, "ok")
        for t, m in (
            ("[demo] CRITICAL trading PAUSED: heartbeat:ArbRpcDown", "what: ..."),
            ("", "no title, first line of the message\nsecond line"),
            ("[demo] trading RESUMED automatically", "cleared: ..."),
            ("[demo] WARNING firing: azuro wallet below 15 USD", "value: 10 USD"),
        )
    ]
    data = SummaryData(
        at=NOW,
        notices=[(r.received_at, headline(r)) for r in records[-3:]],
        notices_total=len(records),
    )
    lines = render(data, ArbqosConfig(), "")
    at = "2026-11-26T13:50:58.123Z"
    start = lines.index("notifications: 4 sent to the sink, last 3:")
    assert lines[start + 1 : start + 4] == [
        f"  {at}  no title, first line of the message",
        f"  {at}  [demo] trading RESUMED automatically",
        f"  {at}  [demo] WARNING firing: azuro wallet below 15 USD",
    ]
    assert one_line(data).endswith("notices=4")
    assert "notifications: 0 sent to the sink" in render(SummaryData(at=NOW), ArbqosConfig(), "")
