"""Reading cases, for staff and for the practitioner they are about, and the practitioner's own
steps (their response to the notice). No HTTP here.

Every read of a case by staff is written to the audit trail (who read which case, when). Who
raised a concern, and how to reach them, is shown to fitness to practise staff only, and to the
practitioner only where the person raising it consented.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from registry import text
from registry.accounts.roles import Role
from registry.accounts.tables import User, UserRole
from registry.audit import service as audit
from registry.conduct import concerns, limits
from registry.conduct.concerns import ConcernView
from registry.conduct.interim_orders import InterimRecord, orders_of
from registry.conduct.tables import (
    Case,
    CaseDocument,
    CaseEvent,
    Sanction,
    SanctionKind,
    Stage,
)
from registry.conduct.workflow import (
    MOVES,
    NOT_FOUND,
    PRACTITIONER,
    CaseRecord,
    Move,
    Mover,
    add_event,
    allowed_moves,
    bump,
    case_from_row,
    get_case,
    perform,
)
from registry.core import clock
from registry.db import fetch_one, transaction
from registry.errors import Conflict, InvalidInput, NotFound
from registry.register import evidence
from registry.register.tables import EvidenceFile, RegisterEntry

PAGE_SIZE = 50
# The events of a case its practitioner sees on their timeline: what was decided and what they
# did, from the notice of investigation on. Triage before the notice, assignment, identification
# and staff's reasons stay with staff (a reason may name who raised the concern).
DOCUMENT_DISCLOSED = "document_disclosed"
PRACTITIONER_EVENTS = frozenset(
    {move.value for move in MOVES}
    - {Move.start_triage.value, Move.close_outside_remit.value, Move.close_no_further_action.value}
) | {"response_received", "interim_order_made", DOCUMENT_DISCLOSED}
MAX_RESPONSE_FILES = 5
# What each stage asks of the practitioner, in their words (by the case's due date).
ASKED_OF_PRACTITIONER: dict[Stage, str] = {
    Stage.investigation: "Send your response to the notice of investigation",
    Stage.accepted_outcome: "Accept or reject the outcome the case examiners propose",
    Stage.hearing: "Attend your hearing",
}
RESPONSE_FILE_MISSING = "Select a file to attach to your response"


@dataclass(frozen=True)
class Event:
    event: str
    from_stage: str
    to_stage: str
    actor_label: str
    at: datetime
    reason: str
    details: dict[str, Any]


@dataclass(frozen=True)
class Document:
    id: int
    file_id: int
    filename: str
    kind: str
    disclosed: bool
    added_at: datetime


@dataclass(frozen=True)
class SanctionRecord:
    id: int
    kind: SanctionKind
    conditions: str
    summary: str
    decided_at: datetime
    immediate: bool
    starts_on: date
    ends_on: date | None
    revoked_on: date | None


@dataclass(frozen=True)
class CaseDetail:
    case: CaseRecord
    registration_number: str
    practitioner_name: str
    concerns: list[ConcernView]
    events: list[Event]
    documents: list[Document]
    sanctions: list[SanctionRecord]
    interim_orders: list[InterimRecord]
    allowed_moves: list[Move]
    overdue: bool


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


async def _who(entry_id: int | None) -> tuple[str, str]:
    if entry_id is None:
        return "", ""
    row = (
        await RegisterEntry.select(
            RegisterEntry.registration_number,
            RegisterEntry.practitioner.given_names.as_alias("given"),
            RegisterEntry.practitioner.family_name.as_alias("family"),
        )
        .where(RegisterEntry.id == entry_id)
        .first()
    )
    if row is None:
        return "", ""
    return row["registration_number"], f"{row['given']} {row['family']}"


async def events_of(case_id: int) -> list[Event]:
    rows = await CaseEvent.select().where(CaseEvent.case == case_id).order_by(CaseEvent.id)
    return [
        Event(
            row["event"],
            row["from_stage"],
            row["to_stage"],
            row["actor_label"],
            row["at"],
            row["reason"],
            json.loads(row["details"] or "{}"),
        )
        for row in rows
    ]


EVENT_LABELS = {
    **{move.value: transition.label for move, transition in MOVES.items()},
    "response_received": "Your response received",
    "interim_order_made": "Interim order made",
    DOCUMENT_DISCLOSED: "A document disclosed to you",
}


async def practitioner_events(case_id: int) -> list[Event]:
    """The timeline the practitioner sees: which step, when; not who made it or why."""
    return [
        Event(event.event, event.from_stage, event.to_stage, "", event.at, "", {})
        for event in await events_of(case_id)
        if event.event in PRACTITIONER_EVENTS
    ]


async def documents_of(case_id: int, *, disclosed_only: bool) -> list[Document]:
    query = CaseDocument.select(
        CaseDocument.id,
        CaseDocument.file,
        CaseDocument.file.filename.as_alias("filename"),
        CaseDocument.kind,
        CaseDocument.disclosed,
        CaseDocument.added_at,
    ).where(CaseDocument.case == case_id)
    if disclosed_only:
        query = query.where(CaseDocument.disclosed.eq(True))
    rows = await query.order_by(CaseDocument.id)
    return [
        Document(
            row["id"],
            row["file"],
            row["filename"],
            row["kind"],
            bool(row["disclosed"]),
            row["added_at"],
        )
        for row in rows
    ]


async def sanctions_of(case_id: int) -> list[SanctionRecord]:
    rows = await Sanction.select().where(Sanction.case == case_id).order_by(Sanction.id)
    return [sanction_record(row) for row in rows]


def sanction_record(row: dict[str, Any]) -> SanctionRecord:
    starts = _date(row["starts_on"])
    assert starts is not None
    return SanctionRecord(
        row["id"],
        SanctionKind(row["kind"]),
        row["conditions"],
        row["summary"],
        row["decided_at"],
        bool(row["immediate"]),
        starts,
        _date(row["ends_on"]),
        _date(row["revoked_on"]),
    )


async def staff_case(case_id: int, reader: Mover, *, record_read: bool = True) -> CaseDetail:
    """The whole case for fitness to practise staff, the read written to the audit trail.

    ``record_read`` is False only where a page shows the case again under a form it refused:
    the reader opened the case (a read on the trail) to fill in that form, and a refused
    request stores nothing."""
    case = await get_case(case_id)
    if record_read:
        await audit.record("conduct.case_read", "conduct_case", case.reference)
    number, name = await _who(case.entry_id)
    return CaseDetail(
        case=case,
        registration_number=number,
        practitioner_name=name,
        concerns=await concerns.concerns_of(case_id, show_raiser=True),
        events=await events_of(case_id),
        documents=await documents_of(case_id, disclosed_only=False),
        sanctions=await sanctions_of(case_id),
        interim_orders=await orders_of(case_id),
        allowed_moves=allowed_moves(case, reader),
        overdue=case.overdue(clock.now().date()),
    )


async def _account_entry(account_id: int) -> int | None:
    row = (
        await RegisterEntry.select(RegisterEntry.id)
        .where(RegisterEntry.practitioner.account == account_id)
        .first()
    )
    return None if row is None else int(row["id"])


async def own_case(account_id: int, case_id: int) -> CaseRecord:
    """A practitioner's own case (one that names them and has gone past triage: a concern not
    yet triaged is not put to them); anyone else's is not found."""
    entry_id = await _account_entry(account_id)
    row = await Case.select().where(Case.id == case_id).first()
    if (
        row is None
        or entry_id is None
        or row["entry"] != entry_id
        or Stage(row["stage"]) in (Stage.received, Stage.triage)
        or (row["stage"] == Stage.closed.value and row["notice_text"] == "")
    ):
        raise NotFound(NOT_FOUND)
    return case_from_row(row)


