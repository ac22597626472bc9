"""The real promtool and amtool accept the generated files; routes go where they should."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from arbqos.generators.render import (
    ALERTMANAGER_PATH,
    PROMETHEUS_PATH,
    PROMETHEUS_RULE_PATH,
    RULES_PATH,
)
from tests.conftest import REPO_ROOT
from tests.generators.conftest import run_tool

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def test_promtool_check_rules_on_the_committed_rule_file() -> None:
    result = run_tool(["promtool", "check", "rules", RULES_PATH], cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_check_rules_on_the_prometheus_rule_spec(tmp_path: Path) -> None:
    manifest = yaml.safe_load((REPO_ROOT / PROMETHEUS_RULE_PATH).read_text())
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(manifest["spec"]))
    result = run_tool(["promtool", "check", "rules", str(spec)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_config_follows_the_relative_rule_file(rendered_root: Path) -> None:
    result = run_tool(["promtool", "check", "config", PROMETHEUS_PATH], cwd=rendered_root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout
    assert "SUCCESS" in result.stdout


def test_amtool_check_config(rendered_root: Path) -> None:
    result = run_tool(["amtool", "check-config", ALERTMANAGER_PATH], cwd=rendered_root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 inhibit rules" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["alertname=ArbFillRatioLow", "action=pause", "venue=sx"], "orchestrator,default"),
        (["alertname=ArbHeartbeatStale", "action=pause", "cause=absent"], "orchestrator,default"),
        (["alertname=ArbWalletBalanceLow", "wallet=sx"], "default"),
        (["alertname=ArbWatchdog"], "default"),
    ],
)
def test_amtool_routes(rendered_root: Path, labels: list[str], receivers: str) -> None:
    result = run_tool(
        ["amtool", "config", "routes", "test", f"--config.file={ALERTMANAGER_PATH}", *labels],
        cwd=rendered_root,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receivers
