"""Renewal, lapse and the reminders before the deadline.

Registrations run to the deadline (default 30 November) and are renewed in the window before it
(default from 1 September) with fresh declarations. Not renewed by the deadline, an entry has
21 days' grace and then lapses, by the daily job. Reminders go 60, 30 and 7 days before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta

from piccolo.custom_types import Combinable

from registry.audit import service as audit
from registry.config import Settings
from registry.core import clock
from registry.db import lock_row, transaction
from registry.errors import Conflict, InvalidInput, PermissionDenied
from registry.notifications import service as notifications
from registry.register import emails, hooks, service, urls
from registry.register.hooks import RenewalShortfall
from registry.register.service import Entry, EntryMove
from registry.register.tables import EntryState, RegisterEntry, Renewal

REMINDER_DAYS = (60, 30, 7)


@dataclass(frozen=True)
class RenewalCalendar:
    """The registration year's dates, from configuration (default: 1 September to 30 November,
    then 21 days' grace)."""

    opens: str = "09-01"
    deadline: str = "11-30"
    grace_days: int = 21

    @classmethod
    def from_settings(cls, settings: Settings) -> RenewalCalendar:
        return cls(settings.renewal_opens, settings.renewal_deadline, settings.renewal_grace_days)

    def deadline_in(self, year: int) -> date:
        return _month_day(year, self.deadline)

    def window_for(self, registered_until: date) -> tuple[date, date]:
        """The renewal window that ends at ``registered_until``."""
        opens = _month_day(registered_until.year, self.opens)
        if opens > registered_until:
            opens = _month_day(registered_until.year - 1, self.opens)
        return opens, registered_until

    def lapses_after(self, registered_until: date) -> date:
        return registered_until + timedelta(days=self.grace_days)

    def next_deadline(self, registered_until: date) -> date:
        return self.deadline_in(registered_until.year + 1)

    def first_deadline(self, registered_on: date) -> date:
        """A new entry runs to the next deadline, or the one after if it is inside the window."""
        deadline = self.deadline_in(registered_on.year)
        opens, _ = self.window_for(deadline)
        if registered_on >= opens:
            return self.deadline_in(registered_on.year + 1)
        return deadline


def _month_day(year: int, month_day: str) -> date:
    month, day = (int(part) for part in month_day.split("-"))
    return date(year, month, day)


@dataclass(frozen=True)
class Declarations:
    """What a practitioner declares at renewal: True means there is something to declare."""

    character: bool
    character_details: str = ""
    health: bool = False
    health_details: str = ""

    def check(self) -> None:
        for declared, details, name in (
            (self.character, self.character_details, "character_details"),
            (self.health, self.health_details, "health_details"),
        ):
            if declared and not details.strip():
                raise InvalidInput("Give the details of what you are declaring", field=name)
            if len(details) > 5000:
                raise InvalidInput("Details must be 5,000 characters or fewer", field=name)


@dataclass(frozen=True)
class RenewalState:
    """Where an entry stands for renewal today, as its practitioner sees it."""

    can_renew: bool
    reason: str  # why not, when they cannot
    window_opens: date
    deadline: date
    lapses_on: date
    renewed_to: date | None  # set when this year's renewal is already in
    # What another domain says is missing (CPD short of the requirement): renewing waits for it.
    missing: tuple[RenewalShortfall, ...] = ()


async def renewal_state(entry: Entry, calendar: RenewalCalendar, today: date) -> RenewalState:
    until = entry.public.registered_until
    opens, deadline = calendar.window_for(until)
    lapses_on = calendar.lapses_after(until)
    renewed = (
        await Renewal.select(Renewal.registered_until_after)
        .where((Renewal.entry == entry.id) & (Renewal.registration_year == until.year - 1))
        .first()
    )

    renewed_to: date | None = renewed["registered_until_after"] if renewed else None

    def state(
        can: bool, reason: str = "", missing: tuple[RenewalShortfall, ...] = ()
    ) -> RenewalState:
        return RenewalState(can, reason, opens, deadline, lapses_on, renewed_to, missing)

    if entry.state is not EntryState.registered:
        return state(
            False, "Only a registered practitioner can renew. Apply for restoration instead."
        )
    if today < opens and renewed_to is not None:
        # Renewed already: the next window is a year off, and saying only when it opens reads
        # as if the renewal just made had not counted.
        return state(
            False,
            f"You have already renewed for {renewed_to.year}. "
            f"Renewal for {renewed_to.year + 1} opens on {opens:%-d %B %Y}.",
        )
    if today < opens:
        return state(False, f"Renewal opens on {opens:%-d %B %Y}.")
    if today > lapses_on:
        return state(False, "The time to renew has passed. Apply for restoration instead.")
    first = calendar.deadline_in(until.year - 1) + timedelta(days=1)
    missing = await hooks.renewal_shortfalls(entry.id, until.year, first, until)
    if missing:
        return state(
            False,
            f"You cannot renew until your CPD for the year to {until:%-d %B %Y} meets the "
            "requirement, or a registrar grants you an exemption.",
            tuple(missing),
        )
    return state(True)


