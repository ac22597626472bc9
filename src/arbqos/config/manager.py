"""ConfigManager: load once, expose the typed config and its hash, reload only when valid."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge

from arbqos.clock import Clock, SystemClock
from arbqos.config.loader import LoadedConfig, load_config
from arbqos.config.schema import ArbqosConfig
from arbqos.errors import ConfigError
from arbqos.metrics.registry import gauge

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did: `changed` when a new hash was swapped in, `error` when it was refused."""

    changed: bool
    hash: str
    error: ConfigError | None = None
    previous_hash: str | None = None


class ConfigManager:
    """The configuration a service runs with, and the `arb_config_info` series that reports it.

    >>> manager = ConfigManager.load(Path("config"), env=os.environ, service="heartbeat",
    ...                              registry=registry)
    >>> manager.config.exec.fill_ratio_min
    0.85
    """

    def __init__(
        self,
        loaded: LoadedConfig,
        *,
        config_dir: Path,
        env: Mapping[str, str],
        overrides: Sequence[str],
        service: str,
        registry: CollectorRegistry | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._loaded = loaded
        self._clock: Clock = clock or SystemClock()
        self._config_dir = config_dir
        self._env = dict(env)
        self._overrides = tuple(overrides)
        self.service = service
        self._lock = threading.Lock()
        self._info: Gauge | None = None
        self._reload_ok: Gauge | None = None
        self._reload_ts: Gauge | None = None
        if registry is not None:
            self._info = gauge(registry, "arb_config_info")
            self._reload_ok = gauge(registry, "arb_config_last_reload_successful")
            self._reload_ts = gauge(registry, "arb_config_last_reload_success_timestamp_seconds")
            self._export(previous=None)

    @classmethod
    def load(
        cls,
        config_dir: Path,
        *,
        env: Mapping[str, str] | None = None,
        overrides: Sequence[str] = (),
        service: str,
        registry: CollectorRegistry | None = None,
        clock: Clock | None = None,
    ) -> ConfigManager:
        """Load and validate; raises `ConfigError` listing every problem."""
        env = env or {}
        loaded = load_config(config_dir, env, overrides)
        return cls(
            loaded,
            config_dir=config_dir,
            env=env,
            overrides=overrides,
            service=service,
            registry=registry,
            clock=clock,
        )

    @property
    def config(self) -> ArbqosConfig:
        """The current validated configuration."""
        return self._loaded.config

    @property
    def hash(self) -> str:
        """The canonical hash of the current configuration."""
        return self._loaded.hash

    @property
    def loaded(self) -> LoadedConfig:
        """The current configuration with its hash and sources."""
        return self._loaded

    def reload(self) -> ReloadOutcome:
        """Re-read every layer; swap in the new config only if it validates.

        `changed` is True only when the hash differs. An invalid config keeps the running one,
        sets `arb_config_last_reload_successful` to 0 and returns the error.
        """
        with self._lock:
            previous = self._loaded
            try:
                fresh = load_config(self._config_dir, self._env, self._overrides)
            except ConfigError as err:
                self._refuse(err)
                return ReloadOutcome(False, previous.hash, err, previous_hash=previous.hash)
            self._loaded = fresh
            self._export(previous=previous)
            if fresh.hash == previous.hash:
                return ReloadOutcome(False, fresh.hash, previous_hash=previous.hash)
            logger.info(
                "config reloaded",
                extra={
                    "service": self.service,
                    "config_hash": fresh.hash,
                    "previous_config_hash": previous.hash,
                },
            )
            return ReloadOutcome(True, fresh.hash, previous_hash=previous.hash)

    def _refuse(self, err: ConfigError) -> None:
        logger.error(
            "config reload refused; keeping the running config",
            extra={
                "service": self.service,
                "config_hash": self._loaded.hash,
                "errors": [issue.render() for issue in err.issues],
            },
        )
        if self._reload_ok is not None:
            self._reload_ok.labels(self.service).set(0)

    def _export(self, previous: LoadedConfig | None) -> None:
        """Point `arb_config_info` at the current config and record a successful (re)load."""
        if self._info is None or self._reload_ok is None or self._reload_ts is None:
            return
        labels = (self.service, self._loaded.hash, self._loaded.source_kinds)
        if previous is not None:
            old = (self.service, previous.hash, previous.source_kinds)
            if old != labels:
                with contextlib.suppress(KeyError):
                    self._info.remove(*old)
        self._info.labels(*labels).set(1)
        self._reload_ok.labels(self.service).set(1)
        self._reload_ts.labels(self.service).set(self._clock.now_utc().timestamp())
