"""What fitness to practise tells the register, and the job that keeps the register in step
with dates.

- :func:`restrictions` (the manifest's restriction source): the warnings, conditions and
  suspensions, interim or final, in force on a day. The register derives the status from them.
- :func:`has_open_case` (the concern source): whether any case about a practitioner is open,
  which refuses voluntary removal.
- :func:`keep_register_in_step` (the hourly job): an order that starts or ends on a date changes
  the entry at the start of that day. The job compares, for every entry with an order, the
  restrictions its public entry shows with those in force today and rewrites the entry when they
  differ (a removal that has taken effect moves the entry off the register); it then moves cases
  whose dates have come (an outcome not accepted in time, an appeal period over, a sanction
  ended). Whatever it missed it catches up; run twice, or twice at once, the second run finds
  nothing to do (each entry is held while it is compared, each case moved against its version).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from registry.conduct import sanctions, workflow
from registry.conduct.tables import (
    INTERIM_LABELS,
    SANCTION_LABELS,
    Case,
    InterimKind,
    InterimOrder,
    Sanction,
    SanctionKind,
    Stage,
)
from registry.core.bulk import any_of
from registry.core.scheduler import JobContext, ScheduledJob
from registry.db import bound_engine, lock_row, transaction
from registry.errors import Conflict
from registry.register import hooks
from registry.register import service as register
from registry.register.schemas import PublicEntry
from registry.register.tables import EntryState, RegisterEntry

KINDS: dict[str, hooks.RestrictionKind] = {
    SanctionKind.warning.value: hooks.RestrictionKind.warning,
    SanctionKind.conditions.value: hooks.RestrictionKind.conditions,
    SanctionKind.suspension.value: hooks.RestrictionKind.suspension,
    InterimKind.interim_conditions.value: hooks.RestrictionKind.interim_conditions,
    InterimKind.interim_suspension.value: hooks.RestrictionKind.interim_suspension,
}
# How far back the job looks for orders that ended: a day it missed is still caught.
CATCH_UP_DAYS = 366


def decision_url(number: str, sanction_id: int) -> str:
    """The decision's public page (its JSON stays at /api/v1 + the same path)."""
    return f"/register/{number}/decisions/{sanction_id}"


def _summary(label: str, conditions: str) -> str:
    return f"{label}: {conditions}" if conditions else label


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


# The orders in force on a day for many entries at once (a bulk check asks for 10,000): the ids
# go as one parameter (bulk.any_of), not as an IN list of thousands. The sanctions are read
# first and their entries' numbers after (SQLite keeps a CROSS JOIN's order; PostgreSQL plans it
# as any join): SQLite otherwise went down the list reading every entry's row to join it before
# looking for its sanctions, 9 ms for 10,000 ids against 2.5 ms this way.
_SANCTIONS_IN_FORCE = (
    "SELECT s.id, s.entry, s.kind, s.conditions, s.starts_on, s.ends_on,"
    " e.registration_number AS number"
    " FROM conduct_sanction s CROSS JOIN register_entry e"
    " WHERE e.id = s.entry AND {entry} {ids} AND s.kind IN ({kinds})"
    " AND s.starts_on <= {{}} AND s.ends_on >= {{}}"
    " AND (s.revoked_on IS NULL OR s.revoked_on > {{}})"
)
_INTERIM_IN_FORCE = (
    "SELECT o.entry, o.kind, o.conditions, o.starts_on, o.ends_on FROM conduct_interim_order o"
    " WHERE {entry} {ids} AND o.starts_on <= {{}} AND o.ends_on >= {{}}"
    " AND (o.revoked_on IS NULL OR o.revoked_on > {{}})"
)
# A list this long (a bulk check's) only filters the orders not yet ended, which SQLite finds by
# their end date: a unary + keeps its planner from going down the list through the orders'
# entry index (10,000 look-ups, 2.5 ms a statement), so the list is read only when some order
# is in force at all, and checked against those few. A shorter list (one entry's refresh) goes
# through the entry index, whatever the number of orders in force; PostgreSQL plans both itself.
LONG_LIST = 1_000