async def renew(
    entry_id: int,
    declarations: Declarations,
    *,
    calendar: RenewalCalendar,
    by_user_id: int,
) -> Entry:
    """Renew for the next registration year; only the practitioner whose entry it is may."""
    declarations.check()
    today = clock.now().date()
    async with transaction():
        # Held while it is checked, so a lapse at the same moment waits for the renewal or is
        # seen by it.
        await lock_row(RegisterEntry, entry_id)
        entry = await service.get_entry(entry_id)
        if entry.account_id != by_user_id:
            raise PermissionDenied("You can only renew your own registration")
        current = await renewal_state(entry, calendar, today)
        if not current.can_renew:
            raise Conflict(current.reason)
        until = entry.public.registered_until
        new_until = calendar.next_deadline(until)
        await Renewal.insert(
            Renewal(
                entry=entry_id,
                registration_year=until.year,
                submitted_at=clock.now().astimezone(UTC),
                submitted_by=by_user_id,
                character_declaration=declarations.character,
                character_details=declarations.character_details.strip(),
                health_declaration=declarations.health,
                health_details=declarations.health_details.strip(),
                registered_until_before=until,
                registered_until_after=new_until,
            )
        )
        await service.record_change(
            entry_id,
            "renewed",
            {"registered_until": until.isoformat()},
            {"registered_until": new_until.isoformat()},
            reason="Renewed by the practitioner",
        )
        await audit.record(
            "register.renewed",
            "register_entry",
            entry.registration_number,
            before={"registered_until": until},
            after={
                "registered_until": new_until,
                "declared": declarations.character or declarations.health,
            },
        )
        renewed = await service.move_entry(
            entry_id,
            EntryMove.renewal,
            reason="Renewed by the practitioner",
            values={RegisterEntry.registered_until: new_until},
        )
        await emails.renewal_confirmed(renewed)
        return renewed


async def lapse_overdue(today: date, calendar: RenewalCalendar) -> int:
    """Lapse every registered entry whose grace after its deadline ended before ``today``;
    return how many this pass lapsed.

    Safe to run twice at once (two schedulers): each entry is looked at again while held, so
    one lapsed by the other pass, or renewed since the list was read, is left alone.
    """
    cutoff = today - timedelta(days=calendar.grace_days)
    overdue = await RegisterEntry.select(RegisterEntry.id).where(_overdue(cutoff))
    lapsed = 0
    for row in overdue:
        lapsed += await _lapse_if_still_overdue(row["id"], cutoff)
    return lapsed


def _overdue(cutoff: date) -> Combinable:
    return (RegisterEntry.state == EntryState.registered.value) & (
        RegisterEntry.registered_until < cutoff
    )


async def _lapse_if_still_overdue(entry_id: int, cutoff: date) -> bool:
    async with transaction():
        await lock_row(RegisterEntry, entry_id)
        if not await RegisterEntry.exists().where(
            (RegisterEntry.id == entry_id) & _overdue(cutoff)
        ):
            return False
        await service.move_entry(
            entry_id, EntryMove.lapse, reason="Not renewed by the deadline or in the grace period"
        )
        return True


async def queue_renewal_reminders(today: date, calendar: RenewalCalendar) -> int:
    """Queue the most pressing reminder due for each registered entry not yet renewed.

    Keyed by entry, deadline and reminder, so running twice a day (or every hour) sends each
    once; a missed day sends the latest reminder due, not every one it missed.
    """
    latest = today + timedelta(days=max(REMINDER_DAYS))
    rows = await RegisterEntry.select(
        RegisterEntry.registration_number,
        RegisterEntry.registered_until,
        RegisterEntry.practitioner.given_names.as_alias("given_names"),
        RegisterEntry.practitioner.email.as_alias("email"),
    ).where(
        (RegisterEntry.state == EntryState.registered.value)
        & (RegisterEntry.registered_until >= today)
        & (RegisterEntry.registered_until <= latest)
        & (RegisterEntry.practitioner.email != "")
    )
    queued = 0
    for row in rows:
        until: date = row["registered_until"]
        days_left = (until - today).days
        reminder = min(days for days in REMINDER_DAYS if days_left <= days)
        queued += await notifications.queue_email(
            row["email"],
            "renewal_reminder",
            {
                "given_names": row["given_names"],
                "registration_number": row["registration_number"],
                "deadline": until.strftime("%-d %B %Y"),
                "days_left": days_left,
                "path": urls.YOUR_REGISTRATION,
            },
            subject=f"Renew your registration by {until:%-d %B %Y}",
            key=f"renewal-reminder:{row['registration_number']}:{until.isoformat()}:{reminder}",
        )
    return queued


async def practitioner_entry(account_id: int) -> Entry | None:
    """The register entry of the signed-in practitioner, if they have one."""
    row = (
        await RegisterEntry.select(RegisterEntry.id)
        .where(RegisterEntry.practitioner.account == account_id)
        .first()
    )
    return await service.get_entry(row["id"]) if row else None
