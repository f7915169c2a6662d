"""The page shell in a real browser: it renders, runs GOV.UK Frontend and passes axe-core."""

from __future__ import annotations

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
    await expect(page.get_by_role("heading", level=1)).to_have_text("Not Found")
    await assert_accessible(page)
