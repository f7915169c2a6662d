"""Applications to join the register, and to be restored to it. No HTTP here.

An application is a small state machine (:data:`MOVES`)::

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

A person (an account) has at most one open application, and none while they are on the
register: someone whose registration lapsed, or who left it, applies for restoration instead;
someone removed by a fitness to practise decision may apply only five years after removal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from registry.accounts.tables import User
from registry.accounts.users import normalise_email
from registry.audit import service as audit
from registry.core import clock
from registry.db import lock_row, transaction
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.notifications import service as notifications
from registry.register import evidence, names, service
from registry.register.service import RenewalCalendar
from registry.register.tables import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    EntryHistory,
    EntryQualification,
    EntryRole,
    EntryState,
    EvidenceFile,
    Practitioner,
    RegisterEntry,
)

MIN_AGE = service.MIN_AGE
OLDEST_BIRTH_YEAR = 1900
RESTORATION_AFTER_REMOVAL_YEARS = 5  # (default) the sanctions guidance's limit
MAX_DETAILS = 5000
MAX_ADDRESS = 500
MAX_DECISION_TEXT = 5000
QUEUE_PAGE_SIZE = 50
POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
PHONE = re.compile(r"^\+?[0-9 ()\-]{7,20}$")

OPEN = frozenset(
    {
        ApplicationStatus.draft,
        ApplicationStatus.submitted,
        ApplicationStatus.under_review,
        ApplicationStatus.further_information_requested,
    }
)
AWAITING_DECISION = frozenset({ApplicationStatus.submitted, ApplicationStatus.under_review})
RESTORABLE = frozenset({EntryState.lapsed, EntryState.voluntarily_removed, EntryState.removed})

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


MOVES: dict[Move, Transition] = {
    Move.submit: Transition(
        frozenset({ApplicationStatus.draft}),
        ApplicationStatus.submitted,
        "register.application_submitted",
        "submitted again",
    ),
    Move.approve: Transition(
        AWAITING_DECISION,
        ApplicationStatus.approved,
        "register.application_approved",
        "approved",
    ),
    Move.reject: Transition(
        AWAITING_DECISION | {ApplicationStatus.further_information_requested},
        ApplicationStatus.rejected,
        "register.application_rejected",
        "rejected",
    ),
    Move.request_information: Transition(
        AWAITING_DECISION,
        ApplicationStatus.further_information_requested,
        "register.application_information_requested",
        "sent a request for further information",
    ),
    Move.respond: Transition(
        frozenset({ApplicationStatus.further_information_requested}),
        ApplicationStatus.under_review,
        "register.application_information_given",
        "answered: no further information has been asked for",
    ),
}


class InvalidAnswers(InvalidInput):
    """One or more answers on a page are wrong; ``problems`` names each field, in page order."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        first_field, first_message = next(iter(problems.items()))
        super().__init__(first_message, field=first_field)
        self.problems = dict(problems)


class _Problems:
    def __init__(self) -> None:
        self.found: dict[str, str] = {}

    def add(self, name: str, message: str) -> None:
        self.found.setdefault(name, message)

    def raise_any(self) -> None:
        if self.found:
            raise InvalidAnswers(self.found)


def _required_text(
    problems: _Problems, name: str, value: str, limit: int, missing: str, label: str
) -> str:
    cleaned = value.strip()
    if not cleaned:
        problems.add(name, missing)
    elif len(cleaned) > limit:
        problems.add(name, f"{label} must be {limit:,} characters or fewer")
    elif any(ord(char) < 32 and char not in "\r\n\t" for char in cleaned):
        problems.add(name, f"{label} must not contain control characters")
    return cleaned


# --- answers, one section per question page ----------------------------------------------


