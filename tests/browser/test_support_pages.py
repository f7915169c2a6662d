"""The footer's support pages in a real browser: reached from the footer, each passes axe-core."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.axe import assert_accessible
from tests.browser.conftest import assert_reflows

FOOTER_LINKS = {
    "Accessibility statement": ("/accessibility", "Accessibility statement for the"),
    "Privacy": ("/privacy", "Privacy notice"),
    "Cookies": ("/cookies", "Cookies"),
    "Contact": ("/contact", "Contact the register"),
    "Service status": ("/service-status", "Service status"),
}


async def test_each_footer_page_opens_from_the_footer_and_is_accessible(page: Page) -> None:
    for link, (path, heading) in FOOTER_LINKS.items():
        await page.goto("/")
        await page.locator(".govuk-footer").get_by_role("link", name=link, exact=True).click()
        await expect(page).to_have_url(re.compile(rf"{re.escape(path)}$"))
        await expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        await assert_accessible(page)
        await assert_reflows(page)


async def test_the_service_status_page_says_the_service_is_working(page: Page) -> None:
    await page.goto("/service-status")
    await expect(page.locator("#service-status-summary")).to_have_text(
        "The probation practitioner register is working normally."
    )
    await expect(page.locator(".govuk-summary-list")).to_contain_text("Database")
