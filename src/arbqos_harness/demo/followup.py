"""A scenario's second phase, after its fault is undone: does the pause lift itself or hold?

- `watch_auto_resume`: an infrastructure pause must lift by itself once everything recovered
  (the orchestrator's resume policy), with an `auto_resume` journal entry and notice.
- `watch_latch`: a QoS pause must hold after the statistic recovered (the window emptied and
  the alert resolved), for longer than any automatic resume would take.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from arbqos.clock import parse_ts
from arbqos.vocab import ReasonClass
from arbqos.wire import StatusResponse
from arbqos_harness.demo.notices import NoticeSeen, notices
from arbqos_harness.demo.observe import Observer
from arbqos_harness.demo.verdict import Followup, Targets

if TYPE_CHECKING:
    from arbqos_harness.demo.stack import DemoStack

Say = Callable[[str], None]
POLL_S = 0.5
AUTO_RESUME_ACTION = "auto_resume"
"""The orchestrator's journal action for an automatic resume."""
EXTRA_WAIT_S = 30.0
"""Watch this much past the target before calling the phase failed (to report how late)."""
LATCH_MARGIN_S = 2.0
NOTICE_WAIT_S = 5.0


def watch_auto_resume(
    stack: DemoStack,
    seen: Observer,
    follow: Followup,
    *,
    injected: float,
    stop: threading.Event,
    say: Say,
) -> None:
    """Wait until trading runs again, then check the journal says it resumed by itself."""
    target = Targets.of(stack.config).resume_s
    say(f"fault undone; waiting for the automatic resume (target <= {target:g} s)")
    deadline = time.monotonic() + target + EXTRA_WAIT_S
    while not stop.is_set() and time.monotonic() < deadline:
        seen.poll(time.time())
        status = _status(stack)
        if status is not None and not status.paused:
            follow.resumed_at = parse_ts(status.since).timestamp()
            break
        stop.wait(POLL_S)
    if follow.resumed_at is None:
        follow.problems.append(
            f"still paused {target + EXTRA_WAIT_S:g} s after the fault was undone "
            "(expected an automatic resume)"
        )
        return
    entries = [
        e
        for e in stack.journal(limit=200)
        if e.action == AUTO_RESUME_ACTION and parse_ts(e.ts).timestamp() >= injected
    ]
    if not entries:
        follow.resumed_by = "not by itself"
        follow.problems.append("trading runs again, but no auto_resume entry in the journal")
        return
    entry = next((e for e in entries if e.data.get("cleared")), entries[0])
    cleared = entry.data.get("cleared") or []
    follow.resumed_by = f"auto_resume (cleared {', '.join(map(str, cleared)) or '-'})"
    say(f"resumed by itself: {entry.detail}")
    _wait_for_notice(stack, NoticeSeen.RESUMED_AUTOMATICALLY, injected, stop)


def _wait_for_notice(
    stack: DemoStack, kind: NoticeSeen, after: float, stop: threading.Event
) -> None:
    """Give a notice sent in the background a moment to reach the sink."""
    deadline = time.monotonic() + NOTICE_WAIT_S
    while not stop.is_set() and time.monotonic() < deadline:
        if any(n.kind is kind for n in notices(stack.notifications(after))):
            return
        stop.wait(0.1)


def watch_latch(
    stack: DemoStack,
    seen: Observer,
    follow: Followup,
    *,
    alerts: Sequence[str],
    stop: threading.Event,
    say: Say,
) -> None:
    """Wait until the statistic recovered, then check the pause holds past any auto resume."""
    config = stack.config
    recover_s = config.exec.qos_window_s + 30.0
    say(f"fault undone; waiting up to {recover_s:g} s for the window to empty and alerts to end")
    deadline = time.monotonic() + recover_s
    while not stop.is_set() and time.monotonic() < deadline:
        seen.poll(time.time())
        if window_empty(stack) and not _firing(stack, alerts):
            follow.recovered_at = time.time()
            break
        stop.wait(POLL_S)
    if follow.recovered_at is None:
        follow.problems.append(f"the statistic did not recover within {recover_s:g} s")
        return
    hold_s = config.orchestrator.infra_resume_after_s + config.heartbeat.interval_s
    hold_s += LATCH_MARGIN_S
    say(f"statistic recovered; checking trading stays paused for {hold_s:g} s")
    until = time.monotonic() + hold_s
    while not stop.is_set() and time.monotonic() < until:
        seen.poll(time.time())
        status = _status(stack)
        if status is not None and not status.paused:
            follow.problems.append(
                f"trading resumed {time.time() - follow.recovered_at:.1f} s after the QoS "
                "statistic recovered: a QoS pause must wait for an admin"
            )
            return
        stop.wait(POLL_S)
    status = _status(stack)
    if status is None:
        follow.problems.append("the orchestrator did not answer at the end of the hold")
        return
    follow.held_until = time.time()
    qos = [r for r in status.reasons if r.reason_class is ReasonClass.QOS]
    if not qos:
        follow.problems.append("paused, but no reason of class qos is listed")
        return
    follow.waiting_for = f"{qos[0].source}:{qos[0].name}: {qos[0].waiting_for}"


def window_empty(stack: DemoStack) -> bool:
    """True when the guard's QoS window holds no submission and no result on any venue."""
    guard = (stack.engine_status() or {}).get("guard") or {}
    return bool(guard) and all(
        w.get("submitted", 0) == 0 and w.get("results", 0) == 0 for w in guard.values()
    )


def _firing(stack: DemoStack, alerts: Sequence[str]) -> bool:
    """True while one of `alerts` fires in Prometheus (or Prometheus does not answer)."""
    try:
        firing = stack.prom.firing_alerts()
    except Exception:  # unknown counts as firing: the hold must start from a clean state
        return True
    return any(a["labels"].get("alertname") in alerts for a in firing)


def _status(stack: DemoStack) -> StatusResponse | None:
    try:
        return stack.status()
    except Exception:  # a slow answer is not a verdict; the next poll decides
        return None
