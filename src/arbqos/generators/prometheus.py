"""Prometheus config: 1 s scrape and evaluation, the arbqos rule file, one job per service."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from arbqos.config import ArbqosConfig
from arbqos.generators.promql import duration
from arbqos.generators.serialize import GENERATED

RULE_FILE_FROM_CONFIG = "../alerts/qos.yaml"
"""`rule_files` entry, relative to prometheus.yml (Prometheus resolves it from that directory)."""

# A service bound to every interface is scraped on loopback (this maps, it binds nothing).
_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


def scrape_address(host: str, port: int) -> str:
    """Return `host:port` to scrape a service bound to `host` (a wildcard bind -> loopback).

    >>> scrape_address("0.0.0.0", 9102), scrape_address("::1", 9102)
    ('127.0.0.1:9102', '[::1]:9102')
    """
    host = _WILDCARD_HOSTS.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def _job(name: str, target: str, *, scheme: str = "http", path: str = "/metrics") -> dict[str, Any]:
    job: dict[str, Any] = {"job_name": name}
    if scheme != "http":
        job["scheme"] = scheme
    if path != "/metrics":
        job["metrics_path"] = path
    job["static_configs"] = [{"targets": [target], "labels": {"service": name}}]
    return job


def build_prometheus_config(cfg: ArbqosConfig) -> dict[str, Any]:
    """Return the Prometheus configuration document.

    No `scrape_timeout` is written: Prometheus clamps its 10 s default to the scrape interval,
    while an explicit value above the interval is rejected.
    """
    al = cfg.alerting
    orchestrator = urlsplit(cfg.endpoints.orchestrator_url)
    default_port = 443 if orchestrator.scheme == "https" else 80
    orchestrator_target = scrape_address(
        orchestrator.hostname or "", orchestrator.port or default_port
    )
    return {
        "global": {
            "scrape_interval": duration(al.scrape_interval_s),
            "evaluation_interval": duration(al.evaluation_interval_s),
        },
        "rule_files": [RULE_FILE_FROM_CONFIG],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [al.alertmanager_listen]}]}]
        },
        "scrape_configs": [
            _job(
                "orchestrator",
                orchestrator_target,
                scheme=orchestrator.scheme,
                path=orchestrator.path.rstrip("/") + "/metrics",
            ),
            _job("heartbeat", scrape_address(cfg.heartbeat.host, cfg.heartbeat.metrics_port)),
            _job(
                "balance_watcher",
                scrape_address(cfg.balance_watcher.host, cfg.balance_watcher.metrics_port),
            ),
            _job("engine", al.engine_target),
            _job("prometheus", al.prometheus_listen),
            _job("alertmanager", al.alertmanager_listen),
        ],
    }


HEADER = f"""{GENERATED}
Run: prometheus --config.file=ops/prometheus/prometheus.yml --rules.alert.resend-delay=1s
rule_files is relative to this file: keep ops/alerts/ next to ops/prometheus/."""
