"""The ``registry`` command: migrate, serve, seed demo data and look after the service."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from registry.config import Settings, SettingsError, redact_url
from registry.core.commands import (
    CommandContext,
    domains_of,
    progress_bar,
    run_with_engine,
    settings_of,
)
from registry.core.domain import Domain, domains_in_force
from registry.domains import DOMAINS

EXIT_BAD_SETTINGS = 2


def apply_migrations(settings: Settings) -> list[str]:
    from piccolo.apps.migrations.commands.forwards import ForwardsMigrationManager

    from registry.db import migration_state, without_sqlite_length_warning
    from registry.piccolo_app import APP_CONFIG

    async def work(engine: Any) -> list[str]:
        pending = list((await migration_state()).pending)
        # One step per migration; with none pending, one pass still records the bookkeeping table.
        steps = pending or ["all"]
        with progress_bar() as progress:
            task = progress.add_task("Migrating", total=len(steps))
            for migration_id in steps:
                manager = ForwardsMigrationManager(
                    app_name=APP_CONFIG.app_name, migration_id=migration_id
                )
                # Piccolo narrates each step on stdout; the progress bar says it better.
                with (
                    contextlib.redirect_stdout(io.StringIO()) as narration,
                    without_sqlite_length_warning(),
                ):
                    result = await manager.run()
                if not result.success:
                    raise click.ClickException(
                        f"migration {migration_id} failed: {result.message}\n{narration.getvalue()}"
                    )
                progress.advance(task)
        return pending

    return run_with_engine(settings, work)


@click.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Apply every database migration not yet applied (safe to run again)."""
    settings = settings_of(ctx)
    applied = apply_migrations(settings)
    where = redact_url(settings.resolved_database_url)
    if applied:
        click.echo(f"Applied {len(applied)} migration(s) to {where}: {', '.join(applied)}")
    else:
        click.echo(f"{where} is up to date; nothing to apply.")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes. On SQLite keep one writer-heavy worker; PostgreSQL scales out.",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the web pages and the API with granian."""
    from registry.config import ensure_secret_key

    # Make the key file now, once, so the workers don't race to create it.
    ensure_secret_key(settings_of(ctx))
    _serve(host, port, workers)


def _serve(host: str, port: int, workers: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "registry.app:serving_app",
        factory=True,
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        log_access=False,  # the service logs each request itself, with its request id
    ).serve()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Migrate and seed, then stop.")
@click.pass_context
def demo(ctx: click.Context, host: str, port: int, no_serve: bool) -> None:
    """Migrate, seed realistic demo data, then serve with the outbox worker and scheduled jobs
    beside the server, and print the address and the demo logins.

    Links in emails point at the address served here unless REGISTRY_BASE_URL says otherwise.
    """
    from registry.config import ensure_secret_key
    from registry.demo import seed_demo_data
    from registry.notifications.delivery import mail_drop

    settings = ensure_secret_key(settings_of(ctx))
    if "REGISTRY_BASE_URL" not in os.environ:
        # The server, the worker and the emails it renders all read the address from here.
        os.environ["REGISTRY_BASE_URL"] = f"http://{host}:{port}"
        settings = settings.model_copy(update={"base_url": os.environ["REGISTRY_BASE_URL"]})
    apply_migrations(settings)
    summary = run_with_engine(settings, lambda engine: seed_demo_data(progress_bar()))
    mail = "your SMTP server" if settings.smtp_url else str(mail_drop(settings).resolve())
    click.echo(summary.render(settings.base_url, mail))
    if no_serve:
        return
    worker = subprocess.Popen([sys.executable, "-m", "registry.cli", "worker", "--with-scheduler"])
    try:
        _serve(host, port, workers=1)
    finally:
        worker.terminate()  # SIGTERM: it finishes the message in hand, then stops
        worker.wait(timeout=30)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, directory: Path) -> None:
    """Back up the database, the uploaded files and the keys into DIRECTORY (new or empty).

    Safe while the service runs. DIRECTORY/manifest.json records when, the engine, the
    migrations applied and the SHA-256 of every file, which `registry restore` checks.
    """
    from registry.core import backup as backups
    from registry.db import migration_state

    settings = settings_of(ctx)

    async def work(engine: Any) -> backups.Manifest:
        applied = (await migration_state()).applied
        return backups.make_backup(settings, directory, applied)

    try:
        manifest = run_with_engine(settings, work)
    except backups.BackupRefused as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(
        f"Backed up the {manifest.engine} database ({len(manifest.migrations)} migrations "
        f"applied) and {manifest.data_file_count} data file(s) to {directory}"
    )
    if not manifest.secret_key_in_backup:
        click.echo(
            "The secret key comes from REGISTRY_SECRET_KEY and is not in the backup: "
            "keep it with the backup, or staff must enrol their authenticator apps again."
        )


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds tables.")
@click.pass_context
def restore(ctx: click.Context, directory: Path, force: bool) -> None:
    """Restore a backup made by `registry backup`: the database, the uploaded files and the keys.

    Refuses a DIRECTORY whose manifest does not match its files, a backup of the other engine
    or of a newer version, and a database that already holds tables unless --force. Stop the
    service first.
    """
    from registry.core import backup as backups
    from registry.db import migration_ids, migration_state

    settings = settings_of(ctx)
    try:
        manifest = backups.read_manifest(directory)
        backups.check_restorable(settings, manifest, migration_ids())
        present = run_with_engine(settings, lambda engine: backups.tables_in_database())
        if present and not force:
            raise backups.BackupRefused(
                f"the database already holds {len(present)} table(s) "
                f"({', '.join(present[:3])}{', …' if len(present) > 3 else ''}): "
                "restore into an empty database, or give --force to replace it"
            )
        backups.restore_database(settings, directory, manifest)
        restored = backups.restore_files(settings, directory, manifest)
    except backups.BackupRefused as refusal:
        raise click.ClickException(str(refusal)) from None
    pending = run_with_engine(settings, lambda engine: migration_state()).pending
    where = redact_url(settings.resolved_database_url)
    click.echo(
        f"Restored the backup made at {manifest.made_at} into {where} "
        f"({len(manifest.migrations)} migrations applied) and {restored} data file(s) into "
        f"{settings.data_dir}"
    )
    if not manifest.secret_key_in_backup:
        click.echo("The backup holds no secret key: set REGISTRY_SECRET_KEY to the one it used.")
    if pending:
        click.echo(
            f"{len(pending)} migration(s) are newer than the backup: run `registry migrate`."
        )


