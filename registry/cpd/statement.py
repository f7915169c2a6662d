"""The CPD statement: a practitioner's registration year (the rules met, hours, activities)
issued as a certificate of the CPD statement type, so anyone can verify it like any other.

Only a year that has ended, or was declared at renewal, can be stated; the certificates domain
signs it, keeps it and renders its PDF (summary rows and an activity table)."""

from __future__ import annotations

from typing import Any

from registry.certificates import service as certificates
from registry.core import clock
from registry.cpd import activities, progress
from registry.cpd.schemas import hours_text
from registry.cpd.tables import ACTIVITY_TYPE_LABELS
from registry.errors import Conflict, NotFound
from registry.register.renewals import RenewalCalendar

ACTIVITY_COLUMNS = ("Date", "Activity", "Type", "Hours")


async def summary_of(account_id: int, year: int, calendar: RenewalCalendar) -> dict[str, Any]:
    """What the statement states: each rule against its target, the hours and the activities."""
    standing = await progress.progress_for_year(account_id, year, calendar)
    logged = await activities.list_for(account_id, calendar, year=year)
    return {
        "startsOn": standing.starts_on.isoformat(),
        "endsOn": standing.ends_on.isoformat(),
        "hours": hours_text(standing.logged_quarters),
        "activities": standing.activities,
        "requirementMet": standing.met,
        "exemptDays": standing.exempt_days,
        "rules": [
            {"rule": rule.label, "progress": rule.summary, "met": rule.met}
            for rule in standing.rules
        ],
        "activityColumns": list(ACTIVITY_COLUMNS),
        "activityRows": [
            [
                f"{each.done_on.day} {each.done_on:%b %Y}",
                each.title,
                ACTIVITY_TYPE_LABELS[each.activity_type],
                hours_text(each.quarters),
            ]
            for each in reversed(logged)
        ],
    }


async def issue(
    account_id: int, year: int, calendar: RenewalCalendar
) -> certificates.CertificateRecord:
    owner = await activities.owner_of(account_id)
    if year not in progress.years_of(owner, calendar):
        raise NotFound(f"Your CPD record has no registration year {year}")
    last = activities.year_bounds(year, calendar)[1]
    if last >= clock.now().date() and not await activities.is_declared(owner, year):
        raise Conflict(
            f"A statement of the year {year} can be issued once it ends on "
            f"{last.day} {last:%B %Y}, or once you have declared it by renewing"
        )
    summary = await summary_of(account_id, year, calendar)
    return await certificates.issue_cpd_statement(
        owner.entry_id,
        year=year,
        summary=summary,
        valid_until=calendar.deadline_in(year + 1),
        reason=f"CPD statement for {year}, asked for by the practitioner",
    )
