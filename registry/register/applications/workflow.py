"""The application's workflow: the moves of its state machine (:data:`MOVES`), who makes them,
and the emails they send. No HTTP here.

An application is a small state machine::

    draft --submit--> submitted --approve--> approved (entry created, or restored)
                          |      --reject---> rejected (with the reason)
                          |      --request_information--> further_information_requested
                          |                                   |  --respond--> under_review
                          |                                   |  --reject---> rejected
    under_review (an application back from the applicant with their answer) takes the same
    decisions as submitted.

``under_review`` means "a registrar has already looked at it and it is back with them", so the
queue shows both ``submitted`` and ``under_review`` as awaiting a decision, oldest submission
first. A move the machine does not allow is refused with :class:`Conflict` and changes nothing;
every move, with its audit entry and any email, happens in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from registry.accounts.tables import User
from registry.audit import service as audit
from registry.db import transaction
from registry.errors import Conflict, NotFound, PermissionDenied
from registry.notifications import service as notifications
from registry.register import service, urls
from registry.register.applications import answers, eligibility, records
from registry.register.applications.records import AWAITING_DECISION, ApplicationRecord
from registry.register.renewals import RenewalCalendar
from registry.register.tables import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    EntryQualification,
    EntryRole,
    EntryState,
    Practitioner,
    RegisterEntry,
)


class Move(StrEnum):
    submit = "submit"
    approve = "approve"
    reject = "reject"
    request_information = "request_information"
    respond = "respond"


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[ApplicationStatus]
    to: ApplicationStatus
    action: str  # the audit action
    refusal: str  # "... cannot be <refusal>"
    already: str  # the refusal of the move made twice, as whoever repeats it reads it


MOVES: dict[Move, Transition] = {
    Move.submit: Transition(
        frozenset({ApplicationStatus.draft}),
        ApplicationStatus.submitted,
        "register.application_submitted",
        "submitted again",
        "This application has already been sent",
    ),
    Move.approve: Transition(
        AWAITING_DECISION,
        ApplicationStatus.approved,
        "register.application_approved",
        "approved",
        "This application has already been approved",
    ),
    Move.reject: Transition(
        AWAITING_DECISION | {ApplicationStatus.further_information_requested},
        ApplicationStatus.rejected,
        "register.application_rejected",
        "rejected",
        "This application has already been rejected",
    ),
    Move.request_information: Transition(
        AWAITING_DECISION,
        ApplicationStatus.further_information_requested,
        "register.application_information_requested",
        "sent a request for further information",
        "The applicant has already been asked for more information",
    ),
    Move.respond: Transition(
        frozenset({ApplicationStatus.further_information_requested}),
        ApplicationStatus.under_review,
        "register.application_information_given",
        "answered: no further information has been asked for",
        "Your answer has already been sent to the registrar",
    ),
}


# --- the applicant's moves ----------------------------------------------------------------


async def start(applicant_id: int, kind: ApplicationKind) -> ApplicationRecord:
    """Open a draft: an empty one to join, or one filled from the entry to be restored."""
    async with transaction():
        await eligibility.lock_applicant(applicant_id)
        entry_id = await eligibility.check_can_apply(applicant_id, kind)
        account = await User.select(User.email).where(User.id == applicant_id).first()
        if account is None:
            raise NotFound("There is no such account")
        moment = records.now()
        values: dict[str, Any] = {
            "applicant": applicant_id,
            "kind": kind.value,
            "status": ApplicationStatus.draft.value,
            "email": account["email"],
            "created_at": moment,
            "updated_at": moment,
        }
        if entry_id is not None:
            values.update(await _details_from_entry(entry_id))
        inserted = await Application.insert(Application(**values)).returning(Application.id)
        application_id = int(inserted[0]["id"])
        await audit.record(
            "register.application_started",
            "register_application",
            application_id,
            after={"kind": kind.value, "status": ApplicationStatus.draft.value},
        )
    return await records.get(application_id)


async def _details_from_entry(entry_id: int) -> dict[str, Any]:
    row = (
        await RegisterEntry.select(
            RegisterEntry.region,
            RegisterEntry.practitioner.given_names.as_alias("given_names"),
            RegisterEntry.practitioner.family_name.as_alias("family_name"),
            RegisterEntry.practitioner.date_of_birth.as_alias("date_of_birth"),
            RegisterEntry.practitioner.email.as_alias("email"),
            RegisterEntry.practitioner.phone.as_alias("phone"),
            RegisterEntry.practitioner.address.as_alias("address"),
            RegisterEntry.practitioner.postcode.as_alias("postcode"),
            RegisterEntry.practitioner.employer.as_alias("employer"),
        )
        .where(RegisterEntry.id == entry_id)
        .first()
    )
    assert row is not None
    role = (
        await EntryRole.select(EntryRole.role)
        .where(EntryRole.entry == entry_id)
        .order_by(EntryRole.id)
        .first()
    )
    qualification = (
        await EntryQualification.select()
        .where(EntryQualification.entry == entry_id)
        .order_by(EntryQualification.id)
        .first()
    )
    values: dict[str, Any] = {
        "entry": entry_id,
        "region": row["region"],
        "role": role["role"] if role else None,
        **{
            key: row[key]
            for key in ("given_names", "family_name", "date_of_birth", "phone", "address")
        },
        "postcode": row["postcode"],
        "employer": row["employer"],
    }
    if row["email"]:  # else the account's address, already in the draft
        values["email"] = row["email"]
    if qualification:
        values.update(
            qualification_type=qualification["qualification_type"],
            qualification_awarded_on=qualification["awarded_on"],
            qualification_institution=qualification["institution"],
        )
    return values


async def submit(application_id: int, applicant_id: int) -> ApplicationRecord:
    """Send a complete draft to the registrar, and tell the applicant it has arrived."""
    record = await records.get_own(application_id, applicant_id)
    if record.status is ApplicationStatus.draft and (missing := answers.missing_answers(record)):
        raise answers.InvalidAnswers(missing)
    today = records.now().date()
    if record.kind is ApplicationKind.initial and record.date_of_birth is not None:
        answers.check_date_of_birth(record.date_of_birth, today)
        answers.check_awarded_on(record, today)
    async with transaction():
        if record.status is ApplicationStatus.draft:
            await eligibility.check_still_eligible(record)
        moment = records.now()
        await _move(record, Move.submit, {Application.submitted_at: moment})
        await _email_applicant(
            record,
            "application_submitted",
            subject=f"We have received your application {record.reference}",
            key=f"application-submitted:{record.id}",
            kind=record.kind.value,
        )
    return await records.get(application_id)


async def respond(application_id: int, applicant_id: int, response: str) -> ApplicationRecord:
    """The applicant answers the registrar's question; the application goes back to them."""
    record = await records.get_own(application_id, applicant_id)
    answer = answers.required_answer(
        "information_response",
        response,
        "Enter your answer to the registrar's question",
        "Your answer",
    )
    async with transaction():
        await _move(record, Move.respond, {Application.information_response: answer})
    return await records.get(application_id)


