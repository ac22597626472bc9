"""The demo's run directory: layout, free loopback ports and freshly generated tokens."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from arbqos_harness.process import free_port

RUNS_DIR = ".run"
"""Where run directories go, under the working directory (git-ignored)."""


@dataclass(frozen=True)
class Tokens:
    """The orchestrator tokens of one run; the files hold them, mode 0600."""

    admin: str
    pause: str
    admin_file: Path
    pause_file: Path


@dataclass(frozen=True)
class Ports:
    """One free loopback port per listening piece of the stack."""

    orchestrator: int
    heartbeat: int
    balance: int
    engine: int
    prometheus: int
    alertmanager: int
    sim_sx: int
    sim_azuro: int

    @classmethod
    def allocate(cls) -> Ports:
        """Pick distinct free ports on 127.0.0.1."""
        names = list(cls.__dataclass_fields__)
        ports: list[int] = []
        while len(ports) < len(names):
            port = free_port()
            if port not in ports:
                ports.append(port)
        return cls(**dict(zip(names, ports, strict=True)))


@dataclass(frozen=True)
class RunDir:
    """`.run/demo-<UTC timestamp>/`: config, rendered ops files, secrets, logs, state.

    >>> run = RunDir.create(Path(".run"), datetime.now(UTC))
    >>> run.config_dir        # .run/demo-20261126T135058Z/config
    """

    root: Path

    @classmethod
    def create(cls, base: Path, now: datetime, prefix: str = "demo") -> RunDir:
        """Make a new, empty run directory named after `now` (UTC) under `base`."""
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        base.mkdir(parents=True, exist_ok=True)
        for attempt in range(100):
            suffix = f"-{attempt}" if attempt else ""
            root = base / f"{prefix}-{stamp}{suffix}"
            try:
                root.mkdir()
            except FileExistsError:
                continue
            run = cls(root)
            for sub in (run.config_dir, run.logs_dir, run.monitoring_dir, run.sim_dir):
                sub.mkdir(parents=True, exist_ok=True)
            run.secrets_dir.mkdir(mode=0o700)
            return run
        raise FileExistsError(f"no free run directory name for {stamp} under {base}")

    @property
    def config_dir(self) -> Path:
        """The demo config, one `<section>.yml` per section."""
        return self.root / "config"

    @property
    def secrets_dir(self) -> Path:
        """Token files (directory 0700, files 0600)."""
        return self.root / "secrets"

    @property
    def logs_dir(self) -> Path:
        """Output of every child process, one `<name>.log` each."""
        return self.root / "logs"

    @property
    def monitoring_dir(self) -> Path:
        """heartbeat.log, balance_watcher.log, alert_events.log, notifications.log."""
        return self.root / "monitoring"

    @property
    def sim_dir(self) -> Path:
        """The venue simulators' decision logs."""
        return self.root / "sim"

    @property
    def chains_dir(self) -> Path:
        """anvil logs and saved chain states."""
        return self.root / "chains"

    @property
    def engine_status(self) -> Path:
        """JSON written by the engine every second (legs, guard window statistics)."""
        return self.root / "engine_status.json"

    @property
    def dashboard(self) -> Path:
        """The Grafana dashboard rendered from the demo config (import it into Grafana)."""
        return self.root / "dashboards" / "arb_qos.json"

    @property
    def notifications_log(self) -> Path:
        """Every notification the demo's sink received, one JSON line each."""
        return self.monitoring_dir / "notifications.log"

    @property
    def notify_urls_file(self) -> Path:
        """The channel secrets file (apprise URL of the sink), mode 0600."""
        return self.secrets_dir / "notify_urls"

    def sim_log(self, venue: str) -> Path:
        """The decision log of one venue simulator."""
        return self.sim_dir / f"{venue}_events.log"

    def write_tokens(self) -> Tokens:
        """Generate distinct admin and pause tokens and write them with mode 0600."""
        admin, pause = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        return Tokens(
            admin,
            pause,
            self.write_secret("admin_token", admin + "\n"),
            self.write_secret("pause_token", pause + "\n"),
        )

    def write_secret(self, name: str, text: str) -> Path:
        """Create `secrets/<name>` with mode 0600 (never over an existing file); return it."""
        path = self.secrets_dir / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path
