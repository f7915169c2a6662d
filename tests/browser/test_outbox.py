"""The outbox in a real browser: staff see what gave up and send it again; axe-core on each page."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from registry.accounts.roles import Role
from registry.notifications.tables import MessageStatus, OutboxMessage
from tests.browser.axe import assert_accessible
from tests.browser.conftest import People, assert_reflows, expect_success, sign_in, unique


async def test_staff_find_a_message_that_gave_up_and_retry_it(page: Page, people: People) -> None:
    admin = await people.create([Role.admin], two_factor=True)
    await sign_in(page, admin)

    # An invitation queues an email; this one's receiver kept refusing it.
    name = unique("Omar")
    email = f"{name.lower()}@regulator.example"
    await page.goto("/admin/users/new")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Full name").fill(name)
    await page.get_by_label("Registrar").check()
    await page.get_by_role("button", name="Send invitation").click()
    await expect_success(page, "Invitation sent")
    with people.bound():
        await OutboxMessage.update(
            {
                OutboxMessage.status: MessageStatus.dead.value,
                OutboxMessage.attempts: 10,
                OutboxMessage.last_error: "The mail server refused it: 550 mailbox unavailable",
            }
        ).where(OutboxMessage.recipient == email)

    await page.locator(".govuk-service-navigation").get_by_role("link", name="Outbox").click()
    await expect(page).to_have_url(re.compile(r"/outbox$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Outbox")
    await assert_accessible(page)
    await assert_reflows(page)

    await page.get_by_label("Status").select_option(label="Gave up")
    await page.get_by_label("Kind").select_option(label="Emails")
    await page.get_by_role("button", name="Filter").click()
    await expect(page).to_have_url(re.compile(r"status=dead"))
    row = page.get_by_role("row").filter(has_text=email)
    await expect(row).to_contain_text("Gave up")
    await assert_accessible(page)

    await row.get_by_role("link").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Message \d+$"))
    await expect(
        page.get_by_text("The mail server refused it: 550 mailbox unavailable")
    ).to_be_visible()
    await assert_accessible(page)

    await page.get_by_role("button", name="Retry now").click()
    await expect_success(page, "The message will be tried again straight away.")
    await expect(page.locator(".govuk-summary-list")).to_contain_text("Waiting")
    await expect(page.get_by_role("button", name="Retry now")).to_have_count(0)
    await assert_accessible(page)
    await assert_reflows(page)


async def test_only_staff_reach_the_outbox(page: Page, people: People) -> None:
    response = await page.goto("/outbox")
    assert response is not None
    assert response.status == 401

    practitioner = await people.create([Role.practitioner])
    await sign_in(page, practitioner)
    response = await page.goto("/outbox")
    assert response is not None
    assert response.status == 403
    await assert_accessible(page)
