"""Rule packs: judged by the date of each activity, never edited, only superseded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from registry.audit.service import search as audit_search
from registry.core import clock
from registry.cpd import packs, progress
from registry.cpd.schemas import RulePackIn
from registry.errors import Conflict, InvalidInput
from tests.cpd.helpers import CALENDAR, log, practitioner_with_record


def pack_in(**changes: Any) -> RulePackIn:
    values: dict[str, Any] = {
        "name": "Reading capped",
        "effective_from": date(2027, 3, 16),
        "min_total_hours": "35",
        "min_participatory_hours": "10",
        "min_reflective_accounts": 2,
        "min_peer_reflections": 1,
        "min_practice_areas": 3,
        "capped_type": "reading_research",
        "cap_hours": "5",
        **changes,
    }
    return RulePackIn.model_validate(values)


async def test_the_default_pack_is_the_design_s(engine: Any) -> None:
    pack = await packs.pack_on(date(2027, 3, 15))
    assert (
        pack.min_total_quarters,
        pack.min_participatory_quarters,
        pack.min_reflective_accounts,
        pack.min_peer_reflections,
        pack.min_practice_areas,
        pack.capped_type,
    ) == (120, 40, 2, 1, 3, None)


async def test_a_pack_starts_only_after_today_and_after_every_other(engine: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        await packs.create_pack(pack_in(effective_from=date(2027, 3, 15)), by_user_id=None)
    assert refused.value.field == "effective_from"
    made = await packs.create_pack(pack_in(), by_user_id=None)
    assert made.cap_quarters == 20
    with pytest.raises(Conflict):
        await packs.create_pack(pack_in(effective_from=date(2027, 3, 16)), by_user_id=None)
    trail = await audit_search(action="cpd.rule_pack_created")
    assert len(trail.entries) == 1


def test_a_pack_s_rules_are_checked() -> None:
    for changes, words in (
        ({"min_participatory_hours": "40"}, "cannot be more than minimum total hours"),
        ({"cap_hours": ""}, "Enter the most hours"),
        ({"capped_type": None}, "Choose the activity type the cap is for"),
        ({"min_total_hours": "12.3"}, "quarter hours"),
        ({"min_total_hours": "nan"}, "must be a number"),
    ):
        with pytest.raises(ValueError, match=words):
            pack_in(**changes)


@pytest.fixture
def advance() -> Iterator[Any]:
    with clock.frozen_at(datetime(2027, 3, 15, 12, tzinfo=UTC)) as move:
        yield move


async def test_each_activity_is_judged_under_the_pack_of_its_date(
    engine: Any, advance: Any
) -> None:
    from datetime import timedelta

    person = await practitioner_with_record()
    await log(person, done_on=date(2027, 3, 1), hours=Decimal(8), activity_type="reading_research")
    new = await packs.create_pack(pack_in(), by_user_id=None)
    advance(timedelta(days=30))  # 14 April 2027: the new pack is in force
    later = await log(
        person, done_on=date(2027, 4, 1), hours=Decimal(8), activity_type="reading_research"
    )
    assert later.rule_pack == new.id
    year = (await progress.progress(person.account.id, CALENDAR))[0]
    total = year.rules[0]
    # Before the change reading counted in full (8); after it, at most 5 of the 8.
    assert total.summary == "13 / 35 hours"
    assert year.pack.id == new.id
    assert year.logged_quarters == 64
