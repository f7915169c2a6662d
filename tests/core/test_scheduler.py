"""Scheduled jobs from every domain's manifest: ``registry jobs``, their records, a failing job,
and the worker's scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from registry.accounts import password_links, sign_in, users
from registry.accounts.roles import Role
from registry.accounts.tables import BrowserSession, LoginAttempt, PasswordResetToken
from registry.audit import service as audit
from registry.config import Settings
from registry.core import clock, scheduler
from registry.core.domain import Domain, domains_in_force
from registry.core.scheduler import JobContext, ScheduledJob, Scheduler, run_jobs
from registry.core.tables import JobRun
from registry.domains import DOMAINS
from registry.errors import InvalidInput
from tests.notifications.helpers import finish, start_registry
from tests.support import registry_command

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOUSEKEEPING = "accounts_housekeeping"


async def account_records_old_and_new() -> None:
    """A session, a reset link and a sign-in record from 100 days ago, and one of each today."""
    with clock.frozen_at(datetime.now(UTC) - timedelta(days=100)):
        account = await users.create_user("old@example.org", "Old Hand", [Role.practitioner])
        await sign_in.start_session(account, "203.0.113.1", "test")
        assert await password_links.request_password_reset("old@example.org")
        await LoginAttempt.insert(
            LoginAttempt(
                email="old@example.org", client_address="203.0.113.1", attempted_at=clock.now()
            )
        )
    await sign_in.start_session(account, "203.0.113.2", "test")
    assert await password_links.request_password_reset("old@example.org")
    await LoginAttempt.insert(
        LoginAttempt(
            email="old@example.org", client_address="203.0.113.2", attempted_at=clock.now()
        )
    )


async def account_record_counts() -> tuple[int, int, int]:
    return (
        await BrowserSession.count(),
        await PasswordResetToken.count(),
        await LoginAttempt.count(),
    )


def job_lines(output: str) -> list[str]:
    """The command's own lines, one a job (the log, also on stdout, is left out)."""
    return [line for line in output.splitlines() if line.startswith(HOUSEKEEPING)]


async def test_jobs_run_twice_removes_expired_records_once_and_records_each_run(
    engine: Any, settings: Settings
) -> None:
    await account_records_old_and_new()
    assert await account_record_counts() == (2, 2, 2)

    status, output = await registry_command(settings, "jobs", "run")
    assert status == 0, output
    assert job_lines(output) == [
        f"{HOUSEKEEPING}: removed 1 expired sessions, 1 expired reset links "
        "and 1 old sign-in records"
    ]
    assert await account_record_counts() == (1, 1, 1)  # today's are kept

    status, output = await registry_command(settings, "jobs", "run")
    assert status == 0, output
    assert job_lines(output) == [
        f"{HOUSEKEEPING}: removed 0 expired sessions, 0 expired reset links "
        "and 0 old sign-in records"
    ]
    assert await account_record_counts() == (1, 1, 1)

    runs = await JobRun.select().order_by(JobRun.id)
    every_job = list(scheduler.all_jobs())
    assert [(run["job"], run["error"]) for run in runs] == [(job, "") for job in every_job] * 2
    assert [run["summary"] for run in runs if run["job"] == HOUSEKEEPING] == [
        "removed 1 expired sessions, 1 expired reset links and 1 old sign-in records",
        "removed 0 expired sessions, 0 expired reset links and 0 old sign-in records",
    ]
    assert all(run["started_at"] <= run["finished_at"] for run in runs)
    assert runs[0]["finished_at"] <= runs[1]["started_at"]


async def test_jobs_run_with_one_named_job_runs_only_that_one(
    engine: Any, settings: Settings
) -> None:
    status, output = await registry_command(settings, "jobs", "run", "--job", HOUSEKEEPING)
    assert status == 0, output
    [line] = job_lines(output)
    assert line.startswith(f"{HOUSEKEEPING}: removed 0 expired sessions")
    assert await JobRun.count() == 1


