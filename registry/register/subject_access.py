"""What the register holds about a person, for a subject access export: their practitioner
record, register entry with its history and renewals, applications with their answers, and
evidence files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from registry.core.subject_access import (
    EMAIL,
    REGISTRATION_NUMBER,
    PersonKeys,
    SubjectAccess,
    SubjectFile,
    SubjectRecords,
)
from registry.register import evidence
from registry.register.tables import (
    Application,
    EntryHistory,
    EntryQualification,
    EntryRole,
    EvidenceFile,
    Practitioner,
    RegisterEntry,
    Renewal,
)

USER = "user"
PRACTITIONER = "register_practitioner"
APPLICATION = "register_application"  # the audit trail's target type for an application


async def identify(person: PersonKeys) -> PersonKeys:
    """The practitioner behind a number, an account or an address, and their applications."""
    numbers = sorted(person.of(REGISTRATION_NUMBER))
    if numbers:
        rows = await RegisterEntry.select(RegisterEntry.practitioner).where(
            RegisterEntry.registration_number.is_in(numbers)
        )
        person = person.adding(PRACTITIONER, (row["practitioner"] for row in rows))
    user_ids = person.numbers(USER)
    emails = sorted(person.of(EMAIL))
    if user_ids:
        rows = await Practitioner.select(Practitioner.id).where(
            Practitioner.account.is_in(user_ids)
        )
        person = person.adding(PRACTITIONER, (row["id"] for row in rows))
        rows = await Application.select(Application.id).where(Application.applicant.is_in(user_ids))
        person = person.adding(APPLICATION, (row["id"] for row in rows))
    if emails:
        rows = await Practitioner.select(Practitioner.id).where(Practitioner.email.is_in(emails))
        person = person.adding(PRACTITIONER, (row["id"] for row in rows))
    practitioner_ids = person.numbers(PRACTITIONER)
    if practitioner_ids:
        people = await Practitioner.select(Practitioner.account, Practitioner.email).where(
            Practitioner.id.is_in(practitioner_ids)
        )
        person = person.adding(USER, (row["account"] for row in people))
        person = person.adding(EMAIL, (row["email"].casefold() for row in people))
        entries = await RegisterEntry.select(RegisterEntry.registration_number).where(
            RegisterEntry.practitioner.is_in(practitioner_ids)
        )
        person = person.adding(REGISTRATION_NUMBER, (row["registration_number"] for row in entries))
    return person


async def export(person: PersonKeys, data_dir: Path) -> SubjectRecords:
    practitioners = [await _practitioner(key) for key in person.numbers(PRACTITIONER)]
    applications = [await _application(key) for key in person.numbers(APPLICATION)]
    files = await _evidence(person)
    return SubjectRecords(
        {
            "practitioners": practitioners,
            "applications": applications,
            "evidence_files": files,
        },
        files=[
            SubjectFile(
                f"{row['id']}-{row['filename']}", evidence.path_for(data_dir, row["sha256"])
            )
            for row in files
        ],
    )


async def _practitioner(practitioner_id: int) -> dict[str, Any]:
    row = (
        await Practitioner.select(
            *(
                column
                for column in Practitioner.all_columns()
                if column is not Practitioner.search_name
            )
        )
        .where(Practitioner.id == practitioner_id)
        .first()
    )
    assert row is not None  # identify found it
    entry = (
        await RegisterEntry.select(
            *(
                column
                for column in RegisterEntry.all_columns()
                if column is not RegisterEntry.public_document
            ),
            RegisterEntry.region.code.as_alias("region_code"),
            RegisterEntry.public_document,
        )
        .where(RegisterEntry.practitioner == practitioner_id)
        .first()
    )
    return {**row, "entry": await _entry(entry) if entry is not None else None}


async def _entry(entry: dict[str, Any]) -> dict[str, Any]:
    entry_id = entry["id"]
    document = entry.pop("public_document")
    return {
        **entry,
        "public_entry": json.loads(document) if document else None,
        "roles": sorted(
            row["code"]
            for row in await EntryRole.select(EntryRole.role.code.as_alias("code")).where(
                EntryRole.entry == entry_id
            )
        ),
        "qualifications": await EntryQualification.select(
            EntryQualification.qualification_type.code.as_alias("qualification_type"),
            EntryQualification.awarded_on,
            EntryQualification.institution,
        )
        .where(EntryQualification.entry == entry_id)
        .order_by(EntryQualification.id),
        "history": [
            {**row, "before": json.loads(row["before"]), "after": json.loads(row["after"])}
            for row in await EntryHistory.select()
            .where(EntryHistory.entry == entry_id)
            .order_by(EntryHistory.id)
        ],
        "renewals": await Renewal.select().where(Renewal.entry == entry_id).order_by(Renewal.id),
    }


async def _application(application_id: int) -> dict[str, Any]:
    row = (
        await Application.select(
            *Application.all_columns(),
            Application.role.code.as_alias("role_code"),
            Application.region.code.as_alias("region_code"),
            Application.qualification_type.code.as_alias("qualification_type_code"),
        )
        .where(Application.id == application_id)
        .first()
    )
    assert row is not None  # identify found it
    return dict(row)


async def _evidence(person: PersonKeys) -> list[dict[str, Any]]:
    """Files they uploaded, and any their applications name (uploaded for them by staff)."""
    application_ids = person.numbers(APPLICATION)
    named = (
        await Application.select(Application.evidence).where(Application.id.is_in(application_ids))
        if application_ids
        else []
    )
    file_ids = {row["evidence"] for row in named if row["evidence"] is not None}
    user_ids = person.numbers(USER)
    if user_ids:
        uploaded = await EvidenceFile.select(EvidenceFile.id).where(
            EvidenceFile.uploaded_by.is_in(user_ids)
        )
        file_ids.update(row["id"] for row in uploaded)
    if not file_ids:
        return []
    return list(
        await EvidenceFile.select()
        .where(EvidenceFile.id.is_in(sorted(file_ids)))
        .order_by(EvidenceFile.id)
    )


SUBJECT_ACCESS = SubjectAccess(part="register", identify=identify, export=export)
