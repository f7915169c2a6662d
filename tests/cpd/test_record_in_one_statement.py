"""Logging an activity: on PostgreSQL the owner's read and the write are one statement when
every check holds in SQL, and any other case is refused, or written, exactly as before.

The reference for "as before" is ``record_for``, which reads and checks step by step (the
demo seeder's path): every refusal of ``record`` is the one it gives, and stores nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from registry.accounts.roles import Role
from registry.audit.service import search as audit_search
from registry.audit.service import verify_chain
from registry.audit.tables import AuditEntry
from registry.core import clock, reference
from registry.cpd import activities, packs
from registry.cpd.reference import PRACTICE_AREAS
from registry.cpd.tables import Activity
from registry.errors import Conflict, InvalidInput, RegistryError
from tests.accounts.helpers import user_signed_in_as
from tests.cpd.helpers import (
    CALENDAR,
    activity,
    api_body,
    declare_the_year,
    log,
    practitioner_with_record,
)
from tests.cpd.test_packs import pack_in
from tests.employers.helpers import counting_statements

ACTIVITIES = "/api/v1/me/cpd/activities"


async def _stored() -> tuple[int, int]:
    return await Activity.count(), await AuditEntry.count()


async def _entry_of(record: activities.ActivityRecord) -> Any:
    [entry] = (await audit_search(target_type="cpd_activity", target_id=record.id)).entries
    return entry


async def _as_written(person: Any, record: activities.ActivityRecord) -> None:
    """``record`` is what was stored (read back), its entry names it, its pack and its items,
    and the chain verifies (on PostgreSQL the entry is hashed in the database)."""
    assert await activities.get(person.account.id, record.id, CALENDAR) == record
    entry = await _entry_of(record)
    assert entry.action == "cpd.activity_recorded"
    assert entry.changes["after"]["rule_pack"] == str(record.rule_pack)
    assert entry.changes["after"]["title"] == record.title
    assert entry.changes["after"]["practice_areas"] == sorted(a.code for a in record.practice_areas)
    report = await verify_chain()  # every entry's hash recomputed from what is stored
    assert report.ok, report


@pytest.mark.postgres_only
async def test_the_common_write_is_one_statement_two_through_the_api(
    client: httpx.AsyncClient,
) -> None:
    person = await practitioner_with_record()
    headers = {**person.bearer(), "content-type": "application/json"}
    warm = await client.post(ACTIVITIES, json=api_body(), headers=headers)  # prepared
    assert warm.status_code == 201, warm.text
    with counting_statements() as sent:
        response = await client.post(ACTIVITIES, json=api_body(title="Counted"), headers=headers)
    assert response.status_code == 201, response.text
    assert len(sent) == 2, sent  # the bearer token's read, and the write
    with counting_statements() as sent:
        logged = await log(
            person,
            practice_areas=["ethics", "victims"],
            standards=["written_profile", "quality_of_practice"],
        )
    assert len(sent) == 1, sent
    await _as_written(person, logged)
    answered = await activities.get(person.account.id, response.json()["id"], CALENDAR)
    await _as_written(person, answered)


async def test_every_refusal_is_as_before_and_stores_nothing(engine: Any) -> None:
    person = await practitioner_with_record()  # on the register from 1 April 2020
    owner = await activities.owner_of(person.account.id)
    await log(person)
    retired = await reference.get_item(PRACTICE_AREAS, "victims")
    await reference.update_item(PRACTICE_AREAS, "victims", name=retired.name, active=False)
    try:
        for changes, field in (
            ({"practice_areas": ["ethics", "no_such_area"]}, "practice_areas"),
            ({"standards": ["no_such_standard"]}, "standards"),
            ({"practice_areas": ["ethics", "victims"]}, "practice_areas"),  # retired
            ({"done_on": date(2020, 3, 31)}, "done_on"),  # the day before joining
            ({"done_on": date(2027, 3, 16)}, "done_on"),  # tomorrow
            ({"done_on": date(2020, 3, 31), "practice_areas": ["victims"]}, "done_on"),
        ):
            before = await _stored()
            with pytest.raises(RegistryError) as reference_path:
                await activities.record_for(owner, activity(**changes), CALENDAR)
            with counting_statements() as sent, pytest.raises(RegistryError) as refused:
                await log(person, **changes)
            assert type(refused.value) is type(reference_path.value) is InvalidInput
            assert str(refused.value) == str(reference_path.value), changes
            assert refused.value.field == field
            assert await _stored() == before, changes
            if engine.engine_type == "postgres":
                assert len(sent) == 1, sent  # refused on what the one statement read
    finally:
        await reference.update_item(PRACTICE_AREAS, "victims", name=retired.name, active=True)
    stranger = await user_signed_in_as(Role.practitioner, "stranger@example.org")
    with pytest.raises(Conflict, match=activities.NO_RECORD_YET):
        await log(stranger)
    assert await Activity.count() == 1


async def test_a_declared_year_takes_a_reason_kept_in_the_audit(engine: Any) -> None:
    person = await practitioner_with_record()
    with clock.frozen_at(datetime(2027, 9, 10, 9, tzinfo=UTC)):
        owner = await declare_the_year(person)
        before = await _stored()
        late = {"done_on": date(2027, 9, 1)}
        with pytest.raises(InvalidInput) as reference_path:
            await activities.record_for(owner, activity(**late), CALENDAR)
        with pytest.raises(InvalidInput) as refused:
            await log(person, **late, change_reason="   ")
        assert str(refused.value) == str(reference_path.value)
        assert refused.value.field == "change_reason"
        assert await _stored() == before
        with counting_statements() as sent:
            added = await log(person, **late, change_reason="Forgot to log it")
        assert not added.editable
        await _as_written(person, added)
        after = (await _entry_of(added)).changes["after"]
        assert (after["declared_year"], after["change_reason"]) == (True, "Forgot to log it")
        if engine.engine_type == "postgres":
            assert len(sent) == 2, sent  # the statement wrote nothing: the year is declared
        # A year not declared is still written in one statement, with no reason kept.
        with counting_statements() as sent:
            earlier = await log(person, done_on=date(2026, 11, 30), change_reason="Not asked")
        assert earlier.editable
        assert "change_reason" not in (await _entry_of(earlier)).changes["after"]
        await _as_written(person, earlier)
        if engine.engine_type == "postgres":
            assert len(sent) == 1, sent


async def test_a_write_under_a_pack_change_takes_the_pack_of_its_date(engine: Any) -> None:
    person = await practitioner_with_record()
    old = await packs.pack_on(date(2027, 3, 15))
    new = await packs.create_pack(pack_in(effective_from=date(2027, 4, 1)), by_user_id=None)
    with clock.frozen_at(datetime(2027, 4, 14, 12, tzinfo=UTC)):
        for done_on, pack in (
            (date(2027, 3, 31), old),
            (date(2027, 4, 1), new),
            (date(2027, 4, 14), new),
        ):
            with counting_statements() as sent:
                logged = await log(person, done_on=done_on)
            assert logged.rule_pack == pack.id, done_on
            await _as_written(person, logged)
            if engine.engine_type == "postgres":
                assert len(sent) == 1, sent


async def test_the_pack_s_mark_typed_in_is_kept_as_typed(engine: Any) -> None:
    # The entry is hashed before the pack is read, with a mark where its id goes: typed in
    # (title, role), nothing is guessed, and the write is as for any case not simple.
    person = await practitioner_with_record()
    for changes in (
        {"title": f"On {activities.PACK_MARK}"},
        {"peer_role": activities.PACK_MARK, "peer_reflection": True},
    ):
        with counting_statements() as sent:
            logged = await log(person, **changes)
        assert logged.title == changes.get("title", logged.title)
        assert logged.peer_role == changes.get("peer_role", "")
        await _as_written(person, logged)
        after = (await _entry_of(logged)).changes["after"]
        assert after["peer_role"] == logged.peer_role
        if engine.engine_type == "postgres":
            assert len(sent) == 2, sent


async def test_the_one_statement_leaves_the_day_to_the_clock(engine: Any) -> None:
    # Today's activity is written; tomorrow's, refused (the statement is told the clock's day).
    person = await practitioner_with_record()
    with clock.frozen_at(datetime(2027, 3, 15, 23, 59, tzinfo=UTC)) as move:
        logged = await log(person, done_on=date(2027, 3, 15))
        await _as_written(person, logged)
        with pytest.raises(InvalidInput, match="today or in the past"):
            await log(person, done_on=date(2027, 3, 16))
        move(timedelta(minutes=2))
        await _as_written(person, await log(person, done_on=date(2027, 3, 16)))
    assert await Activity.count() == 2
