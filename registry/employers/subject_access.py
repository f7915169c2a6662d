"""What employers hold about a person, for a subject access export: the organisations they
asked for (as the contact), their membership, the keys they made (names and visible prefixes,
never hashes) and the bulk checks they made (when, how many, the list's fingerprint)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from registry.accounts.subject_access import USER
from registry.core.subject_access import EMAIL, PersonKeys, SubjectAccess, SubjectRecords
from registry.employers.tables import ApiKey, BulkCheck, Member, Organisation


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, date | datetime) else value
        for key, value in row.items()
    }


async def export(person: PersonKeys, data_dir: Path) -> SubjectRecords:
    user_ids = person.numbers(USER)
    emails = sorted(person.of(EMAIL))
    requested = (
        await Organisation.select(
            Organisation.name,
            Organisation.status,
            Organisation.contact_name,
            Organisation.contact_email,
            Organisation.about,
            Organisation.created_at,
            Organisation.decided_at,
            Organisation.decision_reason,
        ).where(Organisation.contact_email.is_in(emails))
        if emails
        else []
    )
    if not user_ids:
        return SubjectRecords({"organisations_asked_for": [_plain(r) for r in requested]})
    memberships = await Member.select(
        Member.organisation.name, Member.is_admin, Member.added_at
    ).where(Member.user.is_in(user_ids))
    keys = await ApiKey.select(
        ApiKey.name, ApiKey.key_prefix, ApiKey.scopes, ApiKey.created_at, ApiKey.revoked_at
    ).where(ApiKey.created_by.is_in(user_ids))
    checks = await BulkCheck.select(
        BulkCheck.checked_at, BulkCheck.numbers, BulkCheck.list_sha256
    ).where(BulkCheck.user.is_in(user_ids))
    return SubjectRecords(
        {
            "organisations_asked_for": [_plain(r) for r in requested],
            "memberships": [_plain(r) for r in memberships],
            "api_keys_made": [_plain(r) for r in keys],
            "bulk_checks": [_plain(r) for r in checks],
        }
    )


SUBJECT_ACCESS = SubjectAccess(part="employers", export=export)
