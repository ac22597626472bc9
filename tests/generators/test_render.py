"""`arbqos render [--check]`: writes the generated files, detects drift, follows every layer."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from arbqos.cli import main
from arbqos.config import ArbqosConfig, load_config
from arbqos.generators import render_all, run_render
from arbqos.generators.render import ALERTMANAGER_PATH, PROMETHEUS_PATH, RULES_PATH
from tests.conftest import REPO_ROOT

CONTRACT_PATHS = {
    "ops/alerts/qos.yaml",
    "ops/alertmanager/alertmanager.yml",
    "ops/prometheus/prometheus.yml",
    "ops/k8s/prometheusrule.yaml",
    "ops/k8s/dashboard-configmap.yaml",
    "dashboards/arb_qos.json",
}
CHANGES = {
    "exec.fill_ratio_min": ("0.9", "< 0.9\n"),
    "exec.p95_accept_time_ms_max": ("8000", 'arb_accept_time_seconds_bucket{le="8.0"}'),
    "risk.stake_pct_cap": ("0.1", 'arb_stake_fraction_of_bank_bucket{le="0.1"}'),
    "risk.balance_alert_usd": ("25", "min by (wallet, chain, token) (arb_wallet_balance_usd) < 25"),
}


def test_render_all_covers_the_contract_paths_deterministically() -> None:
    first, second = render_all(ArbqosConfig()), render_all(ArbqosConfig())
    assert set(first) == CONTRACT_PATHS
    assert first == second
    assert all(text.endswith("\n") for text in first.values())


def test_run_render_check_write_and_drift(tmp_path: Path) -> None:
    loaded = load_config(REPO_ROOT / "config", {}, ())
    out = io.StringIO()
    assert run_render(loaded, root=tmp_path, check=True, out=out) == 1
    assert f"missing: {RULES_PATH}" in out.getvalue()
    assert not (tmp_path / "ops").exists()

    out = io.StringIO()
    assert run_render(loaded, root=tmp_path, check=False, out=out) == 0
    assert "6 written, 0 unchanged" in out.getvalue()
    assert run_render(loaded, root=tmp_path, check=True, out=io.StringIO()) == 0

    rules = tmp_path / RULES_PATH
    rules.write_text(rules.read_text().replace("< 0.85", "< 0.5"))
    out = io.StringIO()
    assert run_render(loaded, root=tmp_path, check=True, out=out) == 1
    assert out.getvalue().splitlines()[0] == f"differs: {RULES_PATH}"
    assert "< 0.5" in rules.read_text()

    out = io.StringIO()
    assert run_render(loaded, root=tmp_path, check=False, out=out) == 0
    assert out.getvalue().splitlines() == [
        f"wrote {RULES_PATH}",
        f"1 written, 5 unchanged (config {loaded.hash[:12]})",
    ]


def test_committed_files_match_the_committed_config() -> None:
    config_dir = str(REPO_ROOT / "config")
    result = CliRunner().invoke(
        main, ["render", "--check", "--config-dir", config_dir, "--root", str(REPO_ROOT)]
    )
    assert result.exit_code == 0, result.output + " (run `.venv/bin/arbqos render` and commit)"
    assert result.output.startswith("ok: 6 generated files match config")


def copy_tree(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the config dir and of the committed generated files."""
    config_dir = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", config_dir)
    root = tmp_path / "root"
    for relative in CONTRACT_PATHS:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / relative, root / relative)
    return config_dir, root


@pytest.mark.parametrize("source", ["file", "env", "cli"])
@pytest.mark.parametrize("key", sorted(CHANGES))
def test_a_threshold_change_from_any_layer_reaches_the_rules(
    tmp_path: Path, key: str, source: str
) -> None:
    config_dir, root = copy_tree(tmp_path)
    value, fragment = CHANGES[key]
    section, name = key.split(".")
    args = ["--config-dir", str(config_dir), "--root", str(root)]
    env: dict[str, str] = {}
    if source == "file":
        path = config_dir / f"{section}.yml"
        data = yaml.safe_load(path.read_text())
        data[name] = yaml.safe_load(value)
        path.write_text(yaml.safe_dump(data))
    elif source == "env":
        env[f"ARBQOS__{section.upper()}__{name.upper()}"] = value
    else:
        args += ["--set", f"{key}={value}"]
    runner = CliRunner(env=env)

    check = runner.invoke(main, ["render", "--check", *args])
    assert check.exit_code == 1, check.output
    assert f"differs: {RULES_PATH}" in check.output
    assert f"differs: {PROMETHEUS_PATH}" not in check.output
    assert fragment not in (root / RULES_PATH).read_text()

    write = runner.invoke(main, ["render", *args])
    assert write.exit_code == 0, write.output
    assert fragment in (root / RULES_PATH).read_text()
    assert runner.invoke(main, ["render", "--check", *args]).exit_code == 0


SWALLOWING_ALERTMANAGER = """\
route:
  receiver: default
  routes:
  - receiver: orchestrator
    matchers: ['action="pause"']
    continue: true
  - receiver: default
receivers:
- name: orchestrator
  webhook_configs:
  - url: http://127.0.0.1:8700/v1/alertmanager
- name: default
"""


def test_render_check_fails_naming_alert_and_receiver_that_swallows_it(tmp_path: Path) -> None:
    """The alertmanager.yml of before: warnings went to `default`, which had no integration."""
    config_dir, root = copy_tree(tmp_path)
    (root / ALERTMANAGER_PATH).write_text(SWALLOWING_ALERTMANAGER)
    args = ["render", "--check", "--config-dir", str(config_dir), "--root", str(root)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert (
        f"error: {ALERTMANAGER_PATH}: alert ArbWalletBalanceLow (severity=warning) can route "
        "to receiver 'default', which has no integration" in result.output
    )
    assert f"differs: {ALERTMANAGER_PATH}" in result.output
    rendered = CliRunner().invoke(main, args[:1] + args[2:])
    assert rendered.exit_code == 0, rendered.output
    assert CliRunner().invoke(main, args).exit_code == 0


def test_render_refuses_to_write_a_config_that_swallows_alerts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arbqos.generators import alertmanager

    def without_integration(config: ArbqosConfig) -> dict[str, object]:
        return yaml.safe_load(SWALLOWING_ALERTMANAGER)

    monkeypatch.setattr(alertmanager, "build_alertmanager_config", without_integration)
    loaded = load_config(REPO_ROOT / "config", {}, ())
    out = io.StringIO()
    assert run_render(loaded, root=tmp_path, check=False, out=out) == 1
    assert "error: alert ArbStakeCapExceeded (severity=warning) can route to receiver" in (
        out.getvalue()
    )
    assert "nothing written" in out.getvalue()
    assert not (tmp_path / "ops").exists()
