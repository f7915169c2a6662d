"""The register's scheduled jobs: renewal reminders and lapsing after the grace period."""

from __future__ import annotations

from registry.core.scheduler import JobContext, ScheduledJob
from registry.register import renewals
from registry.register.renewals import RenewalCalendar


async def renewal_reminders(context: JobContext) -> str:
    calendar = RenewalCalendar.from_settings(context.settings)
    queued = await renewals.queue_renewal_reminders(context.now.date(), calendar)
    return f"queued {queued} renewal reminders"


async def lapse(context: JobContext) -> str:
    calendar = RenewalCalendar.from_settings(context.settings)
    lapsed = await renewals.lapse_overdue(context.now.date(), calendar)
    return f"lapsed {lapsed} registrations"


JOBS = (
    ScheduledJob(
        "register_renewal_reminders",
        "Email practitioners who have not renewed, 60, 30 and 7 days before the deadline",
        renewal_reminders,
    ),
    ScheduledJob(
        "register_lapse",
        "Lapse registrations not renewed by the deadline or in the grace period after it",
        lapse,
    ),
)
