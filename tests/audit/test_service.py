"""The audit trail: who did what to which record, chained so no entry can be quietly altered."""

from __future__ import annotations

import asyncio
import enum
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from piccolo.columns import Column

from registry.audit.canonical import JSONValue, canonical_json, plain, utc_iso
from registry.audit.context import Actor, acting_as
from registry.audit.service import (
    GENESIS_HASH,
    HASHED_FIELDS,
    RecordedEntry,
    changes_between,
    entry_hash,
    hash_pieces,
    is_plain,
    record,
    search,
    verify_chain,
)
from registry.audit.tables import AuditEntry
from registry.errors import InvalidInput

OFFICER = Actor(
    id=7,
    label="Case.Officer@regulator.example",
    client_address="203.0.113.9",
    request_id="req-7f3a9c21",
)


class Status(enum.StrEnum):
    REGISTERED = "registered"
    SUSPENDED = "suspended"


async def record_many(count: int) -> list[RecordedEntry]:
    return [
        await record("register.entry_updated", "registration", number, after={"n": number})
        for number in range(count)
    ]


async def tamper(entry_id: int, values: dict[Column | str, Any]) -> None:
    # What someone with direct database access could do; the service itself has no such path.
    await AuditEntry.update(values).where(AuditEntry._meta.primary_key == entry_id)


async def test_an_entry_records_who_acted_from_where_in_which_request(engine: Any) -> None:
    with acting_as(OFFICER):
        await record(
            "register.status_changed",
            "registration",
            4021,
            before={"status": Status.REGISTERED, "name": "Ada Lovelace"},
            after={"status": Status.SUSPENDED, "name": "Ada Lovelace"},
        )

    [entry] = (await search()).entries
    assert (entry.actor_id, entry.actor_label) == (7, "Case.Officer@regulator.example")
    assert (entry.client_address, entry.request_id) == ("203.0.113.9", "req-7f3a9c21")
    assert (entry.action, entry.target_type, entry.target_id) == (
        "register.status_changed",
        "registration",
        "4021",
    )
    assert entry.changes == {"before": {"status": "registered"}, "after": {"status": "suspended"}}
    assert entry.prev_hash == GENESIS_HASH


async def test_without_an_actor_in_context_the_system_is_recorded(engine: Any) -> None:
    entry = await record("register.lapsed", "registration", "R-000123")
    assert (entry.actor_id, entry.actor_label, entry.request_id) == (None, "system", "")
    assert entry.changes == {"before": {}, "after": {}}


async def test_a_chain_of_fifty_entries_verifies(engine: Any) -> None:
    entries = await record_many(50)

    report = await verify_chain(batch_size=7)  # several pages, and a last one part-full

    assert (report.ok, report.entries, report.broken_at) == (True, 50, None)
    assert report.last_hash == entries[-1].hash
    assert [entry.prev_hash for entry in entries[1:]] == [entry.hash for entry in entries[:-1]]


async def test_an_empty_trail_verifies(engine: Any) -> None:
    report = await verify_chain()
    assert (report.ok, report.entries, report.last_hash) == (True, 0, GENESIS_HASH)


async def test_an_altered_entry_is_named_and_the_first_of_several(engine: Any) -> None:
    entries = await record_many(10)
    await tamper(entries[3].id, {"changes": '{"after":{"n":999},"before":{}}'})
    await tamper(entries[6].id, {"actor_label": "someone.else@regulator.example"})

    report = await verify_chain()

    assert (report.ok, report.broken_at, report.reason) == (False, entries[3].id, "hash mismatch")
    assert report.entries == 3


async def test_whitespace_added_to_the_changes_is_an_alteration(engine: Any) -> None:
    [entry] = await record_many(1)
    await tamper(entry.id, {"changes": '{"after": {"n": 0}, "before": {}}'})

    report = await verify_chain()

    assert (report.broken_at, report.reason) == (entry.id, "hash mismatch")


async def test_a_deleted_entry_breaks_the_link_of_the_next(engine: Any) -> None:
    entries = await record_many(10)
    await AuditEntry.delete().where(AuditEntry._meta.primary_key == entries[4].id)

    report = await verify_chain()

    assert (report.ok, report.broken_at, report.reason) == (False, entries[5].id, "broken link")


