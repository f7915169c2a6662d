"""CPD in a real browser: log activities with evidence, see progress, axe-core on every page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

from playwright.async_api import Page, expect

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

PDF = b"%PDF-1.4\n% a certificate of attendance\n"


async def _log(page: Page, title: str, hours: str, area: str, *, first: bool = False) -> None:
    today = datetime.now(UTC).date()
    await page.get_by_role("button", name="Log an activity").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Log a CPD activity")
    if first:
        await assert_accessible(page)
        await page.get_by_role("button", name="Save activity").click()
        await expect_problems(
            page,
            {
                "title": "Enter the title of the activity",
                "done_on": "Enter the date of the activity",
                "hours": "Enter how many hours the activity took, like 1.5",
                "activity_type": "Select the type of activity",
                "participatory": "Select yes if you learned with others",
                "practice_areas": "Select at least one practice area",
            },
            date_fields=["done_on"],
        )
        await assert_accessible(page)
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Day").fill(str(today.day))
    await page.get_by_label("Month").fill(str(today.month))
    await page.get_by_label("Year").fill(str(today.year))
    await page.get_by_label("Hours", exact=True).fill(hours)
    await page.get_by_label("Formal course").check()
    await page.locator("#participatory").check()
    await page.get_by_label(area).check()
    await page.get_by_label("What happened").fill("A day's course with colleagues.")
    await page.get_by_label("What you learned").fill("A structured way to weigh risk.")
    await page.get_by_label("How your practice changed").fill("My risk reviews are clearer.")
    await page.locator("#peer_reflection").check()  # yes: the role is revealed
    await page.get_by_label("The role of the peer you reflected with").fill("Practice tutor")
    await page.get_by_role("button", name="Save activity").click()
    await expect_success(page, "Activity logged. You can add evidence below.")
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(summary_value(page, "Hours")).to_have_text(hours)
    await page.get_by_label("Add an evidence file").set_input_files(
        {"name": f"{title}.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await page.get_by_role("button", name="Upload file").click()
    await expect_success(page, "Evidence file added")
    await expect(page.get_by_role("link", name=f"{title}.pdf")).to_be_visible()
    if first:
        await assert_accessible(page)
        await assert_reflows(page)
    await page.get_by_role("link", name="Your CPD").first.click()


async def test_a_practitioner_logs_three_activities_with_evidence_and_sees_progress(
    page: Page, people: People
) -> None:
    family = "Cpd" + "".join(chr(ord("a") + int(d, 16)) for d in uuid.uuid4().hex[:6])
    person = await people.create([Role.practitioner], name=f"Ola {family}")
    with people.bound():
        await service.create_entry(
            service.EntryIn(
                person=service.PersonIn("Ola", family, date(1982, 6, 9), email=person.email),
                role_codes=["probation_officer"],
                region_code="wales",
                registered_since=date(2016, 1, 4),
                registered_until=date(2027, 11, 30),
                account_id=person.id,
            ),
            reason="Browser test",
        )

    await sign_in(page, person)
    await page.locator(".govuk-service-navigation").get_by_role("link", name="Your CPD").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your CPD")
    await expect(summary_value(page, "Total hours")).to_contain_text("0 / 30 hours")
    await assert_accessible(page)
    await assert_reflows(page)

    await _log(page, "Risk course", "6.5", "Risk assessment and management", first=True)
    await _log(page, "Ethics workshop", "3", "Professional ethics")
    await _log(page, "Victims seminar", "2.25", "Victims and restorative justice")

    await expect(page.get_by_role("heading", level=1)).to_have_text("Your CPD")
    await expect(summary_value(page, "Total hours")).to_contain_text("11.75 / 30 hours")
    await expect(summary_value(page, "Total hours")).to_contain_text("18.25 more hours")
    await expect(summary_value(page, "Practice areas covered")).to_contain_text("3 / 3 areas")
    await expect(summary_value(page, "Practice areas covered")).to_contain_text("Met")
    await expect(summary_value(page, "Reflective accounts")).to_contain_text("3 / 2 accounts")
    progress_bar = page.get_by_role("progressbar", name=re.compile("^Total hours"))
    await expect(progress_bar).to_have_attribute("value", "39")
    await expect(page.locator(".govuk-table tbody tr")).to_have_count(3)
    await assert_accessible(page)
    await assert_reflows(page)


async def test_renewing_is_refused_until_the_year_is_met_then_allowed(
    page: Page, people: People
) -> None:
    family = "Renew" + "".join(chr(ord("a") + int(d, 16)) for d in uuid.uuid4().hex[:6])
    person = await people.create([Role.practitioner], name=f"Kim {family}")
    # Registered until ten days from now: inside the renewal window, whatever today is.
    until = datetime.now(UTC).date() + timedelta(days=10)
    with people.bound():
        await service.create_entry(
            service.EntryIn(
                person=service.PersonIn("Kim", family, date(1985, 2, 3), email=person.email),
                role_codes=["probation_officer"],
                region_code="london",
                registered_since=date(2016, 1, 4),
                registered_until=until,
                account_id=person.id,
            ),
            reason="Browser test",
        )

    await sign_in(page, person)
    nav = page.locator(".govuk-service-navigation")
    await nav.get_by_role("link", name="Your registration").click()
    await expect(page.get_by_text("Total hours: 0 / 30 hours, 30 more hours")).to_be_visible()
    await page.goto(page.url.rstrip("/") + "/renew")
    await expect(page.get_by_role("heading", level=1)).to_have_text("You cannot renew yet")
    missing = page.locator("#renewal-missing li")
    await expect(missing).to_have_count(5)
    await expect(missing.first).to_have_text("Total hours: 0 / 30 hours, 30 more hours")
    await assert_accessible(page)
    await assert_reflows(page)
    await page.get_by_role("link", name="see your CPD progress").click()

    await _log(page, "Risk course", "10", "Risk assessment and management")
    await _log(page, "Ethics workshop", "10", "Professional ethics")
    await _log(page, "Victims seminar", "10", "Victims and restorative justice")
    await expect(page.get_by_text("Requirement met")).to_be_visible()

    await nav.get_by_role("link", name="Your registration").click()
    await page.get_by_role("link", name="Renew your registration").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Renew your registration")
    radios = page.locator(".govuk-radios")
    await radios.nth(0).get_by_label("No", exact=True).check()
    await radios.nth(1).get_by_label("No", exact=True).check()
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("button", name="Renew my registration").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Registration renewed")
    await assert_accessible(page)
