"""Every CPD test runs at a fixed time, and leaves the seeded rule packs as it found them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from registry.core import clock
from registry.cpd.tables import Activity, RulePack
from tests.cpd.helpers import TODAY


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with clock.frozen_at(TODAY):
        yield


@pytest.fixture(autouse=True)
async def _packs_put_back(engine: Any) -> AsyncIterator[None]:
    kept = [row["id"] for row in await RulePack.select(RulePack.id)]
    yield
    await Activity.delete().where(Activity.rule_pack.not_in(kept))
    await RulePack.delete().where(RulePack.id.not_in(kept))