async def test_deleting_the_first_entry_is_detected(engine: Any) -> None:
    entries = await record_many(3)
    await AuditEntry.delete().where(AuditEntry._meta.primary_key == entries[0].id)

    report = await verify_chain()

    assert (report.broken_at, report.reason) == (entries[1].id, "broken link")


async def test_an_entry_rewritten_with_a_fresh_hash_breaks_the_next_link(engine: Any) -> None:
    entries = await record_many(5)
    forged = {
        **(await AuditEntry.select().where(AuditEntry._meta.primary_key == entries[2].id))[0],
        "actor_label": "nobody@regulator.example",
    }
    await tamper(
        entries[2].id,
        {"actor_label": forged["actor_label"], "hash": entry_hash(forged["prev_hash"], forged)},
    )

    report = await verify_chain()

    assert (report.broken_at, report.reason) == (entries[3].id, "broken link")


async def test_a_rolled_back_change_leaves_no_entry(engine: Any) -> None:
    async def failing_change() -> None:
        async with engine.transaction():
            await record("register.entry_updated", "registration", 1, after={"name": "B"})
            raise RuntimeError("the change failed")

    await record("register.entry_created", "registration", 1)
    with pytest.raises(RuntimeError, match="the change failed"):
        await failing_change()
    after = await record("register.entry_updated", "registration", 1, after={"name": "C"})

    assert [entry.changes["after"] for entry in (await search()).entries] == [
        {"name": "C"},
        {},
    ]
    report = await verify_chain()
    assert (report.ok, report.entries, report.last_hash) == (True, 2, after.hash)


async def test_entries_in_one_transaction_are_kept_together(engine: Any) -> None:
    async with engine.transaction():
        first = await record("conduct.case_opened", "case", 9)
        second = await record("conduct.case_viewed", "case", 9)

    assert second.prev_hash == first.hash
    assert (await verify_chain()).entries == 2


async def test_concurrent_appends_still_make_one_chain(engine: Any) -> None:
    async def change(number: int) -> RecordedEntry:
        async with engine.transaction():
            await asyncio.sleep(0)  # let the other writers start their transactions too
            return await record("register.entry_updated", "registration", number)

    async def view(number: int) -> RecordedEntry:
        return await record("register.entry_viewed", "registration", number)

    entries = await asyncio.gather(
        *(change(number) if number % 2 else view(number) for number in range(20))
    )

    report = await verify_chain()
    assert (report.ok, report.entries) == (True, 20)
    assert len({entry.prev_hash for entry in entries}) == 20