# --- the registrar's decisions ------------------------------------------------------------


async def _move(
    record: ApplicationRecord,
    move: Move,
    values: Mapping[Any, Any],
    *,
    audit_after: Mapping[str, Any] | None = None,
) -> None:
    """One step of the machine and its audit entry, inside the caller's transaction."""
    await _transition(record, move, values)
    await _audit_move(record, move, audit_after)


async def _audit_move(
    record: ApplicationRecord, move: Move, audit_after: Mapping[str, Any] | None
) -> None:
    transition = MOVES[move]
    await audit.record(
        transition.action,
        "register_application",
        record.id,
        before={"status": record.status.value},
        after={"status": transition.to.value, **(audit_after or {})},
    )


async def _transition(record: ApplicationRecord, move: Move, values: Mapping[Any, Any]) -> None:
    """Refused (Conflict, nothing changed) unless the application is, at this moment, in a state
    the move starts from: the update's own condition decides, so two registrars deciding at once
    cannot both succeed."""
    transition = MOVES[move]
    if record.status not in transition.allowed_from:
        raise _refusal(record, transition)
    updated = (
        await Application.update(
            {
                **values,
                Application.status: transition.to.value,
                Application.updated_at: records.now(),
                Application.version: Application.version + 1,
            }
        )
        .where(
            (Application.id == record.id)
            & (Application.version == record.version)
            & Application.status.is_in([status.value for status in transition.allowed_from])
        )
        .returning(Application.id)
    )
    if not updated:  # someone else changed it first
        current = await records.get(record.id)
        raise _changed_since(current)


