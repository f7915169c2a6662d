"""``registry keys rotate`` (a new signing key; the old ones stay published), ``registry
verify`` (a credential checked offline from saved files) and ``registry certificates issue``
(a certificate for every entry on the register, in batches)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from registry.certificates.pdf import CertificateFacts

ISSUING_ACTOR = "system: certificates issue"


@click.group("keys")
def keys_command() -> None:
    """The keys that sign certificates."""


@keys_command.command("rotate")
@click.pass_context
def rotate(ctx: click.Context) -> None:
    """Make a new signing key. Certificates signed with the old keys still verify: their public
    keys stay in /.well-known/did.json. The old private key is deleted."""
    from registry.certificates import keys
    from registry.core.commands import settings_of

    settings = settings_of(ctx)
    number = keys.rotate(settings.data_dir)
    click.echo(f"Certificates are now signed with key {number}; earlier keys stay published.")


@click.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A saved copy of /.well-known/did.json (default: this register's own keys).",
)
@click.option(
    "--status-list",
    "status_list_files",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="A saved copy of a status list the credential names (give one for each purpose), or a"
    " folder of them: every .json file in it is read.",
)
@click.pass_context
def verify(
    ctx: click.Context, file: Path, keys_file: Path | None, status_list_files: tuple[Path, ...]
) -> None:
    """Verify the credential in FILE offline, from files alone: its signature, its issuer's key,
    its revocation and suspension bits and its expiry. Exits 1 if any check fails or cannot be
    made. The live register status needs the service: POST /api/v1/verify."""
    from registry.certificates import keys, offline
    from registry.core import clock
    from registry.core.commands import settings_of

    credential = _json_object(file)
    if keys_file is not None:
        did_document = _json_object(keys_file)
    else:
        settings = settings_of(ctx)
        did_document = keys.Issuer(settings.data_dir, str(settings.base_url)).did_document()
    lists = [_json_object(path) for path in _files(status_list_files)]
    checks = offline.check(credential, did_document, lists, clock.now())
    for found in checks:
        click.echo(f"{'pass' if found.passed else 'FAIL'}  {found.label}: {found.detail}")
    valid = all(found.passed for found in checks)
    click.echo("Valid" if valid else "Not valid")
    ctx.exit(0 if valid else 1)


def _files(paths: Iterable[Path]) -> list[Path]:
    """Each file given, and the .json files of each folder given, in name order."""
    found: list[Path] = []
    for path in paths:
        found += sorted(path.glob("*.json")) if path.is_dir() else [path]
    return found


def _json_object(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise click.ClickException(f"{path} is not a JSON document") from None
    if not isinstance(value, dict):
        raise click.ClickException(f"{path} is not a JSON object")
    return value


@click.group("certificates")
def certificates_command() -> None:
    """Certificates of registration."""


@certificates_command.command("issue")
@click.option(
    "--all-current",
    is_flag=True,
    help="Every entry on the register (registered, with conditions, or suspended).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 5000),
    default=200,
    show_default=True,
    help="Entries checked and issued for in each transaction.",
)
@click.option(
    "--pdf-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write each entry's live certificate as a PDF into this folder (made if need"
    " be), <serial>.pdf, rendered on every core. PDFs already there are kept.",
)
@click.pass_context
def issue(ctx: click.Context, all_current: bool, batch_size: int, pdf_dir: Path | None) -> None:
    """Issue a registration certificate for every entry on the register that has none, and
    reissue any that no longer states what the register does (the old one is superseded).

    Batches are committed one by one, so an interrupted run keeps what it did: run it again and
    it carries on, issuing nothing twice. With --pdf-dir, the PDFs are rendered by a pool of
    processes, one per core, while the next batch is signed."""
    from registry.audit.context import Actor, acting_as
    from registry.certificates import documents, service
    from registry.core.commands import progress_bar, run_with_engine, settings_of

    if not all_current:
        raise click.UsageError("Say which entries: --all-current is the only choice for now.")
    settings = settings_of(ctx)
    if pdf_dir is not None:
        pdf_dir.mkdir(parents=True, exist_ok=True)

    async def work(engine: Any) -> tuple[int, int, int]:
        checked = issued = written = 0
        pending: list[asyncio.Future[None]] = []
        loop = asyncio.get_running_loop()
        pool = _pool() if pdf_dir is not None else None
        try:
            with acting_as(Actor(id=None, label=ISSUING_ACTOR)), progress_bar() as progress:
                entries = progress.add_task("Entries", total=await service.current_entries())
                pdfs = progress.add_task("PDFs", total=0, visible=pdf_dir is not None)
                after = 0
                while True:
                    batch = await service.issue_current(after, batch_size)
                    if not batch.checked:
                        break
                    after = batch.last_id
                    checked, issued = checked + batch.checked, issued + len(batch.issued)
                    progress.advance(entries, batch.checked)
                    if pool is None or pdf_dir is None:
                        continue
                    live = await service.live_registrations(batch.entry_ids)
                    for record in live.values():
                        target = pdf_dir / f"{record.display_serial}.pdf"
                        if target.exists():
                            continue
                        job = loop.run_in_executor(
                            pool, write_pdf, documents.facts_of(record), str(target)
                        )
                        job.add_done_callback(lambda _: progress.advance(pdfs, 1))
                        progress.update(pdfs, total=(progress.tasks[pdfs].total or 0) + 1)
                        pending.append(job)
                written = len(await asyncio.gather(*pending))
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        return checked, issued, written

    checked, issued, written = run_with_engine(settings, work)
    click.echo(f"Checked {checked} entries on the register; issued {issued} certificates.")
    if pdf_dir is not None:
        click.echo(f"Wrote {written} PDFs to {pdf_dir}.")


def _pool() -> Executor:
    return ProcessPoolExecutor(max_workers=os.cpu_count() or 1)


def write_pdf(facts: CertificateFacts, target: str) -> None:
    """Render one certificate into ``target``, whole or not at all (a worker process's job):
    written beside it and renamed into place, so an interrupted run leaves no half file."""
    from registry.certificates.pdf import render_certificate

    path = Path(target)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(render_certificate(facts))
    partial.replace(path)
