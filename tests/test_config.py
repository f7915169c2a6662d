"""Settings: bad values stop start-up with one line naming the variable; the secret key is kept."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from registry.config import SettingsError, ensure_secret_key, load_settings, redact_url
from tests.support import make_settings


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REGISTRY_DATABASE_URL", "mysql://root@localhost/registry"),
        ("REGISTRY_BASE_URL", "not a url"),
        ("REGISTRY_SMTP_URL", "http://mail.example"),
        ("REGISTRY_SECRET_KEY", "too-short"),
        ("REGISTRY_DB_POOL_SIZE", "0"),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert raised.value.variable == variable


def test_the_command_stops_with_exit_status_2_and_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "REGISTRY_DATA_DIR": str(tmp_path), "REGISTRY_DATABASE_URL": "oracle://x"}
    result = subprocess.run(
        [sys.executable, "-m", "registry.cli", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "REGISTRY_DATABASE_URL" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "registry.sqlite3").exists()


def test_the_default_database_is_an_sqlite_file_in_the_data_directory(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.sqlite_path == tmp_path / "registry.sqlite3"
    assert not settings.is_postgres


def test_a_missing_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = ensure_secret_key(load_settings(data_dir=tmp_path))
    second = ensure_secret_key(load_settings(data_dir=tmp_path))
    key_file = tmp_path / "secret_key"
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_configured_secret_key_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    key = "k" * 40
    settings = ensure_secret_key(load_settings(data_dir=tmp_path, secret_key=key))
    assert settings.secret_key == key
    assert not (tmp_path / "secret_key").exists()


def test_passwords_in_urls_are_never_printed() -> None:
    assert (
        redact_url("postgresql://app:hunter2@db:5432/registry")
        == "postgresql://app:***@db:5432/registry"
    )
    assert redact_url("sqlite:///var/registry.sqlite3") == "sqlite:///var/registry.sqlite3"


def test_a_copy_with_other_proxies_trusts_those_proxies(tmp_path: Path) -> None:
    original = make_settings("sqlite", tmp_path, trusted_proxies="10.0.0.0/8")
    assert [str(net) for net in original.trusted_networks] == ["10.0.0.0/8"]
    copy = original.model_copy(update={"trusted_proxies": "127.0.0.1/32"})
    assert [str(net) for net in copy.trusted_networks] == ["127.0.0.1/32"]
