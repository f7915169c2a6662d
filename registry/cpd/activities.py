"""The activity log: a practitioner records, changes and removes their own CPD activities.

Every call names the account asking; an activity that is not theirs is "not found", never
"forbidden", so ids confirm nothing. Activities count to the registration year whose renewal
deadline is the first on or after their date, and are judged under the rule pack in force on
that date. Once a year is declared at renewal (``is_declared``: the renewal's tie-in to CPD), a
change to its activities needs a reason, kept in the audit trail with the change.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from registry.audit import service as audit
from registry.core import clock
from registry.cpd import packs
from registry.cpd.schemas import ActivityIn
from registry.cpd.tables import (
    Activity,
    ActivityEvidence,
    ActivityPracticeArea,
    ActivityStandard,
    ActivityType,
    PracticeArea,
    Standard,
)
from registry.db import (
    fetch_all_now,
    fetch_one,
    fetch_one_batched,
    fetch_one_by_key,
    fetch_one_now,
    lock_row,
    on_postgres,
    short_transaction,
    transaction,
)
from registry.errors import Conflict, InvalidInput, NotFound
from registry.register import evidence
from registry.register.renewals import RenewalCalendar
from registry.register.tables import RegisterEntry, Renewal

TARGET = "cpd_activity"  # the audit trail's target type
NOT_FOUND = "There is no such activity in your CPD record"
EVIDENCE_MISSING = "Select a file showing you did the activity"
NO_RECORD_YET = "Your CPD record starts when you join the register"


# --- registration years -------------------------------------------------------------------


def registration_year(day: date, calendar: RenewalCalendar) -> int:
    """The year whose renewal deadline is the first on or after ``day``."""
    return day.year if day <= calendar.deadline_in(day.year) else day.year + 1


def year_bounds(year: int, calendar: RenewalCalendar) -> tuple[date, date]:
    """The first and last day of registration year ``year``."""
    return calendar.deadline_in(year - 1) + timedelta(days=1), calendar.deadline_in(year)


# --- whose record -------------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """The practitioner behind an account, as their CPD record needs them."""

    account_id: int
    practitioner_id: int
    entry_id: int
    registered_since: date


async def owner_of(account_id: int) -> Owner:
    row = (
        await RegisterEntry.select(
            RegisterEntry.id, RegisterEntry.practitioner, RegisterEntry.registered_since
        )
        .where(RegisterEntry.practitioner.account == account_id)
        .first()
    )
    if row is None:
        raise Conflict(NO_RECORD_YET)
    return Owner(account_id, row["practitioner"], row["id"], packs.as_date(row["registered_since"]))


async def find_owner(account_id: int) -> Owner | None:
    try:
        return await owner_of(account_id)
    except Conflict:
        return None


async def declared_years(owner: Owner) -> set[int]:
    """The registration years the practitioner has declared at renewal: their CPD is final.

    This is the renewal's hook into CPD: a renewal for a year (``register_renewal``) declares
    that year's CPD."""
    rows = await Renewal.select(Renewal.registration_year).where(Renewal.entry == owner.entry_id)
    return {int(row["registration_year"]) for row in rows}


async def is_declared(owner: Owner, year: int) -> bool:
    return year in await declared_years(owner)


# --- what an activity is ------------------------------------------------------------------


@dataclass(frozen=True)
class Named:
    code: str
    name: str


@dataclass(frozen=True)
class ActivityRecord:
    id: int
    title: str
    done_on: date
    registration_year: int
    quarters: int
    activity_type: ActivityType
    participatory: bool
    practice_areas: list[Named]
    standards: list[Named]
    what_happened: str
    what_learned: str
    practice_changed: str
    reflective: bool
    peer_reflection: bool
    peer_role: str
    evidence: list[AttachedFile]
    rule_pack: int
    editable: bool
    created_at: datetime
    updated_at: datetime

    @property
    def hours(self) -> Decimal:
        return Decimal(self.quarters) / 4


@dataclass(frozen=True)
class AttachedFile:
    id: int  # the attachment's id, which its download address names
    stored: evidence.StoredFile


def _reflective(data: ActivityIn) -> bool:
    return all(
        part.strip() for part in (data.what_happened, data.what_learned, data.practice_changed)
    )


def _wanted(codes: Sequence[str]) -> list[str]:
    """The codes asked for, as stored (trimmed, lower case), each once, in the order given."""
    return list(dict.fromkeys(code.strip().lower() for code in codes))


