"""What the audit trail holds about a person, for a subject access export: every entry whose
target is one of their records (their account, entry, applications, tokens, …) and every entry
of something they did."""

from __future__ import annotations

from functools import reduce
from operator import or_
from pathlib import Path
from typing import Any

from piccolo.columns.combination import Or, Where

from registry.audit.service import parse_changes
from registry.audit.tables import AuditEntry
from registry.core.subject_access import PersonKeys, SubjectAccess, SubjectRecords

USER = "user"
# The chain's hashes say nothing about the person; the rest of each entry is theirs to see.
COLUMNS = (
    AuditEntry.id,
    AuditEntry.occurred_at,
    AuditEntry.actor_id,
    AuditEntry.actor_label,
    AuditEntry.action,
    AuditEntry.target_type,
    AuditEntry.target_id,
    AuditEntry.changes,
    AuditEntry.client_address,
    AuditEntry.request_id,
)


async def export(person: PersonKeys, data_dir: Path) -> SubjectRecords:
    about: list[Where | Any] = [
        (AuditEntry.target_type == kind) & AuditEntry.target_id.is_in(sorted(ids))
        for kind, ids in sorted(person.ids.items())
        if ids
    ]
    if person.numbers(USER):
        about.append(AuditEntry.actor_id.is_in(person.numbers(USER)))
    if not about:
        return SubjectRecords({"entries": []})
    condition: Where | Or = reduce(or_, about)
    rows = await AuditEntry.select(*COLUMNS).where(condition).order_by(AuditEntry.id)
    return SubjectRecords(
        {"entries": [{**row, "changes": parse_changes(row["changes"])} for row in rows]}
    )


SUBJECT_ACCESS = SubjectAccess(part="audit", export=export)
