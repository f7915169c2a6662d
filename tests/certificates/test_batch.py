"""``registry certificates issue --all-current``: every entry on the register in step, in
batches, resumable, with nothing issued twice; and ``registry verify`` given a folder."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pypdf

from registry.certificates import service
from registry.certificates.tables import Certificate
from registry.config import Settings
from registry.core.domain import domains_in_force
from registry.domains import DOMAINS
from registry.register import service as register
from registry.register.service import EntryMove
from tests.certificates.helpers import live_certificate, registration_certificates
from tests.register.helpers import put_on_register
from tests.support import BASE_URL, registry_command

WITHOUT_CERTIFICATES = [domain for domain in DOMAINS if domain.name != "certificates"]


async def entries_made_before_certificates(count: int) -> list[register.Entry]:
    """Entries the certificates domain never heard of, as on a register older than it."""
    with domains_in_force(WITHOUT_CERTIFICATES):
        return [await put_on_register(f"Person{n}", "Early") for n in range(count)]


async def live_count() -> int:
    return int(await Certificate.count().where(Certificate.revoked_at.is_null()))


async def test_issuing_for_every_current_entry_then_again_issues_nothing(
    client: httpx.AsyncClient, migrated: Settings, tmp_path: Path
) -> None:
    early = await entries_made_before_certificates(5)
    in_step = await put_on_register("Ada", "Current")
    in_step_certificate = await live_certificate(in_step.id)
    renamed = await put_on_register("Bea", "Before")
    with domains_in_force(WITHOUT_CERTIFICATES):  # a change the certificate never heard of
        await register.change_name(renamed.id, "Bea", "After", reason="Marriage")
    gone = await put_on_register("Cy", "Lapsed")
    await register.move_entry(gone.id, EntryMove.lapse, reason="Not renewed")
    certificates_before = await Certificate.count()

    pdfs = tmp_path / "pdfs"
    command = ("certificates", "issue", "--all-current", "--batch-size", "3")
    env = {"REGISTRY_BASE_URL": BASE_URL}
    status, output = await registry_command(
        migrated, *command, "--pdf-dir", str(pdfs), env=env, with_stderr=True
    )
    assert status == 0, output
    assert "Checked 7 entries on the register; issued 6 certificates." in output
    assert "Wrote 7 PDFs" in output
    assert await Certificate.count() == certificates_before + 6
    assert await live_count() == 7  # one for each entry on the register, none for the lapsed
    for entry in early:
        certificate = await live_certificate(entry.id)
        assert certificate.certified["name"] == f"Person{early.index(entry)} Early"
    assert (await live_certificate(in_step.id)).serial == in_step_certificate.serial
    bea = await registration_certificates(renamed.id)
    assert [c.certified["name"] for c in bea] == ["Bea Before", "Bea After"]
    assert bea[0].superseded_by == bea[1].id  # superseded, not doubled
    written = sorted(path.name for path in pdfs.iterdir())
    assert len(written) == 7
    one = await live_certificate(early[0].id)
    assert f"{one.display_serial}.pdf" in written
    reader = pypdf.PdfReader(pdfs / f"{one.display_serial}.pdf")
    assert json.loads(reader.attachments[f"{one.display_serial}.json"][0]) == one.credential
    verdict = await service.verify(one.serial)
    assert verdict.valid, verdict.verdict

    again_status, again = await registry_command(
        migrated, *command, "--pdf-dir", str(pdfs), env=env, with_stderr=True
    )
    assert again_status == 0, again
    assert "issued 0 certificates" in again
    assert "Wrote 0 PDFs" in again
    assert await Certificate.count() == certificates_before + 6
    assert sorted(path.name for path in pdfs.iterdir()) == written


async def test_an_interrupted_run_carries_on_where_it_stopped(
    client: httpx.AsyncClient, migrated: Settings
) -> None:
    early = await entries_made_before_certificates(5)
    first = await service.issue_current(0, 2)  # the run stopped after its first batch
    assert [c.entry_id for c in first.issued] == [early[0].id, early[1].id]
    status, output = await registry_command(
        migrated, "certificates", "issue", "--all-current", env={"REGISTRY_BASE_URL": BASE_URL}
    )
    assert status == 0, output
    assert "issued 3 certificates" in output
    assert await Certificate.count() == 5
    for entry in early:
        await live_certificate(entry.id)  # exactly one each


async def test_the_command_says_which_entries(migrated: Settings) -> None:
    status, output = await registry_command(migrated, "certificates", "issue", with_stderr=True)
    assert status == 2
    assert "--all-current" in output


async def test_registry_verify_reads_a_folder_of_status_lists(
    client: httpx.AsyncClient, migrated: Settings, tmp_path: Path
) -> None:
    entry = await put_on_register("Jane", "Smith")
    credential = (await live_certificate(entry.id)).credential
    saved = tmp_path / "certificate.json"
    saved.write_text(json.dumps(credential))
    did = tmp_path / "did.json"
    did.write_text((await client.get("/.well-known/did.json")).text)
    lists = tmp_path / "lists"
    lists.mkdir()
    for purpose in ("revocation", "suspension"):
        (lists / f"{purpose}.json").write_text((await client.get(f"/status-lists/{purpose}")).text)
    status, output = await registry_command(
        migrated, "verify", str(saved), "--keys", str(did), "--status-list", str(lists)
    )
    assert status == 0, output
    assert "pass  Not revoked: The revocation bit is clear" in output
    assert "pass  Not suspended: The suspension bit is clear" in output
    assert output.splitlines()[-1] == "Valid"