def test_changes_keep_both_sides_of_only_the_keys_that_changed() -> None:
    when = datetime(2026, 11, 23, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    changes = changes_between(
        {"status": Status.REGISTERED, "fee": Decimal("90.00"), "count": 1, "gone": "x"},
        {"status": Status.REGISTERED, "fee": Decimal("95.00"), "count": True, "at": when},
    )
    assert changes == {
        "before": {"fee": "90.00", "count": 1, "gone": "x"},
        "after": {"fee": "95.00", "count": True, "at": "2026-11-23T09:30:00.000000Z"},
    }


def test_enums_and_other_subclasses_are_spelled_by_their_value_at_any_depth() -> None:
    """A StrEnum is a str and an IntEnum an int, but the audit spells each by its value, as
    keys too, inside lists, tuples and sets as at the top."""

    class Level(enum.IntEnum):
        HIGH = 3

    nested = {
        Status.REGISTERED: [Level.HIGH, (Status.SUSPENDED, {Level.HIGH: Decimal("1.50")})],
        "set": {Status.REGISTERED, "a"},
        "plain": ["x", 1, 2.5, True, None],
    }
    assert canonical_json(plain(nested)) == (
        '{"plain":["x",1,2.5,true,null],"registered":[3,["suspended",{"3":"1.50"}]],'
        '"set":["a","registered"]}'
    )


def test_a_value_without_a_stable_spelling_is_refused() -> None:
    with pytest.raises(TypeError, match="object has no canonical JSON form"):
        changes_between(None, {"thing": object()})


async def test_an_action_must_be_named_domain_dot_event(engine: Any) -> None:
    with pytest.raises(ValueError, match="not like"):
        await record("Status Changed", "registration", 1)
    assert (await search()).total == 0


async def seed_for_search() -> list[RecordedEntry]:
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    officer = Actor(id=7, label="case.officer@regulator.example", request_id="req-1")
    panel = Actor(id=8, label="panel.chair@regulator.example")
    plan: list[tuple[Actor, str, str, str | int]] = [
        (officer, "register.entry_created", "registration", 1),
        (officer, "register.status_changed", "registration", 1),
        (panel, "conduct.case_viewed", "case", 5),
        (officer, "register.statuses_exported", "register", "all"),
        (panel, "conduct.sanction_imposed", "case", 5),
    ]
    return [
        await record(action, kind, target, actor=actor, occurred_at=start + timedelta(days=day))
        for day, (actor, action, kind, target) in enumerate(plan)
    ]


async def test_search_filters_by_action_prefix_actor_target_and_dates(engine: Any) -> None:
    seeded = await seed_for_search()

    async def actions(**filters: Any) -> list[str]:
        return [entry.action for entry in (await search(**filters)).entries]

    assert await actions(action="conduct.") == [
        "conduct.sanction_imposed",
        "conduct.case_viewed",
    ]
    # An underscore is a letter here, not LIKE's "any one character".
    assert await actions(action="register.status_") == ["register.status_changed"]
    assert await actions(actor_label="PANEL.chair") == [
        "conduct.sanction_imposed",
        "conduct.case_viewed",
    ]
    assert await actions(actor_id=7, target_type="registration", target_id=1) == [
        "register.status_changed",
        "register.entry_created",
    ]
    assert await actions(
        occurred_from=seeded[1].occurred_at, occurred_before=seeded[3].occurred_at
    ) == ["conduct.case_viewed", "register.status_changed"]
    assert await actions(actor_label="%") == []
    assert await actions(action="", actor_label="", target_type="") == await actions()
    # Times stored without a fraction of a second still hash the same when read back.
    assert (await verify_chain()).ok


async def test_search_is_newest_first_one_page_at_a_time(engine: Any) -> None:
    seeded = await seed_for_search()

    second = await search(page=2, page_size=2)

    assert [entry.id for entry in second.entries] == [seeded[2].id, seeded[1].id]
    assert (second.total, second.pages) == (5, 3)
    assert (await search(page=4, page_size=2)).entries == ()


async def test_search_refuses_a_bad_page_or_a_time_without_a_zone(engine: Any) -> None:
    with pytest.raises(InvalidInput) as bad_page:
        await search(page=0)
    assert bad_page.value.field == "page"
    with pytest.raises(InvalidInput) as naive:
        await search(occurred_from=datetime(2026, 1, 1))
    assert naive.value.field == "occurred_from"


def test_the_hash_pieces_rebuild_the_hashed_json() -> None:
    # The database's append (PostgreSQL) hashes head + time + mid + target id + tail: the same
    # text entry_hash hashes, so `registry audit verify` checks its entries as any other.
    moment = datetime(2026, 11, 23, 9, 30, 0, 12, tzinfo=UTC)
    values: dict[str, Any] = {
        "actor_id": 7,
        "actor_label": "ana@example.org",
        "action": "cpd.activity_recorded",
        "target_type": "cpd_activity",
        "target_id": "412",
        "changes": canonical_json({"before": {}, "after": {"title": 'Say "é"\n'}}),
        "client_address": "203.0.113.9",
        "request_id": "r-1",
        "occurred_at": moment,
    }
    head, mid, tail = hash_pieces(values)
    text = head + utc_iso(moment) + mid + "412" + tail
    fields: dict[str, JSONValue] = {name: values[name] for name in HASHED_FIELDS}
    fields["occurred_at"] = utc_iso(moment)
    assert text == canonical_json(fields)
    assert is_plain("412")
    assert not is_plain('a"b')