@dataclass(frozen=True)
class Name:
    given_names: str
    family_name: str

    async def columns(self, today: date) -> dict[Any, Any]:
        problems = _Problems()
        given = _required_text(
            problems, "given_names", self.given_names, 100, "Enter your given names", "Given names"
        )
        family = _required_text(
            problems, "family_name", self.family_name, 100, "Enter your family name", "Family name"
        )
        for name, value, label in (
            ("given_names", given, "Given names"),
            ("family_name", family, "Family name"),
        ):
            # The register's own rule for names (they reach spreadsheets in the open data).
            if value and (not value.isprintable() or value[0] in "=+@"):
                problems.add(name, f"{label} must be on one line and must not start with =, + or @")
        problems.raise_any()
        return {Application.given_names: given, Application.family_name: family}


def check_date_of_birth(born: date, today: date) -> None:
    if born > today:
        raise InvalidAnswers({"date_of_birth": "Date of birth must be in the past"})
    if born.year < OLDEST_BIRTH_YEAR:
        raise InvalidAnswers({"date_of_birth": f"Date of birth must be after {OLDEST_BIRTH_YEAR}"})
    if service._age_on(born, today) < MIN_AGE:
        raise InvalidAnswers(
            {"date_of_birth": f"You must be at least {MIN_AGE} years old to apply"}
        )


@dataclass(frozen=True)
class DateOfBirth:
    date_of_birth: date

    async def columns(self, today: date) -> dict[Any, Any]:
        check_date_of_birth(self.date_of_birth, today)
        return {Application.date_of_birth: self.date_of_birth}


@dataclass(frozen=True)
class Contact:
    email: str
    phone: str = ""

    async def columns(self, today: date) -> dict[Any, Any]:
        problems = _Problems()
        email = self.email.strip()
        if not email:
            problems.add("email", "Enter your email address")
        else:
            try:
                email = normalise_email(email)
            except InvalidInput as error:
                problems.add("email", error.detail)
        phone = self.phone.strip()
        if phone and not PHONE.match(phone):
            problems.add(
                "phone", "Enter a telephone number, like 01632 960 001 or +44 808 157 0192"
            )
        problems.raise_any()
        return {Application.email: email, Application.phone: phone}


def normalise_postcode(value: str) -> str | None:
    compact = "".join(value.split()).upper()
    found = POSTCODE.match(compact)
    return f"{found.group(1)} {found.group(2)}" if found else None


@dataclass(frozen=True)
class Address:
    address: str
    postcode: str

    async def columns(self, today: date) -> dict[Any, Any]:
        problems = _Problems()
        address = _required_text(
            problems, "address", self.address, MAX_ADDRESS, "Enter your address", "Address"
        )
        postcode = ""
        if not self.postcode.strip():
            problems.add("postcode", "Enter your postcode")
        elif (normalised := normalise_postcode(self.postcode)) is None:
            problems.add("postcode", "Enter a real postcode, like SW1A 1AA")
        else:
            postcode = normalised
        problems.raise_any()
        return {Application.address: address, Application.postcode: postcode}


def _chosen(
    code: str, table: dict[str, service.Reference], field: str, missing: str, unknown: str
) -> int:
    """The id of a code chosen from a reference list, or the page's message for the field."""
    if not code.strip():
        raise InvalidAnswers({field: missing})
    if code not in table:
        raise InvalidAnswers({field: unknown})
    return table[code].id


@dataclass(frozen=True)
class RoleAnswer:
    code: str

    async def columns(self, today: date) -> dict[Any, Any]:
        roles = (await service.reference_data()).roles
        return {
            Application.role: _chosen(
                self.code,
                roles,
                "role",
                "Select your designated role",
                "Select a designated role from the list",
            )
        }


@dataclass(frozen=True)
class RegionAnswer:
    code: str

    async def columns(self, today: date) -> dict[Any, Any]:
        regions = (await service.reference_data()).regions
        return {
            Application.region: _chosen(
                self.code,
                regions,
                "region",
                "Select the region you work in",
                "Select a region from the list",
            )
        }


