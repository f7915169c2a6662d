"""Helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar

from registry.app import create_app
from registry.config import Settings
from registry.core.domain import Domain
from registry.db import bind_engine
from registry.domains import DOMAINS


def _database_of_this_worker(url: str) -> str:
    """Under pytest-xdist each worker owns a database of its own, named after the configured one
    (``registry_ci`` → ``registry_ci_gw0``), so parallel workers never empty each other's tables;
    ``tests/conftest.py`` creates it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker:
        return url
    base, _, database = url.rpartition("/")
    return f"{base}/{database}_{worker}"


CONFIGURED_POSTGRES_URL = os.environ.get("REGISTRY_TEST_POSTGRES_URL", "")
POSTGRES_URL = _database_of_this_worker(CONFIGURED_POSTGRES_URL)
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


BASE_URL = "http://testserver.local"


def asgi_transport(app: Litestar) -> httpx.ASGITransport:
    """httpx's transport straight into the application, with no server between."""
    # Litestar's __call__ takes its own narrower scope types than httpx's ASGI callable.
    return httpx.ASGITransport(app=cast(Any, app))


@contextlib.asynccontextmanager
async def client_with_domains(
    app: Litestar, settings: Settings, *extra: Domain
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the service with ``extra`` domains added to the list, on the session's
    started engine (the new application's own is never started)."""
    served = create_app(settings, domains=(*DOMAINS, *extra))
    bind_engine(app.state.engine)
    async with httpx.AsyncClient(transport=asgi_transport(served), base_url=BASE_URL) as http:
        yield http


def free_port() -> int:
    """A loopback port nothing is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def registry_executable() -> str:
    """The ``registry`` command installed beside the running Python."""
    return str(Path(sys.executable).with_name("registry"))


def registry_env(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment that points the ``registry`` command at the test's database."""
    return {
        **os.environ,
        "REGISTRY_DATABASE_URL": settings.resolved_database_url,
        "REGISTRY_DATA_DIR": str(settings.data_dir),
        "REGISTRY_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRY_ENVIRONMENT": "test",
        **(extra or {}),
    }


async def registry_command(
    settings: Settings,
    *args: str,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    with_stderr: bool = False,
) -> tuple[int, str]:
    """Run the installed ``registry`` command against the test's database: (status, stdout).

    ``env`` adds or overrides variables, such as ``REGISTRY_SMTP_URL``. ``input`` is written to
    the command's standard input. With ``with_stderr`` the output is standard output and standard
    error together, as a person at a terminal reads them.
    """
    process = await asyncio.create_subprocess_exec(
        registry_executable(),
        *args,
        env=registry_env(settings, env),
        stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT if with_stderr else asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate(input.encode() if input is not None else None)
    assert process.returncode is not None, stderr
    return process.returncode, stdout.decode()


async def exempt_from_cpd(entry_id: int) -> None:
    """A registrar's granted exemption covering every day of the entry's registration, for tests
    of renewing that are not about CPD: renewing asks for the closing year's CPD met, which a
    whole year exempt meets (every target scaled to nothing)."""
    from datetime import UTC

    from registry.core import clock
    from registry.cpd.tables import Exemption, ExemptionKind, ExemptionState
    from registry.register.tables import RegisterEntry

    row = (
        await RegisterEntry.select(
            RegisterEntry.practitioner,
            RegisterEntry.registered_since,
            RegisterEntry.registered_until,
        )
        .where(RegisterEntry.id == entry_id)
        .first()
    )
    assert row is not None
    now = clock.now().astimezone(UTC)
    await Exemption.insert(
        Exemption(
            practitioner=row["practitioner"],
            kind=ExemptionKind.other.value,
            reason="Not what this test is about",
            starts_on=row["registered_since"],
            ends_on=row["registered_until"],
            state=ExemptionState.granted.value,
            requested_at=now,
            decided_at=now,
        )
    )
