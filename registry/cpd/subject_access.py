"""What CPD holds about a person, for a subject access export: every activity of their record,
in the shape of their own CPD export (the evidence files themselves are copied by the register's
part, which holds every file they uploaded)."""

from __future__ import annotations

from pathlib import Path

from registry.core.subject_access import PersonKeys, SubjectAccess, SubjectRecords
from registry.cpd import activities
from registry.cpd.export import as_json
from registry.cpd.tables import Activity
from registry.register.renewals import RenewalCalendar
from registry.register.subject_access import PRACTITIONER


async def export(person: PersonKeys, data_dir: Path) -> SubjectRecords:
    practitioner_ids = person.numbers(PRACTITIONER)
    if not practitioner_ids:
        return SubjectRecords({"activities": []})
    rows = (
        await Activity.select()
        .where(Activity.practitioner.is_in(practitioner_ids))
        .order_by(Activity.done_on)
        .order_by(Activity.id)
    )
    # The registration year each counts to is read with the default calendar: the export is
    # made from the command line, without the service's renewal settings.
    found = await activities.records_of(rows, RenewalCalendar())
    return SubjectRecords({"activities": [as_json(record) for record in found]})


SUBJECT_ACCESS = SubjectAccess(part="cpd", export=export)
