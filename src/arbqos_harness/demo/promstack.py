"""Run real Prometheus and Alertmanager on loopback from rendered configs, and query them."""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arbqos.net import LOOPBACK
from arbqos_harness.process import ManagedProcess, find_tool, wait_for_http

logger = logging.getLogger(__name__)


def split_listen(listen: str) -> tuple[str, int]:
    """Split `host:port`."""
    host, _, port = listen.rpartition(":")
    return host, int(port)


@dataclass
class PromClient:
    """A small client for the Prometheus HTTP API (`/api/v1/...`)."""

    base_url: str
    timeout_s: float = 5.0

    def get(self, path: str, **params: str | float) -> Any:
        """GET `path` with query parameters and return `data` of a successful answer."""
        query = urllib.parse.urlencode({k: str(v) for k, v in params.items()})
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        with urllib.request.urlopen(url, timeout=self.timeout_s) as response:  # noqa: S310
            body = json.loads(response.read())
        if body.get("status") != "success":
            raise RuntimeError(f"Prometheus {path} failed: {body.get('error', body)}")
        return body["data"]

    def get_raw(self, path: str) -> dict[str, Any]:
        """GET `path` and return the whole JSON body (for exports such as /api/v1/rules)."""
        with urllib.request.urlopen(  # noqa: S310 - loopback URL built by arbqos
            f"{self.base_url}{path}", timeout=self.timeout_s
        ) as response:
            body: dict[str, Any] = json.loads(response.read())
        return body

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Evaluate an instant query and return its result vector."""
        data = self.get("/api/v1/query", query=expr)
        result: list[dict[str, Any]] = data["result"]
        return result

    def scalar(self, expr: str) -> float | None:
        """Evaluate a query expected to return at most one series; None when empty."""
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def firing_alerts(self) -> list[dict[str, Any]]:
        """Return the alerts currently firing."""
        data = self.get("/api/v1/alerts")
        return [a for a in data["alerts"] if a.get("state") == "firing"]


@dataclass
class PrometheusStack:
    """Prometheus + Alertmanager processes for a rendered ops tree under `root`.

    Expects `root/ops/prometheus/prometheus.yml` and `root/ops/alertmanager/alertmanager.yml`.
    """

    root: Path
    prometheus_listen: str
    alertmanager_listen: str
    log_dir: Path
    processes: list[ManagedProcess] = field(default_factory=list)

    @property
    def prometheus_url(self) -> str:
        """Base URL of Prometheus."""
        return f"http://{self.prometheus_listen}"

    @property
    def alertmanager_url(self) -> str:
        """Base URL of Alertmanager."""
        return f"http://{self.alertmanager_listen}"

    def start(self, timeout_s: float = 30.0) -> PrometheusStack:
        """Start Alertmanager then Prometheus and wait until both report ready."""
        for listen in (self.prometheus_listen, self.alertmanager_listen):
            host, _ = split_listen(listen)
            if host != LOOPBACK:
                raise ValueError(f"the local stack binds to {LOOPBACK} only, not {host}")
        data = self.root / "data"
        alertmanager = ManagedProcess(
            "alertmanager",
            [
                find_tool("prometheus-alertmanager"),
                f"--config.file={self.root / 'ops/alertmanager/alertmanager.yml'}",
                f"--storage.path={data / 'alertmanager'}",
                f"--web.listen-address={self.alertmanager_listen}",
                "--cluster.listen-address=",
            ],
            self.log_dir,
        )
        prometheus = ManagedProcess(
            "prometheus",
            [
                find_tool("prometheus"),
                f"--config.file={self.root / 'ops/prometheus/prometheus.yml'}",
                f"--storage.tsdb.path={data / 'prometheus'}",
                f"--web.listen-address={self.prometheus_listen}",
                "--rules.alert.resend-delay=1s",
                "--storage.tsdb.retention.time=1d",
            ],
            self.log_dir,
        )
        for proc, url in (
            (alertmanager, f"{self.alertmanager_url}/-/ready"),
            (prometheus, f"{self.prometheus_url}/-/ready"),
        ):
            self.processes.append(proc.start())
            try:
                wait_for_http(url, timeout_s=timeout_s)
            except TimeoutError as err:
                self.stop()
                raise RuntimeError(f"{proc.name} did not start: {err}\n{proc.tail()}") from err
        return self

    def client(self) -> PromClient:
        """A client for this Prometheus."""
        return PromClient(self.prometheus_url)

    def stop(self) -> None:
        """Stop both processes (Prometheus first)."""
        for proc in reversed(self.processes):
            proc.stop()
        self.processes.clear()
