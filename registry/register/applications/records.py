"""The application record: reading an application as its applicant and the registrar see it,
the registrar's queue, and saving a draft's answers and evidence. No HTTP here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from registry.audit import service as audit
from registry.core import clock
from registry.db import transaction
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.register import evidence, names, urls
from registry.register.applications.answers import Section
from registry.register.tables import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    RegisterEntry,
)

QUEUE_PAGE_SIZE = 50

OPEN = frozenset(
    {
        ApplicationStatus.draft,
        ApplicationStatus.submitted,
        ApplicationStatus.under_review,
        ApplicationStatus.further_information_requested,
    }
)
AWAITING_DECISION = frozenset({ApplicationStatus.submitted, ApplicationStatus.under_review})

STATUS_LABELS: dict[ApplicationStatus, str] = {
    ApplicationStatus.draft: "Not yet submitted",
    ApplicationStatus.submitted: "Submitted",
    ApplicationStatus.under_review: "Under review",
    ApplicationStatus.further_information_requested: "Further information requested",
    ApplicationStatus.approved: "Approved",
    ApplicationStatus.rejected: "Rejected",
}
KIND_LABELS: dict[ApplicationKind, str] = {
    ApplicationKind.initial: "Joining the register",
    ApplicationKind.restoration: "Restoration to the register",
}


def now() -> datetime:
    return clock.now().astimezone(UTC)


def aware(value: datetime | None) -> datetime | None:
    """A stored time as UTC: SQLite gives back times without their zone."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- reading applications -----------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationRecord:
    id: int
    applicant_id: int
    applicant_email: str
    applicant_name: str
    kind: ApplicationKind
    status: ApplicationStatus
    entry_id: int | None
    registration_number: str
    given_names: str
    family_name: str
    date_of_birth: date | None
    email: str
    phone: str
    address: str
    postcode: str
    role_code: str
    role_name: str
    region_code: str
    region_name: str
    qualification_code: str
    qualification_name: str
    qualification_awarded_on: date | None
    qualification_institution: str
    evidence: evidence.StoredFile | None
    character_declaration: bool | None
    character_details: str
    health_declaration: bool | None
    health_details: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    decided_by_name: str
    decision_reason: str
    information_request: str
    information_response: str
    version: int = 1

    @property
    def reference(self) -> str:
        return reference_for(self.id)

    @property
    def name(self) -> str:
        return f"{self.given_names} {self.family_name}".strip()

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def age_days(self, today: date) -> int | None:
        if self.submitted_at is None:
            return None
        return (today - self.submitted_at.astimezone(UTC).date()).days


def reference_for(application_id: int) -> str:
    return f"APP-{application_id:06d}"


_COLUMNS = (
    *Application.all_columns(),
    Application.applicant.email.as_alias("applicant_email"),
    Application.applicant.display_name.as_alias("applicant_name"),
    Application.role.code.as_alias("role_code"),
    Application.role.name.as_alias("role_name"),
    Application.region.code.as_alias("region_code"),
    Application.region.name.as_alias("region_name"),
    Application.qualification_type.code.as_alias("qualification_code"),
    Application.qualification_type.name.as_alias("qualification_name"),
    Application.entry.registration_number.as_alias("registration_number"),
    Application.decided_by.display_name.as_alias("decided_by_name"),
)


async def _record(row: Mapping[str, Any]) -> ApplicationRecord:
    stored = await evidence.get(row["evidence"]) if row["evidence"] else None
    return ApplicationRecord(
        id=row["id"],
        applicant_id=row["applicant"],
        applicant_email=row["applicant_email"] or "",
        applicant_name=row["applicant_name"] or "",
        kind=ApplicationKind(row["kind"]),
        status=ApplicationStatus(row["status"]),
        entry_id=row["entry"],
        registration_number=row["registration_number"] or "",
        given_names=row["given_names"],
        family_name=row["family_name"],
        date_of_birth=row["date_of_birth"],
        email=row["email"],
        phone=row["phone"],
        address=row["address"],
        postcode=row["postcode"],
        role_code=row["role_code"] or "",
        role_name=row["role_name"] or "",
        region_code=row["region_code"] or "",
        region_name=row["region_name"] or "",
        qualification_code=row["qualification_code"] or "",
        qualification_name=row["qualification_name"] or "",
        qualification_awarded_on=row["qualification_awarded_on"],
        qualification_institution=row["qualification_institution"],
        evidence=stored,
        character_declaration=row["character_declaration"],
        character_details=row["character_details"],
        health_declaration=row["health_declaration"],
        health_details=row["health_details"],
        created_at=aware(row["created_at"]) or clock.now(),
        updated_at=aware(row["updated_at"]) or clock.now(),
        submitted_at=aware(row["submitted_at"]),
        decided_at=aware(row["decided_at"]),
        decided_by_name=row["decided_by_name"] or "",
        decision_reason=row["decision_reason"],
        information_request=row["information_request"],
        information_response=row["information_response"],
        version=int(row["version"]),
    )


