"""Production settings pass Django's deployment checks; bad config fails loudly."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# Variables of the test process that a production environment would not have
# (the browser fixture sets DJANGO_ALLOW_ASYNC_UNSAFE while Chromium is open).
NOT_INHERITED = {
    "DJANGO_SETTINGS_MODULE",
    "DEBUG",
    "SECRET_KEY",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def manage(args: list[str], tmp_path, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    base.update(VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_no_warnings_in_production(tmp_path):
    result = manage(
        ["check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_secret_key_refuses_to_start(tmp_path):
    result = manage(["check"], tmp_path, DEBUG="0", ALLOWED_HOSTS="example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_malformed_boolean_is_reported_by_name(tmp_path):
    result = manage(["check"], tmp_path, DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_env_example_lists_every_variable_settings_reads():
    import re

    read = set(
        re.findall(
            r'env_\w+\(\s*"([A-Z_]+)"', (ROOT / "webapp/settings.py").read_text()
        )
    )
    listed = set(
        re.findall(r"^#?([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M)
    )
    assert read - listed == set(), "add these to .env.example"
    assert listed - read == set(), "settings.py no longer reads these"