@dataclass(frozen=True)
class Qualification:
    code: str
    awarded_on: date | None
    institution: str
    # Set by the page when the date it was given could not be read, so that every problem on
    # the page is reported together.
    awarded_on_problem: str = ""

    async def columns(self, today: date) -> dict[Any, Any]:
        problems = _Problems()
        reference = await service.reference_data()
        if not self.code.strip():
            problems.add("qualification_type", "Select your qualification")
        elif self.code not in reference.qualifications:
            problems.add("qualification_type", "Select a qualification from the list")
        if self.awarded_on_problem:
            problems.add("awarded_on", self.awarded_on_problem)
        elif self.awarded_on is None:
            problems.add("awarded_on", "Enter the date the qualification was awarded")
        elif self.awarded_on > today:
            problems.add("awarded_on", "The date it was awarded must be today or in the past")
        elif self.awarded_on.year < OLDEST_BIRTH_YEAR:
            problems.add("awarded_on", f"The date it was awarded must be after {OLDEST_BIRTH_YEAR}")
        institution = _required_text(
            problems,
            "institution",
            self.institution,
            200,
            "Enter the name of the institution that awarded it",
            "Institution",
        )
        problems.raise_any()
        return {
            Application.qualification_type: reference.qualifications[self.code].id,
            Application.qualification_awarded_on: self.awarded_on,
            Application.qualification_institution: institution,
        }


@dataclass(frozen=True)
class Declaration:
    """Character (convictions, cautions) or health: yes or no, and the details when yes."""

    topic: str  # "character" or "health"
    declared: bool | None
    details: str = ""

    async def columns(self, today: date) -> dict[Any, Any]:
        if self.topic not in ("character", "health"):
            raise ValueError(f"no declaration about {self.topic}")
        question = {
            "character": "Select yes if you have a conviction or caution to declare",
            "health": "Select yes if you have a health condition to declare",
        }[self.topic]
        if self.declared is None:
            raise InvalidAnswers({f"{self.topic}_declaration": question})
        details = self.details.strip()
        if self.declared and not details:
            raise InvalidAnswers(
                {f"{self.topic}_details": "Give the details of what you are declaring"}
            )
        if len(details) > MAX_DETAILS:
            raise InvalidAnswers(
                {f"{self.topic}_details": f"Details must be {MAX_DETAILS:,} characters or fewer"}
            )
        declared_column, details_column = {
            "character": (Application.character_declaration, Application.character_details),
            "health": (Application.health_declaration, Application.health_details),
        }[self.topic]
        return {declared_column: self.declared, details_column: details if self.declared else ""}


Section = (
    Name | DateOfBirth | Contact | Address | RoleAnswer | RegionAnswer | Qualification | Declaration
)


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


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
        created_at=_aware(row["created_at"]) or clock.now(),
        updated_at=_aware(row["updated_at"]) or clock.now(),
        submitted_at=_aware(row["submitted_at"]),
        decided_at=_aware(row["decided_at"]),
        decided_by_name=row["decided_by_name"] or "",
        decision_reason=row["decision_reason"],
        information_request=row["information_request"],
        information_response=row["information_response"],
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
    today = clock.now().astimezone(UTC).date()
    items = []
    for row in rows:
        submitted = _aware(row["submitted_at"])
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
                    f"/register/{row['registration_number']}",
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
                    f"/registrar/applications/{row['id']}",
                )
            )
    return found


# --- who may apply ------------------------------------------------------------------------


async def _entry_of(applicant_id: int) -> dict[str, Any] | None:
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
    aware = _aware(moment)
    assert aware is not None
    return aware.astimezone(UTC).date()


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


