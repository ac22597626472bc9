"""Tell a person: notification channels, severity routing, delivery, and the watched watcher.

What an operator configures:

- A secrets file of apprise URLs, one channel per line, named by `alerting.notify_urls_file`
  (or `ARBQOS_NOTIFY_URLS_FILE`, which wins), mode 600, owned by the service user. Optional
  tags before `=`; `#` comment lines and blank lines are ignored:

      phone=tgram://123456789:AAE-bot-token/987654321
      ops,team=slack://T0000/B0000/XXXXXXXXXXXXXXXX/#ops
      ops=discord://<webhook id>/<webhook token>
      mailto://user:app-password@gmail.com?to=oncall@example.com

  Any apprise URL works (Telegram, Slack, Discord, e-mail, ntfy, Matrix, JSON webhooks, ...).
  The URLs never appear in the config hash, rendered files, logs, metrics, the journal or
  error messages: a channel is named `<schema>#<n>` (`tgram#1`, `slack#2`).
- Severity routing (`alerting.notify_<severity>_tags`): critical goes to `all` channels by
  default; warning and info go only to channels carrying one of the listed tags.

What they receive: a short plain-text message per event (what, where, value and threshold,
since when in UTC, whether trading is paused, the resume command or what automatic resume waits
for), at most 4096 characters (less where the channel's own limit is lower), lists cut with
`… and N more reasons`:

- alert firing / resolved, routed by the alert's `severity` label;
- trading paused, reason added while paused, resumed by an admin, resumed automatically:
  always critical, sent by the orchestrator itself (no Prometheus or Alertmanager involved);
- alert path silent / back: the always-firing ArbWatchdog stopped arriving (Prometheus or
  Alertmanager down: the backstop pause path is blind) or came back; critical.

Delivery runs in background threads with retries; the same event within the de-duplication
window is sent once; `arb_notifications_total{channel,result}` counts sent, failed and
dropped notices and `arb_alerting_pipeline_up` shows the watchdog verdict.

The caller's interface:

    channels = load_channels(path).channels          # NotifyUrlsError (exit 2) on a bad file
    metrics = NotifyMetrics(registry)
    notifier = Notifier(channels, Routes(critical=("all",), warning=("ops",)),
                        metrics=metrics, clock=clock).start()
    notifier.submit(alert_notice(status=..., labels=..., annotations=..., starts_at=...))
    watchdog = WatchdogTracker(timeout_s=180, clock=clock, metrics=metrics)
    notice = watchdog.check()                       # each tick; submit it when not None
    notifier.close(timeout_s=5)
"""

from arbqos.notify.channels import (
    ALL_CHANNELS,
    Channel,
    ChannelSet,
    NotifyUrlsError,
    Routes,
    load_channels,
    parse_channels,
    routing_gaps,
)
from arbqos.notify.lane import ChannelStatus, RetryPolicy
from arbqos.notify.metrics import HEARTBEAT_PING_CHANNEL, NotifyMetrics
from arbqos.notify.notice import (
    Notice,
    NoticeKind,
    alert_notice,
    paused_notice,
    reason_line,
    resumed_notice,
)
from arbqos.notify.notifier import Notifier
from arbqos.notify.pinger import HeartbeatPinger
from arbqos.notify.render import TELEGRAM_LIMIT, Rendered, render_notice, text_units
from arbqos.notify.scrub import SecretScrubber
from arbqos.notify.watchdog import WatchdogTracker

__all__ = [
    "ALL_CHANNELS",
    "HEARTBEAT_PING_CHANNEL",
    "TELEGRAM_LIMIT",
    "Channel",
    "ChannelSet",
    "ChannelStatus",
    "HeartbeatPinger",
    "Notice",
    "NoticeKind",
    "Notifier",
    "NotifyMetrics",
    "NotifyUrlsError",
    "Rendered",
    "RetryPolicy",
    "Routes",
    "SecretScrubber",
    "WatchdogTracker",
    "alert_notice",
    "load_channels",
    "parse_channels",
    "paused_notice",
    "reason_line",
    "render_notice",
    "resumed_notice",
    "routing_gaps",
    "text_units",
]
