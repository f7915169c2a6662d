"""Many rows in one statement (registry.core.bulk): every row written, in statements of a few
lengths only, so that the drivers' caches of prepared statements stay small."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from registry.core.bulk import MOST_ROWS, insert_rows, pieces
from registry.db import transaction
from registry.register.tables import Practitioner


@given(st.integers(min_value=0, max_value=5_000), st.integers(min_value=1, max_value=4_000))
def test_pieces_cover_every_row_once_in_powers_of_two(count: int, most: int) -> None:
    found = list(pieces(count, most))
    assert [start for start, _ in found] == [
        sum(length for _, length in found[:number]) for number in range(len(found))
    ]
    assert sum(length for _, length in found) == count
    assert all(length & (length - 1) == 0 and length <= most for _, length in found)
    # A handful of lengths whatever the count: one of each power of two at most, but the
    # largest, repeated while it fits.
    smaller = [length for _, length in found if length < (1 << (most.bit_length() - 1))]
    assert len(smaller) == len(set(smaller))


async def test_rows_of_any_count_are_written_and_answered(client: httpx.AsyncClient) -> None:
    columns = ("given_names", "family_name", "search_name", "date_of_birth", "created_at")
    now = datetime.now(UTC)
    counts = (1, MOST_ROWS - 1, MOST_ROWS + 3, 3 * MOST_ROWS + 77)
    answered: list[dict[str, Any]] = []
    async with transaction():
        for count in counts:
            rows = [
                (f"P{count}-{n}", "Byron", f"p{count}-{n} byron", date(1980, 1, 2), now)
                for n in range(count)
            ]
            answered += await insert_rows(Practitioner, columns, rows, returning=("id",))
    assert len({row["id"] for row in answered}) == sum(counts)
    assert await Practitioner.count() == sum(counts)
