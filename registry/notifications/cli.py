"""``registry worker`` and ``registry jobs``: the outbox sender and the scheduled jobs."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from typing import Any

import click

from registry.errors import RegistryError


@click.command()
@click.option("--with-scheduler", is_flag=True, help="Also run the scheduled jobs, once an hour.")
@click.option("--batch-size", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option(
    "--poll-interval",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.1, 300),
    help="Seconds to wait when nothing is due.",
)
@click.option(
    "--lease",
    "lease_seconds",
    default=300,
    show_default=True,
    type=click.IntRange(5, 86400),
    help="Seconds a claimed message is this worker's before another may take it back.",
)
@click.option(
    "--drain", is_flag=True, help="Stop once nothing is due (for tests and one-off runs)."
)
@click.pass_context
def worker(
    ctx: click.Context,
    with_scheduler: bool,
    batch_size: int,
    poll_interval: float,
    lease_seconds: int,
    drain: bool,
) -> None:
    """Send the outbox's emails and webhooks; SIGTERM finishes the message in hand, then stops.

    Run one beside the web server (several on PostgreSQL: they never send a message twice).
    """
    from registry.config import ensure_secret_key
    from registry.core.commands import run_with_engine, settings_of
    from registry.core.scheduler import Scheduler
    from registry.notifications.worker import Worker

    settings = ensure_secret_key(settings_of(ctx))

    async def work(engine: Any) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        runner = Worker(
            settings,
            batch_size=batch_size,
            lease=timedelta(seconds=lease_seconds),
            poll_interval=poll_interval,
        )
        stats = await runner.run(
            stop, drain=drain, scheduler=Scheduler(settings) if with_scheduler else None
        )
        click.echo(f"sent {stats.sent}, failed {stats.failed}")

    run_with_engine(settings, work)


@click.group()
def jobs() -> None:
    """The scheduled jobs: list them, or run a pass (from cron, say)."""


@jobs.command("list")
def list_jobs() -> None:
    """Name and describe every scheduled job."""
    from registry.core.scheduler import all_jobs

    for job in all_jobs().values():
        click.echo(f"{job.name:<28} {job.description}")


@jobs.command("run")
@click.option("--job", "names", multiple=True, help="Run only this job; give --job again for more.")
@click.pass_context
def run_jobs_command(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Run one pass of every scheduled job (or those named). Safe to run as often as you like:
    each job does nothing twice. Exits 1 if any job failed."""
    from registry.core.commands import run_with_engine, settings_of
    from registry.core.scheduler import JobOutcome, run_jobs

    settings = settings_of(ctx)

    async def work(engine: Any) -> list[JobOutcome]:
        return await run_jobs(settings, names or None)

    try:
        outcomes = run_with_engine(settings, work)
    except RegistryError as error:
        raise click.ClickException(error.detail) from None
    for outcome in outcomes:
        click.echo(
            f"{outcome.job}: {outcome.summary if outcome.ok else 'FAILED: ' + outcome.error}"
        )
    if not all(outcome.ok for outcome in outcomes):
        raise SystemExit(1)
