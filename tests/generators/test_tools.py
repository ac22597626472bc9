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
from arbqos.generators.routecheck import reachable_receivers
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


def test_amtool_check_config(rendered_root: Path, direct_root: Path) -> None:
    result = run_tool(["amtool", "check-config", ALERTMANAGER_PATH], cwd=rendered_root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 inhibit rules" in result.stdout
    assert " - 1 receivers" in result.stdout
    result = run_tool(["amtool", "check-config", ALERTMANAGER_PATH], cwd=direct_root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " - 5 receivers" in result.stdout


def routes_test(root: Path, labels: list[str], *flags: str) -> str:
    argv = ["amtool", "config", "routes", "test", f"--config.file={ALERTMANAGER_PATH}"]
    result = run_tool([*argv, *flags, *labels], cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("labels", "receivers", "direct"),
    [
        (["alertname=ArbWalletBalanceLow", "severity=warning", "wallet=sx"], "orchestrator", ""),
        (
            ["alertname=ArbFillRatioLow", "severity=critical", "action=pause", "venue=sx"],
            "orchestrator",
            ",hook",
        ),
        (["alertname=ArbWatchdog", "severity=info"], "orchestrator", ""),
        (
            ["alertname=ArbOrchestratorDown", "severity=critical", "cause=target_down"],
            "orchestrator",
            ",chat,hook,mail",
        ),
    ],
)
def test_amtool_routes(
    rendered_root: Path, direct_root: Path, labels: list[str], receivers: str, direct: str
) -> None:
    assert routes_test(rendered_root, labels) == receivers
    expected = receivers + direct
    if "ArbWatchdog" not in labels[0]:
        expected += ",default"
    assert routes_test(direct_root, labels) == expected


def test_the_watchdog_takes_its_own_route_and_repeat(rendered_root: Path) -> None:
    tree = routes_test(rendered_root, ["alertname=ArbWatchdog", "severity=info"], "--tree")
    assert '{alertname="ArbWatchdog"}  receiver: orchestrator' in tree
    assert "action" not in tree.split("Matching routes:")[1]
    document = yaml.safe_load((rendered_root / ALERTMANAGER_PATH).read_text())
    (route,) = [r for r in document["route"]["routes"] if "ArbWatchdog" in str(r["matchers"])]
    assert route["repeat_interval"] == "1m"


@pytest.mark.parametrize("tree", ["rendered_root", "direct_root"])
def test_amtool_agrees_with_the_route_check_for_every_rule(
    tree: str, request: pytest.FixtureRequest
) -> None:
    root: Path = request.getfixturevalue(tree)
    document = yaml.safe_load((root / ALERTMANAGER_PATH).read_text())
    seen = set()
    for group in yaml.safe_load((root / RULES_PATH).read_text())["groups"]:
        for alert in (rule for rule in group["rules"] if "alert" in rule):
            labels = {"alertname": alert["alert"], **alert["labels"]}
            key = tuple(sorted(labels.items()))
            if key in seen:
                continue
            seen.add(key)
            argv = [f"{k}={v}" for k, v in labels.items()]
            by_amtool = set(routes_test(root, argv).split(","))
            assert by_amtool == reachable_receivers(document["route"], labels), labels


def test_no_secret_lands_in_the_rendered_files(direct_root: Path) -> None:
    for path in (direct_root / "ops").rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "secret-for-tests" not in text and "pause-token-for-tests" not in text, path
    text = (direct_root / ALERTMANAGER_PATH).read_text()
    assert "api_url_file: " in text and "password_file: " in text
