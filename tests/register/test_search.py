"""The public register's search: by name (case, accents and punctuation ignored, the start of
each word enough) or by number, filtered by region, role and status, in name order."""

from __future__ import annotations

from typing import Any

import pytest

from registry.errors import InvalidInput, NotFound
from registry.register import search as public_register
from registry.register import service
from registry.register.service import EntryMove
from tests.register.helpers import put_on_register


async def test_search_ignores_case_accents_and_needs_only_the_start_of_words(engine: Any) -> None:
    await put_on_register("Zoë", "O'Brien")
    await put_on_register("Joanna", "Smith")
    await put_on_register("John", "Smithson", region="wales")
    await put_on_register("Amy", "Jones")

    async def names(**filters: Any) -> list[str]:
        return [entry.name for entry in (await public_register.search(**filters)).entries]

    assert await names(query="zoe obrien") == ["Zoë O'Brien"]
    assert await names(query="ZOË") == ["Zoë O'Brien"]
    assert await names(query="smi jo") == ["Joanna Smith", "John Smithson"]
    assert await names(query="smith", region="wales") == ["John Smithson"]
    assert await names(query="nobody") == []
    assert await names() == ["Amy Jones", "Zoë O'Brien", "Joanna Smith", "John Smithson"]


async def test_every_word_of_a_search_must_start_a_word_of_the_name(engine: Any) -> None:
    # Terms of every length: one or two letters (the full-text index), three or four (a name
    # key plus the rest of the term), five and more (the longer key), and mixtures.
    await put_on_register("Wu", "Li")
    await put_on_register("Lionel", "Wuster")
    await put_on_register("Olivia", "Smithers-Wu")
    await put_on_register("Oliver", "Smith")

    async def names(query: str) -> list[str]:
        return [entry.name for entry in (await public_register.search(query=query)).entries]

    assert await names("li") == ["Wu Li", "Lionel Wuster"]
    assert await names("wu") == ["Wu Li", "Olivia Smithers-Wu", "Lionel Wuster"]
    assert await names("wu li") == ["Wu Li", "Lionel Wuster"]
    assert await names("oliv") == ["Oliver Smith", "Olivia Smithers-Wu"]
    assert await names("olivi") == ["Olivia Smithers-Wu"]
    assert await names("smith oliver") == ["Oliver Smith"]
    assert await names("smithers wu") == ["Olivia Smithers-Wu"]
    assert await names("smithz") == []
    assert await names("smi olivia li") == []


async def test_past_the_count_limit_a_search_says_more(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(public_register, "COUNT_LIMIT", 3)
    for given in ("Ann", "Bea", "Cat", "Dee", "Eve"):
        await put_on_register(given, "Smith")
    await put_on_register("Fay", "Jones")

    many = await public_register.search(query="smith", page_size=2)
    assert (many.total, many.more, many.last_page) == (3, True, 2)
    assert [e.name for e in many.entries] == ["Ann Smith", "Bea Smith"]
    last = await public_register.search(query="smith", page=2, page_size=2)
    assert [e.name for e in last.entries] == ["Cat Smith", "Dee Smith"]
    with pytest.raises(NotFound, match="There is no page 3 of these results"):
        await public_register.search(query="smith", page=3, page_size=2)
    few = await public_register.search(query="jones")
    assert (few.total, few.more) == (1, False)
    assert (await public_register.search()).more


async def test_search_by_number_and_by_status_and_role(engine: Any) -> None:
    jane = await put_on_register("Jane", "Doe", roles=("senior_probation_officer",))
    other = await put_on_register("Rob", "Roe")
    await service.move_entry(other.id, EntryMove.lapse, reason="Not renewed")

    found = await public_register.search(query=jane.registration_number.lower())
    assert [e.registration_number for e in found.entries] == [jane.registration_number]
    assert (await public_register.search(status="lapsed")).entries[0].name == "Rob Roe"
    assert (await public_register.search(role="senior_probation_officer")).total == 1
    with pytest.raises(InvalidInput, match="last character"):
        await public_register.search(query="PR1234564")
    with pytest.raises(InvalidInput, match="not a status"):
        await public_register.search(status="struck_off")


async def test_search_pages_in_name_order(engine: Any) -> None:
    for letter in "EDCBA":
        await put_on_register("Sam", f"{letter}ardy")
    first = await public_register.search(page_size=2)
    second = await public_register.search(page=2, page_size=2)
    assert first.total == 5
    assert [e.family_name for e in first.entries + second.entries] == [
        "Aardy",
        "Bardy",
        "Cardy",
        "Dardy",
    ]


async def test_a_page_past_the_last_within_the_count_limit_is_not_found(engine: Any) -> None:
    # On PostgreSQL the count and the page are one statement: an empty page still counts.
    await put_on_register("Fay", "Jones")
    assert [e.name for e in (await public_register.search(query="jones")).entries] == ["Fay Jones"]
    with pytest.raises(NotFound, match="There is no page 2 of these results: they end at page 1"):
        await public_register.search(query="jones", page=2)
    nobody = await public_register.search(query="smithz")
    assert (nobody.entries, nobody.total, nobody.last_page) == ([], 0, 1)
