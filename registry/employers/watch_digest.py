"""The daily watchlist digest: each organisation's administrators get one email a day listing
yesterday's events for their watched numbers (those sent to their endpoints; test events left
out). The job runs hourly; the email's idempotency key (organisation and day) queues it once."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from registry.core.scheduler import JobContext, ScheduledJob
from registry.db import transaction
from registry.employers.tables import Member
from registry.employers.webhooks import TEST_EVENT
from registry.notifications import service as outbox

TEMPLATE = "employer_watchlist_digest"
MAX_LISTED = 500  # more than this in a day: the email says how many and points to the page

_EVENTS = (
    "SELECT e.organisation AS organisation, m.body AS body"
    " FROM employer_webhook_event v"
    " JOIN employer_webhook_endpoint e ON e.id = v.endpoint"
    " JOIN notification_outbox m ON m.id = v.message"
    " WHERE v.occurred_at >= {} AND v.occurred_at < {} AND v.event_type <> {}"
    " ORDER BY e.organisation, v.occurred_at, v.id"
)


async def queue_digests(day: date) -> int:
    """Queue the digest of ``day`` for every organisation with events that day; how many."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    rows = await Member.raw(_EVENTS, start, start + timedelta(days=1), TEST_EVENT)
    changes: dict[int, dict[tuple[str, str, str], dict[str, Any]]] = {}
    for row in rows:
        body = json.loads(row["body"])
        seen = changes.setdefault(row["organisation"], {})
        # One line per change, however many endpoints it went to.
        seen.setdefault(
            (body["registration_number"], body["occurred_at"], body["type"]),
            {k: body.get(k) for k in ("registration_number", "previous_status", "status", "cause")},
        )
    queued = 0
    async with transaction():
        for organisation_id, found in changes.items():
            admins = await Member.select(Member.user.email, Member.user.display_name).where(
                (Member.organisation == organisation_id) & (Member.is_admin == True)  # noqa: E712
            )
            listed = list(found.values())
            for admin in admins:
                queued += await outbox.queue_email(
                    admin["user.email"],
                    TEMPLATE,
                    {
                        "display_name": admin["user.display_name"],
                        "day": day.isoformat(),
                        "changes": listed[:MAX_LISTED],
                        "count": len(listed),
                        "path": "/organisation/watchlist",
                    },
                    subject=f"Changes to your watched registrations on {day:%-d %B %Y}",
                    key=f"employer-digest:{organisation_id}:{admin['user.email']}:{day}",
                )
    return queued


async def digest(context: JobContext) -> str:
    queued = await queue_digests(context.now.date() - timedelta(days=1))
    return f"queued {queued} watchlist digests"


JOBS = (
    ScheduledJob(
        "employer_watchlist_digest",
        "Email each organisation's administrators yesterday's changes to their watched numbers",
        digest,
    ),
)
