"""Applicants and their applications for tests, made through the application rules."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

from registry.accounts import users
from registry.accounts.roles import Role
from registry.audit.tables import AuditEntry
from registry.notifications.tables import OutboxMessage
from registry.register.applications import answers, records, workflow
from registry.register.applications.records import ApplicationRecord
from registry.register.renewals import RenewalCalendar
from registry.register.tables import ApplicationKind

CALENDAR = RenewalCalendar()
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(40) + b"\xff\xd9"
_numbers = itertools.count(1)


async def new_account(role: Role = Role.practitioner, name: str = "") -> users.Account:
    """An account with no password (as if invited): fast to make, enough for the rules."""
    number = next(_numbers)
    return await users.create_user(
        f"{role.value}{number}@example.org", name or f"Test {role.value} {number}", [role]
    )


async def registrar() -> users.Account:
    return await new_account(Role.registrar)


async def fill_in(
    application_id: int,
    applicant_id: int,
    data_dir: Path,
    *,
    given: str = "Amara",
    family: str = "Okoye",
    born: date = date(1990, 5, 17),
    email: str = "amara.okoye@example.org",
    evidence: bytes = PDF,
) -> ApplicationRecord:
    """Answer every page of an initial application."""
    sections: list[answers.Section] = [
        answers.Name(given, family),
        answers.DateOfBirth(born),
        answers.Contact(email, "07700 900123"),
        answers.Address("1 Probation Way\nLeeds", "ls1 4ap"),
        answers.RoleAnswer("probation_officer"),
        answers.RegionAnswer("yorkshire_humber"),
        answers.Qualification("pqip", date(2020, 7, 1), "University of Leeds"),
        answers.Declaration("character", False),
        answers.Declaration("health", True, "Asthma, well controlled"),
    ]
    for section in sections:
        await records.save(application_id, applicant_id, section)
    return await records.attach_evidence(
        application_id, applicant_id, "certificate.pdf", evidence, data_dir
    )


async def submitted_application(
    data_dir: Path, applicant: users.Account | None = None, **answers: object
) -> ApplicationRecord:
    applicant = applicant or await new_account()
    draft = await workflow.start(applicant.id, ApplicationKind.initial)
    await fill_in(draft.id, applicant.id, data_dir, **answers)  # type: ignore[arg-type]
    return await workflow.submit(draft.id, applicant.id)


async def audit_actions(target_id: int | None = None) -> list[str]:
    query = AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)
    if target_id is not None:
        query = query.where(
            (AuditEntry.target_type == "register_application")
            & (AuditEntry.target_id == str(target_id))
        )
    return [row["action"] for row in await query]


async def emails(template: str | None = None) -> list[dict[str, object]]:
    query = OutboxMessage.select().order_by(OutboxMessage.id)
    if template is not None:
        query = query.where(OutboxMessage.template == template)
    return list(await query)


def stored_files(data_dir: Path) -> set[str]:
    root = data_dir / "files"
    return {path.name for path in root.rglob("*") if path.is_file()} if root.exists() else set()
