"""Shared fixtures: every database test runs on SQLite and, when configured, on PostgreSQL.

``REGISTRY_TEST_POSTGRES_URL`` names an empty PostgreSQL database the suite may own; without it
the PostgreSQL half of each test is skipped with that reason. CI sets ``REGISTRY_FORBID_SKIPS=1``,
which turns any skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import hypothesis
import pytest
from hypothesis.configuration import set_hypothesis_home_dir
from litestar import Litestar
from piccolo.table import sort_table_classes

from registry.app import create_app
from registry.conduct.tables import CONDUCT_SEEDED_TABLES
from registry.config import Settings
from registry.core.domain import active_domains, configure_domains
from registry.cpd.tables import CPD_SEEDED_TABLES
from registry.db import bind_engine, create_engine, migrate, registry_tables
from registry.register.tables import SEEDED_TABLES
from tests.support import (
    CONFIGURED_POSTGRES_URL,
    ENGINES,
    POSTGRES_URL,
    asgi_transport,
    make_settings,
)

# Property tests are the same every run (CI reproduces any failure), and Hypothesis keeps
# nothing in the repository: no example database, and its caches in the system's temporary folder.
hypothesis.settings.register_profile(
    "registry", derandomize=True, database=None, deadline=None, print_blob=False
)
hypothesis.settings.load_profile("registry")
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "registry-hypothesis")


@pytest.fixture(scope="session", params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def settings(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(engine_name, tmp_path_factory.mktemp(f"data-{engine_name}"))


@pytest.fixture(scope="session")
async def migrated(settings: Settings) -> Settings:
    """The database of ``settings`` with every migration applied, once per engine and session."""
    engine = create_engine(settings)
    await engine.start()
    try:
        await _drop_everything(engine, settings)
        await migrate(engine)
    finally:
        await engine.stop()
    return settings


async def _drop_everything(engine: Any, settings: Settings) -> None:
    # The PostgreSQL database may hold a previous run's tables; start from nothing.
    if settings.is_postgres:
        await engine.run_ddl("DROP SCHEMA public CASCADE")
        await engine.run_ddl("CREATE SCHEMA public")


@pytest.fixture(scope="session")
async def app(migrated: Settings) -> AsyncIterator[Litestar]:
    """The application with its engine started in the tests' own event loop.

    Litestar's test client would run the lifespan in a portal thread with a loop of its own, and
    an asyncpg pool must not be shared between loops; so the engine is started here instead.
    """
    application = create_app(migrated)
    engine = application.state.engine
    await engine.start()
    yield application
    await engine.stop()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the app; its database has every migration applied and no rows."""
    bind_engine(app.state.engine)
    # Another test may have started an application or a command of its own since (the domains'
    # settings are the process's last); this one's are in force again.
    configure_domains(app.state.settings, active_domains())
    await empty_tables()
    transport = asgi_transport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def empty_tables() -> None:
    for table in reversed(sort_table_classes(registry_tables())):
        if table not in (*SEEDED_TABLES, *CPD_SEEDED_TABLES, *CONDUCT_SEEDED_TABLES):
            await table.delete(force=True)


@pytest.fixture
async def engine(app: Litestar, client: httpx.AsyncClient) -> Any:
    """The started engine, bound to every table, with no rows in any of them but the seeded
    reference data."""
    return app.state.engine


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_registry_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests say what they configure; the developer's own REGISTRY_* variables must not leak in."""
    for name in list(os.environ):
        if name.startswith("REGISTRY_") and not name.startswith(
            ("REGISTRY_TEST_", "REGISTRY_REQUIRE_", "REGISTRY_FORBID_")
        ):
            monkeypatch.delenv(name)


POSTGRES_ONLY = "postgres_only"
SQLITE_ONLY = "sqlite_only"
BROWSER = "browser"
BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


DROP_WORKER_DATABASE = "DROP DATABASE IF EXISTS {} WITH (FORCE)"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{POSTGRES_ONLY}: a test of PostgreSQL's behaviour alone; it is not collected for SQLite",
    )
    config.addinivalue_line(
        "markers",
        f"{SQLITE_ONLY}: a test of SQLite's behaviour alone; it is not collected for PostgreSQL",
    )
    if POSTGRES_URL != CONFIGURED_POSTGRES_URL:
        asyncio.run(_worker_database(DROP_WORKER_DATABASE, "CREATE DATABASE {}"))


def pytest_unconfigure(config: pytest.Config) -> None:
    if POSTGRES_URL != CONFIGURED_POSTGRES_URL:
        asyncio.run(_worker_database(DROP_WORKER_DATABASE))


async def _worker_database(*statements: str) -> None:
    """Make or drop this xdist worker's own database, from the configured one."""
    name = POSTGRES_URL.rpartition("/")[2]
    connection = await asyncpg.connect(CONFIGURED_POSTGRES_URL)
    try:
        for statement in statements:
            await connection.execute(statement.format(f'"{name}"'))
    finally:
        await connection.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/browser ``browser`` (so ``-m "not browser"`` leaves them out),
    and drop the SQLite half of a PostgreSQL-only test (and the PostgreSQL half of a SQLite-only
    one): not skipped (CI fails every skip), but never made, as a test that could not fail
    would be a lie. Without PostgreSQL configured the
    other half is skipped by ``make_settings``, as every PostgreSQL test is."""
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        if BROWSER_TESTS in Path(str(item.path)).parents:
            item.add_marker(BROWSER)
        callspec = getattr(item, "callspec", None)
        engine_name = callspec.params.get("engine_name") if callspec is not None else None
        marked = item.get_closest_marker(POSTGRES_ONLY) or item.get_closest_marker(SQLITE_ONLY)
        if marked is not None and engine_name is None:
            # Neither half would be made: the test would silently never run.
            raise pytest.UsageError(
                f"{item.nodeid} is marked {marked.name} but takes no engine fixture (client, "
                "engine, app or engine_name): it would never run"
            )
        if (item.get_closest_marker(POSTGRES_ONLY) is not None and engine_name != "postgres") or (
            item.get_closest_marker(SQLITE_ONLY) is not None and engine_name != "sqlite"
        ):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if os.environ.get("REGISTRY_FORBID_SKIPS") == "1" and skipped:
        terminalreporter.write_line(
            f"REGISTRY_FORBID_SKIPS=1 and {len(skipped)} test(s) skipped: failing the run.",
            red=True,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("REGISTRY_FORBID_SKIPS") == "1" and skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
