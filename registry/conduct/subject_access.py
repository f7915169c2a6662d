"""What fitness to practise holds about a person, for a subject access export: the cases about
them, as they may see them (who raised a concern only where that person consented: the rest is
a third party's), and the concerns they raised themselves (matched by their account or email
address)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from registry.conduct import concerns
from registry.conduct.interim_orders import orders_of
from registry.conduct.service import sanctions_of
from registry.conduct.tables import Case, Concern
from registry.core.subject_access import EMAIL, PersonKeys, SubjectAccess, SubjectRecords
from registry.register.subject_access import PRACTITIONER
from registry.register.tables import RegisterEntry

ABOUT_THEM = (
    Case.id,
    Case.reference,
    Case.stage,
    Case.outcome,
    Case.opened_at,
    Case.notice_text,
    Case.response_text,
    Case.due_on,
    Case.due_what,
    Case.hearing_on,
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


async def export(person: PersonKeys, data_dir: Path) -> SubjectRecords:
    practitioner_ids = person.numbers(PRACTITIONER)
    about: list[dict[str, Any]] = []
    if practitioner_ids:
        entries = await RegisterEntry.select(RegisterEntry.id).where(
            RegisterEntry.practitioner.is_in(practitioner_ids)
        )
        entry_ids = [row["id"] for row in entries]
        rows = (
            await Case.select(*ABOUT_THEM).where(Case.entry.is_in(entry_ids)).order_by(Case.id)
            if entry_ids
            else []
        )
        for row in rows:
            about.append(
                {
                    **{key: value for key, value in row.items() if key != "id"},
                    "concerns": [
                        asdict(view)
                        for view in await concerns.concerns_of(row["id"], show_raiser=None)
                    ],
                    "sanctions": [asdict(each) for each in await sanctions_of(row["id"])],
                    "interim_orders": [asdict(each) for each in await orders_of(row["id"])],
                }
            )
    raised_by = person.numbers("user")
    emails = sorted(person.of(EMAIL))
    condition: Any = None
    if raised_by:
        condition = Concern.raised_by.is_in(raised_by)
    if emails:
        by_email = Concern.raiser_email.is_in(emails)
        condition = by_email if condition is None else condition | by_email
    raised = (
        await Concern.select(
            Concern.reference,
            Concern.raised_at,
            Concern.about_number,
            Concern.about_name,
            Concern.what_happened,
            Concern.relationship,
            Concern.raiser_name,
            Concern.raiser_email,
            Concern.raiser_phone,
            Concern.consent_to_share,
        ).where(condition)
        if condition is not None
        else []
    )
    return SubjectRecords(_plain({"cases_about_them": about, "concerns_raised": list(raised)}))


SUBJECT_ACCESS = SubjectAccess(part="conduct", export=export)
