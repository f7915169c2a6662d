"""The audit trail in a real browser: staff find what was done, and every page passes axe-core."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode

from playwright.async_api import Locator, Page, expect

from registry import SERVICE_NAME
from registry.accounts.roles import Role
from tests.browser.axe import assert_accessible
from tests.browser.conftest import (
    People,
    assert_reflows,
    expect_problems,
    expect_success,
    sign_in,
    unique,
)

TITLE = f"Audit trail \N{EN DASH} {SERVICE_NAME}"


def entries(page: Page) -> Locator:
    return page.get_by_role("table").locator("tbody tr")


def column(page: Page, number: int) -> Locator:
    return entries(page).locator(f"td:nth-child({number})")


async def expect_only(page: Page, *, column: int, starting: str) -> None:
    """Every entry listed has ``starting`` at the start of ``column``; the count says how many."""
    cells = await entries(page).locator(f"td:nth-child({column})").all_inner_texts()
    assert cells, "no entries"
    assert all(cell.startswith(starting) for cell in cells), cells
    await expect(page.locator("#audit-count")).to_have_text(
        f"{len(cells)} entr{'y' if len(cells) == 1 else 'ies'}"
    )


async def filter_by(page: Page, **fields: str) -> None:
    """Fill in the filters as a person would (dates, YYYY-MM-DD here, in their three boxes)."""
    labels = {
        "action": "Action starts with",
        "actor": "Actor contains",
        "target_type": "Target type",
        "target_id": "Target id",
    }
    sent: dict[str, str] = {}
    for name, value in fields.items():
        if name in ("from_date", "to_date"):
            boxes = page.get_by_role(
                "group", name="From date" if name == "from_date" else "To date"
            )
            year, month, day = value.split("-")
            for part, typed in (("Day", day), ("Month", month), ("Year", year)):
                await boxes.get_by_label(part).fill(typed)
            sent[f"{name}-day"] = day
        else:
            await page.get_by_label(labels[name]).fill(value)
            sent[name] = value
    await page.get_by_role("button", name="Filter").click()
    # The filtered page, not the one before it, before anything is read from it.
    for name, value in sent.items():
        await expect(page).to_have_url(re.compile(re.escape(urlencode({name: value}))))


async def test_staff_find_what_was_done_by_whom_to_what(page: Page, people: People) -> None:
    admin = await people.create([Role.admin], two_factor=True)
    await sign_in(page, admin)

    # Something to look for: an invitation, sent through its page.
    name = unique("Ines")
    email = f"{name.lower()}@regulator.example"
    await page.goto("/admin/users/new")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Full name").fill(name)
    await page.get_by_label("Registrar").check()
    await page.get_by_role("button", name="Send invitation").click()
    await expect_success(page, "Invitation sent")
    found = re.search(r"/admin/users/(\d+)", page.url)
    assert found is not None
    invitee_id = found.group(1)

    await page.locator(".govuk-service-navigation").get_by_role("link", name="Audit trail").click()
    await expect(page).to_have_url(re.compile(r"/audit$"))
    await expect(page).to_have_title(TITLE)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    # Newest first: the invitation is at the top.
    newest = entries(page).first.locator("td")
    await expect(newest.nth(0)).to_have_text(re.compile(r"^\d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2}$"))
    await expect(newest.nth(1)).to_have_text(f"{admin.email}from 127.0.0.1")
    await expect(newest.nth(2)).to_have_text(re.compile(r"^accounts\."))
    await expect(newest.nth(3)).to_have_text(f"user {invitee_id}")
    await assert_accessible(page)

    # What this administrator did to accounts, with each change spelled out.
    await filter_by(page, action="accounts.", actor=admin.email)
    await expect(page).to_have_url(re.compile(r"/audit\?.*action=accounts\."))
    await expect(page).to_have_title(TITLE)
    await expect(column(page, 3)).to_contain_text(
        ["accounts.user_created", "accounts.second_factor_verified"]
    )
    await expect_only(page, column=3, starting="accounts.")
    created = entries(page).filter(has_text="accounts.user_created")
    await expect(created.locator("dt")).to_have_text(["display_name", "email", "roles"])
    await expect(created.locator("dd")).to_have_text([name, email, "registrar"])
    await expect(
        entries(page).filter(has_text="accounts.second_factor_verified").locator("dd")
    ).to_have_text(["authenticator"])
    # The filters stay filled in, to change or to clear.
    await expect(page.get_by_label("Action starts with")).to_have_value("accounts.")
    await expect(page.get_by_label("Actor contains")).to_have_value(admin.email)
    await assert_accessible(page)
    await assert_reflows(page)
    # On a phone the entries are stacked rows that fit: the table does not scroll sideways even
    # inside its own box.
    size = page.viewport_size
    await page.set_viewport_size({"width": 320, "height": 640})
    widths = await page.locator(".app-table-container").evaluate(
        "box => [box.scrollWidth, box.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the audit table is {widths[0]}px wide in {widths[1]}px"
    assert size is not None
    await page.set_viewport_size(size)

    # Everything done to one account, by anyone.
    await page.get_by_role("link", name="Clear filters").click()
    await expect(page.get_by_label("Action starts with")).to_have_value("")
    await filter_by(page, target_type="user", target_id=invitee_id)
    await expect(column(page, 3)).to_contain_text(["accounts.user_created"])
    await expect_only(page, column=4, starting=f"user {invitee_id}")

    # Dates the wrong way round.
    await page.get_by_role("link", name="Clear filters").click()
    await filter_by(page, from_date="2026-06-02", to_date="2026-06-01")
    await expect_problems(
        page,
        {"to_date": "The 'to' date must be the same as or after the 'from' date"},
        date_fields={"to_date"},
    )
    await expect(page).to_have_title(f"Error: {TITLE}")
    await expect(page.locator("#audit-count")).to_have_text("0 entries")
    await expect(page.get_by_role("table")).to_have_count(0)
    from_date = page.get_by_role("group", name="From date")
    await expect(from_date.get_by_label("Day")).to_have_value("02")  # what was typed, kept
    await expect(from_date.get_by_label("Year")).to_have_value("2026")
    await assert_accessible(page)
    await (
        page.locator(".govuk-error-summary")
        .get_by_role("link", name="The 'to' date must be the same as or after the 'from' date")
        .click()
    )
    to_date = page.get_by_role("group", name="To date")
    await expect(to_date.get_by_label("Day")).to_be_focused()  # the first box of the date

    # No entries at all.
    await page.get_by_role("link", name="Clear filters").click()
    await filter_by(page, action="nothing.like_this")
    await expect(page.locator("#audit-count")).to_have_text("0 entries")
    await expect(page.get_by_role("table")).to_have_count(0)
    await assert_accessible(page)


async def test_a_long_trail_is_read_a_page_at_a_time(page: Page, people: People) -> None:
    caseworker = await people.create([Role.caseworker], two_factor=True)
    action = f"browser_{uuid.uuid4().hex[:8]}.checked"
    await people.record_audit_entries(action, 53)
    await sign_in(page, caseworker)
    await page.goto("/audit")
    await filter_by(page, action=action)

    await expect(page.locator("#audit-count")).to_have_text("53 entries")
    await expect(entries(page)).to_have_count(50)
    await expect(column(page, 4).first).to_have_text("check 53")
    pages = page.get_by_role("navigation", name="Audit trail pages")
    await expect(pages.get_by_role("link", name="Previous")).to_have_count(0)
    await assert_accessible(page)

    await pages.get_by_role("link", name="Next").click()
    await expect(page).to_have_url(re.compile(r"[?&]page=2(&|$)"))
    await expect(page.get_by_label("Action starts with")).to_have_value(action)
    await expect(column(page, 4)).to_have_text(["check 3", "check 2", "check 1"])
    await expect(pages.get_by_role("link", name="Next")).to_have_count(0)
    await assert_accessible(page)

    await pages.get_by_role("link", name="Previous").click()
    await expect(column(page, 4).first).to_have_text("check 53")


async def test_only_signed_in_staff_see_the_audit_trail(page: Page, people: People) -> None:
    response = await page.goto("/audit")
    assert response is not None
    assert response.status == 401
    await expect(page.get_by_role("main")).to_contain_text("Sign in to continue.")
    await assert_accessible(page)

    practitioner = await people.create([Role.practitioner])
    await sign_in(page, practitioner)
    await expect(
        page.locator(".govuk-service-navigation").get_by_role("link", name="Audit trail")
    ).to_have_count(0)
    response = await page.goto("/audit")
    assert response is not None
    assert response.status == 403
    await expect(page.get_by_role("main")).to_contain_text("You do not have permission to do this.")
    await assert_accessible(page)

    # A member of staff who has given a password but not yet the code from their app.
    await page.context.clear_cookies()
    registrar = await people.create([Role.registrar], two_factor=True)
    await page.goto("/sign-in")
    await page.get_by_label("Email address").fill(registrar.email)
    await page.get_by_label("Password", exact=True).fill(registrar.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/sign-in/two-factor$"))
    response = await page.goto("/audit")
    assert response is not None
    assert response.status == 401
    await expect(page.get_by_role("main")).to_contain_text(
        "Enter the code from your authenticator app to continue."
    )
