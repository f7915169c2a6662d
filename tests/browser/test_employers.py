"""Employers in a real browser: asking for an account, a registrar approving it, the
organisation's page and keys, and a bulk check by pasted numbers and by CSV, axe-core on each."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

from playwright.async_api import Browser, FilePayload, Page, expect

from registry.accounts.roles import Role
from registry.config import Settings
from registry.employers.tables import Member, Organisation, OrganisationStatus
from registry.register import numbers, service
from tests.browser.axe import assert_accessible
from tests.browser.conftest import (
    People,
    Person,
    assert_reflows,
    expect_problems,
    expect_success,
    sign_in,
)
from tests.employers.helpers import verified
from tests.notifications.helpers import drain
from tests.notifications.receivers import webhook_receiver


def _family(word: str) -> str:
    return word + "".join(chr(ord("a") + int(d, 16)) for d in uuid.uuid4().hex[:6])


async def _organisation_with_entry(people: People, family: str) -> tuple[Person, service.Entry]:
    """An approved organisation ``<family> Trust`` administered by a new employer, and a
    registered practitioner ``Ola <family>``."""
    admin = await people.create([Role.employer], name=f"Ann {family}")
    with people.bound():
        moment = datetime.now(UTC)
        organisation = Organisation(
            name=f"{family} Trust",
            status=OrganisationStatus.approved.value,
            contact_name=admin.name,
            contact_email=admin.email,
            created_at=moment,
        )
        await organisation.save()
        await Member.insert(
            Member(organisation=organisation.id, user=admin.id, is_admin=True, added_at=moment)
        )
        entry = await service.create_entry(
            service.EntryIn(
                person=service.PersonIn("Ola", family, date(1982, 6, 9)),
                role_codes=["probation_officer"],
                region_code="wales",
                registered_since=date(2016, 1, 4),
                registered_until=date(2027, 11, 30),
            ),
            reason="Browser test",
        )
    return admin, entry


async def test_a_request_for_an_employer_account_approved_by_a_registrar(
    page: Page, people: People
) -> None:
    name = _family("Trust ")
    await page.goto("/employers/request")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ask for an employer account")
    await assert_accessible(page)
    await page.get_by_role("button", name="Send request").click()
    await expect_problems(page, {"name": "Enter the organisation's name"})
    await assert_accessible(page)
    await page.get_by_label("Organisation's name").fill(name)
    await page.get_by_label("Your name").fill("Wendy West")
    await page.get_by_label("Your work email address").fill(f"{uuid.uuid4().hex[:8]}@west.example")
    await page.get_by_role("button", name="Send request").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Request sent")
    await assert_accessible(page)

    registrar = await people.create([Role.registrar], two_factor=True)
    await sign_in(page, registrar)
    await page.locator(".govuk-service-navigation").get_by_role("link", name="Employers").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Employer organisations")
    await assert_accessible(page)
    await assert_reflows(page)
    await page.get_by_role("link", name=name).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)
    await assert_accessible(page)
    await page.get_by_role("button", name="Approve").click()
    await expect_problems(page, {"reason": "Give the reason for your decision"})
    await assert_accessible(page)
    await page.get_by_label("Reason for your decision").fill("A known probation trust")
    await page.get_by_role("button", name="Approve").click()
    await expect_success(page, "Organisation approved: its contact has been invited")
    await assert_accessible(page)


async def test_an_administrator_makes_a_key_and_checks_numbers(page: Page, people: People) -> None:
    family = _family("Check")
    admin, entry = await _organisation_with_entry(people, family)
    number = entry.registration_number

    await sign_in(page, admin)
    nav = page.locator(".govuk-service-navigation")
    await nav.get_by_role("link", name="Your organisation").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"{family} Trust")
    await assert_accessible(page)
    await assert_reflows(page)

    await page.get_by_role("button", name="Make key").click()
    await expect_problems(page, {"key_name": "Give the key a name of 80 characters or fewer"})
    await assert_accessible(page)
    await page.get_by_label("Name for a new key").fill("HR system")
    await page.get_by_role("button", name="Make key").click()
    await expect(page.locator("#new-key")).to_have_text(re.compile(r"^ppr_live_"))
    await assert_accessible(page)
    await page.get_by_role("link", name="Back to your organisation").click()
    await page.get_by_role("button", name="Revoke HR system").click()
    await expect_success(page, "Key revoked")

    await page.get_by_role("link", name="Check registration numbers").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check registration numbers")
    await assert_accessible(page)
    await page.get_by_role("button", name="Check numbers").click()
    await expect_problems(
        page, {"numbers": "Enter registration numbers, one a line, or choose a CSV file"}
    )
    await assert_accessible(page)
    await page.get_by_label("Registration numbers", exact=True).fill(f"{number}\n\nnot a number\n")
    await page.get_by_role("button", name="Check numbers").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Results of your check")
    rows = page.locator("#results tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text(f"Ola {family}")
    await expect(rows.nth(0)).to_contain_text("Registered")
    await expect(rows.nth(1)).to_contain_text("Not a registration number")
    await assert_accessible(page)
    await assert_reflows(page)
    async with page.expect_download() as download:
        await page.get_by_role("button", name="Download these results as CSV").click()
    path = await (await download.value).path()
    assert number in path.read_text(encoding="utf-8")

    await page.get_by_role("link", name="Check more numbers").click()
    await page.get_by_label("Or upload a CSV file").set_input_files(
        {
            "name": "staff.csv",
            "mimeType": "text/csv",
            "buffer": f"name,registration_number\nOla,{number}\n".encode(),
        }
    )
    await page.get_by_role("button", name="Check numbers").click()
    await expect(page.locator("#results tbody tr")).to_have_count(1)
    await expect(page.locator("#results tbody tr").nth(0)).to_contain_text(f"Ola {family}")


async def test_a_watchlist_and_its_webhook_endpoint_with_a_test_event_delivered(
    browser: Browser, development_server: str, migrated: Settings, people: People
) -> None:
    """On a development server (the only kind that takes a plain http loopback endpoint): the
    watchlist's numbers added, refused, removed and replaced from a CSV; an endpoint registered
    with its secret shown once; a test event delivered to the test's own receiver, signed with
    that secret, and shown in the endpoint's delivery log."""
    family = _family("Watch")
    admin, entry = await _organisation_with_entry(people, family)
    number = entry.registration_number
    other = numbers.registration_number(900_000 + int(uuid.uuid4().hex[:4], 16))
    context = await browser.new_context(base_url=development_server)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        await sign_in(page, admin)
        await (
            page.locator(".govuk-service-navigation").get_by_role("link", name="Watchlist").click()
        )
        await expect(page.get_by_role("heading", level=1)).to_have_text("Your watchlist")
        await assert_accessible(page)
        await assert_reflows(page)

        add = page.get_by_role("button", name="Add to watchlist")
        await add.click()
        await expect_problems(page, {"registration_number": "This line is blank"})
        await assert_accessible(page)
        await page.get_by_label("Registration number to watch").fill("PR12")
        await add.click()
        await expect_problems(
            page,
            {
                "registration_number": "'PR12' is not a registration number: it should be "
                "PR followed by 6 digits and a check character, like PR1000011"
            },
        )
        await page.get_by_label("Registration number to watch").fill(number.lower())
        await add.click()
        await expect_success(page, "Number added to your watchlist")
        await expect(page.locator("#watched tbody tr")).to_have_text([re.compile(number)])
        await assert_accessible(page)
        await page.get_by_role("button", name=f"Remove {number}").click()
        await expect_success(page, "Number removed from your watchlist")
        await expect(page.locator("#watched")).to_have_count(0)

        replace = page.get_by_role("button", name="Replace the watchlist")
        upload = page.get_by_label("Or upload a CSV file with a registration_number column")
        await upload.set_input_files(_csv("staff.csv", f"name,number\nOla,{number}\n"))
        await replace.click()
        await expect_problems(
            page,
            {
                "file": "The file has no column named 'registration_number'. "
                "Its columns are: 'name', 'number'"
            },
        )
        await assert_accessible(page)
        await upload.set_input_files(
            _csv("staff.csv", f"name,registration_number\nOla,{number}\nBo,{other}\n")
        )
        await replace.click()
        await expect_success(page, "Watchlist replaced")
        await expect(page.locator("#watched tbody tr")).to_have_count(2)

        endpoint_url = page.get_by_label("Add an endpoint (https address)")
        await endpoint_url.fill("ftp://hooks.example/in")
        await page.get_by_role("button", name="Add endpoint").click()
        await expect_problems(page, {"url": "A webhook address must start with https://"})
        await assert_accessible(page)
        with webhook_receiver() as receiver:
            hook = f"{receiver.url}/hook"
            await endpoint_url.fill(hook)
            await page.get_by_role("button", name="Add endpoint").click()
            await expect_success(page, "Webhook endpoint added")
            secret = (await page.locator("#webhook-secret").text_content() or "").strip()
            assert secret.startswith("whsec_")
            await assert_accessible(page)
            await assert_reflows(page)

            await page.get_by_role("button", name=f"Send a test event to {hook}").click()
            await expect_success(
                page, "Test event queued: it appears in the endpoint's delivery log"
            )
            with people.bound():  # the worker, in development mode like the server
                await drain(migrated.model_copy(update={"environment": "development"}))
            [delivery] = receiver.received("/hook")
        body = verified(delivery, secret)
        assert body["type"] == "test"

        await page.get_by_role("link", name=f"Delivery log of {hook}").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Delivery log")
        row = page.locator("#deliveries tbody tr")
        await expect(row).to_have_count(1)
        await expect(row).to_contain_text(str(body["id"]))
        await expect(row).to_contain_text(re.compile(r"sent, HTTP 204, \d+ ms"))
        await assert_accessible(page)
        await assert_reflows(page)
        await page.get_by_role("link", name="Back").click()
        await page.get_by_role("button", name=f"Remove {hook}").click()
        await expect_success(page, "Webhook endpoint removed")
        await assert_accessible(page)
    finally:
        await context.close()


def _csv(name: str, text: str) -> FilePayload:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode()}
