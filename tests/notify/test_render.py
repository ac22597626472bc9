"""Notice text: the facts a person needs at 3 a.m., within each channel's size limit."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from arbqos.notify import (
    Notice,
    NoticeKind,
    alert_notice,
    paused_notice,
    reason_line,
    render_notice,
    resumed_notice,
    text_units,
)
from arbqos.vocab import Severity

T0 = datetime(2026, 11, 26, 3, 12, 7, 250000, tzinfo=UTC)
LOW_BALANCE = {
    "alertname": "ArbWalletBalanceLow",
    "severity": "warning",
    "wallet": "azuro",
    "chain": "polygon",
    "token": "USDT",
    "instance": "127.0.0.1:9103",
    "job": "arbqos_balance_watcher",
}
LOW_BALANCE_TEXT = {
    "summary": "azuro wallet below 15 USD",
    "description": "The azuro wallet on polygon holds 12.40 USD of USDT. Top it up by hand.",
    "value": "12.40 USD",
    "threshold": "15 USD",
}


def test_firing_alert_says_what_where_value_threshold_since_and_trading() -> None:
    notice = alert_notice(
        status="firing",
        labels=LOW_BALANCE,
        annotations=LOW_BALANCE_TEXT,
        starts_at=T0,
        paused=False,
    )
    rendered = render_notice(notice, instance="vps-1")
    assert rendered.title == "[vps-1] WARNING firing: azuro wallet below 15 USD"
    assert rendered.body == (
        "what: ArbWalletBalanceLow\n"
        "where: chain=polygon, wallet=azuro, token=USDT\n"
        "value: 12.40 USD (threshold 15 USD)\n"
        "since: 2026-11-26T03:12:07.250Z\n"
        "trading: running\n"
        "The azuro wallet on polygon holds 12.40 USD of USDT. Top it up by hand."
    )
    assert rendered.notify_type == "warning"
    assert notice.route_severity is Severity.WARNING


def test_resolved_alert_says_when_and_how_long() -> None:
    notice = alert_notice(
        status="resolved",
        labels=LOW_BALANCE,
        annotations=LOW_BALANCE_TEXT,
        starts_at=T0,
        ends_at=T0 + timedelta(minutes=12, seconds=5),
        paused=False,
    )
    rendered = render_notice(notice)
    assert rendered.title == "resolved: azuro wallet below 15 USD"
    assert "resolved: 2026-11-26T03:24:12.250Z (after 12m 5s)" in rendered.body
    assert rendered.notify_type == "success"
    assert (
        notice.dedup_key()
        != alert_notice(
            status="firing", labels=LOW_BALANCE, annotations=LOW_BALANCE_TEXT, starts_at=T0
        ).dedup_key()
    )


def test_unknown_severity_routes_as_critical_and_zero_end_is_ignored() -> None:
    notice = alert_notice(
        status="resolved",
        labels={"alertname": "ArbSomething", "severity": "page"},
        annotations={},
        starts_at=T0,
        ends_at=datetime(1, 1, 1, tzinfo=UTC),
    )
    assert notice.route_severity is Severity.CRITICAL
    assert notice.ended is None


def test_pause_notice_lists_reasons_and_the_resume_command() -> None:
    reasons = [
        reason_line("alert", 'ArbFillRatioLow{venue="sx"}', T0, "sx fill ratio below 0.85"),
        reason_line("heartbeat", "ArbRpcDown", T0, "SX Rollup RPC down", active=False),
    ]
    resume = "arbqos resume (admin token): a QoS reason never resumes by itself"
    notice = paused_notice('ArbFillRatioLow{venue="sx"}', reasons, since=T0, resume=resume)
    rendered = render_notice(notice)
    assert (
        rendered.title == 'CRITICAL trading PAUSED: ArbFillRatioLow{venue="sx"} (+1 more reasons)'
    )
    assert rendered.body == (
        "since: 2026-11-26T03:12:07.250Z\n"
        "trading: PAUSED\n"
        f"resume: {resume}\n"
        "reasons (2):\n"
        '- alert ArbFillRatioLow{venue="sx"} since 2026-11-26T03:12:07.250Z: sx fill ratio '
        "below 0.85\n"
        "- heartbeat ArbRpcDown since 2026-11-26T03:12:07.250Z: SX Rollup RPC down (recovered)"
    )
    assert rendered.notify_type == "failure"
    added = paused_notice("ArbRpcDown", reasons, since=T0, resume=resume, added=True)
    assert render_notice(added).title == "still PAUSED, reason added: ArbRpcDown"


@pytest.mark.parametrize("by_admin", [True, False])
def test_resume_notices_say_who_and_what_was_cleared(by_admin: bool) -> None:
    notice = resumed_notice(
        ["heartbeat ArbRpcDown"],
        at=T0 + timedelta(hours=1, minutes=3),
        by_admin=by_admin,
        actor="admin from 10.0.0.5" if by_admin else "",
        paused_since=T0,
    )
    rendered = render_notice(notice)
    assert rendered.title == (
        "trading RESUMED by an admin" if by_admin else "trading RESUMED automatically"
    )
    assert "resumed: 2026-11-26T04:15:07.250Z (after 1h 3m)" in rendered.body
    assert ("by: admin from 10.0.0.5" in rendered.body) is by_admin
    assert "trading: running" in rendered.body
    assert rendered.body.endswith("reasons cleared (1):\n- heartbeat ArbRpcDown")
    assert notice.route_severity is Severity.CRITICAL  # transitions always route as critical


def test_transitions_route_as_critical_whatever_their_severity_field() -> None:
    for kind in NoticeKind:
        notice = Notice(kind, "x", Severity.INFO)
        alert = kind in (NoticeKind.ALERT_FIRING, NoticeKind.ALERT_RESOLVED)
        assert notice.route_severity is (Severity.INFO if alert else Severity.CRITICAL)


@pytest.mark.parametrize("limit", [4096, 2000, 500])
def test_long_lists_are_cut_with_a_count_to_the_limit(limit: int) -> None:
    reasons = [
        f'alert ArbProbeFailed{{target="t{i:03d}"}}: probe failing ' + "x" * 60 for i in range(200)
    ]
    notice = paused_notice("ArbProbeFailed", reasons, since=T0, resume="arbqos resume")
    rendered = render_notice(notice, limit=limit)
    total = text_units(rendered.title) + 2 + text_units(rendered.body)
    assert limit - 120 < total <= limit
    shown = rendered.body.count("\n- ")
    assert shown + rendered.items_left_out == 200 and rendered.items_left_out > 0
    assert rendered.body.endswith(f"… and {rendered.items_left_out} more reasons")
    assert "resume: arbqos resume" in rendered.body  # the facts always stay


def test_description_is_cut_before_the_facts() -> None:
    notice = dataclasses.replace(
        alert_notice(
            status="firing", labels=LOW_BALANCE, annotations=LOW_BALANCE_TEXT, starts_at=T0
        ),
        detail="y" * 10_000,
    )
    rendered = render_notice(notice, limit=1000)
    assert text_units(rendered.title) + 2 + text_units(rendered.body) <= 1000
    assert "value: 12.40 USD (threshold 15 USD)" in rendered.body
    assert rendered.body.endswith("y…")


def test_lengths_count_like_telegram_emoji_and_crlf() -> None:
    assert text_units("ab") == 2
    assert text_units("\N{POLICE CARS REVOLVING LIGHT}") == 2  # outside the BMP: 2 UTF-16 units
    assert text_units("a\nb") == 4  # apprise sends \r\n
    notice = Notice(NoticeKind.ALERT_FIRING, "X", summary="s", detail="\N{FIRE}" * 5000)
    rendered = render_notice(notice, limit=4096)
    assert text_units(rendered.title) + 2 + text_units(rendered.body) <= 4096