@click.command("export-person")
@click.argument("who", metavar="REGISTRATION_NUMBER_OR_EMAIL")
@click.argument("out", metavar="OUTDIR", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def export_person(ctx: click.Context, who: str, out: Path) -> None:
    """Write everything held about one person into OUTDIR (new or empty), for a subject access
    request: OUTDIR/person.json, with a part from each domain, and copies of their files.

    No password, token or link hash and no second-factor secret is written.
    """
    from registry.core import subject_access

    settings = settings_of(ctx)
    domains = domains_of(ctx)

    async def work(engine: Any) -> subject_access.Export:
        return await subject_access.gather(domains, who, settings.data_dir)

    try:
        subject_access.check_new_folder(out)  # before the work, which may be long
        export = run_with_engine(settings, work)
        written = subject_access.write(export, out)
    except (subject_access.UnknownPerson, FileExistsError) as refusal:
        raise click.ClickException(str(refusal)) from None
    parts = [domain.name for domain in domains if domain.subject_access]
    click.echo(
        f"Wrote {written} ({', '.join(parts)}) and {len(export.files)} file(s) "
        f"held about {who.strip()}"
    )


SERVICE_COMMANDS = (migrate, serve, demo, backup, restore, export_person)


def build_cli(domains: Sequence[Domain]) -> click.Group:
    """The ``registry`` command: the service's own commands and every domain's."""

    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(package_name="probation-register")
    @click.pass_context
    def registry(ctx: click.Context) -> None:
        """The statutory register of probation practitioners for England and Wales.

        Configured by REGISTRY_* environment variables (see the README).
        """
        ctx.obj = CommandContext(domains)
        # Jobs, demo seeders and the register's hooks read the domains in force.
        ctx.with_resource(domains_in_force(domains))

    for command in SERVICE_COMMANDS:
        registry.add_command(command)
    for domain in domains:
        for command in domain.commands:
            registry.add_command(command)
    return registry


cli = build_cli(DOMAINS)


def main() -> None:
    try:
        # Without standalone mode click returns a command's ctx.exit() status instead of exiting.
        status = cli.main(standalone_mode=False, prog_name="registry")
        if isinstance(status, int) and status != 0:
            sys.exit(status)
    except SettingsError as error:
        click.echo(f"registry: configuration error: {error}", err=True)
        sys.exit(EXIT_BAD_SETTINGS)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)


if __name__ == "__main__":
    main()