async def test_jobs_run_with_an_unknown_job_fails_and_lists_the_jobs(
    engine: Any, settings: Settings
) -> None:
    process = await start_registry(settings, "jobs", "run", "--job", "nope")
    stdout, stderr = await finish(process)
    assert process.returncode != 0
    assert stdout == ""
    assert f"No such job: nope. Jobs: {HOUSEKEEPING}" in stderr
    assert await JobRun.count() == 0  # nothing ran, not even the jobs that exist


async def test_jobs_list_names_and_describes_every_job(settings: Settings) -> None:
    status, output = await registry_command(settings, "jobs", "list")
    assert status == 0
    [line] = job_lines(output)
    assert line.startswith(HOUSEKEEPING + " ")
    assert "Remove expired sessions" in line


async def test_a_job_that_fails_is_recorded_and_the_others_still_run(
    engine: Any, settings: Settings
) -> None:
    async def explodes(context: JobContext) -> str:
        raise RuntimeError("kaput")

    async def audits(context: JobContext) -> str:
        await audit.record("notifications.test_job", "job", "b_audits")
        return f"ran at {context.now.isoformat()}"

    extra = Domain(
        name="test_jobs",
        jobs=[
            ScheduledJob("a_explodes", "Fails every time", explodes),
            ScheduledJob("b_audits", "Records who it ran as", audits),
        ],
    )
    with domains_in_force([*DOMAINS, extra]), clock.frozen_at(START):
        outcomes = await run_jobs(settings, ["a_explodes", HOUSEKEEPING, "b_audits"])
    assert [(o.job, o.ok) for o in outcomes] == [
        ("a_explodes", False),
        (HOUSEKEEPING, True),
        ("b_audits", True),
    ]
    assert outcomes[0].error == "RuntimeError: kaput"
    assert outcomes[2].summary == f"ran at {START.isoformat()}"

    runs = {run["job"]: run for run in await JobRun.select()}
    assert runs["a_explodes"]["error"] == "RuntimeError: kaput"
    assert runs["a_explodes"]["summary"] == ""
    assert runs["a_explodes"]["finished_at"] == START
    assert runs[HOUSEKEEPING]["error"] == ""
    assert runs["b_audits"]["summary"] == f"ran at {START.isoformat()}"
    [entry] = (await audit.search(action="notifications.test_job")).entries
    assert entry.actor_label == "system: b_audits"
    assert entry.actor_id is None


async def test_run_jobs_refuses_an_unknown_name_before_running_any(
    engine: Any, settings: Settings
) -> None:
    with pytest.raises(InvalidInput, match=f"No such job: nope. Jobs: {HOUSEKEEPING}, "):
        await run_jobs(settings, [HOUSEKEEPING, "nope"])
    assert await JobRun.count() == 0


async def test_the_scheduler_runs_the_jobs_once_an_hour(engine: Any, settings: Settings) -> None:
    every = Scheduler(settings)
    jobs = list(scheduler.all_jobs())
    assert HOUSEKEEPING in jobs
    with clock.frozen_at(START) as advance:
        assert [o.job for o in await every.run_due()] == jobs
        assert await every.run_due() == []
        advance(timedelta(minutes=59, seconds=59))
        assert await every.run_due() == []
        advance(timedelta(seconds=1))
        assert [o.job for o in await every.run_due()] == jobs
        advance(timedelta(minutes=30))
        assert await every.run_due() == []
        advance(timedelta(hours=5))  # a long stall runs the jobs once, not once per hour missed
        assert len(await every.run_due()) == len(jobs)
    runs = await JobRun.select(JobRun.started_at).order_by(JobRun.id)
    passes = [START, START + timedelta(hours=1), START + timedelta(hours=6, minutes=30)]
    assert [run["started_at"] for run in runs] == [moment for moment in passes for _ in jobs]
