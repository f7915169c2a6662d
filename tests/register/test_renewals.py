"""Renewal, lapse after the grace period, and the reminders at 60, 30 and 7 days."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from registry.accounts.roles import Role
from registry.audit.service import search as audit_search
from registry.config import Settings
from registry.core import clock
from registry.core.scheduler import run_jobs
from registry.errors import Conflict, InvalidInput, PermissionDenied
from registry.notifications.tables import OutboxMessage
from registry.register import renewals, service
from registry.register.renewals import Declarations, RenewalCalendar
from registry.register.tables import RegisterStatus, Renewal
from tests.accounts.helpers import make_user
from tests.register.helpers import put_on_register, register_history
from tests.support import exempt_from_cpd

CALENDAR = RenewalCalendar()
DEADLINE = date(2026, 11, 30)
NOTHING_TO_DECLARE = Declarations(character=False, health=False)


def at(day: date) -> Any:
    return clock.frozen_at(datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=10))


def test_the_calendar_follows_the_configured_dates() -> None:
    assert CALENDAR.window_for(DEADLINE) == (date(2026, 9, 1), DEADLINE)
    assert CALENDAR.lapses_after(DEADLINE) == date(2026, 12, 21)
    assert CALENDAR.next_deadline(DEADLINE) == date(2027, 11, 30)
    assert CALENDAR.first_deadline(date(2026, 3, 1)) == DEADLINE
    assert CALENDAR.first_deadline(date(2026, 10, 1)) == date(2027, 11, 30)
    march = RenewalCalendar(opens="01-15", deadline="03-31", grace_days=10)
    assert march.window_for(date(2027, 3, 31)) == (date(2027, 1, 15), date(2027, 3, 31))


async def test_a_practitioner_renews_in_the_window_once(engine: Any) -> None:
    account = await make_user(Role.practitioner, "pat@example.org")
    entry = await put_on_register("Pat", "Renewer", until=DEADLINE, account_id=account.id)
    await exempt_from_cpd(entry.id)
    with at(date(2026, 8, 31)), pytest.raises(Conflict, match="Renewal opens on 1 September 2026"):
        await renewals.renew(entry.id, NOTHING_TO_DECLARE, calendar=CALENDAR, by_user_id=account.id)
    with at(date(2026, 10, 5)):
        renewed = await renewals.renew(
            entry.id, NOTHING_TO_DECLARE, calendar=CALENDAR, by_user_id=account.id
        )
        assert renewed.public.registered_until == date(2027, 11, 30)
        state = await renewals.renewal_state(renewed, CALENDAR, clock.now().date())
        assert not state.can_renew
        assert state.renewed_to == date(2027, 11, 30)
        with pytest.raises(
            Conflict,
            match=r"^You have already renewed for 2027\. Renewal for 2028 opens on 1 Sept",
        ):
            await renewals.renew(
                entry.id, NOTHING_TO_DECLARE, calendar=CALENDAR, by_user_id=account.id
            )
    assert await Renewal.count() == 1
    assert [h.change for h in await register_history(entry.id)][-1] == "renewed"


async def test_only_the_practitioner_may_renew_and_declarations_need_details(engine: Any) -> None:
    owner = await make_user(Role.practitioner, "owner@example.org")
    other = await make_user(Role.practitioner, "other@example.org")
    entry = await put_on_register(until=DEADLINE, account_id=owner.id)
    await exempt_from_cpd(entry.id)
    with at(date(2026, 10, 5)):
        with pytest.raises(PermissionDenied):
            await renewals.renew(
                entry.id, NOTHING_TO_DECLARE, calendar=CALENDAR, by_user_id=other.id
            )
        with pytest.raises(InvalidInput) as refused:
            await renewals.renew(
                entry.id, Declarations(character=True), calendar=CALENDAR, by_user_id=owner.id
            )
        assert refused.value.field == "character_details"
    assert await Renewal.count() == 0


async def test_an_entry_lapses_only_after_the_grace_period(engine: Any, settings: Settings) -> None:
    entry = await put_on_register(until=DEADLINE)
    with at(date(2026, 12, 21)):
        await run_jobs(settings, ["register_lapse"])
    assert (await service.get_entry(entry.id)).status is RegisterStatus.registered
    with at(date(2026, 12, 22)):
        outcomes = await run_jobs(settings, ["register_lapse"])
        again = await run_jobs(settings, ["register_lapse"])
    assert outcomes[0].summary == "lapsed 1 registrations"
    assert again[0].summary == "lapsed 0 registrations"
    lapsed = await service.get_entry(entry.id)
    assert lapsed.status is RegisterStatus.lapsed
    with at(date(2026, 12, 22)):
        state = await renewals.renewal_state(lapsed, CALENDAR, date(2026, 12, 22))
    assert "restoration" in state.reason


async def test_two_lapse_passes_at_once_lapse_each_entry_once(engine: Any) -> None:
    """Two schedulers may run the lapse job at the same moment: both finish, and each overdue
    entry is lapsed by exactly one of them, with one state change and one audit entry."""
    overdue = [await put_on_register(f"Late{n}", "Lapser", until=DEADLINE) for n in range(6)]
    current = await put_on_register("On", "Time", until=date(2027, 11, 30))
    with at(date(2026, 12, 22)):
        first, second = await asyncio.gather(
            renewals.lapse_overdue(date(2026, 12, 22), CALENDAR),
            renewals.lapse_overdue(date(2026, 12, 22), CALENDAR),
        )
    assert first + second == len(overdue)
    for entry in overdue:
        assert (await service.get_entry(entry.id)).status is RegisterStatus.lapsed
        changes = [(h.change, h.after) for h in await register_history(entry.id)]
        assert changes[1:] == [
            ("state_changed", {"state": "lapsed"}),
            ("status_changed", {"status": "lapsed"}),
        ], entry.registration_number
        trail = await audit_search(
            action="register.status_changed", target_id=entry.registration_number
        )
        assert len(trail.entries) == 1, entry.registration_number
    assert (await service.get_entry(current.id)).status is RegisterStatus.registered


async def test_reminders_go_at_60_30_and_7_days_each_once(engine: Any, settings: Settings) -> None:
    await put_on_register("Rem", "Inder", until=DEADLINE)
    for day in (
        date(2026, 9, 30),
        date(2026, 10, 1),
        date(2026, 10, 31),
        date(2026, 11, 1),
        date(2026, 11, 23),
        date(2026, 11, 24),
        date(2026, 11, 30),
    ):
        with at(day):
            await run_jobs(settings, ["register_renewal_reminders"])
            await run_jobs(settings, ["register_renewal_reminders"])  # twice a day: no repeat
    rows = await OutboxMessage.select(
        OutboxMessage.idempotency_key, OutboxMessage.subject
    ).order_by(OutboxMessage.id)
    sent = [row["idempotency_key"].rsplit(":", 1)[1] for row in rows]
    assert sent == ["60", "30", "7"]
    assert rows[0]["subject"] == "Renew your registration by 30 November 2026"


async def test_a_missed_day_sends_the_latest_reminder_not_every_one(
    engine: Any, settings: Settings
) -> None:
    await put_on_register("Late", "Runner", until=DEADLINE)
    with at(date(2026, 11, 25)):
        await run_jobs(settings, ["register_renewal_reminders"])
    keys = [
        row["idempotency_key"] for row in await OutboxMessage.select(OutboxMessage.idempotency_key)
    ]
    assert len(keys) == 1
    assert keys[0].endswith(":7")


async def test_no_reminder_once_renewed(engine: Any, settings: Settings) -> None:
    account = await make_user(Role.practitioner, "done@example.org")
    entry = await put_on_register(until=DEADLINE, account_id=account.id)
    await exempt_from_cpd(entry.id)
    with at(date(2026, 9, 20)):
        await renewals.renew(entry.id, NOTHING_TO_DECLARE, calendar=CALENDAR, by_user_id=account.id)
    with at(date(2026, 10, 1)):
        await run_jobs(settings, ["register_renewal_reminders"])
    # Only the renewal's own confirmation (tests/register/test_emails.py), no reminder.
    assert await OutboxMessage.count().where(OutboxMessage.template == "renewal_reminder") == 0
