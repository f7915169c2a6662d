"""The page shell in a real browser: it renders, runs GOV.UK Frontend and passes axe-core."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.axe import assert_accessible


async def test_the_home_page_is_accessible(page: Page) -> None:
    await page.goto("/")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check a probation practitioner's registration"
    )
    # GOV.UK Frontend's script ran: it marks the body once it has started.
    await expect(page.locator("body")).to_have_class(
        "govuk-template__body js-enabled govuk-frontend-supported"
    )
    await assert_accessible(page)


async def test_the_skip_link_moves_focus_to_the_content(page: Page) -> None:
    await page.goto("/")
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    await expect(skip).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#main-content")).to_be_focused()


async def test_the_not_found_page_is_accessible(page: Page) -> None:
    response = await page.goto("/no-such-page")
    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    await assert_accessible(page)


async def test_a_stale_form_says_it_has_expired_and_leads_back_to_it(page: Page) -> None:
    await page.goto("/sign-in")
    # The form's token no longer matches: as after a session ends with the page left open.
    await page.context.clear_cookies()
    await page.get_by_label("Email address").fill("someone@example.org")
    await page.get_by_label("Password", exact=True).fill("not checked")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("This form has expired")
    await expect(page.get_by_role("main")).not_to_contain_text("Forbidden")
    await assert_accessible(page)
    await page.get_by_role("link", name="Go back to the form and try again").click()
    await expect(page).to_have_url(re.compile(r"/sign-in$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
