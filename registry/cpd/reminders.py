"""The CPD reminder: a practitioner still short of the year's requirement 90 days before the
renewal deadline gets one email saying what is missing.

Run daily by the scheduler (``cpd_shortfall_reminders``). Each email is keyed by registration
number and year, so running the job twice, or every day of the last 90, sends it once; a day the
job missed is caught up on the next run. Someone who has already renewed (declared the year) or
meets every rule is not written to.
"""

from __future__ import annotations

from datetime import date

from registry.core.scheduler import JobContext, ScheduledJob
from registry.cpd import activities, progress
from registry.cpd.activities import Owner
from registry.notifications import service as notifications
from registry.register.renewals import RenewalCalendar
from registry.register.tables import EntryState, RegisterEntry, Renewal

REMINDER_DAYS = 90
DASHBOARD_PATH = "/cpd"


async def queue_shortfall_reminders(today: date, calendar: RenewalCalendar) -> int:
    year = activities.registration_year(today, calendar)
    deadline = calendar.deadline_in(year)
    days_left = (deadline - today).days
    if days_left > REMINDER_DAYS:
        return 0
    declared = {
        row["entry"]
        for row in await Renewal.select(Renewal.entry).where(Renewal.registration_year == year)
    }
    rows = await RegisterEntry.select(
        RegisterEntry.id,
        RegisterEntry.practitioner,
        RegisterEntry.registered_since,
        RegisterEntry.registration_number,
        RegisterEntry.practitioner.given_names.as_alias("given_names"),
        RegisterEntry.practitioner.email.as_alias("email"),
    ).where(
        (RegisterEntry.state == EntryState.registered.value)
        & (RegisterEntry.registered_until >= today)
        & (RegisterEntry.practitioner.email != "")
    )
    queued = 0
    for row in rows:
        if row["id"] in declared:
            continue
        owner = Owner(0, row["practitioner"], row["id"], row["registered_since"])
        standing = await progress.year_progress(owner, year, calendar, declared=set())
        if standing.met:
            continue
        queued += await notifications.queue_email(
            row["email"],
            "cpd_shortfall_reminder",
            {
                "given_names": row["given_names"],
                "registration_number": row["registration_number"],
                "deadline": f"{deadline:%-d %B %Y}",
                "days_left": days_left,
                "missing": [
                    f"{rule.label}: {rule.summary}, {rule.needed_text}"
                    for rule in standing.rules
                    if not rule.met
                ],
                "path": DASHBOARD_PATH,
            },
            subject=f"Your CPD is not yet complete for the year to {deadline:%-d %B %Y}",
            key=f"cpd-reminder:{row['registration_number']}:{year}",
        )
    return queued


async def shortfall_reminders(context: JobContext) -> str:
    calendar = RenewalCalendar.from_settings(context.settings)
    queued = await queue_shortfall_reminders(context.now.date(), calendar)
    return f"queued {queued} CPD reminders"


async def audit_jobs(context: JobContext) -> str:
    from registry.cpd import audit_workflow, sampling

    drawn = await sampling.draw_due_sample(context)
    overdue = await audit_workflow.mark_overdue(context.now.date())
    return f"{drawn}; {overdue} CPD profiles overdue, sent to a registrar"


JOBS = (
    ScheduledJob(
        "cpd_shortfall_reminders",
        f"Email practitioners short of the CPD requirement {REMINDER_DAYS} days before the "
        "renewal deadline, once a year each",
        shortfall_reminders,
    ),
    ScheduledJob(
        "cpd_audit",
        "Draw the CPD audit sample once the renewal window has closed (once a year), and send "
        "profiles not submitted by their date to a registrar",
        audit_jobs,
    ),
)
