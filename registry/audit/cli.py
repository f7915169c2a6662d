"""``registry audit``: look after the audit trail from the command line."""

from __future__ import annotations

from typing import Any

import click


@click.group()
def audit() -> None:
    """Look after the audit trail: every change and sensitive read, each entry hash-chained."""


@audit.command()
@click.pass_context
def verify(ctx: click.Context) -> None:
    """Recompute every entry's hash and link; exit 1 naming the first broken entry.

    Prints "ok N entries", or "broken at entry ID: REASON" where the reason is "hash mismatch"
    (the entry was altered) or "broken link" (the entry before it was removed or rewritten).
    """
    # Imported here: --help should not need the database.
    from registry.audit.service import ChainReport, verify_chain
    from registry.core.commands import run_with_engine, settings_of

    async def work(engine: Any) -> ChainReport:
        return await verify_chain()

    report = run_with_engine(settings_of(ctx), work)
    if report.ok:
        click.echo(f"ok {report.entries} entries")
        return
    click.echo(f"broken at entry {report.broken_at}: {report.reason}")
    # Not ctx.exit(1): registry.cli.main runs click with standalone_mode=False, where click
    # returns that status instead of raising it, and the process would exit 0.
    raise SystemExit(1)