async def practitioner_cases(account_id: int) -> list[CaseRecord]:
    """The practitioner's open cases that have been put to them."""
    entry_id = await _account_entry(account_id)
    if entry_id is None:
        return []
    rows = (
        await Case.select()
        .where(
            (Case.entry == entry_id)
            & Case.stage.not_in([Stage.received.value, Stage.triage.value, Stage.closed.value])
        )
        .order_by(Case.id)
    )
    return [case_from_row(row) for row in rows]


HAS_OPEN_CASE = "has_conduct_case"


# Is a case put to the account's practitioner (past triage, not closed)? One indexed read.
_HAS_OPEN_CASE = (
    "SELECT EXISTS (SELECT 1 FROM conduct_case c JOIN register_entry e ON e.id = c.entry"
    " JOIN register_practitioner p ON p.id = e.practitioner"
    " WHERE p.account = {} AND c.stage NOT IN ({}, {}, {})) AS has_case"
)
_NOT_PUT_TO_THEM = (Stage.received.value, Stage.triage.value, Stage.closed.value)


async def practitioner_facts(user_id: int, roles: frozenset[Any]) -> frozenset[str]:
    """Whether a practitioner has an open case put to them: the navigation then offers
    "Your cases". Asked for each page a signed-in practitioner is shown (nobody else: no
    query), as one indexed read, so the link comes and goes with the case at once."""
    if Role.practitioner not in roles:
        return frozenset()
    row = await fetch_one(_HAS_OPEN_CASE, user_id, *_NOT_PUT_TO_THEM)
    return frozenset({HAS_OPEN_CASE}) if row is not None and row["has_case"] else frozenset()