async def get(application_id: int) -> ApplicationRecord:
    """Any application, for the registrar; applicants reach theirs through :func:`latest_for`."""
    row = await Application.select(*_COLUMNS).where(Application.id == application_id).first()
    if row is None:
        raise NotFound(f"There is no application {reference_for(application_id)}")
    return await _record(row)


async def get_submitted(application_id: int) -> ApplicationRecord:
    """An application as a registrar may see it: once submitted (a draft is the applicant's)."""
    record = await get(application_id)
    if record.status is ApplicationStatus.draft:
        raise NotFound(f"There is no application {record.reference}")
    return record


async def latest_for(applicant_id: int) -> ApplicationRecord | None:
    """The applicant's open application if they have one, else their most recent one."""
    rows = (
        await Application.select(*_COLUMNS)
        .where(Application.applicant == applicant_id)
        .order_by(Application.id, ascending=False)
    )
    if not rows:
        return None
    open_rows = [row for row in rows if row["status"] in OPEN]
    return await _record(open_rows[0] if open_rows else rows[0])


async def get_own(application_id: int, applicant_id: int) -> ApplicationRecord:
    record = await get(application_id)
    if record.applicant_id != applicant_id:
        raise PermissionDenied("This is not your application")
    return record


async def evidence_for_registrar(application_id: int) -> evidence.StoredFile:
    """The application's evidence file, its viewing written to the audit trail."""
    record = await get_submitted(application_id)
    if record.evidence is None:
        raise NotFound(f"Application {record.reference} has no evidence file")
    await audit.record(
        "register.evidence_viewed",
        "register_application",
        record.id,
        after={"file": record.evidence.id, "sha256": record.evidence.sha256},
    )
    return record.evidence


# --- the registrar's queue ----------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    id: int
    reference: str
    name: str
    kind: ApplicationKind
    status: ApplicationStatus
    submitted_at: datetime
    age_days: int

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class Queue:
    items: list[QueueItem]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


QUEUE_FILTERS: dict[str, frozenset[ApplicationStatus]] = {
    "awaiting_decision": AWAITING_DECISION,
    "further_information_requested": frozenset({ApplicationStatus.further_information_requested}),
    "approved": frozenset({ApplicationStatus.approved}),
    "rejected": frozenset({ApplicationStatus.rejected}),
    "all": frozenset(ApplicationStatus) - {ApplicationStatus.draft},
}
QUEUE_FILTER_LABELS: dict[str, str] = {
    "awaiting_decision": "Awaiting a decision",
    "further_information_requested": "Waiting for the applicant",
    "approved": "Approved",
    "rejected": "Rejected",
    "all": "All submitted applications",
}


def status_items(chosen: str) -> list[dict[str, Any]]:
    return [
        {"value": key, "text": label, "selected": key == chosen}
        for key, label in QUEUE_FILTER_LABELS.items()
    ]


