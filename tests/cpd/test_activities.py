"""The activity log's rules: the pack of each date, retired items kept, a declared year final."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from registry.audit.service import search as audit_search
from registry.audit.service import verify_chain
from registry.core import clock, reference
from registry.cpd import activities, packs
from registry.cpd.reference import STANDARDS
from registry.errors import InvalidInput, NotFound
from tests.cpd.helpers import CALENDAR, activity, declare_the_year, log, practitioner_with_record


def test_registration_years_end_at_the_renewal_deadline() -> None:
    assert activities.registration_year(date(2026, 11, 30), CALENDAR) == 2026
    assert activities.registration_year(date(2026, 12, 1), CALENDAR) == 2027
    assert activities.year_bounds(2027, CALENDAR) == (date(2026, 12, 1), date(2027, 11, 30))


async def test_an_activity_carries_the_pack_of_its_date(engine: Any) -> None:
    person = await practitioner_with_record()
    logged = await log(person)
    assert logged.rule_pack == (await packs.pack_on(date(2027, 1, 10))).id


async def test_logging_an_activity_writes_its_links_and_one_entry_naming_it(engine: Any) -> None:
    # On PostgreSQL the activity, its links and its entry are one statement, the entry hashed
    # in the database: the chain must still verify, and the entry name the new activity.
    person = await practitioner_with_record()
    logged = await log(person, practice_areas=["ethics", "victims"], standards=["written_profile"])
    again = await activities.get(person.account.id, logged.id, CALENDAR)
    assert sorted(a.code for a in again.practice_areas) == ["ethics", "victims"]
    assert [s.code for s in again.standards] == ["written_profile"]
    [entry] = (await audit_search(target_type="cpd_activity", target_id=logged.id)).entries
    assert entry.action == "cpd.activity_recorded"
    assert entry.changes["after"]["practice_areas"] == ["ethics", "victims"]
    assert "what_happened" not in entry.changes["after"]
    report = await verify_chain()
    assert report.ok
    assert report.last_hash == entry.hash


async def test_a_retired_standard_stays_on_an_activity_that_has_it(engine: Any) -> None:
    person = await practitioner_with_record()
    logged = await log(person, standards=["written_profile"])
    before = await reference.get_item(STANDARDS, "written_profile")
    try:
        await reference.update_item(STANDARDS, "written_profile", name=before.name, active=False)
        changed = await activities.update(
            person.account.id,
            logged.id,
            activity(title="Still here", standards=["written_profile"]),
            CALENDAR,
        )
        assert [s.code for s in changed.standards] == ["written_profile"]
    finally:
        await reference.update_item(STANDARDS, "written_profile", name=before.name, active=True)


async def test_a_declared_year_changes_only_with_a_reason_kept_in_the_audit(engine: Any) -> None:
    person = await practitioner_with_record()
    logged = await log(person)
    with clock.frozen_at(datetime(2027, 9, 10, 9, tzinfo=UTC)):
        owner = await declare_the_year(person)
        assert await activities.is_declared(owner, 2027)
        record = await activities.get(person.account.id, logged.id, CALENDAR)
        assert not record.editable
        needed = "declared when you renewed: say why you are changing it now"
        with pytest.raises(InvalidInput, match=needed) as refused:
            await activities.update(person.account.id, logged.id, activity(title="New"), CALENDAR)
        assert refused.value.field == "change_reason"
        with pytest.raises(InvalidInput, match=needed):
            await activities.delete(person.account.id, logged.id, CALENDAR, reason="   ")
        with pytest.raises(InvalidInput, match=needed):
            await log(person, done_on=date(2027, 9, 1))
        assert (await activities.get(person.account.id, logged.id, CALENDAR)).title == logged.title
        assert len(await activities.list_for(person.account.id, CALENDAR)) == 1

        changed = await activities.update(
            person.account.id,
            logged.id,
            activity(title="Corrected title", change_reason="The title was misspelt"),
            CALENDAR,
        )
        assert changed.title == "Corrected title"
        added = await log(person, done_on=date(2027, 9, 1), change_reason="Forgot to log it")
        await activities.delete(person.account.id, added.id, CALENDAR, reason="Logged twice")
        trail = await audit_search(target_type="cpd_activity")
        reasons = [
            (entry.action, entry.changes.get("after", {}).get("change_reason"))
            for entry in trail.entries
            if entry.changes.get("after", {}).get("declared_year")
        ]
        assert sorted(reasons) == [
            ("cpd.activity_changed", "The title was misspelt"),
            ("cpd.activity_recorded", "Forgot to log it"),
            ("cpd.activity_removed", "Logged twice"),
        ]
        # A year not declared stays open, no reason asked.
        earlier = await log(person, done_on=date(2026, 11, 30))
        assert earlier.registration_year == 2026
        assert earlier.editable


async def test_the_owner_is_checked_on_every_read_and_write(engine: Any) -> None:
    owner = await practitioner_with_record()
    other = await practitioner_with_record("other@example.org")
    logged = await log(owner)
    for call in (
        activities.get(other.account.id, logged.id, CALENDAR),
        activities.update(other.account.id, logged.id, activity(), CALENDAR),
        activities.delete(other.account.id, logged.id, CALENDAR),
    ):
        with pytest.raises(NotFound):
            await call
    assert (await activities.list_for(other.account.id, CALENDAR)) == []
