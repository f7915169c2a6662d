"""Tables that belong to no one domain."""

from __future__ import annotations

from piccolo.columns import Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


class JobRun(Table, tablename="notification_job_run"):
    """A pass of one scheduled job: when, and what it did, for the staff page and for cron."""

    id: Serial
    job = Varchar(length=80, index=True)
    started_at = Timestamptz(index=True)
    finished_at = Timestamptz(null=True, default=None)
    summary = Text(default="")
    error = Text(default="")


CORE_TABLES: list[type[Table]] = [JobRun]
