"""The public register in a real browser: search from the start page, read an entry, axe-core."""

from __future__ import annotations

import re
from datetime import date

from playwright.async_api import Page, expect

from registry.accounts.roles import Role
from registry.register import service
from registry.register.reference import ReferenceKind, update_item
from tests.browser.axe import assert_accessible
from tests.browser.conftest import (
    People,
    assert_reflows,
    expect_problems,
    expect_success,
    sign_in,
    unique,
)


async def test_anyone_finds_a_practitioner_and_reads_their_entry(
    page: Page, people: People
) -> None:
    family = unique("Okonkwo").replace("-", "")
    with people.bound():
        entry = await service.create_entry(
            service.EntryIn(
                person=service.PersonIn("Adaeze", family, date(1984, 2, 29)),
                role_codes=["senior_probation_officer"],
                region_code="yorkshire_humber",
                registered_since=date(2019, 6, 3),
                registered_until=date(2027, 11, 30),
                qualifications=[service.QualificationIn("dips", date(2005, 7, 1))],
            ),
            reason="Browser test",
        )

    await page.goto("/")
    await page.get_by_label("Search the register").fill(f"adae {family[:6]}")
    await page.get_by_role("button", name="Search").click()
    await expect(page).to_have_url(re.compile(r"/register\?q="))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Search the register")
    await expect(page.locator("#result-count")).to_have_text("1 practitioner")
    await assert_accessible(page)
    await assert_reflows(page)

    await page.get_by_role("link", name=f"Adaeze {family}").click()
    await expect(page).to_have_url(re.compile(rf"/register/{entry.registration_number}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Adaeze {family}")
    summary = page.locator(".govuk-summary-list")
    await expect(summary).to_contain_text("Senior Probation Officer")
    await expect(summary).to_contain_text("Yorkshire and the Humber")
    await expect(summary).to_contain_text("30 November 2027")
    await expect(summary).to_contain_text("Diploma in Probation Studies")
    await expect(page.get_by_text("1984")).to_have_count(0)  # the date of birth is private
    await assert_accessible(page)
    await assert_reflows(page)

    # By number, typed loosely, straight to the same person.
    await page.goto("/register")
    await page.get_by_label("Name or registration number").fill(entry.registration_number.lower())
    await page.get_by_label("Region").select_option(label="Yorkshire and the Humber")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#result-count")).to_have_text("1 practitioner")


async def test_a_mistyped_number_is_explained_beside_the_search_box(page: Page) -> None:
    await page.goto("/register")
    await page.get_by_label("Name or registration number").fill("PR1234564")
    await page.get_by_role("button", name="Search").click()
    await expect_problems(
        page,
        {
            "q": "PR1234564 is not a valid registration number: its last character does not "
            "match. Check it for a mistyped digit."
        },
    )
    await assert_accessible(page)


async def test_an_admin_renames_a_region_and_the_public_entry_follows(
    page: Page, people: People
) -> None:
    admin = await people.create([Role.admin], two_factor=True)
    family = unique("Renamed").replace("-", "")
    with people.bound():
        entry = await service.create_entry(
            service.EntryIn(
                person=service.PersonIn("Bea", family, date(1990, 1, 1)),
                role_codes=["probation_officer"],
                region_code="south_central",
                registered_since=date(2022, 1, 1),
                registered_until=date(2027, 11, 30),
            ),
            reason="Browser test",
        )
    await sign_in(page, admin)
    await (
        page.locator(".govuk-service-navigation").get_by_role("link", name="Reference data").click()
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text("Reference data")
    await assert_accessible(page)

    await page.get_by_role("link", name="Regions").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Regions")
    await assert_accessible(page)
    await assert_reflows(page)

    await page.get_by_role("button", name="Add").click()
    await expect_problems(
        page,
        {
            "name": "Enter a name",
        },
    )
    await assert_accessible(page)

    await page.get_by_role("link", name="South Central").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("South Central")
    await assert_accessible(page)
    new_name = f"South Central {family[-4:]}"
    await page.get_by_label("Name").fill(new_name)
    await page.get_by_role("button", name="Save").click()
    await expect_success(page, f"Updated {new_name}")  # by its name, not its code

    await page.goto(f"/register/{entry.registration_number}")
    await expect(page.locator(".govuk-summary-list")).to_contain_text(new_name)
    with people.bound():  # as it was, for the tests that follow on this server
        await update_item(ReferenceKind.regions, "south_central", name="South Central", active=True)