def _check_chosen(
    found: dict[str, dict[str, Any]], wanted: list[str], field: str, noun: str, kept: set[int]
) -> list[dict[str, Any]]:
    """The rows of ``wanted`` (from ``found``, by code) in the order given; an unknown code or a
    retired one (unless the activity already carries it: history is kept) is refused by name."""
    for code in wanted:
        row = found.get(code)
        if row is None:
            raise InvalidInput(f"{code} is not a {noun} the register knows", field=field)
        if not row["active"] and row["id"] not in kept:
            raise InvalidInput(f"The {noun} {code} has been retired: choose another", field=field)
    return [found[code] for code in wanted]


async def _chosen_items(
    table: Any, codes: Sequence[str], field: str, noun: str, kept: set[int]
) -> list[dict[str, Any]]:
    """The rows (id, code, name, sort order) of ``codes``, checked as :func:`_check_chosen`
    checks them."""
    wanted = _wanted(codes)
    if not wanted:
        return []
    rows = await table.select(
        table.id, table.code, table.name, table.sort_order, table.active
    ).where(table.code.is_in(wanted))
    return _check_chosen({row["code"]: row for row in rows}, wanted, field, noun, kept)


async def _codes_to_ids(
    table: Any, codes: Sequence[str], field: str, noun: str, kept: set[int]
) -> list[int]:
    """The ids of ``codes``, checked as :func:`_chosen_items` checks them."""
    return [row["id"] for row in await _chosen_items(table, codes, field, noun, kept)]


def _named_in_order(rows: list[dict[str, Any]]) -> list[Named]:
    """Reference items as a record lists them (by their sort order, as ``_records`` reads)."""
    return [Named(row["code"], row["name"]) for row in sorted(rows, key=lambda r: r["sort_order"])]


def _check_date(owner: Owner, done_on: date) -> None:
    today = clock.now().date()
    if done_on > today:
        raise InvalidInput("The date of the activity must be today or in the past", field="done_on")
    if done_on < owner.registered_since:
        raise InvalidInput(
            "The date of the activity must be on or after the day you joined the register, "
            f"{owner.registered_since.day} {owner.registered_since:%B %Y}",
            field="done_on",
        )


# --- reading ------------------------------------------------------------------------------


async def _own_row(owner: Owner, activity_id: int) -> dict[str, Any]:
    row = (
        await Activity.select()
        .where(Activity.id == activity_id, Activity.practitioner == owner.practitioner_id)
        .first()
    )
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


async def _named_by_activity(link: Any, item: Any, ids: list[int]) -> dict[int, list[Named]]:
    """The reference items (practice areas or standards) each activity names, in list order."""
    found: dict[int, list[Named]] = {}
    for row in (
        await link.select(link.activity, item.code.as_alias("code"), item.name.as_alias("name"))
        .where(link.activity.is_in(ids))
        .order_by(item.sort_order)
    ):
        found.setdefault(row["activity"], []).append(Named(row["code"], row["name"]))
    return found


