"""Outbox tests: an empty database on each engine, and real receivers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.notifications.receivers import Mailbox, WebhookReceiver, smtp_server, webhook_receiver

POSTGRES_ONLY = "postgres_only"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{POSTGRES_ONLY}: a test of PostgreSQL's behaviour alone; it is not collected for SQLite",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the SQLite half of a PostgreSQL-only test: not skipped (CI fails every skip), but
    never made, as a test that could not fail would be a lie. Without PostgreSQL configured the
    other half is skipped by ``make_settings``, as every PostgreSQL test is."""
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        engine_name = callspec.params.get("engine_name") if callspec is not None else None
        if item.get_closest_marker(POSTGRES_ONLY) is not None and engine_name != "postgres":
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture
async def engine(app: Litestar, client: httpx.AsyncClient) -> Any:
    return app.state.engine


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, str]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as running:
        yield running
