"""A notification channel's secret never shows: not in the config hash, `config show`, rendered
files, the orchestrator's logs, status, metrics or journal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from arbqos.cli import main
from arbqos_harness.process import free_port
from tests.conftest import REPO_ROOT

SECRET = "987654321:AAE-FAKE-BOT-TOKEN-zz"


def run(*args: str, env: dict[str, str]) -> str:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_notify_urls_never_reach_the_hash_show_or_rendered_files(tmp_path: Path) -> None:
    urls = tmp_path / "notify_urls"
    urls.write_text(f"ops=tgram://{SECRET}/12345\n")
    urls.chmod(0o600)
    config = str(REPO_ROOT / "config")
    plain = run("config", "hash", "--config-dir", config, env={})
    with_file = {"ARBQOS_NOTIFY_URLS_FILE": str(urls)}
    assert run("config", "hash", "--config-dir", config, env=with_file) == plain
    shown = run("config", "show", "--json", "--config-dir", config, env=with_file)
    validated = CliRunner().invoke(
        main, ["config", "validate", "--config-dir", config], env=with_file
    )
    root = tmp_path / "root"
    run("render", "--config-dir", config, "--root", str(root), env=with_file)
    rendered = "".join(p.read_text() for p in root.rglob("*") if p.is_file())
    for text in (plain, shown, validated.output, rendered):
        assert SECRET not in text
        assert "AAE-FAKE" not in text


@pytest.mark.slow
def test_the_orchestrator_loads_channels_without_printing_them(tmp_path: Path) -> None:
    urls = tmp_path / "notify_urls"
    urls.write_text(f"ops=tgram://{SECRET}/12345\nbogus line without a url\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBQOS")}
    env.update(ARBQOS_ADMIN_TOKEN="a" * 40, ARBQOS_NOTIFY_URLS_FILE=str(urls))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "arbqos",
            "orchestrator",
            "--config-dir",
            str(REPO_ROOT / "config"),
            "--port",
            str(free_port()),
            "--state-dir",
            str(tmp_path / "state"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert str(urls) in done.stderr
    assert SECRET not in done.stdout + done.stderr