def _entry_column(alias: str, count: int) -> str:
    long_list = count >= LONG_LIST and bound_engine().engine_type == "sqlite"
    return f"+{alias}.entry" if long_list else f"{alias}.entry"


_ENDING_KINDS = sorted(kind.value for kind in sanctions.ENDING)


async def restrictions(entry_ids: Sequence[int], on: date) -> dict[int, list[hooks.Restriction]]:
    """The orders in force on ``on`` for each entry: from its first day to its last, unless
    revoked (a revoked order is off the entry from the day of revocation)."""
    found: dict[int, list[hooks.Restriction]] = {}
    if not entry_ids:
        return found
    ids_sql, ids = any_of(list(map(int, entry_ids)))
    kinds = ", ".join("{}" for _ in _ENDING_KINDS)
    sanctions_sql = _SANCTIONS_IN_FORCE.format(
        entry=_entry_column("s", len(entry_ids)), ids=ids_sql, kinds=kinds
    )
    rows = await Sanction.raw(sanctions_sql, ids, *_ENDING_KINDS, on, on, on)
    for row in rows:
        kind = SanctionKind(row["kind"])
        found.setdefault(row["entry"], []).append(
            hooks.Restriction(
                kind=KINDS[kind.value],
                summary=_summary(SANCTION_LABELS[kind], row["conditions"]),
                starts_on=_as_date(row["starts_on"]) or on,
                ends_on=_as_date(row["ends_on"]),
                decision_url=decision_url(row["number"], row["id"]),
            )
        )
    interim_sql = _INTERIM_IN_FORCE.format(entry=_entry_column("o", len(entry_ids)), ids=ids_sql)
    interim = await InterimOrder.raw(interim_sql, ids, on, on, on)
    for row in interim:
        kind_i = InterimKind(row["kind"])
        found.setdefault(row["entry"], []).append(
            hooks.Restriction(
                kind=KINDS[kind_i.value],
                summary=_summary(INTERIM_LABELS[kind_i], row["conditions"]),
                starts_on=_as_date(row["starts_on"]) or on,
                ends_on=_as_date(row["ends_on"]),
                decision_url="",
            )
        )
    return found


async def has_open_case(practitioner_id: int) -> bool:
    return bool(
        await Case.exists().where(
            (Case.entry.practitioner == practitioner_id) & (Case.stage != Stage.closed.value)
        )
    )


# --- the job ------------------------------------------------------------------------------


def _shown(entry: PublicEntry) -> set[tuple[str, date, date | None]]:
    return {(r.kind, r.starts_on, r.ends_on) for r in entry.restrictions}


def _due(restrictions_now: Sequence[hooks.Restriction]) -> set[tuple[str, date, date | None]]:
    return {(r.kind.value, r.starts_on, r.ends_on) for r in restrictions_now}


async def _entries_with_orders(today: date) -> list[int]:
    since = today - timedelta(days=CATCH_UP_DAYS)
    ids: set[int] = set()
    for table in (Sanction, InterimOrder):
        rows = await table.select(table.entry).where(
            (table.starts_on <= today) & (table.ends_on.is_null() | (table.ends_on >= since))
        )
        ids.update(int(row["entry"]) for row in rows)
    return sorted(ids)


async def refresh_if_changed(entry_id: int, today: date) -> bool:
    """Rewrite the entry if what it shows is not what is in force today; True if it did."""
    async with transaction():
        await lock_row(RegisterEntry, entry_id)
        entry = await register.get_entry(entry_id)
        removal = (
            await Sanction.select(Sanction.id, Sanction.case.reference.as_alias("ref"))
            .where(
                (Sanction.entry == entry_id)
                & (Sanction.kind == SanctionKind.removal.value)
                & (Sanction.starts_on <= today)
                & Sanction.revoked_on.is_null()
            )
            .first()
        )
        if removal is not None and entry.state is not EntryState.removed:
            await workflow.take_effect(entry_id, SanctionKind.removal, removal["ref"], today)
            return True
        now = (await hooks.restrictions_in_force([entry_id], today))[entry_id]
        if _shown(entry.public) == _due(now):
            return False
        await register.refresh_entry(entry_id, today)
        return True


