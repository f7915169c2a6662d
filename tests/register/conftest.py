"""Register tests: an empty register (the seeded reference data kept) on each engine."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar


@pytest.fixture
async def engine(app: Litestar, client: httpx.AsyncClient) -> Any:
    return app.state.engine
