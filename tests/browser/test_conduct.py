"""Fitness to practise in a real browser, for the public: raising a concern through the question
pages (an error summary on the way) to its reference; a published decision opened from the
public entry; the hearings list. axe-core on every page."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from registry.accounts import users
from registry.accounts.roles import Role
from registry.conduct.tables import Stage
from registry.conduct.workflow import Mover
from registry.config import Settings
from tests.browser.axe import assert_accessible
from tests.browser.conftest import People, expect_problems, unique
from tests.conduct import helpers
from tests.register.helpers import put_on_register

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def _staff(role: Role) -> Mover:
    account = await users.create_user(
        f"{unique(role.value)}@regulator.example", f"Test {role.value}", [role]
    )
    return Mover(account.id, frozenset({role}))


async def _with_conditions(people: People) -> str:
    """A practitioner on the register with conditions in force, by the workflow's own moves."""
    with people.bound():
        account = await users.create_user(
            f"{unique('pat')}@example.org", "Pat Smith", [Role.practitioner]
        )
        entry = await put_on_register(
            "Pat", unique("Smith").replace("-", ""), account_id=account.id
        )
        who = helpers.People(
            caseworker=await _staff(Role.caseworker),
            examiner=await _staff(Role.case_examiner),
            second_examiner=await _staff(Role.case_examiner),
            adjudicator=await _staff(Role.adjudicator),
            practitioner=Mover(account.id, frozenset({Role.practitioner})),
            entry=entry,
        )
        await helpers.case_at(Stage.sanction_in_force, who)
    return entry.registration_number


async def test_anyone_raises_a_concern_and_reads_a_published_decision(
    page: Page, people: People, migrated: Settings
) -> None:
    number = await _with_conditions(people)
    await page.goto(f"/register/{number}")
    await assert_accessible(page)

    # a published decision, from the public entry
    await page.get_by_role("link", name="Read the decision").click()
    await expect(page).to_have_url(re.compile(rf"/register/{number}/decisions/\d+$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Conditions of practice")
    await assert_accessible(page)
    pdf_link = page.get_by_role("link", name="Download the decision (PDF)")
    pdf = await page.request.get(await pdf_link.get_attribute("href") or "")
    assert pdf.ok
    assert pdf.headers["content-type"] == "application/pdf"
    await page.get_by_role("link", name=f"All decisions about {number}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Fitness to practise decisions")
    await assert_accessible(page)
    await page.goto("/hearings")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Fitness to practise hearings")
    await assert_accessible(page)

    # a concern, through the question pages
    await page.goto(f"/register/{number}")
    await page.get_by_role("link", name="Raise a concern about this practitioner").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Who is your concern about?")
    await assert_accessible(page)
    await page.get_by_label("Registration number (if you know it)").fill(number)
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("What happened?")
    await assert_accessible(page)
    await page.get_by_role("button", name="Continue").click()
    await expect_problems(
        page,
        {
            "what_happened": "Describe what happened",
            "categories": "Choose at least one kind of concern",
        },
    )
    await assert_accessible(page)
    await page.get_by_label("Describe what happened").fill("They shouted in the waiting room.")
    await page.locator("#categories").check()
    await page.get_by_role("button", name="Continue").click()

    # a file attached: a disguised one refused, then a real one kept and listed
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Do you have anything to show us?"
    )
    await assert_accessible(page)
    await page.get_by_label("Attach a file").set_input_files(
        {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00"}
    )
    await page.get_by_role("button", name="Attach file").click()
    await expect_problems(page, {"attachment_file": "The selected file must be a PDF, PNG or JPEG"})
    await assert_accessible(page)
    await page.get_by_label("Attach a file").set_input_files(
        {"name": "letter.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await page.get_by_role("button", name="Attach file").click()
    await expect(page.locator(".govuk-summary-list")).to_contain_text("letter.pdf")
    await assert_accessible(page)
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("About you")
    await assert_accessible(page)
    await page.get_by_label("Member of the public").check()
    await page.get_by_label("Your email address (optional)").fill("rae@example.org")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your answers before sending your concern"
    )
    await expect(page.locator("main")).to_contain_text("letter.pdf (PDF, 1 KB)")
    await assert_accessible(page)
    await page.get_by_role("button", name="Send concern").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Concern sent")
    await expect(page.locator("#concern-reference")).to_have_text(re.compile(r"^FTP-"))
    await assert_accessible(page)