def _refusal(record: ApplicationRecord, transition: Transition) -> Conflict:
    """Why a move cannot be made, in words that make sense to whoever tried it: a second
    approval is told the application was approved, not that "approved" cannot be approved."""
    if record.status is transition.to:
        return Conflict(f"{transition.already}.")
    label = record.status_label.lower()
    if record.status in (ApplicationStatus.approved, ApplicationStatus.rejected):
        return Conflict(
            f"This application has already been {label}, so it cannot be {transition.refusal}."
        )
    return Conflict(
        f"Application {record.reference} is {label}, so it cannot be {transition.refusal}."
    )


def _changed_since(current: ApplicationRecord) -> Conflict:
    return Conflict(
        f"Application {current.reference} has changed since you opened it: it is now "
        f"{current.status_label.lower()}. Check it again before you decide."
    )


async def _decidable(
    application_id: int, registrar_id: int, seen_version: int | None
) -> ApplicationRecord:
    """The application, if this registrar may decide it as they last saw it (``seen_version``,
    from the page they decided on; None from callers with no page, such as the demo)."""
    record = await records.get(application_id)
    if record.applicant_id == registrar_id:
        raise PermissionDenied("You cannot decide your own application. Ask another registrar.")
    if seen_version is not None and seen_version != record.version:
        raise _changed_since(record)
    return record


def _decision(by: int) -> dict[Any, Any]:
    return {Application.decided_by: by, Application.decided_at: records.now()}


async def approve(
    application_id: int,
    *,
    registrar_id: int,
    calendar: RenewalCalendar,
    seen_version: int | None = None,
) -> ApplicationRecord:
    """Put the applicant on the register (or back on it) and welcome them, in one transaction."""
    record = await _decidable(application_id, registrar_id, seen_version)
    today = records.now().date()
    async with transaction():
        await _transition(record, Move.approve, _decision(registrar_id))
        if record.kind is ApplicationKind.initial:
            entry = await _create_entry(record, today, calendar)
            template, subject = "application_approved", "You are on the register"
        else:
            entry = await _restore_entry(record, today, calendar)
            template, subject = "restoration_approved", "You are back on the register"
        await Application.update({Application.entry: entry.id}).where(Application.id == record.id)
        await _audit_move(
            record,
            Move.approve,
            {"registration_number": entry.registration_number, "kind": record.kind.value},
        )
        await _email_applicant(
            record,
            template,
            subject=f"{subject}: {entry.registration_number}",
            key=f"application-approved:{record.id}",
            path=urls.YOUR_REGISTRATION,
            registration_number=entry.registration_number,
            registered_until=f"{entry.public.registered_until:%-d %B %Y}",
        )
    return await records.get(application_id)


async def _create_entry(
    record: ApplicationRecord, today: date, calendar: RenewalCalendar
) -> service.Entry:
    if await eligibility.entry_of(record.applicant_id) is not None:
        raise Conflict("The applicant is already on the register; reject this application.")
    assert record.date_of_birth is not None
    return await service.create_entry(
        service.EntryIn(
            person=service.PersonIn(
                given_names=record.given_names,
                family_name=record.family_name,
                date_of_birth=record.date_of_birth,
                email=record.email,
                phone=record.phone,
                address=record.address,
                postcode=record.postcode,
            ),
            role_codes=[record.role_code],
            region_code=record.region_code,
            registered_since=today,
            registered_until=calendar.first_deadline(today),
            qualifications=[
                service.QualificationIn(
                    record.qualification_code,
                    record.qualification_awarded_on,
                    record.qualification_institution,
                )
            ],
            account_id=record.applicant_id,
        ),
        reason=f"Application {record.reference} approved",
    )


