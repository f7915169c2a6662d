"""What CPD holds about a person, for a subject access export: every activity of their record,
in the shape of their own CPD export (the evidence files themselves are copied by the register's
part, which holds every file they uploaded), their exemptions and their audit cases."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from registry.core.subject_access import PersonKeys, SubjectAccess, SubjectRecords
from registry.cpd import activities
from registry.cpd.export import as_json
from registry.cpd.tables import Activity, AuditCase, Exemption
from registry.register.renewals import RenewalCalendar
from registry.register.subject_access import PRACTITIONER


async def export(person: PersonKeys, data_dir: Path) -> SubjectRecords:
    practitioner_ids = person.numbers(PRACTITIONER)
    if not practitioner_ids:
        return SubjectRecords({"activities": [], "exemptions": [], "audits": []})
    rows = (
        await Activity.select()
        .where(Activity.practitioner.is_in(practitioner_ids))
        .order_by(Activity.done_on)
        .order_by(Activity.id)
    )
    # The registration year each counts to is read with the default calendar: the export is
    # made from the command line, without the service's renewal settings.
    found = await activities.records_of(rows, RenewalCalendar())
    exemptions = await Exemption.select(
        Exemption.kind,
        Exemption.reason,
        Exemption.starts_on,
        Exemption.ends_on,
        Exemption.state,
        Exemption.decision_reason,
    ).where(Exemption.practitioner.is_in(practitioner_ids))
    audits = await AuditCase.select(
        AuditCase.registration_year,
        AuditCase.state,
        AuditCase.due_on,
        AuditCase.summary_of_practice,
        AuditCase.chosen_activities,
        AuditCase.statements,
        AuditCase.information,
        AuditCase.decision_reasons,
    ).where(AuditCase.practitioner.is_in(practitioner_ids))
    return SubjectRecords(
        {
            "activities": [as_json(record) for record in found],
            "exemptions": [_plain(row) for row in exemptions],
            "audits": [_plain(row) for row in audits],
        }
    )


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A row as JSON can hold it: dates as ISO text."""
    return {
        key: value.isoformat() if isinstance(value, date) else value for key, value in row.items()
    }


SUBJECT_ACCESS = SubjectAccess(part="cpd", export=export)