async def _records(
    rows: list[dict[str, Any]], calendar: RenewalCalendar, declared: set[int]
) -> list[ActivityRecord]:
    """Activities with their areas, standards and files: four reads however many there are."""
    ids = [row["id"] for row in rows]
    if not ids:
        return []
    areas = await _named_by_activity(ActivityPracticeArea, ActivityPracticeArea.practice_area, ids)
    standards = await _named_by_activity(ActivityStandard, ActivityStandard.standard, ids)
    files: dict[int, list[AttachedFile]] = {}
    for link in (
        await ActivityEvidence.select(
            ActivityEvidence.id,
            ActivityEvidence.activity,
            ActivityEvidence.file.id.as_alias("file_id"),
            ActivityEvidence.file.sha256.as_alias("sha256"),
            ActivityEvidence.file.filename.as_alias("filename"),
            ActivityEvidence.file.content_type.as_alias("content_type"),
            ActivityEvidence.file.size.as_alias("size"),
        )
        .where(ActivityEvidence.activity.is_in(ids))
        .order_by(ActivityEvidence.id)
    ):
        stored = evidence.StoredFile(
            link["file_id"], link["sha256"], link["filename"], link["content_type"], link["size"]
        )
        files.setdefault(link["activity"], []).append(AttachedFile(link["id"], stored))
    records = []
    for row in rows:
        done_on = packs.as_date(row["done_on"])
        year = registration_year(done_on, calendar)
        records.append(
            ActivityRecord(
                id=row["id"],
                title=row["title"],
                done_on=done_on,
                registration_year=year,
                quarters=row["quarters"],
                activity_type=ActivityType(row["activity_type"]),
                participatory=bool(row["participatory"]),
                practice_areas=areas.get(row["id"], []),
                standards=standards.get(row["id"], []),
                what_happened=row["what_happened"],
                what_learned=row["what_learned"],
                practice_changed=row["practice_changed"],
                reflective=bool(row["reflective"]),
                peer_reflection=bool(row["peer_reflection"]),
                peer_role=row["peer_role"],
                evidence=files.get(row["id"], []),
                rule_pack=row["rule_pack"],
                editable=year not in declared,
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
        )
    return records


async def records_of(rows: list[dict[str, Any]], calendar: RenewalCalendar) -> list[ActivityRecord]:
    """Activity rows read by someone other than their owner (a subject access export)."""
    return await _records(rows, calendar, set())


async def get(account_id: int, activity_id: int, calendar: RenewalCalendar) -> ActivityRecord:
    owner = await owner_of(account_id)
    row = await _own_row(owner, activity_id)
    return (await _records([row], calendar, await declared_years(owner)))[0]


async def chosen_for_audit(
    practitioner_id: int, activity_ids: list[int], calendar: RenewalCalendar
) -> list[ActivityRecord]:
    """The activities a practitioner chose for their CPD audit profile, in the order chosen,
    for the assessor reading it (the practitioner's declared years do not matter here)."""
    if not activity_ids:
        return []
    rows = await Activity.select().where(
        Activity.id.is_in(activity_ids), Activity.practitioner == practitioner_id
    )
    found = {record.id: record for record in await _records(rows, calendar, set())}
    return [found[each] for each in activity_ids if each in found]


async def list_for(
    account_id: int, calendar: RenewalCalendar, *, year: int | None = None
) -> list[ActivityRecord]:
    """The practitioner's activities, newest first; one registration year's if ``year``."""
    owner = await owner_of(account_id)
    query = Activity.select().where(Activity.practitioner == owner.practitioner_id)
    if year is not None:
        first, last = year_bounds(year, calendar)
        query = query.where(Activity.done_on >= first, Activity.done_on <= last)
    rows = await query.order_by(Activity.done_on, ascending=False).order_by(
        Activity.id, ascending=False
    )
    return await _records(rows, calendar, await declared_years(owner))


# --- writing ------------------------------------------------------------------------------


CHANGE_REASON_NEEDED = (
    "Your CPD for the year to {last} was declared when you renewed: say why you are changing it now"
)
MAX_CHANGE_REASON = 2_000


async def _reason_if_declared(
    owner: Owner,
    done_on: date,
    calendar: RenewalCalendar,
    reason: str,
) -> str:
    """Once a year is declared at renewal, a change to its activities needs a reason, which the
    audit trail keeps with the change; "" for a year still open (no reason asked)."""
    year = registration_year(done_on, calendar)
    return _reason_for(year, year in await declared_years(owner), reason, calendar)


def _reason_for(year: int, declared: bool, reason: str, calendar: RenewalCalendar) -> str:
    """:func:`_reason_if_declared` for a year known to be ``declared`` or not."""
    if not declared:
        return ""
    reason = reason.strip()
    if not reason:
        last = year_bounds(year, calendar)[1]
        raise InvalidInput(
            CHANGE_REASON_NEEDED.format(last=f"{last.day} {last:%B %Y}"), field="change_reason"
        )
    if len(reason) > MAX_CHANGE_REASON:
        raise InvalidInput(
            f"The reason for the change must be {MAX_CHANGE_REASON:,} characters or fewer",
            field="change_reason",
        )
    return reason


def _declared_change(reason: str) -> dict[str, Any]:
    """What the audit trail adds to a change made after the year was declared."""
    return {"declared_year": True, "change_reason": reason} if reason else {}


async def _write_links(
    activity_id: int, area_ids: list[int], standard_ids: list[int], *, new: bool = False
) -> None:
    """The activity's practice areas and standards, replacing any it had (``new``: it has none
    yet, nothing to delete)."""
    if not new:
        await ActivityPracticeArea.delete().where(ActivityPracticeArea.activity == activity_id)
        await ActivityStandard.delete().where(ActivityStandard.activity == activity_id)
    if area_ids:
        await ActivityPracticeArea.insert(
            *(ActivityPracticeArea(activity=activity_id, practice_area=i) for i in area_ids)
        )
    if standard_ids:
        await ActivityStandard.insert(
            *(ActivityStandard(activity=activity_id, standard=i) for i in standard_ids)
        )


def _columns(data: ActivityIn, pack_id: int) -> dict[str, Any]:
    return {
        "title": data.title,
        "done_on": data.done_on,
        "quarters": int(data.hours * 4),
        "activity_type": data.activity_type.value,
        "participatory": data.participatory,
        "what_happened": data.what_happened,
        "what_learned": data.what_learned,
        "practice_changed": data.practice_changed,
        "reflective": _reflective(data),
        "peer_reflection": data.peer_reflection,
        "peer_role": data.peer_role,
        "rule_pack": pack_id,
    }


def _audited(
    columns: dict[str, Any], areas: Sequence[str], standards: Sequence[str]
) -> dict[str, Any]:
    """What the audit trail keeps of an activity: its facts, not its reflection's words."""
    kept = {
        key: str(value)
        for key, value in columns.items()
        if key not in ("what_happened", "what_learned", "practice_changed")
    }
    return {**kept, "practice_areas": sorted(areas), "standards": sorted(standards)}


async def record_for(owner: Owner, data: ActivityIn, calendar: RenewalCalendar) -> int:
    """Record an activity in ``owner``'s log (the practitioner's own call goes through
    ``record``; the demo seeder comes here for practitioners without an account)."""
    return (await _record(owner, data, calendar)).id


async def _record(owner: Owner, data: ActivityIn, calendar: RenewalCalendar) -> ActivityRecord:
    """Record an activity and answer it as ``get`` would, from what was written (every read
    here is one the checks need, nothing is read back)."""
    _check_date(owner, data.done_on)
    year = registration_year(data.done_on, calendar)
    declared = year in await declared_years(owner)
    reason = _reason_for(year, declared, data.change_reason, calendar)
    areas, standards = await _reference_items(data)
    pack = await packs.pack_on(data.done_on)
    return await _insert(owner, data, year, declared, reason, pack.id, areas, standards)


async def record(account_id: int, data: ActivityIn, calendar: RenewalCalendar) -> ActivityRecord:
    """The practitioner's own call (the API's and the page's write path): the owner with what
    the date decides (the year declared or not, the pack in force) and the reference items
    named (one read), then the write. On SQLite the read runs in the event loop's thread and the
    write is a short transaction. On PostgreSQL, where each statement is a round trip, the read
    and the write are one statement (:data:`RECORD_IF_SIMPLE`) when every check holds in SQL
    (the common case); when one does not it writes nothing, and the checks below, on what it
    read, refuse as they always have, or (a declared year, with a reason) the write is then
    :data:`INSERT_ACTIVITY_AND_ENTRY`."""
    year = registration_year(data.done_on, calendar)
    wanted_areas, wanted_standards = _wanted(data.practice_areas), _wanted(data.standards)
    if on_postgres():
        now = clock.now().astimezone(UTC)
        row = await _record_if_simple(account_id, data, year, wanted_areas, wanted_standards, now)
        if row is not None and row.get("activity") is not None:  # every check held, in SQL
            areas, standards = _checked_items(_items_of(row), wanted_areas, wanted_standards)
            columns = _columns(data, int(row["pack"]))
            return _written(int(row["activity"]), data, columns, year, False, areas, standards, now)
    else:
        row = await fetch_one_now(
            _owner_and_items_sqlite(len(wanted_areas), len(wanted_standards)),
            year,
            data.done_on,
            *wanted_areas,
            *wanted_standards,
            account_id,
        )
    if row is None:
        raise Conflict(NO_RECORD_YET)
    owner = Owner(
        account_id, row["practitioner"], row["id"], packs.as_date(row["registered_since"])
    )
    _check_date(owner, data.done_on)
    declared = bool(row["declared"])
    reason = _reason_for(year, declared, data.change_reason, calendar)
    areas, standards = _checked_items(_items_of(row), wanted_areas, wanted_standards)
    if row["pack"] is None:  # the migration's pack starts in 1900: only a broken database
        raise NotFound(f"No CPD rule pack is in force on {data.done_on.isoformat()}")
    return await _insert(owner, data, year, declared, reason, int(row["pack"]), areas, standards)


def _items_of(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The reference items named, as the owner's read answers them (JSON rows; NULL: none)."""
    return json.loads(row["items"]) if row["items"] is not None else []


# The owner of an account's CPD record, whether the registration year of the activity's date
# was declared at renewal, and the rule pack in force on that date: one read by indexed keys.
OWNER_FOR_ACTIVITY = (
    "SELECT e.id, e.practitioner, e.registered_since,"
    " EXISTS (SELECT 1 FROM register_renewal r"
    "  WHERE r.entry = e.id AND r.registration_year = {}) AS declared,"
    " (SELECT p.id FROM cpd_rule_pack p WHERE p.effective_from <= {}"
    "  ORDER BY p.effective_from DESC LIMIT 1) AS pack"
    " FROM register_entry e JOIN register_practitioner pr ON pr.id = e.practitioner"
    " WHERE pr.account = {} LIMIT 1"
)
ITEM_ROWS = (
    "SELECT 'practice_area' AS kind, id, code, name, sort_order, active FROM cpd_practice_area"
    " WHERE code {areas}"
    " UNION ALL SELECT 'standard', id, code, name, sort_order, active FROM cpd_standard"
    " WHERE code {standards}"
)
REFERENCE_ITEMS = ITEM_ROWS.format(areas="IN ({areas})", standards="IN ({standards})")
# PostgreSQL: the owner's read with the reference items named (as JSON rows) in one statement.
ITEMS_AS_JSON = (
    "json_agg(json_build_object('kind', i.kind, 'id', i.id, 'code', i.code,"
    " 'name', i.name, 'sort_order', i.sort_order, 'active', i.active))"
)
OWNER_AND_ITEMS = OWNER_FOR_ACTIVITY.replace(
    " FROM register_entry e",
    f", (SELECT {ITEMS_AS_JSON} FROM ("  # noqa: S608 - names, not input
    + ITEM_ROWS.format(areas="= ANY({}::text[])", standards="= ANY({}::text[])")
    + ") i) AS items FROM register_entry e",
)


@functools.lru_cache(maxsize=128)  # by the counts of codes, which the schema bounds
def _owner_and_items_sqlite(areas: int, standards: int) -> str:
    """:data:`OWNER_AND_ITEMS` for SQLite, whose lists of codes are ``IN`` lists of ``areas``
    and ``standards`` placeholders (an empty one ``IN (NULL)``, which matches nothing)."""
    items = ITEM_ROWS.format(
        areas=f"IN ({', '.join('{}' for _ in range(areas)) or 'NULL'})",
        standards=f"IN ({', '.join('{}' for _ in range(standards)) or 'NULL'})",
    )
    return OWNER_FOR_ACTIVITY.replace(
        " FROM register_entry e",
        ", (SELECT json_group_array(json_object("  # noqa: S608 - names, not input
        "'kind', i.kind, 'id', i.id, 'code', i.code, 'name', i.name,"
        f" 'sort_order', i.sort_order, 'active', i.active)) FROM ({items}) i) AS items"
        " FROM register_entry e",
    )


ACTIVITY_COLUMNS = (
    "practitioner",
    "rule_pack",
    "title",
    "done_on",
    "quarters",
    "activity_type",
    "participatory",
    "what_happened",
    "what_learned",
    "practice_changed",
    "reflective",
    "peer_reflection",
    "peer_role",
    "created_at",
    "updated_at",
)
INSERT_ACTIVITY = (
    f"INSERT INTO cpd_activity ({', '.join(ACTIVITY_COLUMNS)})"  # noqa: S608 - names, not input
    f" VALUES ({', '.join('{}' for _ in ACTIVITY_COLUMNS)}) RETURNING id"
)


async def _read_items(wanted_areas: list[str], wanted_standards: list[str]) -> list[dict[str, Any]]:
    """The rows of the practice areas and standards named: one read for both."""
    if not wanted_areas and not wanted_standards:
        return []
    # An empty IN () is not SQL: NULL matches nothing on either engine.
    sql = REFERENCE_ITEMS.format(
        areas=", ".join("{}" for _ in wanted_areas) or "NULL",
        standards=", ".join("{}" for _ in wanted_standards) or "NULL",
    )
    return await fetch_all_now(sql, *wanted_areas, *wanted_standards)


def _checked_items(
    rows: list[dict[str, Any]], wanted_areas: list[str], wanted_standards: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The practice areas and the standards the activity names, checked (known, not retired),
    in the order given."""
    found: dict[str, dict[str, dict[str, Any]]] = {"practice_area": {}, "standard": {}}
    for row in rows:
        found[row["kind"]][row["code"]] = row
    areas = _check_chosen(
        found["practice_area"], wanted_areas, "practice_areas", "practice area", set()
    )
    standards = _check_chosen(
        found["standard"], wanted_standards, "standards", "standard of CPD", set()
    )
    return areas, standards


async def _reference_items(
    data: ActivityIn,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The practice areas and the standards the activity names, checked, in the order given."""
    wanted_areas, wanted_standards = _wanted(data.practice_areas), _wanted(data.standards)
    rows = await _read_items(wanted_areas, wanted_standards)
    return _checked_items(rows, wanted_areas, wanted_standards)


def _link_rows(table: str, column: str, count: int) -> str:
    """One multi-row insert of an activity's links (``{}`` placeholders, two a row)."""
    values = ", ".join("({}, {})" for _ in range(count))
    return f"INSERT INTO {table} (activity, {column}) VALUES {values}"  # noqa: S608 - names


async def _insert(
    owner: Owner,
    data: ActivityIn,
    year: int,
    declared: bool,
    reason: str,
    pack_id: int,
    areas: list[dict[str, Any]],
    standards: list[dict[str, Any]],
) -> ActivityRecord:
    """Write a checked activity, its links and its audit entry in one transaction, and answer
    it as ``get`` would, from what was written."""
    columns = _columns(data, pack_id)
    now = clock.now().astimezone(UTC)
    values = {**columns, "practitioner": owner.practitioner_id, "created_at": now}
    values["updated_at"] = now
    audited = {
        **_audited(columns, data.practice_areas, data.standards),
        **_declared_change(reason),
    }
    if on_postgres():
        activity_id = await _insert_in_one_statement(values, areas, standards, audited)
    else:
        activity_id = await _insert_in_transaction(values, areas, standards, audited)
    return _written(activity_id, data, columns, year, declared, areas, standards, now)


def _written(
    activity_id: int,
    data: ActivityIn,
    columns: dict[str, Any],
    year: int,
    declared: bool,
    areas: list[dict[str, Any]],
    standards: list[dict[str, Any]],
    now: datetime,
) -> ActivityRecord:
    """An activity just written (its ``columns`` at ``now``), as ``get`` would answer it."""
    return ActivityRecord(
        id=activity_id,
        title=columns["title"],
        done_on=data.done_on,
        registration_year=year,
        quarters=columns["quarters"],
        activity_type=data.activity_type,
        participatory=data.participatory,
        practice_areas=_named_in_order(areas),
        standards=_named_in_order(standards),
        what_happened=data.what_happened,
        what_learned=data.what_learned,
        practice_changed=data.practice_changed,
        reflective=columns["reflective"],
        peer_reflection=data.peer_reflection,
        peer_role=data.peer_role,
        evidence=[],
        rule_pack=columns["rule_pack"],
        editable=not declared,
        created_at=now,
        updated_at=now,
    )


async def _insert_in_transaction(
    values: dict[str, Any],
    areas: list[dict[str, Any]],
    standards: list[dict[str, Any]],
    audited: dict[str, Any],
) -> int:
    """The activity, its links (one multi-row insert a table) and its audit entry, in one
    short transaction; the new activity's id."""
    async with short_transaction():
        inserted = await fetch_one(INSERT_ACTIVITY, *(values[c] for c in ACTIVITY_COLUMNS))
        assert inserted is not None  # RETURNING always answers a row
        activity_id = int(inserted["id"])
        for table, column, chosen in (
            ("cpd_activity_practice_area", "practice_area", areas),
            ("cpd_activity_standard", "standard", standards),
        ):
            if chosen:
                pairs = [value for row in chosen for value in (activity_id, row["id"])]
                await fetch_one(_link_rows(table, column, len(chosen)), *pairs)
        await audit.record("cpd.activity_recorded", TARGET, activity_id, after=audited)
    return activity_id


# PostgreSQL: the activity, its links and its audit entry as one statement, so one round trip
# and one transaction (a statement is its own). The entry's target is the new activity's id,
# which the database's append (audit.APPEND_ARGUMENTS) hashes as it stores it.
INSERT_ACTIVITY_AND_ENTRY = (
    f"WITH activity AS ({INSERT_ACTIVITY}),"  # noqa: S608 - names, not input
    " areas AS (INSERT INTO cpd_activity_practice_area (activity, practice_area)"
    " SELECT activity.id, item FROM activity, unnest({}::integer[]) AS item),"
    " standards AS (INSERT INTO cpd_activity_standard (activity, standard)"
    " SELECT activity.id, item FROM activity, unnest({}::integer[]) AS item)"
    " SELECT activity.id FROM activity, audit_append("
    + ", ".join(
        "activity.id::text" if name == "target_id" else "{}" for name in audit.APPEND_ARGUMENTS
    )
    + ")"
)


async def _insert_in_one_statement(
    values: dict[str, Any],
    areas: list[dict[str, Any]],
    standards: list[dict[str, Any]],
    audited: dict[str, Any],
) -> int:
    """:func:`_insert_in_transaction` on PostgreSQL, as :data:`INSERT_ACTIVITY_AND_ENTRY`."""
    entry, _ = audit.entry_values("cpd.activity_recorded", TARGET, "", None, audited)
    appended = audit.database_append(entry, None)
    # Sent with the other activities logged at the same moment: one commit for them all.
    inserted = await fetch_one_batched(
        INSERT_ACTIVITY_AND_ENTRY,
        *(values[c] for c in ACTIVITY_COLUMNS),
        [row["id"] for row in areas],
        [row["id"] for row in standards],
        *(appended[name] for name in audit.APPEND_ARGUMENTS if name != "target_id"),
    )
    assert inserted is not None  # RETURNING always answers a row
    return int(inserted["id"])


# Stands for the pack's id in the audited values hashed before the pack is known (it is read
# in the same call): the database puts the id where the mark is, in the changes and in the
# hashed text, which are then what hashing them with the id would have given (an id is digits,
# spelled as itself in JSON, and nothing else in either depends on it).
PACK_MARK = "<the rule pack in force>"
# The arguments of the database's cpd_record_if_simple (migration 2026-11-28T11:40:00), in order.
RECORD_ARGUMENTS = (
    "year",
    "done_on",
    "today",
    "account",
    "practice_areas",
    "standards",
    "title",
    "quarters",
    "activity_type",
    "participatory",
    "what_happened",
    "what_learned",
    "practice_changed",
    "reflective",
    "peer_reflection",
    "peer_role",
    "at",
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "changes_before",
    "changes_after",
    "client_address",
    "request_id",
    "head_before",
    "head_after",
    "mid",
    "tail",
)
# PostgreSQL: OWNER_AND_ITEMS and INSERT_ACTIVITY_AND_ENTRY in one call, one round trip, made a
# function so that its plan is kept (the pool's connections plan every statement afresh, ~400 µs
# of PostgreSQL's CPU for this one). It writes the activity, its links and its audit entry only
# if every check of ``record`` holds: an owner, the date's year not declared, a pack in force,
# the date neither before the owner joined nor after today, every item named known and active.
# Either way it answers the owner's row and the items as OWNER_AND_ITEMS does, with the new
# activity's id (NULL if none); with no owner, one row of NULLs (one row always, as
# fetch_one_batched needs).
RECORD_IF_SIMPLE = (
    "SELECT entry_id AS id, entry_practitioner AS practitioner,"  # noqa: S608 - names, not input
    " entry_registered_since AS registered_since, entry_declared AS declared, entry_pack AS pack,"
    " entry_items AS items, written_id AS activity"
    f" FROM cpd_record_if_simple({', '.join('{}' for _ in RECORD_ARGUMENTS)})"
)


async def _record_if_simple(
    account_id: int,
    data: ActivityIn,
    year: int,
    wanted_areas: list[str],
    wanted_standards: list[str],
    now: datetime,
) -> dict[str, Any] | None:
    """:data:`RECORD_IF_SIMPLE`'s row for ``record`` (None: the account has no record). The
    audit entry is hashed here as ``_insert`` hashes it for a year not declared (no reason), but
    with :data:`PACK_MARK` for the pack; if what was typed holds the mark, nothing is guessed:
    the row is OWNER_AND_ITEMS's, and ``record`` writes as for any case not simple."""
    columns = {**_columns(data, 0), "rule_pack": PACK_MARK}
    audited = _audited(columns, data.practice_areas, data.standards)
    entry, _ = audit.entry_values("cpd.activity_recorded", TARGET, "", None, audited)
    appended = audit.database_append(entry, None)
    changes = appended["changes"].split(PACK_MARK)
    head = appended["head"].split(PACK_MARK)
    if len(changes) != 2 or len(head) != 2:
        return await fetch_one_by_key(
            OWNER_AND_ITEMS, year, data.done_on, wanted_areas, wanted_standards, account_id
        )
    given = {
        **appended,
        **columns,
        "year": year,
        "today": clock.now().date(),
        "account": account_id,
        "practice_areas": wanted_areas,
        "standards": wanted_standards,
        "at": now,
        "changes_before": changes[0],
        "changes_after": changes[1],
        "head_before": head[0],
        "head_after": head[1],
    }
    # Sent with the other activities logged at the same moment: one commit for them all.
    row = await fetch_one_batched(RECORD_IF_SIMPLE, *(given[name] for name in RECORD_ARGUMENTS))
    assert row is not None  # one row always
    return row if row["id"] is not None else None


async def update(
    account_id: int, activity_id: int, data: ActivityIn, calendar: RenewalCalendar
) -> ActivityRecord:
    owner = await owner_of(account_id)
    async with transaction():
        await lock_row(Activity, activity_id)
        before = (await _records([await _own_row(owner, activity_id)], calendar, set()))[0]
        reason = await _reason_if_declared(owner, before.done_on, calendar, data.change_reason)
        _check_date(owner, data.done_on)
        reason = reason or await _reason_if_declared(
            owner, data.done_on, calendar, data.change_reason
        )
        kept_areas = await _ids_of(PracticeArea, [a.code for a in before.practice_areas])
        kept_standards = await _ids_of(Standard, [s.code for s in before.standards])
        area_ids = await _codes_to_ids(
            PracticeArea, data.practice_areas, "practice_areas", "practice area", kept_areas
        )
        standard_ids = await _codes_to_ids(
            Standard, data.standards, "standards", "standard of CPD", kept_standards
        )
        pack = await packs.pack_on(data.done_on)
        columns = _columns(data, pack.id)
        await Activity.update(
            {**columns, "updated_at": clock.now().astimezone(UTC)}  # type: ignore[dict-item]
        ).where(Activity.id == activity_id)
        await _write_links(activity_id, area_ids, standard_ids)
        await audit.record(
            "cpd.activity_changed",
            TARGET,
            activity_id,
            before={
                "title": before.title,
                "done_on": str(before.done_on),
                "quarters": str(before.quarters),
            },
            after={
                **_audited(columns, data.practice_areas, data.standards),
                **_declared_change(reason),
            },
        )
    return await get(account_id, activity_id, calendar)


async def _ids_of(table: Any, codes: Sequence[str]) -> set[int]:
    if not codes:
        return set()
    rows = await table.select(table.id).where(table.code.is_in(list(codes)))
    return {row["id"] for row in rows}


async def delete(
    account_id: int, activity_id: int, calendar: RenewalCalendar, *, reason: str = ""
) -> None:
    owner = await owner_of(account_id)
    async with transaction():
        await lock_row(Activity, activity_id)
        row = await _own_row(owner, activity_id)
        reason = await _reason_if_declared(owner, packs.as_date(row["done_on"]), calendar, reason)
        await Activity.delete().where(Activity.id == activity_id)
        await audit.record(
            "cpd.activity_removed",
            TARGET,
            activity_id,
            before={
                "title": row["title"],
                "done_on": str(row["done_on"]),
                "quarters": str(row["quarters"]),
            },
            after=_declared_change(reason) or None,
        )


# --- evidence -----------------------------------------------------------------------------


async def attach_evidence(
    account_id: int,
    activity_id: int,
    filename: str,
    data: bytes | None,
    data_dir: Path,
    calendar: RenewalCalendar,
    *,
    reason: str = "",
) -> ActivityRecord:
    """Check a file by its content, keep it (once, by its hash) and attach it; a refused file
    leaves no trace."""
    owner = await owner_of(account_id)
    row = await _own_row(owner, activity_id)
    reason = await _reason_if_declared(owner, packs.as_date(row["done_on"]), calendar, reason)
    checked = evidence.check_upload(filename, data, missing=EVIDENCE_MISSING)

    async def attach(stored: evidence.StoredFile) -> None:
        await ActivityEvidence.insert(
            ActivityEvidence(
                activity=activity_id, file=stored.id, added_at=clock.now().astimezone(UTC)
            )
        )
        await audit.record(
            "cpd.evidence_uploaded",
            TARGET,
            activity_id,
            after={
                "file": stored.id,
                "sha256": stored.sha256,
                "size": stored.size,
                **_declared_change(reason),
            },
        )

    await evidence.store(data_dir, checked, uploaded_by=account_id, then=attach)
    return await get(account_id, activity_id, calendar)


async def remove_evidence(
    account_id: int,
    activity_id: int,
    attachment_id: int,
    calendar: RenewalCalendar,
    *,
    reason: str = "",
) -> ActivityRecord:
    owner = await owner_of(account_id)
    row = await _own_row(owner, activity_id)
    reason = await _reason_if_declared(owner, packs.as_date(row["done_on"]), calendar, reason)
    async with transaction():
        link = (
            await ActivityEvidence.select(ActivityEvidence.id, ActivityEvidence.file)
            .where(ActivityEvidence.id == attachment_id, ActivityEvidence.activity == activity_id)
            .first()
        )
        if link is None:
            raise NotFound("There is no such file on this activity")
        await ActivityEvidence.delete().where(ActivityEvidence.id == attachment_id)
        await audit.record(
            "cpd.evidence_removed",
            TARGET,
            activity_id,
            before={"file": link["file"]},
            after=_declared_change(reason) or None,
        )
    return await get(account_id, activity_id, calendar)


async def evidence_file(
    viewer_id: int, attachment_id: int, *, cpd_staff: bool, activity_id: int | None = None
) -> evidence.StoredFile:
    """An attached file for its owner or CPD staff (anyone else: not found), its viewing
    written to the audit trail; with ``activity_id``, only a file of that activity."""
    query = ActivityEvidence.select(
        ActivityEvidence.activity,
        ActivityEvidence.file,
        ActivityEvidence.activity._.practitioner._.account.as_alias("owner"),
    ).where(ActivityEvidence.id == attachment_id)
    link = await query.first()
    if (
        link is None
        or (not cpd_staff and link["owner"] != viewer_id)
        or (activity_id is not None and link["activity"] != activity_id)
    ):
        raise NotFound("There is no such file")
    stored = await evidence.get(link["file"])
    await audit.record(
        "cpd.evidence_viewed",
        TARGET,
        link["activity"],
        after={"file": stored.id, "sha256": stored.sha256, "by_cpd_staff": cpd_staff},
    )
    return stored
