"""Register rules: entries and their numbers, derived status, history and state.

No HTTP here. Every change runs in one transaction with its history row, its audit entry and
the rewritten public document, so what the public sees follows the register at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from registry.audit import service as audit
from registry.audit.context import current_actor
from registry.core import clock
from registry.core.bulk import fetch_all, insert_rows, marks
from registry.db import fetch_one_by_key, lock_row, transaction
from registry.errors import Conflict, InvalidInput, NotFound
from registry.register import emails, fields, hooks, names, numbers
from registry.register.schemas import (
    REMOVAL_REASONS,
    STATUS_LABELS,
    CodeAndName,
    PublicEntry,
    PublicQualification,
    PublicRestriction,
)
from registry.register.tables import (
    DesignatedRole,
    EntryHistory,
    EntryQualification,
    EntryRole,
    EntryState,
    NameKey,
    NumberSequence,
    Practitioner,
    QualificationType,
    Region,
    RegisterEntry,
    RegisterStatus,
)

# --- reference data -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class ReferenceData:
    roles: dict[str, Reference]
    regions: dict[str, Reference]
    qualifications: dict[str, Reference]

    def role(self, code: str) -> Reference:
        return _known(self.roles, code, "role", "designated role")

    def region(self, code: str) -> Reference:
        return _known(self.regions, code, "region", "region")

    def qualification(self, code: str) -> Reference:
        return _known(self.qualifications, code, "qualification_type", "qualification type")


def _known(table: Mapping[str, Reference], code: str, field_name: str, what: str) -> Reference:
    if code not in table:
        raise InvalidInput(
            f"'{code}' is not a {what} code. Use one of: {', '.join(table)}", field=field_name
        )
    return table[code]


async def reference_data(*, active_only: bool = True) -> ReferenceData:
    async def load(table: Any) -> dict[str, Reference]:
        query = table.select(table.id, table.code, table.name).order_by(table.sort_order)
        if active_only:
            query = query.where(table.active.eq(True))
        return {r["code"]: Reference(r["id"], r["code"], r["name"]) for r in await query}

    return ReferenceData(
        await load(DesignatedRole), await load(Region), await load(QualificationType)
    )


# --- entries ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)  # an import holds one per row
class QualificationIn:
    code: str
    awarded_on: date | None = None
    institution: str = ""


@dataclass(frozen=True, slots=True)  # an import holds one per row
class PersonIn:
    given_names: str
    family_name: str
    date_of_birth: date
    email: str = ""
    phone: str = ""
    address: str = ""
    postcode: str = ""
    employer: str = ""


@dataclass(frozen=True, slots=True)  # an import holds one per row
class EntryIn:
    person: PersonIn
    role_codes: Sequence[str]
    region_code: str
    registered_since: date
    registered_until: date
    qualifications: Sequence[QualificationIn] = ()
    state: EntryState = EntryState.registered
    account_id: int | None = None
    registration_number: str | None = None  # kept when imported from an earlier register


@dataclass(frozen=True)
class Entry:
    id: int
    practitioner_id: int
    registration_number: str
    status: RegisterStatus
    state: EntryState
    version: int
    public: PublicEntry
    account_id: int | None = None
    email: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def check_person(
    person: PersonIn, today: date, qualifications: Sequence[QualificationIn] = ()
) -> None:
    """The rules every route into the register applies to a person's details and the dates
    their qualifications were awarded."""
    problems = {
        **fields.name_problems(person.given_names, person.family_name, fields.STAFF),
        **fields.date_of_birth_problems(person.date_of_birth, today, fields.STAFF),
    }
    for qualification in qualifications:
        awarded = qualification.awarded_on
        if awarded and (
            wrong := fields.awarded_on_problem(awarded, person.date_of_birth, today, fields.STAFF)
        ):
            problems.setdefault("qualification_awarded_on", wrong)
    fields.refuse(problems)


def check_names(given_names: str, family_name: str) -> None:
    fields.refuse(fields.name_problems(given_names, family_name, fields.STAFF))


def _resolved(
    details: EntryIn, reference: ReferenceData, today: date
) -> tuple[list[Reference], Reference, list[tuple[Reference, QualificationIn]]]:
    """The rules for a new entry, and its roles (each once), region and qualifications."""
    check_person(details.person, today, details.qualifications)
    roles = [reference.role(code) for code in dict.fromkeys(details.role_codes)]
    if not roles:
        raise InvalidInput("Choose at least one designated role", field="roles")
    region = reference.region(details.region_code)
    qualifications = [(reference.qualification(q.code), q) for q in details.qualifications]
    if details.registered_until < details.registered_since:
        raise InvalidInput(
            "Registered until must not be before registered since", field="registered_until"
        )
    return roles, region, qualifications


async def create_entry(
    details: EntryIn, *, reason: str, reference: ReferenceData | None = None
) -> Entry:
    """Put a person on the register with a new number (or the one they had, when imported).

    ``reference`` saves loading the reference data again when one caller creates many entries.
    """
    today = clock.now().date()
    reference = reference or await reference_data()
    roles, region, qualifications = _resolved(details, reference, today)
    moment = clock.now().astimezone(UTC)
    person = details.person
    async with transaction():
        number = (
            numbers.parse_registration_number(details.registration_number)
            if details.registration_number
            else await _next_number()
        )
        if await RegisterEntry.exists().where(RegisterEntry.registration_number == number):
            raise Conflict(f"{number} is already on the register", field="registration_number")
        search_name = names.search_name(person.given_names, person.family_name)
        practitioner = await Practitioner.insert(
            Practitioner(
                account=details.account_id,
                given_names=person.given_names.strip(),
                family_name=person.family_name.strip(),
                search_name=search_name,
                date_of_birth=person.date_of_birth,
                email=person.email.strip().casefold(),
                phone=person.phone.strip(),
                address=person.address.strip(),
                postcode=person.postcode.strip().upper(),
                employer=person.employer.strip(),
                created_at=moment,
            )
        ).returning(Practitioner.id)
        inserted = await RegisterEntry.insert(
            RegisterEntry(
                practitioner=practitioner[0]["id"],
                registration_number=number,
                region=region.id,
                state=details.state.value,
                status=details.state.value,
                registered_since=details.registered_since,
                registered_until=details.registered_until,
                status_changed_at=moment,
                updated_at=moment,
            )
        ).returning(RegisterEntry.id)
        entry_id = inserted[0]["id"]
        await EntryRole.insert(*[EntryRole(entry=entry_id, role=role.id) for role in roles])
        await _write_name_keys(entry_id, search_name, region.id, details.state.value)
        if qualifications:
            await EntryQualification.insert(
                *[
                    EntryQualification(
                        entry=entry_id,
                        qualification_type=kind.id,
                        awarded_on=q.awarded_on,
                        institution=q.institution.strip(),
                    )
                    for kind, q in qualifications
                ]
            )
        entry = await refresh_entry(entry_id, today, count_as_change=False)
        await record_change(
            entry_id, "created", {}, {"status": entry.status.value, "number": number}, reason
        )
        await audit.record(
            "register.entry_created",
            "register_entry",
            number,
            after={
                "status": entry.status.value,
                "region": region.code,
                "roles": [r.code for r in roles],
            },
        )
        await hooks.entry_changed(
            hooks.EntryChange(
                entry_id=entry_id,
                registration_number=number,
                previous_status="",
                status=entry.status.value,
                changed_at=moment,
                cause=hooks.CREATED,
            )
        )
    return entry


@dataclass(frozen=True, slots=True)
class NewEntry:
    """One entry for :func:`create_entries`, and the reason its history gives."""

    details: EntryIn
    reason: str


PRACTITIONER_COLUMNS = (
    "account",
    "given_names",
    "family_name",
    "search_name",
    "date_of_birth",
    "email",
    "phone",
    "address",
    "postcode",
    "employer",
    "created_at",
)
ENTRY_COLUMNS = (
    "practitioner",
    "registration_number",
    "region",
    "state",
    "status",
    "registered_since",
    "registered_until",
    "status_changed_at",
    "updated_at",
    "version",
    "public_document",
)


async def create_entries(
    batch: Sequence[NewEntry], *, reference: ReferenceData | None = None
) -> list[str]:
    """:func:`create_entry` for each of ``batch``, all or none, in one transaction (the
    caller's, when there is one); their registration numbers, in order.

    Each entry gets exactly what :func:`create_entry` gives one (its rows, search keys,
    ``created`` history, audit entry and the change subscribers' work), written a statement per
    table for the whole batch rather than some twenty per entry, and the change told to every
    subscriber at once (:func:`hooks.entries_changed`). A number taken already, by the register
    or twice in the batch, refuses the whole batch (:class:`Conflict`, or the database's own
    refusal): a caller that wants the rest in creates each entry on its own then.
    """
    if not batch:
        return []
    today = clock.now().date()
    reference = reference or await reference_data()
    resolved = [_resolved(item.details, reference, today) for item in batch]
    async with transaction():
        numbers_given = [
            numbers.parse_registration_number(item.details.registration_number)
            if item.details.registration_number
            else None
            for item in batch
        ]
        given = [number for number in numbers_given if number]
        if given and (taken := await _numbers_taken(given)):
            number = sorted(taken)[0]
            raise Conflict(f"{number} is already on the register", field="registration_number")
        fresh = iter(await _next_numbers(numbers_given.count(None), set(given)))
        entry_numbers = [number or next(fresh) for number in numbers_given]
        moment = clock.now().astimezone(UTC)
        people = [
            (
                item.details.account_id,
                item.details.person.given_names.strip(),
                item.details.person.family_name.strip(),
                names.search_name(item.details.person.given_names, item.details.person.family_name),
                item.details.person.date_of_birth,
                item.details.person.email.strip().casefold(),
                item.details.person.phone.strip(),
                item.details.person.address.strip(),
                item.details.person.postcode.strip().upper(),
                item.details.person.employer.strip(),
                moment,
            )
            for item in batch
        ]
        returned = await insert_rows(
            Practitioner, PRACTITIONER_COLUMNS, people, returning=("id", *PRACTITIONER_COLUMNS[:-1])
        )
        # Matched by every value written: two identical people in one batch are interchangeable.
        ids: dict[tuple[str, ...], list[int]] = {}
        for row in returned:
            ids.setdefault(_person_key(row[c] for c in PRACTITIONER_COLUMNS[:-1]), []).append(
                int(row["id"])
            )
        sort_order = await _role_order()
        documents: list[PublicEntry] = []
        entry_rows = []
        for item, (roles, region, qualifications), number, person in zip(
            batch, resolved, entry_numbers, people, strict=True
        ):
            status = derive_status(item.details.state, ())
            public = _public(
                {
                    "registration_number": number,
                    "given_names": person[1],
                    "family_name": person[2],
                    "region_code": region.code,
                    "region_name": region.name,
                    "registered_since": item.details.registered_since,
                    "registered_until": item.details.registered_until,
                },
                [(r.code, r.name) for r in sorted(roles, key=lambda r: (sort_order[r.id], r.id))],
                [(kind.name, q.awarded_on) for kind, q in qualifications],
                status,
                (),
                moment.date() if status in REMOVAL_REASONS else None,
                moment,
            )
            documents.append(public)
            entry_rows.append(
                (
                    ids[_person_key(person[:-1])].pop(),
                    number,
                    region.id,
                    item.details.state.value,
                    status.value,
                    item.details.registered_since,
                    item.details.registered_until,
                    moment,
                    moment,
                    1,
                    public.model_dump_json(),
                )
            )
        inserted = await insert_rows(
            RegisterEntry, ENTRY_COLUMNS, entry_rows, returning=("id", "registration_number")
        )
        entry_ids = {row["registration_number"]: int(row["id"]) for row in inserted}
        in_order = [entry_ids[number] for number in entry_numbers]
        await insert_rows(
            EntryRole,
            ("entry", "role"),
            [
                (entry_id, role.id)
                for entry_id, (roles, _, _) in zip(in_order, resolved, strict=True)
                for role in roles
            ],
        )
        await insert_rows(
            NameKey,
            ("key", "name", "entry", "region", "status"),
            [
                (key, person[3], entry_id, row[2], row[4])
                for entry_id, person, row in zip(in_order, people, entry_rows, strict=True)
                for key in sorted(names.search_keys(person[3]))
            ],
        )
        await insert_rows(
            EntryQualification,
            ("entry", "qualification_type", "awarded_on", "institution"),
            [
                (entry_id, kind.id, q.awarded_on, q.institution.strip())
                for entry_id, (_, _, qualifications) in zip(in_order, resolved, strict=True)
                for kind, q in qualifications
            ],
        )
        # No order is in force on an entry just made; asked all the same, as refresh_entry does.
        restricted = await hooks.restrictions_in_force(in_order, today)
        for entry_id, restrictions in restricted.items():
            if restrictions:
                await refresh_entry(entry_id, today, count_as_change=False)
        await record_changes(
            [
                Change(
                    entry_id,
                    "created",
                    {},
                    {"status": public.status.value, "number": public.registration_number},
                    item.reason,
                )
                for entry_id, public, item in zip(in_order, documents, batch, strict=True)
            ]
        )
        await audit.record_many(
            [
                audit.Record(
                    "register.entry_created",
                    "register_entry",
                    public.registration_number,
                    after={
                        "status": public.status.value,
                        "region": region.code,
                        "roles": [r.code for r in roles],
                    },
                )
                for public, (roles, region, _) in zip(documents, resolved, strict=True)
            ]
        )
        await hooks.entries_changed(
            [
                hooks.EntryChange(
                    entry_id=entry_id,
                    registration_number=public.registration_number,
                    previous_status="",
                    status=public.status.value,
                    changed_at=moment,
                    cause=hooks.CREATED,
                )
                for entry_id, public in zip(in_order, documents, strict=True)
            ]
        )
    return entry_numbers


def _person_key(values: Iterable[Any]) -> tuple[str, ...]:
    # Dates come back from SQLite's driver as dates or as text, by path: compared as text.
    return tuple(
        "" if v is None else v.isoformat() if isinstance(v, date) else str(v) for v in values
    )


async def _role_order() -> dict[int, int]:
    """Each designated role's sort order, the order a public entry lists roles in."""
    rows = await fetch_all("SELECT id, sort_order FROM register_role")
    return {int(row["id"]): int(row["sort_order"]) for row in rows}


async def _numbers_taken(wanted: Sequence[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = await fetch_all(
            "SELECT registration_number FROM register_entry"  # noqa: S608
            f" WHERE registration_number IN ({marks(len(chunk))})",
            *chunk,
        )
        taken.update(row["registration_number"] for row in rows)
    return taken


async def _next_numbers(count: int, reserved: set[str]) -> list[str]:
    """:func:`_next_number` ``count`` times: the sequence moved on once for all of them, and the
    numbers the register (or ``reserved``, the batch's own) holds already stepped over."""
    found: list[str] = []
    while len(found) < count:
        wanted = count - len(found)
        rows = await NumberSequence.raw(
            "UPDATE register_number_sequence SET next_value = next_value + {}"
            " WHERE name = 'registration' RETURNING next_value - {} AS serial",
            wanted,
            wanted,
        )
        first = int(rows[0]["serial"])
        candidates = [numbers.registration_number(first + n) for n in range(wanted)]
        taken = await _numbers_taken(candidates) | (reserved & set(candidates))
        found += [number for number in candidates if number not in taken]
    return found


async def _next_number() -> str:
    # One row, updated in the caller's transaction: concurrent approvals queue on its lock
    # (PostgreSQL) or on the write lock (SQLite), so no two can take the same serial.
    while True:
        rows = await NumberSequence.raw(
            "UPDATE register_number_sequence SET next_value = next_value + 1"
            " WHERE name = 'registration' RETURNING next_value - 1 AS serial"
        )
        number = numbers.registration_number(int(rows[0]["serial"]))
        # An entry imported with its earlier number may hold this one already: take the next.
        if not await RegisterEntry.exists().where(RegisterEntry.registration_number == number):
            return number


async def _write_name_keys(entry_id: int, search_name: str, region: int, status: str) -> None:
    # Written with the name, here, in its transaction; ``search`` reads them and never writes.
    keys = names.search_keys(search_name)
    if keys:
        # One statement of plain values: an import writes some 25 keys for each entry.
        values = ", ".join("({}, {}, {}, {}, {})" for _ in keys)
        await NameKey.raw(
            f"INSERT INTO register_name_key (key, name, entry, region, status) VALUES {values}",  # noqa: S608
            *[v for key in sorted(keys) for v in (key, search_name, entry_id, region, status)],
        )


async def refresh_entry(
    entry_id: int, today: date, *, count_as_change: bool = True, cause: str = ""
) -> Entry:
    """Derive the status from the entry and the orders in force, and rewrite the public entry.

    Call it, inside the transaction, after anything that may change what the public sees: it
    is the register's one change point, and tells every domain's change subscribers (with
    ``cause``, what happened, when the caller knows: see :class:`hooks.EntryChange`).
    """
    row = await _entry_row(entry_id)
    restrictions = (await hooks.restrictions_in_force([entry_id], today))[entry_id]
    status = derive_status(EntryState(row["state"]), restrictions)
    moment = clock.now().astimezone(UTC)
    previous = RegisterStatus(row["status"])
    document = await _public_entry(row, status, restrictions, moment)
    values: dict[Any, Any] = {
        RegisterEntry.status: status.value,
        RegisterEntry.public_document: document.model_dump_json(),
        RegisterEntry.updated_at: moment,
        RegisterEntry.version: RegisterEntry.version + (1 if count_as_change else 0),
    }
    if status is not previous:
        values[RegisterEntry.status_changed_at] = moment
        # Search filters on the status copied into the entry's name keys.
        await NameKey.update({NameKey.status: status.value}).where(NameKey.entry == entry_id)
    updated = (
        await RegisterEntry.update(values)
        .where(RegisterEntry.id == entry_id)
        .returning(RegisterEntry.version)
    )
    if status is not previous and count_as_change:
        await record_change(
            entry_id, "status_changed", {"status": previous.value}, {"status": status.value}, ""
        )
        await audit.record(
            "register.status_changed",
            "register_entry",
            row["registration_number"],
            before={"status": previous.value},
            after={"status": status.value},
        )
    if count_as_change:
        await hooks.entry_changed(
            hooks.EntryChange(
                entry_id=entry_id,
                registration_number=row["registration_number"],
                previous_status=previous.value,
                status=status.value,
                changed_at=moment,
                cause=cause,
            )
        )
    # Built from what was just written rather than read back: this runs for every change.
    return Entry(
        id=entry_id,
        practitioner_id=row["practitioner"],
        registration_number=row["registration_number"],
        status=status,
        state=EntryState(row["state"]),
        version=int(updated[0]["version"]),
        public=document,
        account_id=row["account_id"],
        email=row["email"],
    )


def derive_status(state: EntryState, restrictions: Iterable[hooks.Restriction]) -> RegisterStatus:
    """The status is never typed in: off the register is off it, whatever else; on it, a
    suspension outranks conditions, and a warning leaves the status as registered."""
    if state is not EntryState.registered:
        return RegisterStatus(state.value)
    kinds = {restriction.kind for restriction in restrictions}
    if kinds & hooks.SUSPENDING:
        return RegisterStatus.suspended
    if kinds & hooks.CONDITIONAL:
        return RegisterStatus.registered_with_conditions
    return RegisterStatus.registered


async def _public_entry(
    row: Mapping[str, Any],
    status: RegisterStatus,
    restrictions: Sequence[hooks.Restriction],
    moment: datetime,
) -> PublicEntry:
    # Plain SQL for the joins on this path: Piccolo takes longer to build them than to run them.
    entry_id = row["id"]
    roles = await EntryRole.raw(
        "SELECT r.code, r.name FROM register_entry_role er"
        " JOIN register_role r ON r.id = er.role WHERE er.entry = {} ORDER BY r.sort_order, r.id",
        entry_id,
    )
    quals = await EntryQualification.raw(
        "SELECT q.name, eq.awarded_on FROM register_entry_qualification eq"
        " JOIN register_qualification_type q ON q.id = eq.qualification_type"
        " WHERE eq.entry = {} ORDER BY eq.id",
        entry_id,
    )
    return _public(
        row,
        [(r["code"], r["name"]) for r in roles],
        [(q["name"], q["awarded_on"]) for q in quals],
        status,
        restrictions,
        _left_on(row, status, moment),
        moment,
    )


def _public(
    row: Mapping[str, Any],
    roles: Sequence[tuple[str, str]],
    qualifications: Sequence[tuple[str, date | None]],
    status: RegisterStatus,
    restrictions: Sequence[hooks.Restriction],
    removed_on: date | None,
    moment: datetime,
) -> PublicEntry:
    """The public entry from the entry's values (``row``: its number, names, region's code and
    name, dates), its roles (code, name) and qualifications (name, awarded on) in order."""
    return PublicEntry(
        registration_number=row["registration_number"],
        name=f"{row['given_names']} {row['family_name']}",
        given_names=row["given_names"],
        family_name=row["family_name"],
        roles=[CodeAndName(code=code, name=name) for code, name in roles],
        region=CodeAndName(code=row["region_code"], name=row["region_name"]),
        status=status,
        status_label=STATUS_LABELS[status],
        registered_since=row["registered_since"],
        registered_until=row["registered_until"],
        qualifications=[
            PublicQualification(name=name, awarded_on=awarded) for name, awarded in qualifications
        ],
        restrictions=[
            PublicRestriction(
                kind=r.kind.value,
                summary=r.summary,
                starts_on=r.starts_on,
                ends_on=r.ends_on,
                decision_url=r.decision_url,
            )
            for r in restrictions
        ],
        removed_on=removed_on,
        removal_reason=REMOVAL_REASONS.get(status),
        updated_at=moment,
    )


def _left_on(row: Mapping[str, Any], status: RegisterStatus, moment: datetime) -> date | None:
    """The day an entry off the register left it: when its status last changed (now, if this
    rewrite is the change), as a UTC date like every date the register keeps."""
    if status not in REMOVAL_REASONS:
        return None
    changed = moment if row["status"] != status.value else row["status_changed_at"]
    return changed.astimezone(UTC).date()


_ENTRY_ROW = (
    "SELECT e.*, p.given_names AS given_names, p.family_name AS family_name, p.email AS email,"
    " p.account AS account_id, r.code AS region_code, r.name AS region_name"
    " FROM register_entry e JOIN register_practitioner p ON p.id = e.practitioner"
    " JOIN register_region r ON r.id = e.region WHERE e.id = {}"
)


async def _entry_row(entry_id: int) -> dict[str, Any]:
    rows = await RegisterEntry.raw(_ENTRY_ROW, entry_id)
    if not rows:
        raise NotFound(f"There is no register entry {entry_id}")
    return dict(rows[0])


async def get_entry(entry_id: int) -> Entry:
    row = await _entry_row(entry_id)
    return Entry(
        id=row["id"],
        practitioner_id=row["practitioner"],
        registration_number=row["registration_number"],
        status=RegisterStatus(row["status"]),
        state=EntryState(row["state"]),
        version=row["version"],
        public=PublicEntry.model_validate_json(row["public_document"]),
        account_id=row["account_id"],
        email=row["email"],
    )


async def entry_id_for(number: str) -> int:
    parsed = numbers.parse_registration_number(number)
    row = (
        await RegisterEntry.select(RegisterEntry.id)
        .where(RegisterEntry.registration_number == parsed)
        .first()
    )
    if row is None:
        raise NotFound(f"{parsed} is not on the register")
    return int(row["id"])


async def record_change(
    entry_id: int, change: str, before: dict[str, Any], after: dict[str, Any], reason: str
) -> None:
    actor = current_actor()
    await EntryHistory.insert(
        EntryHistory(
            entry=entry_id,
            changed_at=clock.now().astimezone(UTC),
            actor_id=actor.id,
            actor_label=actor.label,
            change=change,
            before=_history_json(before),
            after=_history_json(after),
            reason=reason,
        )
    )


def _history_json(side: dict[str, Any]) -> str:
    return json.dumps(side, sort_keys=True, default=str)


@dataclass(frozen=True, slots=True)
class Change:
    """One row of an entry's history, for :func:`record_changes`."""

    entry_id: int
    change: str
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str


async def record_changes(changes: Sequence[Change]) -> None:
    """:func:`record_change` for many entries at once: one statement, in the caller's
    transaction (a batch's history, or its certificates')."""
    actor = current_actor()
    moment = clock.now().astimezone(UTC)
    await insert_rows(
        EntryHistory,
        HISTORY_COLUMNS,
        [
            (
                c.entry_id,
                moment,
                actor.id,
                actor.label,
                c.change,
                _history_json(c.before),
                _history_json(c.after),
                c.reason,
            )
            for c in changes
        ],
    )


HISTORY_COLUMNS = (
    "entry",
    "changed_at",
    "actor_id",
    "actor_label",
    "change",
    "before",
    "after",
    "reason",
)


@dataclass(frozen=True)
class HistoryItem:
    changed_at: datetime
    actor_label: str
    change: str
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str


async def history(entry_id: int) -> list[HistoryItem]:
    rows = (
        await EntryHistory.select().where(EntryHistory.entry == entry_id).order_by(EntryHistory.id)
    )
    return [
        HistoryItem(
            r["changed_at"],
            r["actor_label"],
            r["change"],
            json.loads(r["before"]),
            json.loads(r["after"]),
            r["reason"],
        )
        for r in rows
    ]


# --- the entry's own state: a small machine of moves --------------------------------------


class EntryMove(StrEnum):
    """What can happen to an entry's own state, in the regulator's words."""

    lapse = "lapse"  # not renewed by the deadline or in the grace after it
    voluntary_removal = "voluntary_removal"  # the practitioner asks to leave
    removal = "removal"  # a fitness to practise decision removes them
    restoration = "restoration"  # a restoration application is approved
    renewal = "renewal"  # renewed for another year: stays registered


@dataclass(frozen=True)
class EntryTransition:
    allowed_from: frozenset[EntryState]
    to: EntryState
    refusal: str  # "<number> is <state>, so it cannot be <refusal>."


ENTRY_MOVES: dict[EntryMove, EntryTransition] = {
    EntryMove.lapse: EntryTransition(
        frozenset({EntryState.registered}), EntryState.lapsed, "lapsed"
    ),
    # Only someone on the register may leave it: a removed practitioner who could would become
    # voluntarily removed, and so free to apply for restoration inside the five years' bar.
    EntryMove.voluntary_removal: EntryTransition(
        frozenset({EntryState.registered}),
        EntryState.voluntarily_removed,
        "voluntarily removed",
    ),
    # A decision may remove someone who has lapsed or left since the concern was raised.
    EntryMove.removal: EntryTransition(
        frozenset({EntryState.registered, EntryState.lapsed, EntryState.voluntarily_removed}),
        EntryState.removed,
        "removed",
    ),
    # Removal bars restoration for five years; applications enforce the bar before approval.
    EntryMove.restoration: EntryTransition(
        frozenset({EntryState.lapsed, EntryState.voluntarily_removed, EntryState.removed}),
        EntryState.registered,
        "restored",
    ),
    EntryMove.renewal: EntryTransition(
        frozenset({EntryState.registered}), EntryState.registered, "renewed"
    ),
}


def can_move(state: EntryState, move: EntryMove) -> bool:
    """Whether the machine allows ``move`` from ``state``: for pages deciding what to offer."""
    return state in ENTRY_MOVES[move].allowed_from


async def move_entry(
    entry_id: int,
    move: EntryMove,
    *,
    reason: str,
    values: Mapping[Any, Any] | None = None,
) -> Entry:
    """Make one move of :data:`ENTRY_MOVES`, with ``values`` (other columns of the entry the
    move sets), its history and the rewritten public entry, in one transaction (the caller's,
    when there is one).

    Refused with :class:`Conflict`, changing nothing, unless the entry is in a state the move
    starts from at this moment: the row is held while its state is read, and the update's own
    condition is the table's, so two moves at once (two lapse jobs, a lapse and a renewal)
    cannot both succeed.
    """
    if not reason.strip():
        raise InvalidInput("Give the reason for the change", field="reason")
    transition = ENTRY_MOVES[move]
    async with transaction():
        # Held first, so the state read below is the one the entry moves from.
        await lock_row(RegisterEntry, entry_id)
        row = await _entry_row(entry_id)
        before = EntryState(row["state"])
        refusal = _refusal(row["registration_number"], before, transition)
        if not can_move(before, move):
            raise refusal
        moved = (
            await RegisterEntry.update({**(values or {}), RegisterEntry.state: transition.to.value})
            .where(
                (RegisterEntry.id == entry_id)
                & RegisterEntry.state.is_in([state.value for state in transition.allowed_from])
            )
            .returning(RegisterEntry.id)
        )
        if not moved:  # cannot happen while the row is held; the table's rule all the same
            raise refusal
        if transition.to is not before:
            await record_change(
                entry_id,
                "state_changed",
                {"state": before.value},
                {"state": transition.to.value},
                reason,
            )
        return await refresh_entry(entry_id, clock.now().date(), cause=move.value)


def _refusal(number: str, state: EntryState, transition: EntryTransition) -> Conflict:
    label = STATUS_LABELS[RegisterStatus(state.value)].lower()
    if state is transition.to:
        return Conflict(f"{number} is already {label}.")
    return Conflict(f"{number} is {label}, so it cannot be {transition.refusal}.")


async def change_name(entry_id: int, given_names: str, family_name: str, *, reason: str) -> Entry:
    """A practitioner's new name (marriage, deed poll): on the entry, in search, in history."""
    check_names(given_names, family_name)
    if not reason.strip():
        raise InvalidInput("Give the reason for the change", field="reason")
    given_names, family_name = given_names.strip(), family_name.strip()
    async with transaction():
        current = await get_entry(entry_id)
        before = {
            "given_names": current.public.given_names,
            "family_name": current.public.family_name,
        }
        after = {"given_names": given_names, "family_name": family_name}
        if before == after:
            raise Conflict("That is the name on the register already")
        folded = names.search_name(given_names, family_name)
        await Practitioner.update(
            {
                Practitioner.given_names: given_names,
                Practitioner.family_name: family_name,
                Practitioner.search_name: folded,
            }
        ).where(Practitioner.id == current.practitioner_id)
        await NameKey.delete().where(NameKey.entry == entry_id)
        region = await RegisterEntry.select(RegisterEntry.region).where(
            RegisterEntry.id == entry_id
        )
        await _write_name_keys(entry_id, folded, region[0]["region"], current.status.value)
        await record_change(entry_id, "name_changed", before, after, reason)
        await audit.record(
            "register.name_changed",
            "register_entry",
            current.registration_number,
            before=before,
            after=after,
        )
        return await refresh_entry(entry_id, clock.now().date(), cause=hooks.NAME_CHANGED)


async def request_voluntary_removal(entry_id: int, *, reason: str) -> Entry:
    """A practitioner leaves the register; refused while a concern or case about them is open.

    The concern is looked for in the transaction that moves the entry, with the entry held, so
    a concern source that holds the entry when it opens a concern cannot be missed.
    """
    async with transaction():
        await lock_row(RegisterEntry, entry_id)
        entry = await get_entry(entry_id)
        if await hooks.has_open_concern(entry.practitioner_id):
            raise Conflict(
                "You cannot leave the register while a concern or fitness to practise case "
                "about you is open. Contact your caseworker."
            )
        left = await move_entry(
            entry_id, EntryMove.voluntary_removal, reason=reason or "Asked to leave"
        )
        await emails.left_register(left, clock.now().date())  # queued with the move, or not at all
        return left


# --- the public register ------------------------------------------------------------------


@dataclass(frozen=True)
class PublicDocument:
    json: str
    version: int


async def public_document(number: str) -> PublicDocument:
    """The public entry as served: one indexed lookup on the hottest path of the service."""
    parsed = numbers.parse_registration_number(number)
    row = await fetch_one_by_key(
        "SELECT public_document, version FROM register_entry WHERE registration_number = {}",
        parsed,
    )
    if row is None:
        raise NotFound(f"{parsed} is not on the register")
    return PublicDocument(row["public_document"], int(row["version"]))
