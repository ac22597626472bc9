"""ConfigManager swaps in valid configs only, and says so in its metrics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry

from arbqos.clock import FakeClock
from arbqos.config import ConfigManager

WriteConfig = Callable[..., Path]
SERVICE = "heartbeat"


def _info(registry: CollectorRegistry, config_hash: str, sources: str) -> float | None:
    labels = {"service": SERVICE, "config_hash": config_hash, "sources": sources}
    value: float | None = registry.get_sample_value("arb_config_info", labels)
    return value


def _reload_ok(registry: CollectorRegistry) -> float | None:
    value: float | None = registry.get_sample_value(
        "arb_config_last_reload_successful", {"service": SERVICE}
    )
    return value


def _reload_ts(registry: CollectorRegistry) -> float | None:
    value: float | None = registry.get_sample_value(
        "arb_config_last_reload_success_timestamp_seconds", {"service": SERVICE}
    )
    return value


def _manager(config_dir: Path, registry: CollectorRegistry, clock: FakeClock) -> ConfigManager:
    return ConfigManager.load(config_dir, service=SERVICE, registry=registry, clock=clock)


def test_reload_swaps_in_a_new_valid_config(
    write_config: WriteConfig, registry: CollectorRegistry
) -> None:
    clock = FakeClock(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    config_dir = write_config(exec="fill_ratio_min: 0.9\n")
    manager = _manager(config_dir, registry, clock)
    first = manager.hash
    assert _info(registry, first, "default,file") == 1
    assert _reload_ok(registry) == 1
    assert _reload_ts(registry) == clock.now_utc().timestamp()

    clock.advance(60)
    (config_dir / "exec.yml").write_text("fill_ratio_min: 0.8\n")
    outcome = manager.reload()
    assert outcome.changed is True
    assert outcome.error is None
    assert outcome.previous_hash == first
    assert outcome.hash == manager.hash != first
    assert manager.config.exec.fill_ratio_min == 0.8
    assert _info(registry, first, "default,file") is None
    assert _info(registry, manager.hash, "default,file") == 1
    assert _reload_ok(registry) == 1
    assert _reload_ts(registry) == clock.now_utc().timestamp()


def test_an_invalid_file_keeps_the_running_config(
    write_config: WriteConfig, registry: CollectorRegistry
) -> None:
    clock = FakeClock()
    config_dir = write_config(exec="fill_ratio_min: 0.9\n")
    manager = _manager(config_dir, registry, clock)
    running, loaded_at = manager.hash, _reload_ts(registry)

    clock.advance(60)
    (config_dir / "exec.yml").write_text("fill_ratio_min: 1.5\n")
    outcome = manager.reload()
    assert outcome.changed is False
    assert outcome.error is not None
    assert [i.render() for i in outcome.error.issues] == [
        f"{config_dir}/exec.yml:1: exec.fill_ratio_min = 1.5: expected a number > 0 and <= 1"
    ]
    assert manager.hash == outcome.hash == running
    assert manager.config.exec.fill_ratio_min == 0.9
    assert _reload_ok(registry) == 0
    assert _reload_ts(registry) == loaded_at
    assert _info(registry, running, "default,file") == 1

    (config_dir / "exec.yml").write_text("# fixed\nfill_ratio_min:   0.90\n")
    fixed = manager.reload()
    assert (fixed.changed, fixed.error, fixed.hash) == (False, None, running)
    assert _reload_ok(registry) == 1


def test_an_unchanged_hash_reports_no_change(
    write_config: WriteConfig, registry: CollectorRegistry
) -> None:
    config_dir = write_config(exec="fill_ratio_min: 0.9\n")
    manager = _manager(config_dir, registry, FakeClock())
    config_before = manager.config
    outcome = manager.reload()
    assert (outcome.changed, outcome.hash, outcome.error) == (False, manager.hash, None)
    assert manager.config == config_before
    assert _reload_ok(registry) == 1


def test_same_hash_from_other_layers_moves_the_info_series(
    write_config: WriteConfig, registry: CollectorRegistry
) -> None:
    config_dir = write_config(exec="fill_ratio_min: 0.85\n")
    manager = _manager(config_dir, registry, FakeClock())
    assert manager.loaded.source_kinds == "default,file"
    (config_dir / "exec.yml").unlink()
    outcome = manager.reload()
    assert outcome.changed is False
    assert manager.loaded.source_kinds == "default"
    assert _info(registry, manager.hash, "default,file") is None
    assert _info(registry, manager.hash, "default") == 1


def test_without_a_registry_reload_still_works(write_config: WriteConfig) -> None:
    config_dir = write_config(exec="fill_ratio_min: 0.9\n")
    manager = ConfigManager.load(config_dir, service=SERVICE)
    (config_dir / "exec.yml").write_text("fill_ratio_min: 0.7\n")
    assert manager.reload().changed is True
    assert manager.config.exec.fill_ratio_min == 0.7
