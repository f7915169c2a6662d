"""The interactive API page in a real browser: it offers to authorise with an API token."""

from __future__ import annotations

from playwright.async_api import Page, expect


async def test_the_api_page_has_an_authorize_button_for_the_bearer_token(page: Page) -> None:
    await page.goto("/schema")
    authorize = page.get_by_role("button", name="Authorize")
    await expect(authorize).to_be_visible()
    await authorize.click()
    dialog = page.locator(".auth-container")
    await expect(dialog).to_contain_text("apiToken")
    await expect(dialog).to_contain_text("Bearer")
    await page.keyboard.press("Escape")
    # Operations that need a token carry a padlock; the public register's carry none.
    padlock = ".authorization__btn"
    await expect(page.locator(f"#operations-Your_account-ApiV1MeMe {padlock}")).to_have_count(1)
    search = page.locator("#operations-Public_register-ApiV1RegisterSearch")
    await expect(search).to_be_visible()
    await expect(search.locator(padlock)).to_have_count(0)
