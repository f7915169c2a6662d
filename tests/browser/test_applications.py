"""Applying to join, the registrar's decision, and looking after a registration, in a browser.

Every page these journeys reach is checked with axe-core (in its error states too), and the
longest ones for reflow at 320 CSS pixels.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

from playwright.async_api import Browser, Page, expect

from registry.accounts.roles import Role
from registry.register import service
from tests.browser.axe import assert_accessible
from tests.browser.conftest import (
    People,
    assert_reflows,
    expect_problems,
    expect_success,
    sign_in,
    summary_value,
)
from tests.register.applying import PDF
from tests.support import exempt_from_cpd

TEXT_PRETENDING_TO_BE_A_PDF = b"Not really a certificate\n"


def letters() -> str:
    """A surname part no other run has used, in letters only (searchable as a name)."""
    return "".join(chr(ord("a") + int(digit, 16)) for digit in uuid.uuid4().hex[:8]).capitalize()


async def checked(page: Page, *, reflow: bool = False) -> None:
    await assert_accessible(page)
    if reflow:
        await assert_reflows(page)


async def heading(page: Page, text: str | re.Pattern[str]) -> None:
    await expect(page.get_by_role("heading", level=1)).to_have_text(text)


async def go_to(page: Page, link: str) -> None:
    await page.locator(".govuk-service-navigation").get_by_role("link", name=link).click()


async def expect_date_problem(page: Page, field: str, message: str) -> None:
    """A date's message: the summary links to its day box, and the message sits above the boxes."""
    await expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    await expect(summary.get_by_role("link")).to_have_text([message])
    await expect(summary.get_by_role("link")).to_have_attribute("href", f"#{field}-day")
    await expect(page.locator(f"#{field}-error")).to_have_text(f"Error: {message}")
    await expect(summary).to_be_focused()