async def move_due_cases(today: date) -> int:
    """Cases whose dates have come: each moved against the version read, so a second job
    moving it at once is refused and skipped."""
    moved = 0
    rows = await Case.select(Case.id, Case.stage, Case.version).where(
        Case.stage.is_in(
            [Stage.accepted_outcome.value, Stage.decided.value, Stage.sanction_in_force.value]
        )
        & Case.due_on.is_not_null()
        & (Case.due_on < today)
    )
    for row in rows:
        stage = Stage(row["stage"])
        if stage is Stage.accepted_outcome:
            move = workflow.Move.outcome_not_accepted_in_time
        elif stage is Stage.decided:
            has_order = await Sanction.exists().where(
                (Sanction.case == row["id"])
                & Sanction.kind.is_in([kind.value for kind in sanctions.ORDERS])
            )
            move = (
                workflow.Move.sanction_takes_effect
                if has_order
                else workflow.Move.close_after_appeal_period
            )
        else:
            move = workflow.Move.close_case
        try:
            await workflow.perform(row["id"], move, by=workflow.SYSTEM, version=row["version"])
        except Conflict:
            continue  # moved by someone else first, or not yet due after all
        moved += 1
    return moved


REVIEW_REMINDER_DAYS = 14


async def remind_interim_reviews(today: date) -> int:
    """Email the case's caseworker (every caseworker, when none is assigned) once per review
    date, from 14 days before an interim order's review is due."""
    from registry.accounts.roles import Role
    from registry.accounts.tables import User, UserRole
    from registry.notifications import service as notifications

    rows = await InterimOrder.select(
        InterimOrder.id,
        InterimOrder.kind,
        InterimOrder.case,
        InterimOrder.next_review_on,
        InterimOrder.case.reference.as_alias("reference"),
        InterimOrder.case.assigned_to.as_alias("assigned_to"),
    ).where(
        InterimOrder.revoked_on.is_null()
        & (InterimOrder.ends_on >= today)
        & (InterimOrder.next_review_on <= today + timedelta(days=REVIEW_REMINDER_DAYS))
    )
    queued = 0
    for row in rows:
        if row["assigned_to"] is not None:
            recipients = await User.select(User.email).where(
                (User.id == row["assigned_to"]) & User.active.eq(True)
            )
        else:
            recipients = await User.select(User.email).where(
                User.active.eq(True)
                & User.id.is_in(
                    UserRole.select(UserRole.user).where(UserRole.role == Role.caseworker.value)
                )
            )
        review_on = _as_date(row["next_review_on"])
        for recipient in recipients:
            queued += await notifications.queue_email(
                recipient["email"],
                "conduct_interim_review_due",
                {
                    "order": INTERIM_LABELS[InterimKind(row["kind"])].lower(),
                    "reference": row["reference"],
                    "review_on": f"{review_on:%-d %B %Y}",
                    "path": f"/conduct/cases/{row['case']}",  # the staff case page
                },
                subject=f"Interim order review due by {review_on:%-d %B %Y}: {row['reference']}",
                key=f"conduct-interim-review:{row['id']}:{review_on}:{recipient['email']}",
            )
    return queued


async def keep_register_in_step(context: JobContext) -> str:
    today = context.now.date()
    changed = 0
    for entry_id in await _entries_with_orders(today):
        changed += await refresh_if_changed(entry_id, today)
    moved = await move_due_cases(today)
    reminded = await remind_interim_reviews(today)
    return (
        f"{changed} entries rewritten for orders starting or ending; {moved} cases moved; "
        f"{reminded} interim order review reminders"
    )


JOBS = (
    ScheduledJob(
        "conduct_orders",
        "Rewrite entries whose sanctions or interim orders start or end today (catching up any "
        "day missed), and move cases whose dates have come",
        keep_register_in_step,
    ),
)