async def check_can_apply(applicant_id: int, kind: ApplicationKind) -> int | None:
    """Refuse, with what to do instead, someone who may not make this kind of application now.

    Returns the register entry a restoration is for.
    """
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
    entry = await _entry_of(applicant_id)
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
        if clock.now().astimezone(UTC).date() < earliest:
            raise Conflict(
                f"You were removed from the register on {removed:%-d %B %Y} by a fitness to "
                f"practise decision. You cannot apply for restoration until "
                f"{earliest:%-d %B %Y}, {RESTORATION_AFTER_REMOVAL_YEARS} years after removal."
            )
    return int(entry["id"])


async def _lock_applicant(applicant_id: int) -> None:
    """Hold the applicant's account row to the end of the transaction, so that two requests
    cannot both find no open application and both start one (SQLite's write lock does this
    already)."""
    await lock_row(User, applicant_id)


# --- the applicant's moves ----------------------------------------------------------------


def _now() -> datetime:
    return clock.now().astimezone(UTC)


async def start(applicant_id: int, kind: ApplicationKind) -> ApplicationRecord:
    """Open a draft: an empty one to join, or one filled from the entry to be restored."""
    async with transaction():
        await _lock_applicant(applicant_id)
        entry_id = await check_can_apply(applicant_id, kind)
        account = await User.select(User.email).where(User.id == applicant_id).first()
        if account is None:
            raise NotFound("There is no such account")
        moment = _now()
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
    return await get(application_id)


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


async def _own_draft(application_id: int, applicant_id: int) -> ApplicationRecord:
    record = await get_own(application_id, applicant_id)
    if record.status is not ApplicationStatus.draft:
        raise Conflict(
            f"This application has been submitted ({record.status_label.lower()}), so its "
            "answers can no longer be changed."
        )
    return record


async def save(application_id: int, applicant_id: int, section: Section) -> ApplicationRecord:
    """Keep one page's answers in the draft; wrong answers are refused and nothing is saved."""
    await _own_draft(application_id, applicant_id)
    columns = await section.columns(_now().date())
    async with transaction():
        updated = (
            await Application.update({**columns, Application.updated_at: _now()})
            .where(
                (Application.id == application_id)
                & (Application.status == ApplicationStatus.draft.value)
            )
            .returning(Application.id)
        )
        if not updated:
            raise Conflict("This application has been submitted, so it can no longer be changed.")
    return await get(application_id)


async def attach_evidence(
    application_id: int, applicant_id: int, filename: str, data: bytes | None, data_dir: Path
) -> ApplicationRecord:
    """Check an uploaded file by its content, store it and attach it to the draft.

    Everything is checked before anything is written: a refused file leaves no trace.
    """
    await _own_draft(application_id, applicant_id)
    checked = evidence.check_upload(filename, data)
    created = evidence.write(data_dir, checked)
    try:
        async with transaction():
            stored = await evidence.record(checked, uploaded_by=applicant_id)
            updated = (
                await Application.update(
                    {Application.evidence: stored.id, Application.updated_at: _now()}
                )
                .where(
                    (Application.id == application_id)
                    & (Application.status == ApplicationStatus.draft.value)
                )
                .returning(Application.id)
            )
            if not updated:
                raise Conflict(
                    "This application has been submitted, so it can no longer be changed."
                )
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
    except BaseException:
        if created and not await EvidenceFile.exists().where(EvidenceFile.sha256 == checked.sha256):
            evidence.discard(data_dir, checked.sha256)
        raise
    return await get(application_id)


# The pages a draft needs answered before it can be submitted, in the order they are asked.
INITIAL_STEPS = (
    "name",
    "date-of-birth",
    "contact",
    "address",
    "role",
    "region",
    "qualification",
    "evidence",
    "character",
    "health",
)
RESTORATION_STEPS = ("contact", "address", "character", "health")


def steps_for(kind: ApplicationKind) -> tuple[str, ...]:
    return INITIAL_STEPS if kind is ApplicationKind.initial else RESTORATION_STEPS


