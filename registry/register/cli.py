"""``registry import-register``: bring an earlier register in from a CSV file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

ACTOR_LABEL = "system: import-register"


@click.command("import-register")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the valid rows and skip the others (each is still reported).",
)
@click.option(
    "--dry-run", is_flag=True, help="Check the file and say what would happen; write nothing."
)
@click.pass_context
def import_register(ctx: click.Context, file: Path, skip_invalid: bool, dry_run: bool) -> None:
    """Import register entries from FILE, a UTF-8 CSV file with a header row.

    Columns: registration_number (optional; kept if given), given_names, family_name,
    date_of_birth, email (optional), region (code), roles (codes separated by ';'),
    registered_since, registered_until, status (registered, lapsed, removed or
    voluntarily_removed; default registered), qualification (code, optional) and
    qualification_awarded_on (optional). Dates are YYYY-MM-DD.

    Every row is checked before anything is written, and each problem printed as
    "line N, field F: reason". With any problem nothing is imported (exit status 1) unless
    --skip-invalid is given. Rows already on the register (by registration number, or by names
    and date of birth when there is no number) are left alone, so a file can be imported again.
    """
    from registry.audit import service as audit
    from registry.audit.context import Actor, acting_as
    from registry.core import clock
    from registry.core.commands import progress_bar, run_with_engine, settings_of
    from registry.register import importer, service

    def lines() -> Iterator[str]:
        # Read as it is needed, twice (checked, then applied), never held whole; a
        # spreadsheet's byte order mark is fine.
        with file.open(encoding="utf-8-sig", newline="") as rows:
            yield from rows

    async def work(engine: Any) -> int:
        with acting_as(Actor(id=None, label=ACTOR_LABEL)):
            reference = await service.reference_data()
            try:
                plan = await importer.plan_import(lines, clock.now().date(), reference)
            except UnicodeDecodeError:
                raise click.ClickException(
                    f"{file} is not UTF-8 text; save it as CSV UTF-8"
                ) from None
            for problem in plan.problems:
                click.echo(str(problem))
            if not plan.header_ok:
                click.echo("The header row is not right, so nothing was imported.")
                return 1
            if plan.problems and not skip_invalid:
                click.echo(
                    f"{plan.invalid} of {plan.rows} rows are not valid, so nothing was imported. "
                    "Correct them, or run again with --skip-invalid to import only the valid rows."
                )
                return 1
            counts = f"already on the register {plan.already}, skipped {plan.invalid} invalid"
            if dry_run:
                click.echo(f"dry run, nothing written: would import {plan.new_count}, {counts}")
                return 0
            with progress_bar() as progress:
                task = progress.add_task("Importing", total=plan.new_count)
                outcome = await importer.apply_plan(
                    plan,
                    source=file.name,
                    reference=reference,
                    advance=lambda n: progress.advance(task, n),
                )
            for problem in outcome.failed:
                click.echo(str(problem))
            await audit.record(
                "register.imported",
                "register_import",
                file.name[:80],
                after={
                    "imported": outcome.imported,
                    "already_on_register": plan.already,
                    "skipped_invalid": plan.invalid,
                    "failed": len(outcome.failed),
                },
            )
            failed = f", failed {len(outcome.failed)}" if outcome.failed else ""
            click.echo(f"imported {outcome.imported}, {counts}{failed}")
            return 1 if outcome.failed else 0

    status = run_with_engine(settings_of(ctx), work)
    if status:
        # Not ctx.exit(): registry.cli.main runs click without standalone mode (see audit verify).
        raise SystemExit(status)
