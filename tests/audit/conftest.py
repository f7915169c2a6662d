"""The audit trail's tests start from an empty, migrated database on each engine."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar


@pytest.fixture
async def engine(app: Litestar, client: httpx.AsyncClient) -> Any:
    """The started engine, bound to every table, with no rows in any of them."""
    return app.state.engine
