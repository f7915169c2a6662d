"""Scheduled account housekeeping."""

from __future__ import annotations

from registry.accounts import sign_in
from registry.core.scheduler import JobContext, ScheduledJob


async def accounts_housekeeping(context: JobContext) -> str:
    purged = await sign_in.purge_expired(context.now)
    return (
        f"removed {purged.sessions} expired sessions, {purged.reset_links} expired reset links "
        f"and {purged.login_attempts} old sign-in records"
    )


JOBS = (
    ScheduledJob(
        "accounts_housekeeping",
        "Remove expired sessions and reset links, and sign-in history older than 90 days",
        accounts_housekeeping,
    ),
)
