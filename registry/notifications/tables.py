"""The outbox: every email and webhook the service sends, written with the change that causes it."""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import (
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class MessageKind(StrEnum):
    email = "email"
    webhook = "webhook"


class MessageStatus(StrEnum):
    pending = "pending"  # waiting for its next attempt
    sending = "sending"  # claimed by a worker until lease_until
    sent = "sent"
    failed = "failed"  # the last attempt failed; another is scheduled
    dead = "dead"  # out of attempts: staff decide whether to retry


class OutboxMessage(Table, tablename="notification_outbox"):
    id: Serial  # made by Piccolo; declared so the type checker knows it
    kind = Varchar(length=16)
    recipient = Varchar(length=2048)  # an email address, or the webhook's URL
    template = Varchar(length=100, default="")  # email: the template under templates/email/
    subject = Varchar(length=200, default="")
    event = Varchar(length=80, default="")  # webhook: the event name, e.g. register.status_changed
    body = Text(default="{}")  # JSON: the email template's context, or the webhook's payload
    signing_key = Text(default="")  # webhook: encrypted HMAC key; empty sends it unsigned
    status = Varchar(length=16, default=MessageStatus.pending.value, index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    lease_until = Timestamptz(null=True, default=None)
    claim_token = Varchar(length=32, default="")  # which claim may finish the message
    last_error = Text(default="")
    idempotency_key = Varchar(length=200, unique=True)
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)


class DeliveryAttempt(Table, tablename="notification_attempt"):
    id: Serial
    message = ForeignKey(OutboxMessage, on_delete=OnDelete.cascade, index=True)
    worker = Varchar(length=120)
    started_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)
    outcome = Varchar(length=16, default="")  # sent, failed, expired, or empty while in hand
    error = Text(default="")
    # A webhook's answer: the receiver's HTTP status (none if it never answered, or for email),
    # and how long the attempt took, so an organisation can see what its receiver did.
    status_code = Integer(null=True, default=None)
    duration_ms = Integer(null=True, default=None)


NOTIFICATION_TABLES: list[type[Table]] = [OutboxMessage, DeliveryAttempt]
