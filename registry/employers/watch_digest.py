"""The daily watchlist digest: each organisation's administrators get one email a day listing
yesterday's changes to their watched numbers, whether or not the organisation has a webhook
endpoint (the changes are kept per organisation by the change subscriber; test events are not
changes). The job runs hourly; the email's idempotency key (organisation and day) queues it
once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from registry.core.scheduler import JobContext, ScheduledJob
from registry.db import transaction
from registry.employers.tables import Member, WatchChange
from registry.notifications import service as outbox
from registry.register.schemas import STATUS_LABELS
from registry.register.tables import RegisterStatus

TEMPLATE = "employer_watchlist_digest"
MAX_LISTED = 500  # more than this in a day: the email says how many and points to the page


async def queue_digests(day: date) -> int:
    """Queue the digest of ``day`` for every organisation with changes that day; how many."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    rows = (
        await WatchChange.select()
        .where(
            (WatchChange.occurred_at >= start)
            & (WatchChange.occurred_at < start + timedelta(days=1))
        )
        .order_by(WatchChange.organisation, WatchChange.occurred_at, WatchChange.id)
    )
    changes: dict[int, list[dict[str, Any]]] = {}
    # The email says what a person reads on the register ("Voluntarily removed"), not the code.
    for row in rows:
        changes.setdefault(row["organisation"], []).append(
            {
                "registration_number": row["registration_number"],
                "previous_status": row["previous_status"] or None,
                "status": row["status"] or None,
                "cause": row["cause"] or None,
                "previous_label": _label(row["previous_status"]),
                "status_label": _label(row["status"]),
                "cause_label": row["cause"].replace("_", " "),
            }
        )
    queued = 0
    async with transaction():
        for organisation_id, listed in changes.items():
            admins = await Member.select(Member.user.email, Member.user.display_name).where(
                (Member.organisation == organisation_id) & (Member.is_admin == True)  # noqa: E712
            )
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


def _label(status: str) -> str:
    try:
        return STATUS_LABELS[RegisterStatus(status)]
    except ValueError:
        return status


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
