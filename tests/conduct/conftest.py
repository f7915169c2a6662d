"""Every fitness to practise test runs at a fixed time, which a test may move on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from registry.core import clock
from tests.conduct.helpers import TODAY


@pytest.fixture(autouse=True)
def advance() -> Iterator[Callable[[timedelta], None]]:
    with clock.frozen_at(TODAY) as move_on:
        yield move_on