async def practitioner_case(account_id: int, case_id: int) -> CaseDetail:
    """What the practitioner sees of their case: the allegations, the documents disclosed to
    them, who raised each concern only where that person consented."""
    case = await own_case(account_id, case_id)
    number, name = await _who(case.entry_id)
    mover = Mover(account_id, frozenset({Role.practitioner}))
    return CaseDetail(
        case=case,
        registration_number=number,
        practitioner_name=name,
        concerns=await concerns.concerns_of(case_id, show_raiser=None),
        events=await practitioner_events(case_id),
        documents=await documents_of(case_id, disclosed_only=True),
        sanctions=await sanctions_of(case_id),
        interim_orders=await orders_of(case_id),
        allowed_moves=allowed_moves(case, mover),
        overdue=case.overdue(clock.now().date()),
    )


async def respond(account_id: int, case_id: int, response: str, file_ids: list[int]) -> CaseRecord:
    """The practitioner's response to the notice of investigation, with any files, while the
    case is under investigation; a later response replaces the text and adds the files."""
    response = _checked_response(response, bool(file_ids))
    async with transaction():
        case = await own_case(account_id, case_id)
        if file_ids:
            found = await EvidenceFile.select(EvidenceFile.id).where(
                EvidenceFile.id.is_in(file_ids) & (EvidenceFile.uploaded_by == account_id)
            )
            if len(found) != len(set(file_ids)):
                raise InvalidInput("Attach files you uploaded", field="evidence")
        return await _record_response(case, account_id, response, list(dict.fromkeys(file_ids)))


def _checked_response(response: str, with_files: bool) -> str:
    response = response.strip()
    if not response and not with_files:
        raise InvalidInput("Write your response, or attach it", field="response")
    if len(response) > limits.MAX_TEXT:
        raise InvalidInput("Your response must be 10,000 characters or fewer", field="response")
    # As the API's schema refuses them (the form has refused control characters already).
    if problem := text.text_problem(response, "Your response", multiline=True):
        raise InvalidInput(problem, field="response")
    return response


def _responding(case: CaseRecord) -> None:
    if case.stage is not Stage.investigation:
        raise Conflict("Your response is asked for while the case is being investigated")


