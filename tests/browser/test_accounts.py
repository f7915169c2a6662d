"""Accounts in a real browser: every page, driven as a person would, and each passes axe-core.

Each test is a whole journey (signing in for the first time, resetting a password, looking after
your own account, administering staff) so the server and browser are started once per engine.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pyotp
from playwright.async_api import Locator, Page, expect

from registry import SERVICE_NAME
from registry.accounts import tokens
from registry.accounts.roles import Role
from tests.browser.axe import assert_accessible
from tests.browser.conftest import (
    Authenticator,
    People,
    assert_reflows,
    expect_problems,
    expect_success,
    sign_in,
    summary_value,
    unique,
)

NEW_PASSWORD = "Quiet-orchard-lighthouse-58"
RECOVERY_CODE = re.compile(r"^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{2}$")


def title(text: str) -> str:
    return f"{text} \N{EN DASH} {SERVICE_NAME}"


def navigation(page: Page) -> Locator:
    return page.locator(".govuk-service-navigation")


def wrong_code(authenticator: Authenticator) -> str:
    """Six digits the server cannot accept now, nor in the next minute."""
    app = pyotp.TOTP(authenticator.secret)
    near = {app.at(time.time() + offset) for offset in range(-60, 91, 30)}
    return next(code for code in ("000000", "111111", "222222") if code not in near)


async def fill_sign_in(page: Page, email: str, password: str) -> None:
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def sign_out(page: Page) -> None:
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/sign-in\?signed_out=1$"))
    await expect_success(page, "You have been signed out")


async def test_staff_sign_in_set_up_their_app_sign_out_and_use_the_second_step(
    page: Page, people: People
) -> None:
    person = await people.create([Role.registrar])

    await page.goto("/sign-in")
    await expect(page).to_have_title(title("Sign in"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    await assert_accessible(page)

    # Nothing entered: both fields are named, and the summary leads to the first of them.
    await page.get_by_role("button", name="Sign in").click()
    await expect_problems(
        page, {"email": "Enter your email address", "password": "Enter your password"}
    )
    await expect(page).to_have_title(title("Error: Sign in"))
    await assert_accessible(page)
    await (
        page.locator(".govuk-error-summary")
        .get_by_role("link", name="Enter your email address")
        .click()
    )
    await expect(page.get_by_label("Email address")).to_be_focused()

    # A wrong password: the address stays, the message does not say which part was wrong.
    await fill_sign_in(page, person.email, "Not-the-password-at-all")
    await expect_problems(page, {"email": "Enter a correct email address and password"})
    await expect(page.get_by_label("Email address")).to_have_value(person.email)
    await assert_accessible(page)

    # The first sign-in of a member of staff goes on to set up an authenticator app.
    await fill_sign_in(page, person.email, person.password)
    await expect(page).to_have_url(re.compile(r"/account/two-factor/setup$"))
    await expect(page).to_have_title(title("Set up your authenticator app"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    qr_code = page.get_by_role("img", name="QR code to add this service to your authenticator app")
    await expect(qr_code).to_be_visible()
    # The picture really drew: the page's Content-Security-Policy allows its data: address.
    assert await qr_code.evaluate("img => img.complete && img.naturalWidth > 0")
    await expect(page.locator("#totp-secret")).to_have_text(
        re.compile(r"^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$")
    )
    await assert_accessible(page)

    key = await page.locator("#totp-secret").inner_text()

    # A code the app would never show.
    await page.get_by_label("Enter the 6-digit code your app shows").fill("12345")
    await page.get_by_role("button", name="Continue").click()
    await expect_problems(page, {"code": "Enter the 6-digit code shown in your authenticator app"})
    await expect(qr_code).to_be_visible()
    await assert_accessible(page)

    # The key is the same as before: the app may hold it already.
    await expect(page.locator("#totp-secret")).to_have_text(key)

    # Typing the key into the app and entering the code it shows.
    person.authenticator = Authenticator(key.replace(" ", ""))
    await page.get_by_label("Enter the 6-digit code your app shows").fill(
        person.authenticator.code()
    )
    await page.get_by_role("button", name="Continue").click()
    await expect(page).to_have_title(title("Save your recovery codes"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your authenticator app is set up"
    )
    await expect(page.get_by_role("main").get_by_role("heading", level=2)).to_have_text(
        "Save your recovery codes"
    )
    await expect(page.locator(".govuk-warning-text")).to_contain_text("These codes are shown once")
    codes = await page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    assert all(RECOVERY_CODE.match(code) for code in codes), codes
    await assert_accessible(page)

    await page.get_by_role("link", name="I have saved my codes").click()
    await expect(page).to_have_url(re.compile(r"/account$"))
    await expect(summary_value(page, "Authenticator app")).to_have_text(
        "Set up; 10 recovery codes left"
    )
    # Staff now see the audit trail; only administrators see the users.
    await expect(navigation(page).get_by_role("link", name="Audit trail")).to_be_visible()
    await expect(navigation(page).get_by_role("link", name="Users")).to_have_count(0)
    await assert_accessible(page)

    await sign_out(page)
    await expect(navigation(page).get_by_role("link", name="Sign in")).to_be_visible()
    await assert_accessible(page)

    # Signed out, the account page asks them to sign in.
    response = await page.goto("/account")
    assert response is not None
    assert response.status == 401
    await expect(page.get_by_role("link", name="Sign in", exact=True).last).to_be_visible()

    # A later sign-in, from the page they were after, asks for a code from the app and then
    # takes them back to that page.
    response = await page.goto("/audit")
    assert response is not None
    assert response.status == 401
    await page.get_by_role("link", name="Sign in", exact=True).last.click()
    await fill_sign_in(page, person.email, person.password)
    await expect(page).to_have_url(re.compile(r"/sign-in/two-factor\?next=%2Faudit$"))
    await expect(page).to_have_title(title("Enter your security code"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Enter your security code")
    await assert_accessible(page)

    await page.get_by_label("Enter your security code").fill(wrong_code(person.authenticator))
    await page.get_by_role("button", name="Continue").click()
    await expect_problems(
        page, {"code": "The code is not correct. Enter a new code from your app."}
    )
    await page.get_by_text("I cannot use my authenticator app").click()
    await expect(page.get_by_text("Enter one of the recovery codes you saved")).to_be_visible()
    await assert_accessible(page)

    await page.get_by_label("Enter your security code").fill(person.authenticator.code())
    await page.get_by_role("button", name="Continue").click()
    await expect(page).to_have_url(re.compile(r"/audit$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")

    # Without the phone, a recovery code works once in its place.
    await page.goto("/account")
    await sign_out(page)
    await fill_sign_in(page, person.email, person.password)
    await page.get_by_label("Enter your security code").fill(codes[0])
    await page.get_by_role("button", name="Continue").click()
    await expect(summary_value(page, "Authenticator app")).to_have_text(
        "Set up; 9 recovery codes left"
    )


async def test_a_forgotten_password_is_reset_with_the_emailed_link(
    page: Page, people: People
) -> None:
    person = await people.create([Role.practitioner])

    await page.goto("/sign-in")
    await page.get_by_role("link", name="I have forgotten my password").click()
    await expect(page).to_have_url(re.compile(r"/forgotten-password$"))
    await expect(page).to_have_title(title("Reset your password"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    await assert_accessible(page)

    await page.get_by_role("button", name="Send the link").click()
    await expect_problems(page, {"email": "Enter your email address"})
    await assert_accessible(page)

    await page.get_by_label("Email address").fill(person.email)
    await page.get_by_role("button", name="Send the link").click()
    await expect(page).to_have_title(title("Check your email"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    await expect(page.get_by_role("main")).to_contain_text(
        f"If there is an account for {person.email}, we have sent a link to it."
    )
    await assert_accessible(page)

    # A link that was never issued (or was mangled by a mail program).
    response = await page.goto("/reset-password?token=not-a-real-token")
    assert response is not None
    assert response.status == 422
    await expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    await expect_problems(
        page,
        {"token": "This link has expired or has already been used. Ask for a new one."},
        inline=False,
    )
    await expect(page.get_by_label("New password", exact=True)).to_have_count(0)
    await expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()
    await assert_accessible(page)

    # A link from the email: asked for again here, since the test does not read the email.
    token = await people.reset_token(person.email)
    await page.goto(f"/reset-password?token={token}")
    await expect(page).to_have_title(title("Choose a new password"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    await assert_accessible(page)

    await page.get_by_label("New password", exact=True).fill("short")
    await page.get_by_label("Confirm new password").fill("shorter")
    await page.get_by_role("button", name="Save password").click()
    await expect_problems(page, {"confirm_password": "Passwords do not match"})
    await assert_accessible(page)

    await page.get_by_label("New password", exact=True).fill("short")
    await page.get_by_label("Confirm new password").fill("short")
    await page.get_by_role("button", name="Save password").click()
    await expect_problems(page, {"password": "Password must be 10 characters or more"})

    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Save password").click()
    await expect(page).to_have_url(re.compile(r"/sign-in\?password_reset=1$"))
    await expect_success(page, "Your password has been changed. Sign in with your new password.")
    await assert_accessible(page)

    # The old password no longer works; the new one does.
    await fill_sign_in(page, person.email, person.password)
    await expect_problems(page, {"email": "Enter a correct email address and password"})
    person.password = NEW_PASSWORD
    await sign_in(page, person)

    # The link works once.
    await page.goto(f"/reset-password?token={token}")
    await expect(page.locator("#token")).to_have_text(
        "This link has expired or has already been used. Ask for a new one."
    )


async def test_people_change_their_password_and_manage_api_tokens(
    page: Page, people: People
) -> None:
    person = await people.create([Role.practitioner])
    await sign_in(page, person)
    await expect(page).to_have_url(re.compile(r"/apply$"))  # what a newcomer came for
    await page.goto("/account")
    await expect(page).to_have_title(title("Your account"))
    await expect(summary_value(page, "Name")).to_have_text(person.name)
    await expect(summary_value(page, "Email address")).to_have_text(person.email)
    await expect(summary_value(page, "Roles")).to_have_text("Practitioner")
    await expect(summary_value(page, "Authenticator app")).to_have_text("Not set up")
    await expect(page.get_by_role("table")).to_have_count(0)
    await assert_accessible(page)

    # Changing the password needs the current one.
    await page.get_by_label("Current password").fill("Not-my-password-at-all")
    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Change password").click()
    await expect_problems(page, {"current_password": "Your current password is not correct"})
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    await assert_accessible(page)

    await page.get_by_label("Current password").fill(person.password)
    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Change password").click()
    await expect_success(page, "Your password has been changed")
    await expect(page).to_have_title(title("Your account"))
    await assert_accessible(page)
    person.password = NEW_PASSWORD

    # A token needs a name.
    await page.get_by_role("button", name="Create token").click()
    await expect_problems(page, {"name": "Enter a name for the token, like 'case system export'"})
    await assert_accessible(page)

    await page.get_by_label("Name for a new token").fill("case management export")
    await page.get_by_role("button", name="Create token").click()
    await expect(page).to_have_title(title("Your new API token"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Token created")
    await expect(page.locator(".govuk-panel__body")).to_have_text("case management export")
    await expect(page.locator(".govuk-warning-text")).to_contain_text(
        "Copy the token now. It will not be shown again."
    )
    token = page.locator("#new-token")
    await expect(token).to_have_text(re.compile(r"^prr_[A-Za-z0-9_-]{43}$"))
    prefix = (await token.inner_text())[:12]
    await assert_accessible(page)
    await assert_reflows(page)

    await page.get_by_role("link", name="Back to your account").click()
    await expect(page).to_have_url(re.compile(r"/account#tokens$"))
    row = page.get_by_role("row").filter(has_text="case management export")
    expires = f"{datetime.now(UTC) + tokens.PRACTITIONER_TOKEN_LIFETIME:%-d %B %Y}"
    await expect(row.get_by_role("cell")).to_have_text(
        ["case management export", prefix, "Never", expires, "Revoke case management export"]
    )
    await assert_accessible(page)
    await assert_reflows(page)

    await row.get_by_role("button", name="Revoke case management export").click()
    await expect_success(page, "The token has been revoked")
    await expect(
        page.get_by_role("row").filter(has_text="case management export").get_by_role("cell")
    ).to_have_text(["case management export", prefix, "Never", expires, "Revoked"])
    await assert_accessible(page)

    await sign_out(page)


async def test_administrators_find_invite_and_change_staff(page: Page, people: People) -> None:
    admin = await people.create([Role.admin], two_factor=True)
    team = unique("team")
    await people.create([Role.caseworker], name=f"Cara {team}")
    await people.create([Role.registrar], name=f"Rhea {team}")
    await sign_in(page, admin)

    await navigation(page).get_by_role("link", name="Users").click()
    await expect(page).to_have_url(re.compile(r"/admin/users/?$"))
    await expect(page).to_have_title(title("Users"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    await expect(page.get_by_role("link", name=admin.name)).to_be_visible()
    await assert_accessible(page)
    await assert_reflows(page)

    # Finding people by part of their name, then by role as well.
    await page.get_by_label("Name or email contains").fill(team)
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_text("2 users", exact=True)).to_be_visible()
    body_rows = page.locator("tbody tr")
    # Listed by email address, which says nothing about the order of their names.
    await expect(body_rows).to_have_count(2)
    for name in (f"Cara {team}", f"Rhea {team}"):
        await expect(body_rows.get_by_role("link", name=name)).to_be_visible()
    await expect(page.get_by_label("Name or email contains")).to_have_value(team)
    await assert_accessible(page)

    await page.get_by_label("Role").select_option(label="Fitness to practise caseworker")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_text("1 user", exact=True)).to_be_visible()
    await expect(body_rows.locator("td")).to_have_text(
        [
            f"Cara {team}",
            re.compile(r"@regulator\.example$"),
            "Fitness to practise caseworker",
            "Active",
        ]
    )
    await expect(page.get_by_label("Role")).to_have_value("caseworker")
    await assert_accessible(page)

    # A long list comes 50 at a time.
    crowd = unique("crowd")
    for _ in range(51):
        await people.create([Role.employer], name=f"Evan {crowd}", password=None)
    await page.get_by_label("Name or email contains").fill(crowd)
    await page.get_by_label("Role").select_option(label="All roles")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_text("51 users", exact=True)).to_be_visible()
    await expect(body_rows).to_have_count(50)
    pages = page.get_by_role("navigation", name="Pages of users")
    await expect(pages.get_by_role("link", name="Previous")).to_have_count(0)
    await assert_accessible(page)
    await pages.get_by_role("link", name="Next").click()
    await expect(page).to_have_url(re.compile(r"[?&]page=2(&|$)"))
    await expect(body_rows).to_have_count(1)
    await expect(page.get_by_label("Name or email contains")).to_have_value(crowd)
    await expect(pages.get_by_role("link", name="Next")).to_have_count(0)
    await assert_accessible(page)
    await pages.get_by_role("link", name="Previous").click()
    await expect(body_rows).to_have_count(50)

    # Inviting someone: every missing answer is named.
    await page.get_by_role("link", name="Invite a member of staff").click()
    await expect(page).to_have_url(re.compile(r"/admin/users/new$"))
    await expect(page).to_have_title(title("Invite a member of staff"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Invite a member of staff")
    for role in ("Registrar", "Practitioner", "Administrator"):  # nothing chosen for the admin
        await expect(page.get_by_label(role)).not_to_be_checked()
    await assert_accessible(page)

    await page.get_by_role("button", name="Send invitation").click()
    await expect_problems(
        page,
        {
            "email": "Enter an email address",
            "display_name": "Enter the person's name",
            "roles": "Choose at least one role",
        },
    )
    await assert_accessible(page)
    await (
        page.locator(".govuk-error-summary")
        .get_by_role("link", name="Choose at least one role")
        .click()
    )
    # The link leads to the first of the boxes.
    await expect(page.locator("#roles")).to_be_focused()
    await expect(page.locator("#roles")).to_have_accessible_name("Practitioner")

    invitee_name = f"Edmund {team}"
    await page.get_by_label("Full name").fill(invitee_name)
    await page.get_by_label("Email address").fill("edmund.at.regulator")
    await page.get_by_label("Case examiner").check()
    await page.get_by_role("button", name="Send invitation").click()
    await expect_problems(
        page, {"email": "Enter an email address in the correct format, like name@example.org"}
    )
    # What was entered is still there to correct.
    await expect(page.get_by_label("Full name")).to_have_value(invitee_name)
    await expect(page.get_by_label("Case examiner")).to_be_checked()
    await expect(page.get_by_label("Registrar")).not_to_be_checked()

    invitee_email = f"{team}@regulator.example"
    await page.get_by_label("Email address").fill(invitee_email)
    await page.get_by_role("button", name="Send invitation").click()
    await expect(page).to_have_url(re.compile(r"/admin/users/\d+\?invited=1$"))
    await expect_success(page, "Invitation sent")
    await expect(page).to_have_title(title(invitee_name))
    await expect(page.get_by_role("heading", level=1)).to_have_text(invitee_name)
    await expect(summary_value(page, "Email address")).to_have_text(invitee_email)
    await expect(summary_value(page, "Roles")).to_have_text("Case examiner")
    await expect(summary_value(page, "Status")).to_have_text("Active")
    await expect(summary_value(page, "Password")).to_have_text("Invitation not yet accepted")
    await expect(summary_value(page, "Authenticator app")).to_have_text("Not set up")
    await expect(summary_value(page, "Last signed in")).to_have_text("Never")
    await assert_accessible(page)
    invitee_page = page.url.split("?")[0]

    # Changing roles.
    await page.get_by_label("Adjudicator").check()
    await page.get_by_role("button", name="Save roles").click()
    await expect_success(page, "Roles updated")
    await expect(summary_value(page, "Roles")).to_have_text("Adjudicator, Case examiner")
    await expect(page.get_by_label("Adjudicator")).to_be_checked()
    await assert_accessible(page)

    await page.get_by_label("Adjudicator").uncheck()
    await page.get_by_label("Case examiner").uncheck()
    await page.get_by_role("button", name="Save roles").click()
    await expect_problems(page, {"roles": "Choose at least one role"})
    await expect(summary_value(page, "Roles")).to_have_text("Adjudicator, Case examiner")
    await assert_accessible(page)

    # Deactivating and reactivating.
    await page.goto(invitee_page)
    await page.get_by_role("button", name="Deactivate account").click()
    await expect_success(page, "Account deactivated")
    await expect(summary_value(page, "Status")).to_have_text("Deactivated")
    await expect(page.get_by_role("button", name="Deactivate account")).to_have_count(0)
    await assert_accessible(page)

    await (
        page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Users").click()
    )
    await page.get_by_label("Name or email contains").fill(invitee_email)
    await page.get_by_role("button", name="Filter").click()
    await expect(body_rows.locator("td").last).to_have_text("Deactivated")
    await page.get_by_role("link", name=invitee_name).click()

    await page.get_by_role("button", name="Reactivate account").click()
    await expect_success(page, "Account reactivated")
    await expect(summary_value(page, "Status")).to_have_text("Active")

    # Nobody can lock themselves out.
    await page.goto(f"/admin/users/{admin.id}")
    await page.get_by_role("button", name="Deactivate account").click()
    await expect_problems(page, {"active": "You cannot deactivate your own account"}, inline=False)
    await expect(summary_value(page, "Status")).to_have_text("Active")
    await assert_accessible(page)


async def problems_listed(page: Page) -> list[str]:
    links = page.locator(".govuk-error-summary").get_by_role("link")
    await expect(links.first).to_be_visible()
    return await links.all_inner_texts()


async def test_empty_password_forms_name_each_missing_answer_once_in_page_order(
    page: Page, people: People
) -> None:
    person = await people.create([Role.practitioner])
    await page.goto(f"/reset-password?token={await people.reset_token(person.email)}")
    await page.get_by_role("button", name="Save password").click()
    assert await problems_listed(page) == ["Enter a new password"]

    await sign_in(page, person)
    await page.goto("/account")
    await page.get_by_role("button", name="Change password").click()
    assert await problems_listed(page) == ["Enter your current password", "Enter a new password"]