async def _restore_entry(
    record: ApplicationRecord, today: date, calendar: RenewalCalendar
) -> service.Entry:
    if record.entry_id is None:
        raise Conflict("This restoration is not linked to a register entry.")
    current = await service.get_entry(record.entry_id)
    if current.state is EntryState.registered:
        raise Conflict("The applicant is on the register already; reject this application.")
    until = calendar.first_deadline(today)
    before = current.public.registered_until
    await Practitioner.update(
        {
            Practitioner.email: record.email.strip().casefold(),
            Practitioner.phone: record.phone,
            Practitioner.address: record.address,
            Practitioner.postcode: record.postcode,
        }
    ).where(Practitioner.id == current.practitioner_id)
    await RegisterEntry.update({RegisterEntry.registered_until: until}).where(
        RegisterEntry.id == record.entry_id
    )
    await service.record_change(
        record.entry_id,
        "restored",
        {"registered_until": before.isoformat()},
        {"registered_until": until.isoformat()},
        f"Restoration application {record.reference} approved",
    )
    return await service.move_entry(
        record.entry_id,
        service.EntryMove.restoration,
        reason=f"Restoration application {record.reference} approved",
    )


async def reject(
    application_id: int, *, registrar_id: int, reason: str, seen_version: int | None = None
) -> ApplicationRecord:
    """Refuse the application, telling the applicant why."""
    why = answers.required_answer("reason", reason, "Enter the reason for rejecting", "Reason")
    record = await _decidable(application_id, registrar_id, seen_version)
    async with transaction():
        await _move(
            record, Move.reject, {**_decision(registrar_id), Application.decision_reason: why}
        )
        await _email_applicant(
            record,
            "application_rejected",
            subject=f"Your application {record.reference} has not been approved",
            key=f"application-rejected:{record.id}",
            reason=why,
        )
    return await records.get(application_id)


async def request_information(
    application_id: int, *, registrar_id: int, question: str, seen_version: int | None = None
) -> ApplicationRecord:
    """Ask the applicant something; the application waits for their answer."""
    asked = answers.required_answer(
        "question", question, "Enter what you need the applicant to tell you", "Question"
    )
    record = await _decidable(application_id, registrar_id, seen_version)
    async with transaction():
        await _move(
            record,
            Move.request_information,
            {Application.information_request: asked, Application.information_response: ""},
        )
        # Keyed by the count of requests so far: a second request sends a second email.
        asked_before = await _requests_before(record.id)
        await _email_applicant(
            record,
            "application_information_requested",
            subject=f"We need more information about your application {record.reference}",
            key=f"application-information:{record.id}:{asked_before}",
            question=asked,
        )
    return await records.get(application_id)


async def _email_applicant(
    record: ApplicationRecord,
    template: str,
    *,
    subject: str,
    key: str,
    path: str = urls.YOUR_APPLICATION,
    **details: str,
) -> None:
    """Queue an email to the address the applicant gave, linking to where they follow it up;
    inside the move's transaction, so a move that rolls back sends nothing."""
    await notifications.queue_email(
        record.email,
        template,
        {"given_names": record.given_names, "reference": record.reference, **details, "path": path},
        subject=subject,
        key=key,
    )


async def _requests_before(application_id: int) -> int:
    from registry.audit.tables import AuditEntry

    return int(
        await AuditEntry.count().where(
            (AuditEntry.action == MOVES[Move.request_information].action)
            & (AuditEntry.target_type == "register_application")
            & (AuditEntry.target_id == str(application_id))
        )
    )
