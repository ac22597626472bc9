"""alerting.*: direct receivers, channel tags, the notify URLs file and the delivery warnings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arbqos.config import AlertingConfig, ArbqosConfig, config_hash, load_config
from arbqos.config.delivery import NOTIFY_URLS_ENV, delivery_warnings, notify_urls_source
from arbqos.errors import ConfigError
from arbqos.vocab import PAUSE_ALERTS, AlertName, Severity
from tests.config.conftest import Invoke

FAKE_TOKEN = "123456789:AAFakeTelegramTokenForArbqosTests_x9"
SLACK = "type: slack\n    api_url_file: /run/secrets/slack_url\n"


def write_alerting(tmp_path: Path, text: str) -> Path:
    config_dir = tmp_path / "config"
    config_dir.mkdir(exist_ok=True)
    (config_dir / "alerting.yml").write_text(text)
    return config_dir


def errors_of(config_dir: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir, {}, ())
    return str(caught.value)


def test_engine_absent_pauses_only_when_configured() -> None:
    assert AlertingConfig().pause_alerts() == PAUSE_ALERTS
    paused = AlertingConfig(pause_on_engine_absent=True).pause_alerts()
    assert paused == PAUSE_ALERTS | {AlertName.ENGINE_METRICS_ABSENT}


def test_severity_tags_default_to_critical_everywhere() -> None:
    al = AlertingConfig(notify_warning_tags=["ops"])
    assert al.notify_tags(Severity.CRITICAL) == ("all",)
    assert al.notify_tags(Severity.WARNING) == ("ops",)
    assert al.notify_tags(Severity.INFO) == ()


@pytest.mark.parametrize(
    ("receiver", "line"),
    [
        (
            "type: slack\n",
            "alerting.direct_receivers.ops.api_url_file: a slack receiver needs api_url_file: "
            "a file holding the Slack incoming-webhook URL",
        ),
        (
            SLACK + "    url: https://hooks.example.org/x\n",
            'alerting.direct_receivers.ops.url = "https://hooks.example.org/x": not used by '
            "this slack receiver (only by webhook); remove it",
        ),
        (
            "type: email\n    to: ops@example.org\n    sender: arb@example.org\n",
            "alerting.direct_receivers.ops.smarthost: an email receiver needs smarthost",
        ),
        (
            "type: webhook\n    url: https://hooks.example.org/x\n    username: arb\n",
            "alerting.direct_receivers.ops.password_file: username and password_file go "
            "together; give both or neither",
        ),
        (
            "type: webhook\n    url: https://hooks.example.org/x\n    credentials_file: /a\n"
            "    username: arb\n    password_file: /b\n",
            "choose one: credentials_file (Bearer) or username + password_file",
        ),
        (
            SLACK + "    alerts: [ArbOrchestratorDown, ArbWatchdog]\n",
            "alerting.direct_receivers.ops.alerts = ",
        ),
        (
            "type: telegram\n",
            'alerting.direct_receivers.ops.type = "telegram": only Alertmanager 0.26 and newer '
            "read a telegram secret from a file (bot_token_file); 0.25 (Debian 12) would",
        ),
        (
            "type: discord\n",
            "only Alertmanager 0.27 and newer read a discord secret from a file (webhook_url_file)",
        ),
        (
            "type: pagerduty\n",
            "alerting.direct_receivers.ops.type = \"pagerduty\": expected one of 'slack', "
            "'webhook' or 'email'",
        ),
    ],
)
def test_a_direct_receiver_error_names_key_value_and_fix(
    tmp_path: Path, receiver: str, line: str
) -> None:
    text = errors_of(write_alerting(tmp_path, f"direct_receivers:\n  ops:\n    {receiver}"))
    assert line in text


def test_watchdog_is_not_sent_to_a_direct_receiver(tmp_path: Path) -> None:
    text = errors_of(
        write_alerting(
            tmp_path, f"direct_receivers:\n  ops:\n    {SLACK}    alerts: [ArbWatchdog]\n"
        )
    )
    assert "the always-firing ArbWatchdog goes only to the orchestrator" in text


@pytest.mark.parametrize("name", ["orchestrator", "default", "Ops", "1st"])
def test_a_receiver_name_that_would_clash_or_break_is_refused(tmp_path: Path, name: str) -> None:
    text = errors_of(write_alerting(tmp_path, f"direct_receivers:\n  {name}:\n    {SLACK}"))
    assert f"receiver name '{name}' is not allowed" in text


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("direct_receivers.ops.url", "https://hooks.example.org/v2/Ab3dEfGh1JkLmNoPqRsT"),
        ("direct_receivers.ops.url", "https://arb:hunter2pw@hooks.example.org/x"),
        ("default_webhook_url", "https://hooks.example.org/x?token=hunter2pw"),
    ],
)
def test_a_webhook_url_carrying_a_secret_is_refused_and_not_echoed(
    tmp_path: Path, key: str, url: str
) -> None:
    if key.startswith("direct"):
        text = f"direct_receivers:\n  ops:\n    type: webhook\n    url: {url}\n"
    else:
        text = f"default_webhook_url: {url}\n"
    errors = errors_of(write_alerting(tmp_path, text))
    assert f"alerting.{key}" in errors
    assert "put the secret in credentials_file (Bearer) or username + password_file" in errors
    for secret in ("Ab3dEfGh1JkLmNoPqRsT", "hunter2pw"):
        assert secret not in errors


def test_critical_tags_cannot_be_empty_and_tags_are_words(tmp_path: Path) -> None:
    text = errors_of(
        write_alerting(tmp_path, "notify_critical_tags: []\nnotify_warning_tags: [a b]\n")
    )
    assert "alerting.notify_critical_tags = []: critical alerts and pause/resume notices" in text
    assert 'alerting.notify_warning_tags.0 = "a b": expected a channel tag' in text


def test_absent_for_must_cover_several_scrapes(tmp_path: Path) -> None:
    text = errors_of(write_alerting(tmp_path, "scrape_interval_s: 2\nabsent_for_s: 5\n"))
    assert (
        "alerting.absent_for_s = 5: must be at least 3 x alerting.scrape_interval_s (6 s)" in text
    )


def test_the_notify_urls_file_path_is_not_hashed_and_its_content_never_shown(
    tmp_path: Path, invoke: Invoke
) -> None:
    secrets = tmp_path / "notify_urls"
    secrets.write_text(f"phone=tgram://{FAKE_TOKEN}/12345\n")
    config_dir = write_alerting(tmp_path, f"notify_urls_file: {secrets}\n")
    with_file = load_config(config_dir, {}, ())
    assert with_file.config.alerting.notify_urls_file == str(secrets)
    assert with_file.hash == config_hash(ArbqosConfig())
    for args in (["config", "show"], ["config", "show", "--json"], ["config", "validate"]):
        result = invoke([*args, "--config-dir", str(config_dir)])
        assert result.exit_code == 0, result.output
        assert FAKE_TOKEN not in result.output
    shown = json.loads(invoke(["config", "show", "--json", "--config-dir", str(config_dir)]).stdout)
    assert shown["config"]["alerting"]["notify_urls_file"] == str(secrets)
    render = invoke(["render", "--config-dir", str(config_dir), "--root", str(tmp_path / "root")])
    assert render.exit_code == 0, render.output
    for path in (tmp_path / "root").rglob("*"):
        if path.is_file():
            assert FAKE_TOKEN not in path.read_text() and str(secrets) not in path.read_text()


def test_the_environment_variable_wins_over_the_key(tmp_path: Path) -> None:
    cfg = ArbqosConfig(alerting=AlertingConfig(notify_urls_file="/etc/arbqos/notify_urls"))
    assert notify_urls_source(cfg, {}).path == Path("/etc/arbqos/notify_urls")
    chosen = notify_urls_source(cfg, {NOTIFY_URLS_ENV: str(tmp_path / "n")})
    assert (chosen.path, chosen.origin) == (tmp_path / "n", f"env:{NOTIFY_URLS_ENV}")
    assert notify_urls_source(ArbqosConfig(), {}).path is None


def test_validate_warns_on_stderr_about_what_reaches_nobody(tmp_path: Path, invoke: Invoke) -> None:
    config_dir = write_alerting(tmp_path, "notify_warning_tags: []\n")
    result = invoke(["config", "validate", "--config-dir", str(config_dir)])
    assert result.exit_code == 0
    assert result.stdout.startswith("ok ")
    assert "no notification channel: alerting.notify_urls_file and ARBQOS_NOTIFY_URLS_FILE" in (
        result.stderr
    )
    assert "alerting.notify_warning_tags is empty, so warning alerts" in result.stderr
    assert "alerting.direct_receivers is empty, so ArbOrchestratorDown reaches no person" in (
        result.stderr
    )
    assert "warning:" not in result.stdout


def test_missing_or_empty_notify_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "absent_urls"
    empty = tmp_path / "empty_urls"
    empty.write_text("# nothing yet\n\n")
    cfg = ArbqosConfig(alerting=AlertingConfig(notify_urls_file=str(missing)))
    (first, *_) = delivery_warnings(cfg, {})
    assert f"notify URLs file {missing} (from alerting.notify_urls_file) cannot be read" in first
    (first, *_) = delivery_warnings(cfg, {NOTIFY_URLS_ENV: str(empty)})
    assert f"notify URLs file {empty} (from env:{NOTIFY_URLS_ENV}) holds no channel URL" in first


def test_no_warning_when_every_path_has_a_channel(tmp_path: Path) -> None:
    urls = tmp_path / "urls"
    urls.write_text(f"# phone\nphone=tgram://{FAKE_TOKEN}/1\nops=slack://a/b/c\n")
    cfg = ArbqosConfig(
        alerting=AlertingConfig.model_validate(
            {
                "notify_urls_file": str(urls),
                "notify_warning_tags": ["ops"],
                "direct_receivers": {"ops": {"type": "slack", "api_url_file": "/run/s"}},
            }
        )
    )
    assert delivery_warnings(cfg, {}) == []


def test_a_channel_url_in_place_of_the_notify_file_is_refused_without_echo(
    tmp_path: Path,
) -> None:
    url = "discord://1234567890/Ab3dEfGh1JkLmNoPqRsTuVwXyZ0123"
    text = errors_of(write_alerting(tmp_path, f"notify_urls_file: {url}\n"))
    assert "alerting.notify_urls_file" in text
    assert "expected the path of a file that holds the channel URLs, not a URL" in text
    assert "Ab3dEfGh1JkLmNoPqRsTuVwXyZ0123" not in text