def missing_answers(record: ApplicationRecord) -> dict[str, str]:
    """Each unanswered page of a draft (its step) and what to do about it, in page order."""
    checks: dict[str, tuple[bool, str]] = {
        "name": (bool(record.given_names and record.family_name), "Enter your name"),
        "date-of-birth": (record.date_of_birth is not None, "Enter your date of birth"),
        "contact": (bool(record.email), "Enter your email address"),
        "address": (bool(record.address and record.postcode), "Enter your address"),
        "role": (bool(record.role_code), "Select your designated role"),
        "region": (bool(record.region_code), "Select the region you work in"),
        "qualification": (
            bool(record.qualification_code and record.qualification_institution),
            "Enter your qualification",
        ),
        "evidence": (record.evidence is not None, "Upload evidence of your qualification"),
        "character": (
            record.character_declaration is not None,
            "Answer the question about convictions and cautions",
        ),
        "health": (
            record.health_declaration is not None,
            "Answer the question about your health",
        ),
    }
    return {
        step: message
        for step, (answered, message) in checks.items()
        if step in steps_for(record.kind) and not answered
    }


async def submit(application_id: int, applicant_id: int) -> ApplicationRecord:
    """Send a complete draft to the registrar, and tell the applicant it has arrived."""
    record = await get_own(application_id, applicant_id)
    if record.status is ApplicationStatus.draft and (missing := missing_answers(record)):
        raise InvalidAnswers(missing)
    today = _now().date()
    if record.kind is ApplicationKind.initial and record.date_of_birth is not None:
        check_date_of_birth(record.date_of_birth, today)
    async with transaction():
        if record.status is ApplicationStatus.draft:
            await _check_still_eligible(record)
        moment = _now()
        await _move(record, Move.submit, {Application.submitted_at: moment})
        await notifications.queue_email(
            record.email,
            "application_submitted",
            {
                "given_names": record.given_names,
                "reference": record.reference,
                "kind": record.kind.value,
                "path": "/your-application",
            },
            subject=f"We have received your application {record.reference}",
            key=f"application-submitted:{record.id}",
        )
    return await get(application_id)


async def _check_still_eligible(record: ApplicationRecord) -> None:
    """The rules for starting, checked again at submission: things may have changed since."""
    others = await Application.exists().where(
        (Application.applicant == record.applicant_id)
        & (Application.id != record.id)
        & Application.status.is_in([status.value for status in OPEN - {ApplicationStatus.draft}])
    )
    if others:
        raise Conflict("You already have an application in progress.")
    entry = await _entry_of(record.applicant_id)
    if record.kind is ApplicationKind.initial and entry is not None:
        raise Conflict(
            f"You are already on the register ({entry['registration_number']}), so this "
            "application cannot be submitted."
        )
    if record.kind is ApplicationKind.restoration and (
        entry is None or EntryState(entry["state"]) not in RESTORABLE
    ):
        raise Conflict("You are on the register now, so there is nothing to restore.")


async def respond(application_id: int, applicant_id: int, response: str) -> ApplicationRecord:
    """The applicant answers the registrar's question; the application goes back to them."""
    record = await get_own(application_id, applicant_id)
    problems = _Problems()
    answer = _required_text(
        problems,
        "information_response",
        response,
        MAX_DECISION_TEXT,
        "Enter your answer to the registrar's question",
        "Your answer",
    )
    problems.raise_any()
    async with transaction():
        await _move(record, Move.respond, {Application.information_response: answer})
    return await get(application_id)


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
    refusal = Conflict(
        f"Application {record.reference} is {STATUS_LABELS[record.status].lower()}, so it cannot "
        f"be {transition.refusal}."
    )
    if record.status not in transition.allowed_from:
        raise refusal
    updated = (
        await Application.update(
            {**values, Application.status: transition.to.value, Application.updated_at: _now()}
        )
        .where(
            (Application.id == record.id)
            & Application.status.is_in([status.value for status in transition.allowed_from])
        )
        .returning(Application.id)
    )
    if not updated:  # someone else moved it first
        current = await get(record.id)
        raise Conflict(
            f"Application {record.reference} is {current.status_label.lower()}, so it cannot "
            f"be {transition.refusal}."
        )


