"""Scheduled jobs: renewal reminders, lapsing, order expiry and the like, run by
``registry jobs run`` (one pass, for cron) or inside ``registry worker --with-scheduler``.

A job is an async function taking a :class:`JobContext` (the time of the pass and the settings)
and returning a one-line summary; a domain lists its jobs as :class:`ScheduledJob` values in its
manifest. Every job must be idempotent: run twice in a day it sends nothing twice and changes
nothing twice. The outbox's idempotency keys make that easy for messages: key each one by what
it is about and the occasion (``renewal-reminder:PR1234567:2026:30``), and a second pass queues
nothing new.
"""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog

from registry.audit.context import Actor, acting_as
from registry.config import Settings
from registry.core import clock
from registry.core.domain import active_domains, scheduled_jobs
from registry.core.tables import JobRun
from registry.errors import InvalidInput

log = structlog.get_logger("registry.jobs")


@dataclass(frozen=True)
class JobContext:
    now: datetime
    settings: Settings


JobFunction = Callable[[JobContext], Awaitable[str]]


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    description: str
    run: JobFunction


@dataclass(frozen=True)
class JobOutcome:
    job: str
    summary: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def all_jobs() -> dict[str, ScheduledJob]:
    """Every domain's jobs (from its manifest), by name."""
    return scheduled_jobs(active_domains())


async def run_jobs(settings: Settings, names: Iterable[str] | None = None) -> list[JobOutcome]:
    """One pass of the named jobs (all by default), each recorded in ``notification_job_run``.

    A job that fails is recorded with its error and the others still run.
    """
    jobs = all_jobs()
    chosen = list(names) if names is not None else list(jobs)
    unknown = [name for name in chosen if name not in jobs]
    if unknown:
        raise InvalidInput(f"No such job: {', '.join(unknown)}. Jobs: {', '.join(jobs)}")
    return [await _run_one(jobs[name], settings) for name in chosen]


async def _run_one(job: ScheduledJob, settings: Settings) -> JobOutcome:
    moment = clock.now().astimezone(UTC)
    inserted = await JobRun.insert(JobRun(job=job.name, started_at=moment)).returning(JobRun.id)
    run_id = inserted[0]["id"]
    try:
        with acting_as(Actor(id=None, label=f"system: {job.name}")):
            summary = await job.run(JobContext(moment, settings))
        outcome = JobOutcome(job.name, summary)
    except Exception as error:  # one job's failure must not stop the others
        log.exception("job_failed", job=job.name)
        outcome = JobOutcome(
            job.name, "", error="".join(traceback.format_exception_only(error)).strip()
        )
    await JobRun.update(
        {
            JobRun.finished_at: clock.now().astimezone(UTC),
            JobRun.summary: outcome.summary,
            JobRun.error: outcome.error,
        }
    ).where(JobRun.id == run_id)
    log.info("job_ran", job=job.name, summary=outcome.summary, error=outcome.error)
    return outcome


@dataclass
class Scheduler:
    """Runs every job once per ``every`` inside a worker. Jobs are idempotent, so two workers
    that both run the scheduler repeat work harmlessly rather than doubling it."""

    settings: Settings
    every: timedelta = timedelta(hours=1)
    _last_pass: datetime | None = field(default=None, init=False)

    async def run_due(self) -> list[JobOutcome]:
        moment = clock.now()
        if self._last_pass is not None and moment - self._last_pass < self.every:
            return []
        self._last_pass = moment
        return await run_jobs(self.settings)
