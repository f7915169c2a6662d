"""Employers: organisations and their members, API keys, their use, and the bulk checks made.

An organisation starts as a request (self-service sign-up) that a registrar approves or refuses
with a recorded reason, or is made approved by staff. Its members are user accounts with the
``employer`` role; one or more of them administer it and invite colleagues. Keys belong to the
organisation, not to a person: a colleague leaving does not break the payroll system's checks.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from registry.accounts.tables import User
from registry.notifications.tables import OutboxMessage


class OrganisationStatus(StrEnum):
    requested = "requested"  # asked for through the sign-up form, waiting for a registrar
    approved = "approved"
    refused = "refused"


class KeyScope(StrEnum):
    verify = "verify"  # bulk and single checks
    watchlist = "watchlist"  # the organisation's watchlist and webhooks


class Organisation(Table, tablename="employer_organisation"):
    id: Serial  # made by Piccolo; declared so the type checker knows it
    name = Varchar(length=160)
    status = Varchar(length=16, default=OrganisationStatus.requested.value, index=True)
    # Who asked for it (the sign-up form) or who staff named as its first administrator; they
    # are invited when the organisation is approved.
    contact_name = Varchar(length=120)
    contact_email = Varchar(length=254)
    about = Text(default="")  # what the requester said the organisation does
    requested_from = Varchar(length=64, default="", index=True)  # client address, for limits
    created_at = Timestamptz(index=True)
    decided_at = Timestamptz(null=True, default=None)
    decided_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    decision_reason = Text(default="")
    # Calls a minute each of its keys may make before 429 (a bulk check counts as one call).
    key_calls_per_minute = Integer(default=60)


class Member(Table, tablename="employer_member"):
    """A user of an organisation; a user belongs to at most one (unique ``user``)."""

    id: Serial  # made by Piccolo; declared so the type checker knows it
    organisation = ForeignKey(Organisation, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, unique=True)
    is_admin = Boolean(default=False)
    added_at = Timestamptz()
    added_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)


class ApiKey(Table, tablename="employer_api_key"):
    """An organisation's key, shown once and stored as a SHA-256 hash of its secret."""

    id: Serial  # made by Piccolo; declared so the type checker knows it
    organisation = ForeignKey(Organisation, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=80)
    key_prefix = Varchar(length=24)  # the visible start of the key, to recognise it
    key_hash = Varchar(length=64, unique=True)
    scopes = Varchar(length=64)  # KeyScope values, comma-separated, in name order
    created_at = Timestamptz()
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class KeyUsage(Table, tablename="employer_key_usage"):
    """Calls made with one key in one minute, for its rate limit across every worker; (key,
    minute) is unique through an index the migration makes."""

    id: Serial  # made by Piccolo; declared so the type checker knows it
    api_key = ForeignKey(ApiKey, on_delete=OnDelete.cascade)
    minute = Integer()  # minutes since 1970-01-01 UTC: one number, the same on both engines
    calls = Integer(default=0)


class BulkCheck(Table, tablename="employer_bulk_check"):
    """One bulk check, for the organisation's own records: who, when, how many, and a hash of
    the list (never the numbers themselves, nor the answers)."""

    id: Serial  # made by Piccolo; declared so the type checker knows it
    organisation = ForeignKey(Organisation, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    api_key = ForeignKey(ApiKey, null=True, default=None, on_delete=OnDelete.set_null)
    checked_at = Timestamptz(index=True)
    numbers = Integer()
    list_sha256 = Varchar(length=64)


class Watch(Table, tablename="employer_watch"):
    """One registration number on an organisation's watchlist; (organisation, number) unique
    through an index the migration makes."""

    id: Serial  # made by Piccolo; declared so the type checker knows it
    organisation = ForeignKey(Organisation, on_delete=OnDelete.cascade, index=True)
    registration_number = Varchar(length=16, index=True)
    added_at = Timestamptz()


class WebhookEndpoint(Table, tablename="employer_webhook_endpoint"):
    """Where an organisation's watchlist events go, with the sealed secret that signs them."""

    id: Serial  # made by Piccolo; declared so the type checker knows it
    organisation = ForeignKey(Organisation, on_delete=OnDelete.cascade, index=True)
    url = Varchar(length=2048)
    secret_sealed = Text()
    created_at = Timestamptz()
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)


class WebhookEvent(Table, tablename="employer_webhook_event"):
    """One event queued for one endpoint: the endpoint's delivery log joins the outbox's
    attempts through ``message``."""

    id: Serial  # made by Piccolo; declared so the type checker knows it
    endpoint = ForeignKey(WebhookEndpoint, on_delete=OnDelete.cascade, index=True)
    event_id = Varchar(length=64, unique=True)
    event_type = Varchar(length=80)
    registration_number = Varchar(length=16)
    occurred_at = Timestamptz()
    message = ForeignKey(OutboxMessage, null=True, default=None, on_delete=OnDelete.set_null)


class WatchChange(Table, tablename="employer_watch_change"):
    """One change to a watched entry, for one organisation watching it, written in the change's
    transaction whether or not the organisation has an endpoint: what its daily digest lists."""

    id: Serial  # made by Piccolo; declared so the type checker knows it
    organisation = ForeignKey(Organisation, on_delete=OnDelete.cascade, index=True)
    registration_number = Varchar(length=16)
    occurred_at = Timestamptz(index=True)
    event_type = Varchar(length=80)
    previous_status = Varchar(length=32, default="")
    status = Varchar(length=32, default="")
    cause = Varchar(length=64, default="")


EMPLOYER_TABLES: list[type[Table]] = [
    Organisation,
    Member,
    ApiKey,
    KeyUsage,
    BulkCheck,
    Watch,
    WebhookEndpoint,
    WebhookEvent,
    WatchChange,
]