async def respond_with_files(
    account_id: int,
    case_id: int,
    response: str,
    uploads: list[tuple[str, bytes | None]],
    data_dir: Path,
) -> CaseRecord:
    """The response with files uploaded with it (name, bytes), each checked by its content
    before anything is kept; the files and the response are kept together or not at all."""
    uploads = [(name, data) for name, data in uploads if data or name]  # empty file inputs
    if len(uploads) > MAX_RESPONSE_FILES:
        raise InvalidInput(
            f"Attach {MAX_RESPONSE_FILES} files or fewer to one response", field=evidence.FIELD
        )
    checked = [
        evidence.check_upload(name, data, missing=RESPONSE_FILE_MISSING) for name, data in uploads
    ]
    response = _checked_response(response, bool(checked))
    _responding(await own_case(account_id, case_id))  # refused before any file is written
    done: list[CaseRecord] = []

    async def attach(stored: list[evidence.StoredFile]) -> None:
        case = await own_case(account_id, case_id)
        file_ids = list(dict.fromkeys(each.id for each in stored))
        done.append(await _record_response(case, account_id, response, file_ids))

    await evidence.store_many(data_dir, checked, uploaded_by=account_id, then=attach)
    return done[0]


async def _record_response(
    case: CaseRecord, account_id: int, response: str, file_ids: list[int]
) -> CaseRecord:
    _responding(case)
    moment = clock.now().astimezone(UTC)
    values: dict[Any, Any] = {Case.responded_at: moment}
    if response:  # files alone add to the response already given
        values[Case.response_text] = response
    await bump(case, values)
    for file_id in file_ids:
        await CaseDocument.insert(
            CaseDocument(
                case=case.id,
                file=file_id,
                kind="response",
                disclosed=True,
                added_by=account_id,
                added_at=moment,
            )
        )
    await add_event(
        case.id,
        "response_received",
        None,
        None,
        by=Mover(account_id),
        details={"documents": file_ids},
    )
    await audit.record(
        "conduct.response_received",
        "conduct_case",
        case.reference,
        after={"files": len(file_ids)},
    )
    return await get_case(case.id)


async def answer_outcome(account_id: int, case_id: int, accept: bool, version: int) -> CaseRecord:
    """The practitioner accepts or rejects the outcome the case examiners propose, as of the
    version of the case they saw (anyone else's case: not found)."""
    await own_case(account_id, case_id)
    return await perform(
        case_id,
        Move.accept_outcome if accept else Move.reject_outcome,
        by=Mover(account_id, PRACTITIONER),
        version=version,
    )


async def practitioner_document(
    account_id: int, case_id: int, document_id: int
) -> evidence.StoredFile:
    """A document of the practitioner's own case that was disclosed to them (anything else:
    not found); the download is written to the audit trail."""
    case = await own_case(account_id, case_id)
    return await _document(case, document_id, disclosed_only=True)


async def staff_document(case_id: int, document_id: int) -> evidence.StoredFile:
    """Any document of a case, for fitness to practise staff; the download is audited."""
    return await _document(await get_case(case_id), document_id, disclosed_only=False)


async def disclose_document(case_id: int, document_id: int, *, by: Mover, version: int) -> None:
    """Let the practitioner see a document of their case (a concern's attachment, a decision),
    as ``by`` saw the case: recorded on the timeline (theirs too) and in the audit trail. A
    disclosure is never taken back: they may have downloaded it already."""
    async with transaction():
        case = await get_case(case_id)
        row = (
            await CaseDocument.select(CaseDocument.file, CaseDocument.disclosed)
            .where((CaseDocument.id == document_id) & (CaseDocument.case == case.id))
            .first()
        )
        if row is None:
            raise NotFound("There is no such document on this case")
        if row["disclosed"]:
            raise Conflict("The practitioner can see this document already")
        if case.entry_id is None:
            raise Conflict("Say who the concern is about before disclosing anything to them")
        await bump(replace(case, version=version), {})  # as they saw it, or 409
        await CaseDocument.update({CaseDocument.disclosed: True}).where(
            CaseDocument.id == document_id
        )
        await add_event(
            case_id,
            DOCUMENT_DISCLOSED,
            None,
            None,
            by=by,
            details={"documents": [row["file"]]},
        )
        await audit.record(
            "conduct.document_disclosed",
            "conduct_case",
            case.reference,
            after={"document": document_id, "file": row["file"]},
        )


