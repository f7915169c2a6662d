"""What employers hold about a person, for a subject access export: the organisations they
asked for (as the contact), their membership, the keys they made (names and visible prefixes,
never hashes) and the bulk checks they made (when, how many, the list's fingerprint).

For a practitioner, also who is told about them: each organisation watching their number (and
since when), and each event about them sent to an organisation's endpoint. Those organisations
are recipients of the practitioner's personal data, which a subject access answer must name
(UK GDPR article 15(1)(c)). An endpoint's address is the organisation's, not the person's, so
the organisation is named and its address left out. A bulk check keeps no numbers, so whose
entries an organisation checked cannot be told (and is not kept to be told)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from registry.accounts.subject_access import USER
from registry.core.subject_access import (
    EMAIL,
    REGISTRATION_NUMBER,
    PersonKeys,
    SubjectAccess,
    SubjectRecords,
)
from registry.employers.tables import ApiKey, BulkCheck, Member, Organisation, Watch, WebhookEvent


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
    told = await _who_is_told(sorted(person.of(REGISTRATION_NUMBER)))
    if not user_ids:
        return SubjectRecords({"organisations_asked_for": [_plain(r) for r in requested], **told})
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
            **told,
        }
    )


async def _who_is_told(numbers: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The organisations watching these registration numbers, and the events sent to them."""
    if not numbers:
        return {}
    watching = await (
        Watch.select(
            Watch.organisation.name.as_alias("organisation"),
            Watch.registration_number,
            Watch.added_at,
        )
        .where(Watch.registration_number.is_in(numbers))
        .order_by(Watch.added_at)
    )
    # Piccolo types a two-step join loosely; the endpoint's organisation is its name's table.
    organisation_name = WebhookEvent.endpoint.organisation.name  # type: ignore[union-attr]
    sent = await (
        WebhookEvent.select(
            organisation_name.as_alias("organisation"),
            WebhookEvent.event_id,
            WebhookEvent.event_type,
            WebhookEvent.registration_number,
            WebhookEvent.occurred_at,
        )
        .where(WebhookEvent.registration_number.is_in(numbers))
        .order_by(WebhookEvent.id)
    )
    return {
        "watched_by_organisations": [_plain(r) for r in watching],
        "events_sent_to_organisations": [_plain(r) for r in sent],
    }


SUBJECT_ACCESS = SubjectAccess(part="employers", export=export)