async def test_an_application_is_made_questioned_approved_and_found_on_the_register(
    page: Page, people: People, browser: Browser, live_server: str
) -> None:
    family = f"Okoye{letters()}"
    applicant = await people.create([Role.practitioner], name=f"Amara {family}")
    registrar = await people.create([Role.registrar], two_factor=True)

    # --- the applicant ----------------------------------------------------------------------
    await sign_in(page, applicant)
    await go_to(page, "Your registration")
    await heading(page, "Your registration")
    await expect(page.get_by_text("You are not on the register.")).to_be_visible()
    await checked(page)
    await page.get_by_role("link", name="Apply to join the register").click()
    await heading(page, "Apply to join the register")
    await checked(page)
    await page.get_by_role("button", name="Start now").click()

    await expect(page).to_have_url(re.compile(r"/apply/name$"))
    await heading(page, re.compile("What is your name?"))
    await checked(page, reflow=True)
    await page.get_by_role("button", name="Continue").click()
    await expect_problems(
        page, {"given_names": "Enter your given names", "family_name": "Enter your family name"}
    )
    await checked(page)
    await page.get_by_label("Given names").fill("Amara")
    await page.get_by_label("Family name").fill(family)
    await page.get_by_role("button", name="Continue").click()

    await expect(page).to_have_url(re.compile(r"/apply/date-of-birth$"))
    await checked(page)
    await page.get_by_label("Day").fill("31")
    await page.get_by_label("Month").fill("2")
    await page.get_by_label("Year").fill("1990")
    await page.get_by_role("button", name="Continue").click()
    await expect_date_problem(page, "date_of_birth", "Date of birth must be a real date")
    await checked(page)
    await page.get_by_label("Day").fill("17")
    await page.get_by_label("Month").fill("5")
    await page.get_by_role("button", name="Continue").click()

    await expect(page).to_have_url(re.compile(r"/apply/contact$"))
    await expect(page.get_by_label("Email address")).to_have_value(applicant.email)
    await checked(page)
    await page.get_by_label("Telephone number (optional)").fill("not a number")
    await page.get_by_role("button", name="Continue").click()
    await expect_problems(
        page, {"phone": "Enter a telephone number, like 01632 960 001 or +44 808 157 0192"}
    )
    await checked(page)
    await page.get_by_label("Telephone number (optional)").fill("07700 900123")
    await page.get_by_role("button", name="Continue").click()

    await expect(page).to_have_url(re.compile(r"/apply/address$"))
    await checked(page)
    await page.get_by_label("Address").fill("1 Probation Way\nLeeds")
    await page.get_by_label("Postcode").fill("ls1 4ap")
    await page.get_by_role("button", name="Continue").click()

    await expect(page).to_have_url(re.compile(r"/apply/role$"))
    await checked(page)
    await page.get_by_role("button", name="Continue").click()
    await expect_problems(page, {"role": "Select your designated role"})
    await checked(page)
    await page.get_by_label("Probation Officer", exact=True).check()
    await page.get_by_role("button", name="Continue").click()

    await expect(page).to_have_url(re.compile(r"/apply/region$"))
    await checked(page, reflow=True)
    await page.get_by_label("North West").check()
    await page.get_by_role("button", name="Continue").click()

    await expect(page).to_have_url(re.compile(r"/apply/qualification$"))
    await checked(page)
    await page.get_by_label("Professional Qualification in Probation (PQiP)").check()
    await page.get_by_label("Day").fill("1")
    await page.get_by_label("Month").fill("7")
    await page.get_by_label("Year").fill("2020")
    await page.get_by_label("Which institution awarded it?").fill("University of Leeds")
    await page.get_by_role("button", name="Continue").click()

    await expect(page).to_have_url(re.compile(r"/apply/evidence$"))
    await checked(page)
    upload = page.get_by_label("Upload a file")
    await upload.set_input_files(
        {
            "name": "certificate.pdf",
            "mimeType": "application/pdf",
            "buffer": TEXT_PRETENDING_TO_BE_A_PDF,
        }
    )
    await page.get_by_role("button", name="Continue").click()
    await expect_problems(page, {"evidence": "The selected file must be a PDF, PNG or JPEG"})
    await checked(page)
    await page.get_by_label("Upload a file").set_input_files(
        {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await page.get_by_role("button", name="Continue").click()

    await expect(page).to_have_url(re.compile(r"/apply/character$"))
    await checked(page)
    await page.get_by_label("Yes", exact=True).check()
    await page.get_by_role("button", name="Continue").click()
    await expect_problems(page, {"character_details": "Give the details of what you are declaring"})
    await checked(page)
    await page.get_by_label("No", exact=True).check()
    await page.get_by_role("button", name="Continue").click()

    await expect(page).to_have_url(re.compile(r"/apply/health$"))
    await checked(page)
    # The details box belongs to "Yes": it is revealed when yes is chosen, and only then.
    details = page.get_by_label("Give details of the condition and how you manage it")
    await expect(details).to_be_hidden()
    await page.get_by_label("Yes", exact=True).check()
    await expect(details).to_be_visible()
    await expect(page.get_by_label("Yes", exact=True)).to_have_attribute("aria-expanded", "true")
    await details.fill("Asthma, well controlled")
    await page.get_by_role("button", name="Continue").click()

    await expect(page).to_have_url(re.compile(r"/apply/check$"))
    await heading(page, re.compile("Check your answers"))
    await expect(summary_value(page, "Name")).to_have_text(f"Amara {family}")
    await expect(summary_value(page, "Date of birth")).to_have_text("17 May 1990")
    await expect(summary_value(page, "Evidence")).to_contain_text("certificate.pdf (PDF")
    await checked(page, reflow=True)
    # A change goes back to the check page, not on through the questions.
    await page.get_by_role("link", name="Change region").click()
    await page.get_by_label("Yorkshire and the Humber").check()
    await page.get_by_role("button", name="Continue").click()
    await expect(page).to_have_url(re.compile(r"/apply/check$"))
    await expect(summary_value(page, "Region")).to_have_text("Yorkshire and the Humber")
    await page.get_by_role("button", name="Accept and send").click()

    await expect(page).to_have_url(re.compile(r"/apply/submitted$"))
    await expect(page.locator(".govuk-panel__title")).to_have_text("Application submitted")
    reference = (await page.locator(".govuk-panel__body strong").inner_text()).strip()
    assert re.fullmatch(r"APP-\d{6}", reference)
    await checked(page)
    await page.get_by_role("link", name="your application page").click()
    await heading(page, "Your application")
    await expect(summary_value(page, "Status")).to_have_text("Submitted")
    await checked(page)

    # --- the registrar asks a question ------------------------------------------------------
    # In a browser of their own: a second sign-in would need a second code within the minute.
    applicant_page, registrar_context = page, await browser.new_context(base_url=live_server)
    page = await registrar_context.new_page()
    await sign_in(page, registrar)
    await go_to(page, "Applications")
    await heading(page, "Applications")
    row = page.get_by_role("row").filter(has_text=reference)
    await expect(row).to_contain_text(f"Amara {family}")
    await expect(row).to_contain_text("Submitted")
    await checked(page, reflow=True)
    await row.get_by_role("link", name=reference).click()
    await heading(page, f"Application {reference}")
    await expect(page.get_by_text("Asthma, well controlled")).to_be_visible()
    await checked(page, reflow=True)
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name=re.compile(r"^Download certificate\.pdf")).click()
    download = await downloading.value
    assert download.suggested_filename == "certificate.pdf"
    await page.get_by_role("button", name="Reject the application").click()
    await expect_problems(page, {"reason": "Enter the reason for rejecting"})
    await checked(page)
    await page.get_by_label("What do you need the applicant to tell you?").fill(
        "Which modules did your PQiP include?"
    )
    await page.get_by_role("button", name="Send the question").click()
    await expect_success(page, f"Application {reference}: further information requested")
    await checked(page)

    # --- the applicant answers --------------------------------------------------------------
    registrar_page, page = page, applicant_page
    await page.goto("/your-application")
    await expect(page.get_by_text("Which modules did your PQiP include?")).to_be_visible()
    # A status is one phrase: its tag is not broken over lines while there is room for it.
    tag = summary_value(page, "Status").locator(".govuk-tag")
    await expect(tag).to_have_text("Further information requested")
    lines = await tag.evaluate(
        "t => t.getBoundingClientRect().height / parseFloat(getComputedStyle(t).lineHeight)"
    )
    assert lines < 1.9, lines
    await checked(page)
    await page.get_by_role("button", name="Send your answer").click()
    await expect_problems(
        page, {"information_response": "Enter your answer to the registrar's question"}
    )
    await checked(page)
    await page.get_by_label("Your answer").fill("All six, including risk assessment.")
    await page.get_by_role("button", name="Send your answer").click()
    await expect_success(page, "Your answer has been sent to the registrar")
    await expect(summary_value(page, "Status")).to_have_text("Under review")
    await checked(page)

    # --- the registrar approves -------------------------------------------------------------
    page = registrar_page
    await page.goto("/registrar/applications")
    await page.get_by_role("row").filter(has_text=reference).get_by_role("link").click()
    await expect(page.get_by_text("All six, including risk assessment.")).to_be_visible()
    await page.get_by_role("button", name="Approve and add to the register").click()
    await expect_success(page, f"Application {reference}: approved")
    number = (await summary_value(page, "Registration number").inner_text()).strip()
    assert re.fullmatch(r"PR\d{6}[0-9X]", number)
    await checked(page)

    # --- anyone finds them on the public register -------------------------------------------
    await page.goto(f"/register?q={number}")
    result = page.locator(".app-result")
    await expect(result).to_have_count(1)
    await expect(result.get_by_role("link")).to_have_text(f"Amara {family}")
    await page.goto(f"/register?q={family}")
    await expect(page.locator(".app-result").get_by_role("link")).to_have_text(f"Amara {family}")
    await checked(page)

    await registrar_context.close()

    # --- and the new practitioner sees their registration ----------------------------------
    page = applicant_page
    await page.reload()  # the navigation offered "Your application" until the approval
    await go_to(page, "Your registration")
    await expect(summary_value(page, "Registration number")).to_have_text(number)
    await expect(summary_value(page, "Status")).to_have_text("Registered")
    await checked(page, reflow=True)


async def test_a_practitioner_renews_leaves_and_applies_for_restoration(
    page: Page, people: People
) -> None:
    family = f"Renewer{letters()}"
    person = await people.create([Role.practitioner], name=f"Pat {family}")
    # Registered until ten days from now: inside the window before it, whatever today is.
    until = datetime.now(UTC).date() + timedelta(days=10)
    with people.bound():
        entry = await service.create_entry(
            service.EntryIn(
                person=service.PersonIn("Pat", family, date(1980, 1, 2), email=person.email),
                role_codes=["senior_probation_officer"],
                region_code="london",
                registered_since=date(2015, 4, 1),
                registered_until=until,
                account_id=person.id,
            ),
            reason="Browser test",
        )
        await exempt_from_cpd(entry.id)  # CPD's part of renewing: tests/browser/test_cpd.py

    await sign_in(page, person)
    await go_to(page, "Your registration")
    await expect(summary_value(page, "Registration number")).to_have_text(entry.registration_number)
    await checked(page, reflow=True)
    await page.get_by_role("link", name="Renew your registration").click()
    await heading(page, "Renew your registration")
    await checked(page, reflow=True)
    await page.get_by_role("button", name="Continue").click()
    await expect_problems(
        page,
        {
            "character_declaration": "Select yes if you have a conviction or caution to declare",
            "health_declaration": "Select yes if you have a health condition to declare",
        },
    )
    await checked(page)
    radios = page.locator(".govuk-radios")
    await radios.nth(0).get_by_label("No", exact=True).check()
    await radios.nth(1).get_by_label("No", exact=True).check()
    await page.get_by_role("button", name="Continue").click()
    await heading(page, "Check your declarations before renewing")
    await checked(page)
    await page.get_by_role("button", name="Renew my registration").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Registration renewed")
    await checked(page)
    await page.get_by_role("link", name="Go to your registration").click()
    await expect(page.get_by_text("You have renewed for this year.")).to_be_visible()

    await page.get_by_role("link", name="leave the register").click()
    await heading(page, "Leave the register")
    await checked(page, reflow=True)
    await page.get_by_role("button", name="Leave the register").click()
    await expect_problems(
        page,
        {
            "reason": "Tell us why you are leaving the register",
            "confirm": "Confirm that you understand you must not practise once you leave",
        },
    )
    await checked(page)
    await page.get_by_label("Why are you leaving the register?").fill("Retiring")
    await page.get_by_label(re.compile("I understand that I must not practise")).check()
    await page.get_by_role("button", name="Leave the register").click()
    await expect_success(page, "You have left the register")
    await expect(summary_value(page, "Status")).to_have_text("Voluntarily removed")
    await checked(page)

    await page.get_by_role("link", name="Apply for restoration to the register").click()
    await heading(page, "Apply for restoration to the register")
    await checked(page)
    await page.get_by_role("button", name="Start now").click()
    await expect(page).to_have_url(re.compile(r"/apply/address$"))
    await checked(page)
    await page.get_by_label("Address").fill("9 Quay Street\nBristol")
    await page.get_by_label("Postcode").fill("BS1 4DJ")
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_label("No", exact=True).check()
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_label("No", exact=True).check()
    await page.get_by_role("button", name="Continue").click()
    await heading(page, re.compile("Check your answers"))
    await expect(page.get_by_role("link", name="Change name")).to_have_count(0)
    await checked(page, reflow=True)
    await page.get_by_role("button", name="Accept and send").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Application submitted")
    await go_to(page, "Your registration")
    await expect(
        page.get_by_text(re.compile(r"Restoration to the register, APP-\d{6}"))
    ).to_be_visible()
    await checked(page)
