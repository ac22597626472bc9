"""Where notifications go: the notify URLs file, and what will reach nobody with this config.

The notify URLs file is an apprise text config: one channel URL per line, optionally prefixed
by comma-separated tags and `=` (`ops,phone=tgram://<token>/<chat>`), `#` starts a comment.
Nothing here ever returns or prints a line of that file: only its path and a count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from arbqos.config.schema import ArbqosConfig

NOTIFY_URLS_ENV = "ARBQOS_NOTIFY_URLS_FILE"


@dataclass(frozen=True)
class NotifySource:
    """The notify URLs file in effect and where its path came from."""

    path: Path | None
    origin: str
    """`env:ARBQOS_NOTIFY_URLS_FILE`, `alerting.notify_urls_file` or `unset`."""


def notify_urls_source(config: ArbqosConfig, env: Mapping[str, str]) -> NotifySource:
    """Return the notify URLs file: `ARBQOS_NOTIFY_URLS_FILE` wins over the config key."""
    from_env = env.get(NOTIFY_URLS_ENV, "").strip()
    if from_env:
        return NotifySource(Path(from_env), f"env:{NOTIFY_URLS_ENV}")
    if config.alerting.notify_urls_file:
        return NotifySource(Path(config.alerting.notify_urls_file), "alerting.notify_urls_file")
    return NotifySource(None, "unset")


def count_channels(path: Path) -> int:
    """Count the channel lines of a notify URLs file (not blank, not a `#` comment).

    Raises:
        OSError: the file cannot be read.
    """
    text = path.read_text(encoding="utf-8", errors="replace")
    return sum(
        1 for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    )


def delivery_warnings(config: ArbqosConfig, env: Mapping[str, str]) -> list[str]:
    """Say what no person will be told with this configuration (empty: every path has a channel)."""
    al = config.alerting
    log = config.orchestrator.alert_events_log
    nobody = (
        "alerts of every severity and the pause/resume notices reach no person (the "
        f"orchestrator only records them in {log})"
    )
    source = notify_urls_source(config, env)
    warnings = []
    if source.path is None:
        warnings.append(
            f"no notification channel: alerting.notify_urls_file and {NOTIFY_URLS_ENV} are "
            f"unset, so {nobody}; point alerting.notify_urls_file at a file of apprise URLs"
        )
    else:
        try:
            channels = count_channels(source.path)
        except OSError as err:
            warnings.append(
                f"notify URLs file {source.path} (from {source.origin}) cannot be read here "
                f"({err.__class__.__name__}), so {nobody}; create it or fix the path"
            )
        else:
            if channels == 0:
                warnings.append(
                    f"notify URLs file {source.path} (from {source.origin}) holds no channel "
                    f"URL, so {nobody}; add one apprise URL per line"
                )
    if not al.notify_warning_tags:
        warnings.append(
            "alerting.notify_warning_tags is empty, so warning alerts (a low wallet balance, "
            "a stake above the cap, config drift) are only logged; set it to [all] or to tags"
        )
    if not al.direct_receivers:
        warnings.append(
            "alerting.direct_receivers is empty, so ArbOrchestratorDown reaches no person: its "
            "only route is the orchestrator that is down; add a slack, webhook or email receiver"
        )
    return warnings