async def _document(
    case: CaseRecord, document_id: int, *, disclosed_only: bool
) -> evidence.StoredFile:
    row = (
        await CaseDocument.select(CaseDocument.file, CaseDocument.disclosed)
        .where((CaseDocument.id == document_id) & (CaseDocument.case == case.id))
        .first()
    )
    if row is None or (disclosed_only and not row["disclosed"]):
        raise NotFound("There is no such document on this case")
    stored = await evidence.get(row["file"])
    await audit.record(
        "conduct.document_downloaded",
        "conduct_case",
        case.reference,
        after={"document": document_id, "file": stored.id, "sha256": stored.sha256},
    )
    return stored


@dataclass(frozen=True)
class CaseSummary:
    id: int
    reference: str
    stage: Stage
    registration_number: str
    practitioner_name: str
    needs_identifying: bool
    assigned_to: int | None
    due_on: date | None
    due_what: str
    overdue: bool
    opened_at: datetime
    version: int


async def list_cases(
    *,
    stage: Stage | None = None,
    assigned_to: int | None = None,
    unassigned: bool = False,
    overdue: bool | None = None,
    include_closed: bool = False,
    page: int = 1,
) -> tuple[list[CaseSummary], int]:
    """Cases for the staff list, oldest first, with the count matching the filters
    (``unassigned``: only those nobody is assigned to)."""
    today = clock.now().date()
    conditions: list[Any] = []
    if stage is not None:
        conditions.append(Case.stage == stage.value)
    elif not include_closed:
        conditions.append(Case.stage != Stage.closed.value)
    if assigned_to is not None:
        conditions.append(Case.assigned_to == assigned_to)
    elif unassigned:
        conditions.append(Case.assigned_to.is_null())
    if overdue is True:
        conditions.append(Case.due_on.is_not_null() & (Case.due_on < today))
    elif overdue is False:
        conditions.append(Case.due_on.is_null() | (Case.due_on >= today))
    query = Case.select(
        Case.id,
        Case.reference,
        Case.stage,
        Case.needs_identifying,
        Case.assigned_to,
        Case.due_on,
        Case.due_what,
        Case.opened_at,
        Case.version,
        Case.entry.registration_number.as_alias("number"),
        Case.entry._.practitioner._.given_names.as_alias("given"),
        Case.entry._.practitioner._.family_name.as_alias("family"),
    )
    count = Case.count()
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    rows = (
        await query.order_by(Case.opened_at)
        .order_by(Case.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    found = []
    for row in rows:
        due = _date(row["due_on"])
        found.append(
            CaseSummary(
                id=row["id"],
                reference=row["reference"],
                stage=Stage(row["stage"]),
                registration_number=row["number"] or "",
                practitioner_name=f"{row['given']} {row['family']}" if row["given"] else "",
                needs_identifying=bool(row["needs_identifying"]),
                assigned_to=row["assigned_to"],
                due_on=due,
                due_what=row["due_what"],
                overdue=due is not None and due < today,
                opened_at=row["opened_at"],
                version=row["version"],
            )
        )
    return found, int(await count)


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str


async def staff_holding(role: Role) -> list[StaffMember]:
    """Active users with ``role``, by name: whom a case may be assigned to, or who may decide
    with a case examiner."""
    rows = (
        await User.select(User.id, User.display_name)
        .where(
            User.active.eq(True)
            & User.id.is_in(UserRole.select(UserRole.user).where(UserRole.role == role.value))
        )
        .order_by(User.display_name)
        .order_by(User.id)
    )
    return [StaffMember(row["id"], row["display_name"]) for row in rows]
