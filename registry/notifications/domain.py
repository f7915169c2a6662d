"""Notifications: the outbox of emails and webhooks, its worker, and the scheduled jobs' command."""

from __future__ import annotations

from pathlib import Path

from registry.accounts.access import STAFF
from registry.core.domain import Domain, NavItem, staff
from registry.notifications.cli import jobs, worker
from registry.notifications.pages import OutboxPages
from registry.notifications.subject_access import SUBJECT_ACCESS
from registry.notifications.tables import NOTIFICATION_TABLES

DOMAIN = Domain(
    name="notifications",
    pages=[OutboxPages],
    access={
        # the outbox
        "outbox": STAFF,
        "outbox_message": STAFF,
        "outbox_message_retry": STAFF,
    },
    navigation=[NavItem("/outbox", "Outbox", staff, position=61)],
    commands=[worker, jobs],
    tables=NOTIFICATION_TABLES,
    # The base every email extends; each domain keeps its own messages.
    email_templates=Path(__file__).resolve().parent / "templates" / "email",
    subject_access=[SUBJECT_ACCESS],
)
