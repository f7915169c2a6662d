"""A practitioner's whole CPD record as CSV and JSON, whenever they ask (and, in the same shape,
their CPD part of a subject access export): every activity with its reflection, practice areas,
standards and the names and SHA-256 of its evidence files."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC
from typing import Any

from registry.core import clock
from registry.cpd import activities
from registry.cpd.activities import ActivityRecord
from registry.cpd.tables import ACTIVITY_TYPE_LABELS
from registry.register.opendata import csv_cell
from registry.register.renewals import RenewalCalendar


def as_json(record: ActivityRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "title": record.title,
        "done_on": record.done_on.isoformat(),
        "registration_year": record.registration_year,
        "hours": str(record.hours),
        "activity_type": record.activity_type.value,
        "participatory": record.participatory,
        "practice_areas": [{"code": a.code, "name": a.name} for a in record.practice_areas],
        "standards": [{"code": s.code, "name": s.name} for s in record.standards],
        "what_happened": record.what_happened,
        "what_learned": record.what_learned,
        "practice_changed": record.practice_changed,
        "reflective": record.reflective,
        "peer_reflection": record.peer_reflection,
        "peer_role": record.peer_role,
        "evidence": [
            {
                "filename": attached.stored.filename,
                "sha256": attached.stored.sha256,
                "content_type": attached.stored.content_type,
                "size": attached.stored.size,
            }
            for attached in record.evidence
        ],
        "rule_pack": record.rule_pack,
        "created_at": record.created_at.astimezone(UTC).isoformat(),
        "updated_at": record.updated_at.astimezone(UTC).isoformat(),
    }


def _names(items: list[Any]) -> str:
    return "; ".join(item.name for item in items)


CSV_COLUMNS: tuple[tuple[str, Callable[[ActivityRecord], str]], ...] = (
    ("id", lambda r: str(r.id)),
    ("date", lambda r: r.done_on.isoformat()),
    ("registration_year", lambda r: str(r.registration_year)),
    ("title", lambda r: r.title),
    ("hours", lambda r: str(r.hours)),
    ("type", lambda r: ACTIVITY_TYPE_LABELS[r.activity_type]),
    ("participatory", lambda r: "yes" if r.participatory else "no"),
    ("practice_areas", lambda r: _names(r.practice_areas)),
    ("standards", lambda r: _names(r.standards)),
    ("what_happened", lambda r: r.what_happened),
    ("what_learned", lambda r: r.what_learned),
    ("practice_changed", lambda r: r.practice_changed),
    ("reflective_account", lambda r: "yes" if r.reflective else "no"),
    ("peer_reflection", lambda r: "yes" if r.peer_reflection else "no"),
    ("peer_role", lambda r: r.peer_role),
    (
        "evidence",
        lambda r: "; ".join(f"{a.stored.filename} sha256:{a.stored.sha256}" for a in r.evidence),
    ),
)


async def records(account_id: int, calendar: RenewalCalendar) -> list[ActivityRecord]:
    """Every activity, oldest first."""
    return list(reversed(await activities.list_for(account_id, calendar)))


async def json_document(account_id: int, calendar: RenewalCalendar) -> bytes:
    found = await records(account_id, calendar)
    document = {
        "generated_at": clock.now().astimezone(UTC).isoformat(),
        "activities": [as_json(record) for record in found],
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


async def csv_document(account_id: int, calendar: RenewalCalendar) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180
    writer.writerow([name for name, _ in CSV_COLUMNS])
    for record in await records(account_id, calendar):
        writer.writerow([csv_cell(value(record)) for _, value in CSV_COLUMNS])
    return buffer.getvalue().encode()


def download_headers(extension: str) -> dict[str, str]:
    day = clock.now().astimezone(UTC).date().isoformat()
    return {
        "content-disposition": f'attachment; filename="cpd-record-{day}.{extension}"',
        "cache-control": "no-store",
    }
