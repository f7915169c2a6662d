"""A practitioner's fitness to practise cases in a real browser: "Your cases" in the navigation,
the list with what is asked and by when, a case, the response with a file (a disguised one
refused first), and accepting a proposed outcome through its confirmation. axe-core on every
page."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from registry.accounts.roles import Role
from registry.conduct.tables import Stage
from registry.conduct.workflow import Move, Mover
from registry.config import Settings
from tests.browser.axe import assert_accessible
from tests.browser.conftest import People, Person, expect_problems, sign_in, unique
from tests.browser.test_conduct import PDF, _staff
from tests.conduct import helpers
from tests.register.helpers import put_on_register


async def _practitioner_with_a_case(people: People) -> tuple[Person, int, helpers.People]:
    """A practitioner on the register with a case under investigation, by the workflow's own
    moves, and the staff who handle it."""
    person = await people.create([Role.practitioner], name="Pat Smith")
    with people.bound():
        entry = await put_on_register("Pat", unique("Smith").replace("-", ""), account_id=person.id)
        who = helpers.People(
            caseworker=await _staff(Role.caseworker),
            examiner=await _staff(Role.case_examiner),
            second_examiner=await _staff(Role.case_examiner),
            adjudicator=await _staff(Role.adjudicator),
            practitioner=Mover(person.id, frozenset({Role.practitioner})),
            entry=entry,
        )
        investigated = await helpers.case_at(Stage.investigation, who)
    return person, investigated, who


async def test_the_practitioner_responds_and_answers_the_outcome(
    page: Page, people: People, migrated: Settings
) -> None:
    person, case_id, who = await _practitioner_with_a_case(people)
    await sign_in(page, person)
    await page.get_by_role("link", name="Your cases").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your fitness to practise cases"
    )
    await expect(page.locator("main")).to_contain_text(
        "Send your response to the notice of investigation"
    )
    await assert_accessible(page)

    await page.get_by_role("link", name=re.compile(r"^FTP-")).click()
    await expect(page).to_have_url(re.compile(rf"/your-cases/{case_id}$"))
    await expect(page.locator("main")).to_contain_text("They shared a client's address")
    await assert_accessible(page)

    # a disguised file is refused with the response kept, then a real one sent
    await page.get_by_label("Your response").fill("I did not do it.")
    await page.get_by_label("Attach files (optional)").set_input_files(
        {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90"}
    )
    await page.get_by_role("button", name="Send response").click()
    await expect_problems(page, {"evidence": "The selected file must be a PDF, PNG or JPEG"})
    await expect(page.get_by_label("Your response")).to_have_value("I did not do it.")
    await assert_accessible(page)
    await page.get_by_label("Attach files (optional)").set_input_files(
        {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await page.get_by_role("button", name="Send response").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Your response has been sent"
    )
    await expect(page.get_by_role("link", name="statement.pdf")).to_be_visible()
    await assert_accessible(page)

    # the case examiners propose an outcome; the practitioner accepts it
    with people.bound():
        await helpers.move(case_id, Move.refer_to_case_examiners, who)
        await helpers.move(case_id, Move.propose_accepted_outcome, who)
    await page.reload()
    await page.get_by_role("link", name="Accept or reject the proposed outcome").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Do you accept the proposed outcome?"
    )
    await assert_accessible(page)
    await page.get_by_role("button", name="Continue").click()
    await expect_problems(page, {"decision": "Choose whether you accept or reject the outcome"})
    await assert_accessible(page)
    await page.get_by_label("I accept the proposed outcome").check()
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Are you sure you want to accept the outcome?"
    )
    await assert_accessible(page)
    await page.get_by_role("button", name="Yes, accept the outcome").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "You accepted the outcome"
    )
    await expect(page.locator("main")).to_contain_text("Sanction in force")
    await assert_accessible(page)
