"""Certificates in a real browser: checking one (valid, then revoked; by serial and by file) and a
practitioner downloading their own, each page checked with axe-core and at phone width."""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pypdf
from playwright.async_api import Page, expect

from registry.accounts.roles import Role
from registry.certificates import keys, service
from registry.config import Settings
from registry.register import service as register
from registry.register.service import EntryMove
from tests.browser.axe import assert_accessible
from tests.browser.conftest import People, assert_reflows, expect_problems, sign_in, unique


@contextlib.contextmanager
def issuing_as(settings: Settings, live_server: str) -> Iterator[None]:
    """Certificates made in this process are signed as the live server signs them: its keys,
    its address (and so its did:web), so the server recognises them as its own."""
    keys.configure(settings.model_copy(update={"base_url": live_server}))
    try:
        yield
    finally:
        keys.configure(settings)


async def on_register(
    people: People, given: str, family: str, account_id: int | None = None
) -> service.CertificateRecord:
    with people.bound():
        entry = await register.create_entry(
            register.EntryIn(
                person=register.PersonIn(given, family, date(1985, 5, 6)),
                role_codes=["probation_officer"],
                region_code="london",
                registered_since=date(2021, 4, 1),
                registered_until=date(2027, 11, 30),
                account_id=account_id,
            ),
            reason="Browser test",
        )
        [found] = await service.certificates_of(entry.id)
    return found.certificate


async def test_anyone_checks_a_certificate_then_sees_it_revoked(
    page: Page, people: People, migrated: Settings, live_server: str
) -> None:
    family = unique("Verify").replace("-", "")
    with issuing_as(migrated, live_server):
        certificate = await on_register(people, "Jane", family)

    await page.goto("/")
    await (
        page.locator(".govuk-service-navigation")
        .get_by_role("link", name="Check a certificate")
        .click()
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check a certificate")
    await assert_accessible(page)
    await assert_reflows(page)

    mistyped = certificate.display_serial[:-1] + ("0" if certificate.serial[-1] != "0" else "1")
    await page.get_by_label("Serial number").fill(mistyped)
    await page.get_by_role("button", name="Check serial number").click()
    await expect_problems(
        page,
        {
            "serial": f"'{mistyped}' is not a valid certificate serial: its last character does "
            "not match the rest. Check it for a mistyped character."
        },
    )
    await assert_accessible(page)

    await page.get_by_label("Serial number").fill(certificate.display_serial.lower())
    await page.get_by_role("button", name="Check serial number").click()
    await expect(page).to_have_url(re.compile(rf"/verify/{re.escape(certificate.display_serial)}$"))
    verdict = page.locator("#verdict")
    await expect(verdict).to_have_text(f"Valid: Jane {family} is registered with no restrictions")
    checks = page.locator("#checks")
    for label in ("Signature valid", "Issued by this register's key", "Not revoked"):
        row = checks.locator(".govuk-summary-list__row", has_text=label)
        await expect(row.locator(".govuk-tag")).to_have_text("Passed")
    await assert_accessible(page)
    await assert_reflows(page)

    with people.bound():
        await register.move_entry(certificate.entry_id, EntryMove.lapse, reason="Not renewed")
    await page.reload()
    await expect(verdict).to_contain_text("Not valid: this certificate was revoked on ")
    await expect(verdict).to_contain_text("because the registration lapsed")
    row = checks.locator(".govuk-summary-list__row", has_text="Not revoked")
    await expect(row.locator(".govuk-tag")).to_have_text("Failed")
    await assert_accessible(page)

    # The same certificate's file, uploaded, gets the same answer; nothing is kept.
    await page.goto("/verify")
    await page.get_by_label("Upload the certificate's file").set_input_files(
        {
            "name": "certificate.json",
            "mimeType": "application/json",
            "buffer": json.dumps(certificate.credential).encode(),
        }
    )
    await page.get_by_role("button", name="Check file").click()
    await expect(verdict).to_contain_text("Not valid: this certificate was revoked on ")
    await expect(page.get_by_text("You uploaded certificate.json")).to_be_visible()
    await assert_accessible(page)

    await page.goto("/verify")
    await page.get_by_label("Upload the certificate's file").set_input_files(
        {"name": "photo.json", "mimeType": "application/json", "buffer": b"\x89PNG not json"}
    )
    await page.get_by_role("button", name="Check file").click()
    await expect_problems(
        page,
        {
            "credential": "The file is not a certificate credential. Choose the .json file "
            "downloaded with the certificate: this file is not JSON"
        },
    )
    await assert_accessible(page)


async def test_a_practitioner_downloads_their_certificate(
    page: Page, people: People, migrated: Settings, live_server: str, tmp_path: Path
) -> None:
    family = unique("Holder").replace("-", "")
    person = await people.create([Role.practitioner], name=f"Kemi {family}")
    with issuing_as(migrated, live_server):
        certificate = await on_register(people, "Kemi", family, account_id=person.id)

    await sign_in(page, person)
    await (
        page.locator(".govuk-service-navigation")
        .get_by_role("link", name="Your certificates")
        .click()
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your certificates")
    card = page.locator(f'[id="certificate-{certificate.serial}"]')  # a serial may hold "="
    await expect(card).to_contain_text(f"Valid: Kemi {family} is registered with no restrictions")
    await expect(card.locator(".govuk-tag")).to_have_text("Valid")
    await assert_accessible(page)
    await assert_reflows(page)

    async with page.expect_download() as downloading:
        await card.get_by_role("link", name=re.compile(r"^Download PDF")).click()
    download = await downloading.value
    saved_as = re.sub(r"[^0-9A-Z-]", "_", certificate.display_serial)  # "*" cannot be saved
    assert download.suggested_filename.endswith(f"{saved_as}.pdf")
    saved = tmp_path / "certificate.pdf"
    await download.save_as(saved)
    reader = pypdf.PdfReader(io.BytesIO(saved.read_bytes()))
    assert f"Kemi {family}" in reader.pages[0].extract_text()
    embedded = json.loads(reader.attachments[f"{certificate.display_serial}.json"][0])
    assert embedded == certificate.credential

    async with page.expect_download() as downloading:
        await card.get_by_role("link", name=re.compile(r"^Download \.json file")).click()
    download = await downloading.value
    assert download.suggested_filename.endswith(f"{saved_as}.json")

    await card.get_by_role("link", name=certificate.display_serial, exact=True).click()
    await expect(page.locator("#verdict")).to_have_text(
        f"Valid: Kemi {family} is registered with no restrictions"
    )
