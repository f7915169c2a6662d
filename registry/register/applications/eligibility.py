"""Who may apply, and for what. No HTTP here.

A person (an account) has at most one open application, and none while they are on the
register: someone whose registration lapsed, or who left it, applies for restoration instead;
someone removed by a fitness to practise decision may apply only five years after removal.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from registry.accounts.tables import User
from registry.db import lock_row
from registry.errors import Conflict
from registry.register import service
from registry.register.applications.records import (
    OPEN,
    ApplicationRecord,
    aware,
    now,
    reference_for,
)
from registry.register.tables import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    EntryHistory,
    EntryState,
    RegisterEntry,
)

RESTORATION_AFTER_REMOVAL_YEARS = 5  # (default) the sanctions guidance's limit
# Whoever the restoration move may put back on the register may apply for it.
RESTORABLE = service.ENTRY_MOVES[service.EntryMove.restoration].allowed_from


async def entry_of(applicant_id: int) -> dict[str, Any] | None:
    """The applicant's register entry (its id, number and state), if they have one."""
    row = (
        await RegisterEntry.select(
            RegisterEntry.id,
            RegisterEntry.registration_number,
            RegisterEntry.state,
        )
        .where(RegisterEntry.practitioner.account == applicant_id)
        .first()
    )
    return dict(row) if row else None


async def removed_on(entry_id: int) -> date:
    """When the entry was last taken off the register by removal: from its history, or, for an
    entry that came onto the register already removed (an import), when its status last changed.
    """
    rows = (
        await EntryHistory.select(EntryHistory.changed_at, EntryHistory.after)
        .where((EntryHistory.entry == entry_id) & (EntryHistory.change == "state_changed"))
        .order_by(EntryHistory.id, ascending=False)
    )
    for row in rows:
        if json.loads(row["after"]).get("state") == EntryState.removed.value:
            return _utc_date(row["changed_at"])
    entry = (
        await RegisterEntry.select(RegisterEntry.status_changed_at)
        .where(RegisterEntry.id == entry_id)
        .first()
    )
    assert entry is not None
    return _utc_date(entry["status_changed_at"])


def _utc_date(moment: datetime) -> date:
    stored = aware(moment)
    assert stored is not None
    return stored.astimezone(UTC).date()


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


async def check_can_apply(applicant_id: int, kind: ApplicationKind) -> int | None:
    """Refuse, with what to do instead, someone who may not make this kind of application now.

    Returns the register entry a restoration is for.
    """
    account = await User.select(User.email_confirmed_at).where(User.id == applicant_id).first()
    if account is None or account["email_confirmed_at"] is None:
        raise Conflict(
            "Confirm your email address before you apply: open the link in the email we sent "
            "when you created your account."
        )
    existing = (
        await Application.select(Application.id, Application.status)
        .where(
            (Application.applicant == applicant_id)
            & Application.status.is_in([status.value for status in OPEN])
        )
        .first()
    )
    if existing is not None:
        raise Conflict(
            f"You already have an application in progress ({reference_for(existing['id'])}). "
            "You can only have one application at a time."
        )
    entry = await entry_of(applicant_id)
    if kind is ApplicationKind.initial:
        if entry is None:
            return None
        state = EntryState(entry["state"])
        if state is EntryState.registered:
            raise Conflict(
                f"You are already on the register ({entry['registration_number']}). "
                "You do not need to apply again."
            )
        raise Conflict(
            f"You have been on the register before ({entry['registration_number']}). "
            "Apply for restoration instead of applying to join."
        )
    if entry is None:
        raise Conflict(
            "You have never been on the register, so there is nothing to restore. "
            "Apply to join the register instead."
        )
    state = EntryState(entry["state"])
    if state not in RESTORABLE:
        raise Conflict("You are on the register now, so there is nothing to restore.")
    if state is EntryState.removed:
        removed = await removed_on(entry["id"])
        earliest = _years_after(removed, RESTORATION_AFTER_REMOVAL_YEARS)
        if now().date() < earliest:
            raise Conflict(
                f"You were removed from the register on {removed:%-d %B %Y} by a fitness to "
                f"practise decision. You cannot apply for restoration until "
                f"{earliest:%-d %B %Y}, {RESTORATION_AFTER_REMOVAL_YEARS} years after removal."
            )
    return int(entry["id"])


async def check_still_eligible(record: ApplicationRecord) -> None:
    """The rules for starting, checked again at submission: things may have changed since."""
    others = await Application.exists().where(
        (Application.applicant == record.applicant_id)
        & (Application.id != record.id)
        & Application.status.is_in([status.value for status in OPEN - {ApplicationStatus.draft}])
    )
    if others:
        raise Conflict("You already have an application in progress.")
    entry = await entry_of(record.applicant_id)
    if record.kind is ApplicationKind.initial and entry is not None:
        raise Conflict(
            f"You are already on the register ({entry['registration_number']}), so this "
            "application cannot be submitted."
        )
    if record.kind is ApplicationKind.restoration and (
        entry is None or EntryState(entry["state"]) not in RESTORABLE
    ):
        raise Conflict("You are on the register now, so there is nothing to restore.")


async def lock_applicant(applicant_id: int) -> None:
    """Hold the applicant's account row to the end of the transaction, so that two requests
    cannot both find no open application and both start one (SQLite's write lock does this
    already)."""
    await lock_row(User, applicant_id)