async def queue(
    filter_name: str = "awaiting_decision", *, page: int = 1, page_size: int = QUEUE_PAGE_SIZE
) -> Queue:
    """Submitted applications with their age in days, the longest waiting first.

    Drafts are the applicant's own until they submit them, so they are never listed.
    """
    if filter_name not in QUEUE_FILTERS:
        raise InvalidInput(
            f"'{filter_name}' is not a filter. Use one of: {', '.join(QUEUE_FILTERS)}",
            field="status",
        )
    if page < 1:
        raise InvalidInput("Page must be 1 or more", field="page")
    statuses = [status.value for status in QUEUE_FILTERS[filter_name]]
    where = Application.status.is_in(statuses) & Application.submitted_at.is_not_null()
    total = await Application.count().where(where)
    rows = (
        await Application.select(
            Application.id,
            Application.given_names,
            Application.family_name,
            Application.kind,
            Application.status,
            Application.submitted_at,
        )
        .where(where)
        .order_by(Application.submitted_at)
        .order_by(Application.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    today = now().date()
    items = []
    for row in rows:
        submitted = aware(row["submitted_at"])
        assert submitted is not None
        items.append(
            QueueItem(
                id=row["id"],
                reference=reference_for(row["id"]),
                name=f"{row['given_names']} {row['family_name']}",
                kind=ApplicationKind(row["kind"]),
                status=ApplicationStatus(row["status"]),
                submitted_at=submitted,
                age_days=(today - submitted.astimezone(UTC).date()).days,
            )
        )
    return Queue(items, total, page, page_size)


@dataclass(frozen=True)
class PossibleDuplicate:
    """Someone else on the register, or applying, with the same date of birth and family name:
    perhaps this applicant under another account. The registrar judges; nothing is refused."""

    label: str
    href: str


async def possible_duplicates(record: ApplicationRecord) -> list[PossibleDuplicate]:
    if record.date_of_birth is None or not record.family_name:
        return []
    family = names.fold(record.family_name)
    found: list[PossibleDuplicate] = []
    entries = await RegisterEntry.select(
        RegisterEntry.registration_number,
        RegisterEntry.practitioner.given_names.as_alias("given_names"),
        RegisterEntry.practitioner.family_name.as_alias("family_name"),
    ).where(
        (RegisterEntry.practitioner.date_of_birth == record.date_of_birth)
        & (RegisterEntry.id != (record.entry_id or 0))
    )
    for row in entries:
        if names.fold(row["family_name"]) == family:
            found.append(
                PossibleDuplicate(
                    f"{row['given_names']} {row['family_name']}, on the register as "
                    f"{row['registration_number']}",
                    urls.public_entry(row["registration_number"]),
                )
            )
    others = await Application.select(
        Application.id, Application.given_names, Application.family_name, Application.status
    ).where(
        (Application.date_of_birth == record.date_of_birth)
        & (Application.applicant != record.applicant_id)
        & (Application.status != ApplicationStatus.draft.value)
    )
    for row in others:
        if names.fold(row["family_name"]) == family:
            status = STATUS_LABELS[ApplicationStatus(row["status"])].lower()
            found.append(
                PossibleDuplicate(
                    f"{row['given_names']} {row['family_name']}, application "
                    f"{reference_for(row['id'])} ({status})",
                    urls.registrar_application(row["id"]),
                )
            )
    return found


# --- saving a draft -----------------------------------------------------------------------


async def _own_draft(application_id: int, applicant_id: int) -> ApplicationRecord:
    record = await get_own(application_id, applicant_id)
    if record.status is not ApplicationStatus.draft:
        raise Conflict(
            f"This application has been submitted ({record.status_label.lower()}), so its "
            "answers can no longer be changed."
        )
    return record


async def _update_draft(application_id: int, values: Mapping[Any, Any]) -> None:
    """Refused if the draft was submitted since it was read: the update's condition decides."""
    updated = (
        await Application.update(
            {**values, Application.updated_at: now(), Application.version: Application.version + 1}
        )
        .where(
            (Application.id == application_id)
            & (Application.status == ApplicationStatus.draft.value)
        )
        .returning(Application.id)
    )
    if not updated:
        raise Conflict("This application has been submitted, so it can no longer be changed.")


async def save(application_id: int, applicant_id: int, section: Section) -> ApplicationRecord:
    """Keep one page's answers in the draft; wrong answers are refused and nothing is saved."""
    draft = await _own_draft(application_id, applicant_id)
    columns = await section.columns(now().date(), draft)
    async with transaction():
        await _update_draft(application_id, columns)
    return await get(application_id)


async def attach_evidence(
    application_id: int, applicant_id: int, filename: str, data: bytes | None, data_dir: Path
) -> ApplicationRecord:
    """Check an uploaded file by its content, store it and attach it to the draft.

    Everything is checked before anything is written: a refused file leaves no trace.
    """
    await _own_draft(application_id, applicant_id)
    checked = evidence.check_upload(filename, data)

    async def attach(stored: evidence.StoredFile) -> None:
        await _update_draft(application_id, {Application.evidence: stored.id})
        await audit.record(
            "register.evidence_uploaded",
            "register_application",
            application_id,
            after={
                "file": stored.id,
                "sha256": stored.sha256,
                "content_type": stored.content_type,
                "size": stored.size,
            },
        )

    await evidence.store(data_dir, checked, uploaded_by=applicant_id, then=attach)
    return await get(application_id)
