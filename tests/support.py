"""Helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from registry.config import Settings

POSTGRES_URL = os.environ.get("REGISTRY_TEST_POSTGRES_URL", "")
ENGINES = ["sqlite", "postgres"]
TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-to-use"


def make_settings(engine_name: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test on ``engine_name``; skips PostgreSQL when it is not configured."""
    if engine_name == "postgres":
        if not POSTGRES_URL:
            pytest.skip("REGISTRY_TEST_POSTGRES_URL is not set, so the PostgreSQL run is skipped")
        database_url = POSTGRES_URL
    else:
        database_url = f"sqlite:///{data_dir / 'registry.sqlite3'}"
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "environment": "test",
        "base_url": "http://testserver.local",
        "secret_key": TEST_SECRET_KEY,
        **overrides,
    }
    return Settings(**values)


async def registry_command(settings: Settings, *args: str) -> tuple[int, str]:
    """Run the installed ``registry`` command against the test's database: (status, stdout)."""
    environment = {
        **os.environ,
        "REGISTRY_DATABASE_URL": settings.resolved_database_url,
        "REGISTRY_DATA_DIR": str(settings.data_dir),
        "REGISTRY_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRY_ENVIRONMENT": "test",
    }
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("registry")),
        *args,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode is not None, stderr
    return process.returncode, stdout.decode()