async def _decidable(application_id: int, registrar_id: int) -> ApplicationRecord:
    record = await get(application_id)
    if record.applicant_id == registrar_id:
        raise PermissionDenied("You cannot decide your own application. Ask another registrar.")
    return record


def _decision(by: int) -> dict[Any, Any]:
    return {Application.decided_by: by, Application.decided_at: _now()}


async def approve(
    application_id: int, *, registrar_id: int, calendar: RenewalCalendar
) -> ApplicationRecord:
    """Put the applicant on the register (or back on it) and welcome them, in one transaction."""
    record = await _decidable(application_id, registrar_id)
    today = _now().date()
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
        await notifications.queue_email(
            record.email,
            template,
            {
                "given_names": record.given_names,
                "registration_number": entry.registration_number,
                "registered_until": f"{entry.public.registered_until:%-d %B %Y}",
                "reference": record.reference,
                "path": "/your-registration",
            },
            subject=f"{subject}: {entry.registration_number}",
            key=f"application-approved:{record.id}",
        )
    return await get(application_id)


async def _create_entry(
    record: ApplicationRecord, today: date, calendar: RenewalCalendar
) -> service.Entry:
    if await _entry_of(record.applicant_id) is not None:
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
    return await service.set_state(
        record.entry_id,
        EntryState.registered,
        reason=f"Restoration application {record.reference} approved",
    )


async def reject(application_id: int, *, registrar_id: int, reason: str) -> ApplicationRecord:
    """Refuse the application, telling the applicant why."""
    problems = _Problems()
    why = _required_text(
        problems, "reason", reason, MAX_DECISION_TEXT, "Enter the reason for rejecting", "Reason"
    )
    problems.raise_any()
    record = await _decidable(application_id, registrar_id)
    async with transaction():
        await _move(
            record, Move.reject, {**_decision(registrar_id), Application.decision_reason: why}
        )
        await notifications.queue_email(
            record.email,
            "application_rejected",
            {
                "given_names": record.given_names,
                "reference": record.reference,
                "reason": why,
                "path": "/your-application",
            },
            subject=f"Your application {record.reference} has not been approved",
            key=f"application-rejected:{record.id}",
        )
    return await get(application_id)


async def request_information(
    application_id: int, *, registrar_id: int, question: str
) -> ApplicationRecord:
    """Ask the applicant something; the application waits for their answer."""
    problems = _Problems()
    asked = _required_text(
        problems,
        "question",
        question,
        MAX_DECISION_TEXT,
        "Enter what you need the applicant to tell you",
        "Question",
    )
    problems.raise_any()
    record = await _decidable(application_id, registrar_id)
    async with transaction():
        await _move(
            record,
            Move.request_information,
            {Application.information_request: asked, Application.information_response: ""},
        )
        # Keyed by the count of requests so far: a second request sends a second email.
        asked_before = await _requests_before(record.id)
        await notifications.queue_email(
            record.email,
            "application_information_requested",
            {
                "given_names": record.given_names,
                "reference": record.reference,
                "question": asked,
                "path": "/your-application",
            },
            subject=f"We need more information about your application {record.reference}",
            key=f"application-information:{record.id}:{asked_before}",
        )
    return await get(application_id)


async def _requests_before(application_id: int) -> int:
    from registry.audit.tables import AuditEntry

    return int(
        await AuditEntry.count().where(
            (AuditEntry.action == MOVES[Move.request_information].action)
            & (AuditEntry.target_type == "register_application")
            & (AuditEntry.target_id == str(application_id))
        )
    )


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


def status_items(chosen: str) -> list[dict[str, Any]]:
    return [
        {"value": key, "text": label, "selected": key == chosen}
        for key, label in QUEUE_FILTER_LABELS.items()
    ]
