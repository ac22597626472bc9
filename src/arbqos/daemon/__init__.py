"""The scaffold every long-running arbqos command runs in: orchestrator, heartbeat, watcher.

What it owns, so no service wires it again:

- **Start-up.** `launch()` configures logging once (JSON lines on stderr) and loads the config
  through `ConfigManager` (exit 2 listing every error). The CLI calls it for every service.
- **Exit codes.** `Daemon.run()` runs the service's body; an `ArbqosError` ends it with its
  `exit_code` (`TokenError`, `StartupRefused`, `BindRefused`: 2; `ListenFailed`: 1) and one line
  `arbqos <command>: <message>` on stderr, never a traceback. Anything else is logged with its
  traceback and exits 1. A stop on SIGTERM or SIGINT exits 0.
- **Tokens.** `Daemon.pause_token()` reads `ARBQOS_PAUSE_TOKEN(_FILE)`; errors name the
  variable, never the value.
- **Signals.** `Daemon.signals(stop=..., reload=...)`: SIGTERM and SIGINT stop; SIGHUP calls the
  service's reload hook (the heartbeat's) or is ignored with a warning to restart instead.
- **Start and stop lines.** `<service> started` with `service`, `pid`, `version`,
  `config_hash`, `config_sources`, `metrics_url` and the service's own fields; `<service> stopped`
  with `service`, `pid`, `config_hash`, `exit_code`, `signal`, `uptime_s` and its own fields.

**One loopback rule** (`listen.loopback_refusal`) for every listener arbqos opens: a loopback
address, decided by what the host resolves to (`arbqos.net.is_loopback`), is always allowed; any
other address needs that listener's explicit allowance, or the command exits 2 saying how to
give it:

- `/metrics` servers (`heartbeat.host`, `balance_watcher.host`):
  `ARBQOS_ALLOW_NON_LOOPBACK_METRICS=1`, the one allowance for every service (`0`, empty or
  unset: loopback only; any other value: exit 2).
  The engine's exporter (`arbqos.instrument.start_exporter`) is a library call and takes
  `allow_non_loopback=True` instead, since library code never reads the environment.
- The orchestrator keeps `/metrics` as a route of its control API: the API is the listener
  Prometheus scrapes (`orchestrator.port`, 8700, as before) and a second port would be one more
  thing to open and secure. That listener follows the same rule with the pause token as its
  allowance: off loopback only when both tokens are set (the admin token is always required).
  Its `/metrics` is then as reachable as its other unauthenticated reads (`/healthz`,
  `/v1/status`, `/v1/registry`), so a separate metrics allowance would protect nothing.
"""

from arbqos.daemon.lifecycle import Daemon, ServiceMain, launch
from arbqos.daemon.listen import (
    ALLOW_NON_LOOPBACK_METRICS_ENV,
    BindRefused,
    ListenFailed,
    MetricsServer,
    StartupRefused,
    http_url,
    listen_socket,
    loopback_refusal,
    metrics_allowed_off_loopback,
    serve_metrics,
)

__all__ = [
    "ALLOW_NON_LOOPBACK_METRICS_ENV",
    "BindRefused",
    "Daemon",
    "ListenFailed",
    "MetricsServer",
    "ServiceMain",
    "StartupRefused",
    "http_url",
    "launch",
    "listen_socket",
    "loopback_refusal",
    "metrics_allowed_off_loopback",
    "serve_metrics",
]
