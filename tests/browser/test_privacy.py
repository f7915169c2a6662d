"""Private pages stay private: after signing out, Back shows nothing of them."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from registry.accounts import users as accounts
from registry.accounts.roles import Role
from registry.config import Settings
from tests.browser.conftest import People, sign_in
from tests.register.applying import submitted_application


async def test_back_after_signing_out_does_not_show_the_application(
    page: Page, people: People, migrated: Settings
) -> None:
    person = await people.create([Role.practitioner])
    with people.bound():
        account = await accounts.get_account(person.id)
        await submitted_application(migrated.data_dir, account, email=person.email)
    await sign_in(page, person)
    application = await page.goto("/your-application")
    assert application is not None
    assert application.headers["cache-control"] == "no-store"
    await expect(page.get_by_text("17 May 1990")).to_be_visible()  # the date of birth
    await expect(page.get_by_text("1 Probation Way")).to_be_visible()

    navigation = page.locator(".govuk-service-navigation")
    await navigation.get_by_role("link", name="Your account").click()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).not_to_have_url(re.compile(r"/account$"))

    await page.go_back()  # the account page, then the application: neither may come back
    await expect(page.get_by_role("heading", level=1)).not_to_have_text("Your account")
    assert person.email not in await page.content()
    await page.go_back()
    await expect(page.get_by_role("heading", level=1)).not_to_have_text("Your application")
    content = await page.content()
    assert "17 May 1990" not in content
    assert "1 Probation Way" not in content
