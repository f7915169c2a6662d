"""The account pages as a person in a browser meets them, on both engines.

Every form is posted the way a browser posts it: the page is fetched first and its hidden CSRF
token goes back with the fields. Refusals are checked for what the person sees (the status and
the GOV.UK error summary) and for what they must not cause (no password change, no session, no
token, no audit entry).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
from litestar import Litestar

from registry.accounts import credentials, password_links, second_factor, tokens, users
from registry.accounts.auth import SESSION_COOKIE
from registry.accounts.roles import Role
from registry.accounts.sign_in import LOCKOUT_FAILURES, session_for, start_session
from registry.accounts.tables import (
    ApiToken,
    BrowserSession,
    LoginAttempt,
    PasswordResetToken,
    User,
)
from registry.app import create_app
from registry.audit import service as audit
from registry.audit.tables import AuditEntry
from registry.config import Settings
from registry.core import clock
from registry.db import bind_engine
from registry.notifications.tables import OutboxMessage
from tests.accounts.helpers import PASSWORD, make_user, sign_in, user_signed_in_as
from tests.support import asgi_transport

HOST = "testserver.local"
NEW_PASSWORD = "a long and quite unusual passphrase"


@pytest.fixture
def browser(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The test client asking for pages, as a browser does (errors then come back as pages)."""
    client.headers["accept"] = "text/html,application/xhtml+xml"
    return client


# --- reading pages ---------------------------------------------------------------------------


def csrf_field(page: httpx.Response) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, f"no form with a CSRF token on {page.request.url}"
    return found.group(1)


def error_summary(page: httpx.Response) -> list[str]:
    """The messages in the GOV.UK error summary at the top of the page."""
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', page.text, re.DOTALL)
    if block is None:
        return []
    return [
        html.unescape(" ".join(text.split()))
        for text in re.findall(r"<a [^>]*>(.*?)</a>", block.group(1), re.DOTALL)
    ]


def visible_text(page: httpx.Response) -> str:
    """The page's text with tags dropped and spaces collapsed, for 'does it say ...' checks."""
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page.text).split()))


def set_cookie(response: httpx.Response, name: str = SESSION_COOKIE) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    return None


@pytest.fixture
async def elsewhere(app: Litestar, client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser, with cookies of its own: what it is sent leaves the test's browser as is."""
    transport = asgi_transport(app)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{HOST}") as other:
        other.headers["accept"] = "text/html"
        yield other


def with_session(token: str) -> dict[str, str]:
    """A request carrying exactly this session cookie (and no other cookie)."""
    return {"cookie": f"{SESSION_COOKIE}={token}"}


def use_session(browser: httpx.AsyncClient, token: str) -> None:
    """Put a session cookie in the browser's jar, as if the browser had been given it."""
    browser.cookies.set(SESSION_COOKIE, token, domain=HOST)


# --- acting -----------------------------------------------------------------------------------


async def submit(
    browser: httpx.AsyncClient,
    form_page: str,
    action: str,
    fields: Mapping[str, str | list[str]],
) -> httpx.Response:
    """Open the page the form is on, then post the form with the page's CSRF token."""
    page = await browser.get(form_page)
    assert page.status_code == 200, f"{form_page}: {page.status_code}"
    return await browser.post(action, data={**fields, "_csrf_token": csrf_field(page)})


async def sign_in_form(
    browser: httpx.AsyncClient, email: str, password: str = PASSWORD, next_page: str = ""
) -> httpx.Response:
    return await submit(
        browser,
        "/sign-in",
        "/sign-in",
        {"email": email, "password": password, "next": next_page},
    )


async def password_hash(user_id: int) -> str:
    row = await User.select(User.password_hash).where(User.id == user_id).first()
    assert row is not None
    return str(row["password_hash"])


async def audit_actions() -> list[str]:
    page = await audit.search(page_size=200)
    return [entry.action for entry in page.entries]


@pytest.fixture
def now() -> Iterator[datetime]:
    """The clock stopped at the real time, so TOTP steps and lock-out windows hold still."""
    moment = datetime.now(UTC).replace(microsecond=0)
    with clock.frozen_at(moment):
        yield moment


# --- signing in -------------------------------------------------------------------------------


async def test_signing_in_sets_a_session_cookie_only_scripts_cannot_read(
    browser: httpx.AsyncClient,
) -> None:
    account = await make_user(Role.practitioner, "pat@example.org")

    response = await sign_in_form(browser, "Pat@Example.org ")

    assert response.status_code == 303
    assert response.headers["location"] == "/apply"  # a practitioner with nothing yet
    cookie = set_cookie(response)
    assert cookie is not None
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert "secure" not in attributes  # the test service is on http
    assert not any(part.startswith(("max-age", "expires")) for part in attributes)
    page = await browser.get("/account")
    assert page.status_code == 200
    assert "pat@example.org" in page.text
    assert await BrowserSession.count().where(BrowserSession.user == account.id) == 1
    assert "accounts.signed_in" in await audit_actions()


async def test_the_session_cookie_is_secure_when_the_service_is_on_https(
    app: Litestar, settings: Settings, client: httpx.AsyncClient
) -> None:
    secure_app = create_app(settings.model_copy(update={"base_url": "https://register.example"}))
    bind_engine(app.state.engine)  # create_app binds its own engine; keep the test's started one
    await make_user(Role.practitioner, "pat@example.org")
    transport = asgi_transport(secure_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://register.example") as https:
        page = await https.get("/sign-in", headers={"accept": "text/html"})
        csrf_cookie = set_cookie(page, "registry_csrf")
        response = await https.post(
            "/sign-in",
            data={
                "email": "pat@example.org",
                "password": PASSWORD,
                "_csrf_token": csrf_field(page),
            },
        )
    assert response.status_code == 303
    cookie = set_cookie(response)
    assert cookie is not None
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]
    assert csrf_cookie is not None
    assert "secure" in [part.strip().lower() for part in csrf_cookie.split(";")]


async def test_signing_in_gives_a_new_session_id_and_ends_the_one_held_before(
    browser: httpx.AsyncClient, elsewhere: httpx.AsyncClient
) -> None:
    await make_user(Role.practitioner, "pat@example.org")
    use_session(browser, "an-id-an-attacker-planted-in-the-browser")

    first = await sign_in_form(browser, "pat@example.org")
    first_token = first.cookies[SESSION_COOKIE]
    assert first_token != "an-id-an-attacker-planted-in-the-browser"
    second = await sign_in_form(browser, "pat@example.org")  # the browser still holds the first
    second_token = second.cookies[SESSION_COOKIE]

    assert second_token != first_token
    assert (await elsewhere.get("/account", headers=with_session(first_token))).status_code == 401
    assert (await elsewhere.get("/account", headers=with_session(second_token))).status_code == 200
    assert await BrowserSession.count() == 1


async def test_wrong_password_and_unknown_email_get_the_same_page(
    browser: httpx.AsyncClient,
) -> None:
    account = await make_user(Role.practitioner, "pat@example.org")
    entries = await AuditEntry.count()

    wrong_password = await sign_in_form(browser, "pat@example.org", "not the password at all")
    unknown_email = await sign_in_form(browser, "nobody@example.org", "not the password at all")

    for response in (wrong_password, unknown_email):
        assert response.status_code == 401
        assert error_summary(response) == ["Enter a correct email address and password"]
        assert set_cookie(response) is None
    assert visible_text(wrong_password).replace("pat@", "X@") == visible_text(
        unknown_email
    ).replace("nobody@", "X@")
    assert await BrowserSession.count() == 0
    assert await AuditEntry.count() == entries
    row = await User.select(User.last_login_at).where(User.id == account.id).first()
    assert row is not None
    assert row["last_login_at"] is None


async def test_an_empty_sign_in_form_asks_for_both_fields_and_checks_nothing(
    browser: httpx.AsyncClient,
) -> None:
    response = await sign_in_form(browser, "", "")

    assert response.status_code == 422
    assert error_summary(response) == ["Enter your email address", "Enter your password"]
    assert 'href="#email"' in response.text  # each message links to its field
    assert await LoginAttempt.count() == 0


async def test_a_malformed_email_is_refused_with_a_format_message(
    browser: httpx.AsyncClient,
) -> None:
    response = await sign_in_form(browser, "pat.example.org")

    assert response.status_code == 422
    assert error_summary(response) == [
        "Enter an email address in the correct format, like name@example.org"
    ]
    assert 'value="pat.example.org"' in response.text  # what they typed is kept to correct
    assert set_cookie(response) is None
    assert await LoginAttempt.count() == 0


async def test_ten_failures_lock_the_account_and_the_page_says_when_to_retry(
    browser: httpx.AsyncClient, now: datetime
) -> None:
    await make_user(Role.practitioner, "pat@example.org")
    for _ in range(LOCKOUT_FAILURES):
        refused = await sign_in_form(browser, "pat@example.org", "a wrong guess")
        assert refused.status_code == 401

    locked = await sign_in_form(browser, "pat@example.org", PASSWORD)

    assert locked.status_code == 429
    assert error_summary(locked) == [
        "There have been too many attempts to sign in. Try again in 15 minutes, "
        "or reset your password."
    ]
    assert set_cookie(locked) is None
    assert await BrowserSession.count() == 0


async def test_a_locked_account_opens_again_when_the_window_has_passed(
    browser: httpx.AsyncClient,
) -> None:
    account = await make_user(Role.practitioner, "pat@example.org")
    moment = datetime.now(UTC)
    await LoginAttempt.insert(
        *[
            LoginAttempt(
                email=account.email,
                client_address="127.0.0.1",
                attempted_at=moment,
                succeeded=False,
            )
            for _ in range(LOCKOUT_FAILURES)
        ]
    )
    with clock.frozen_at(moment + timedelta(minutes=14)):
        locked = await sign_in_form(browser, "pat@example.org")
        assert locked.status_code == 429
        assert "Try again in 1 minute," in error_summary(locked)[0]
    with clock.frozen_at(moment + timedelta(minutes=15, seconds=1)):
        assert (await sign_in_form(browser, "pat@example.org")).status_code == 303


@pytest.mark.parametrize(
    "target",
    ["//evil.example/steal", "/\\evil.example", "https://evil.example/"],
)
async def test_sign_in_never_redirects_to_another_site(
    browser: httpx.AsyncClient, target: str
) -> None:
    await make_user(Role.practitioner, "pat@example.org")

    page = await browser.get("/sign-in", params={"next": target})
    assert 'name="next" value=""' in page.text
    response = await sign_in_form(browser, "pat@example.org", next_page=target)

    assert response.status_code == 303
    assert response.headers["location"] == "/apply"  # not the unsafe target


async def test_a_next_page_with_a_control_character_is_refused_and_never_followed(
    browser: httpx.AsyncClient,
) -> None:
    await make_user(Role.practitioner, "pat@example.org")
    target = "/\t/evil.example"

    page = await browser.get("/sign-in", params={"next": target})
    assert page.status_code == 422  # refused at the edge, like any address with one
    assert "Next must not contain control characters" in page.text
    response = await sign_in_form(browser, "pat@example.org", next_page=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/apply"


async def test_sign_in_returns_to_the_page_asked_for_on_this_site(
    browser: httpx.AsyncClient,
) -> None:
    await make_user(Role.practitioner, "pat@example.org")

    page = await browser.get("/sign-in", params={"next": "/account#tokens"})
    assert 'name="next" value="/account#tokens"' in page.text
    response = await sign_in_form(browser, "pat@example.org", next_page="/account#tokens")

    assert response.headers["location"] == "/account#tokens"


# --- CSRF ---------------------------------------------------------------------------------------


async def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(
    browser: httpx.AsyncClient,
) -> None:
    signed_in = await user_signed_in_as(Role.practitioner)
    use_session(browser, signed_in.session_token)
    await browser.get("/account")  # the browser holds the CSRF cookie, but the post lacks the token
    before = await password_hash(signed_in.account.id)
    entries = await AuditEntry.count()

    refused = await browser.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    forged = await browser.post(
        "/account/tokens", data={"name": "forged", "_csrf_token": "0" * 128}
    )

    assert refused.status_code == 403
    assert forged.status_code == 403
    assert "text/html" in refused.headers["content-type"]
    assert await password_hash(signed_in.account.id) == before
    assert await ApiToken.count() == 1  # the one the test helper made
    assert await AuditEntry.count() == entries


async def test_the_sign_in_form_needs_its_csrf_token_too(browser: httpx.AsyncClient) -> None:
    await make_user(Role.practitioner, "pat@example.org")
    await browser.get("/sign-in")

    response = await browser.post(
        "/sign-in", data={"email": "pat@example.org", "password": PASSWORD}
    )

    assert response.status_code == 403
    assert set_cookie(response) is None
    assert await LoginAttempt.count() == 0


# --- staff and their second factor --------------------------------------------------------------


def totp_secret_on(page: httpx.Response) -> str:
    found = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text)
    assert found, "no key to type into an authenticator app on the page"
    return found.group(1).replace(" ", "")


def secret_not_on(page: httpx.Response, secret: str) -> bool:
    spaced = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return secret not in page.text and spaced not in page.text


def another_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_staff_without_an_authenticator_app_are_sent_to_set_one_up(
    browser: httpx.AsyncClient, now: datetime
) -> None:
    account = await make_user(Role.registrar, "reg@example.org")

    signed_in = await sign_in_form(browser, "reg@example.org", next_page="/admin/users")
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/account/two-factor/setup"
    assert (await browser.get("/account")).status_code == 401  # the password alone is not enough

    setup = await browser.get("/account/two-factor/setup")
    assert setup.status_code == 200
    secret = totp_secret_on(setup)
    right = pyotp.TOTP(secret).at(now)
    wrong = await browser.post(
        "/account/two-factor/setup",
        data={"code": another_code(right), "_csrf_token": csrf_field(setup)},
    )
    assert wrong.status_code == 422
    assert error_summary(wrong) == [  # a wrong code is wrong, not missing
        "The code is not correct. Check the time on your phone is right, then enter the code "
        "your authenticator app shows now"
    ]
    assert (await users.get_account(account.id)).totp_enabled is False
    # A mistyped code must not change the key: the app already holds the one first shown.
    assert totp_secret_on(wrong) == secret

    done = await browser.post(
        "/account/two-factor/setup", data={"code": right, "_csrf_token": csrf_field(wrong)}
    )
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.text)
    assert len(codes) == credentials.RECOVERY_CODE_COUNT
    assert (await browser.get("/account")).status_code == 200
    assert (await users.get_account(account.id)).totp_enabled is True


async def test_enrolled_staff_enter_a_code_after_their_password(
    browser: httpx.AsyncClient,
) -> None:
    staff = await user_signed_in_as(Role.registrar, "reg@example.org")
    assert staff.totp_secret is not None
    later = datetime.now(UTC) + timedelta(minutes=1)  # past the step used to enrol
    with clock.frozen_at(later):
        password_done = await sign_in_form(browser, "reg@example.org")
        assert password_done.headers["location"] == "/sign-in/two-factor"
        assert (await browser.get("/account")).status_code == 401
        right = pyotp.TOTP(staff.totp_secret).at(later)

        wrong = await submit(
            browser, "/sign-in/two-factor", "/sign-in/two-factor", {"code": another_code(right)}
        )
        assert wrong.status_code == 422
        assert error_summary(wrong) == ["The code is not correct. Enter a new code from your app."]
        assert (await browser.get("/account")).status_code == 401

        empty = await submit(browser, "/sign-in/two-factor", "/sign-in/two-factor", {"code": " "})
        assert error_summary(empty) == ["Enter the code from your authenticator app"]

        passed = await submit(
            browser, "/sign-in/two-factor", "/sign-in/two-factor", {"code": right}
        )
        assert passed.status_code == 303
        assert passed.headers["location"] == "/account"
        assert (await browser.get("/account")).status_code == 200


async def test_a_code_once_used_is_refused_at_the_next_sign_in(
    browser: httpx.AsyncClient,
) -> None:
    staff = await user_signed_in_as(Role.caseworker, "case@example.org")
    assert staff.totp_secret is not None
    later = datetime.now(UTC) + timedelta(minutes=1)
    with clock.frozen_at(later):
        code = pyotp.TOTP(staff.totp_secret).at(later)
        await sign_in_form(browser, "case@example.org")
        first = await submit(browser, "/sign-in/two-factor", "/sign-in/two-factor", {"code": code})
        assert first.status_code == 303

        await sign_in_form(browser, "case@example.org")  # a second browser, or someone watching
        again = await submit(browser, "/sign-in/two-factor", "/sign-in/two-factor", {"code": code})

    assert again.status_code == 422
    assert error_summary(again) == ["The code is not correct. Enter a new code from your app."]
    assert (await browser.get("/account")).status_code == 401


async def test_a_recovery_code_signs_in_once(browser: httpx.AsyncClient, now: datetime) -> None:
    account = await make_user(Role.adjudicator, "adj@example.org")
    await sign_in_form(browser, "adj@example.org")
    setup = await browser.get("/account/two-factor/setup")
    shown = await browser.post(
        "/account/two-factor/setup",
        data={"code": pyotp.TOTP(totp_secret_on(setup)).at(now), "_csrf_token": csrf_field(setup)},
    )
    recovery_code = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", shown.text)[0]

    await sign_in_form(browser, "adj@example.org")
    used = await submit(
        browser, "/sign-in/two-factor", "/sign-in/two-factor", {"code": recovery_code.upper()}
    )
    assert used.status_code == 303
    account_page = await browser.get("/account")
    assert "9 recovery codes left" in visible_text(account_page)

    await sign_in_form(browser, "adj@example.org")
    again = await submit(
        browser, "/sign-in/two-factor", "/sign-in/two-factor", {"code": recovery_code}
    )
    assert again.status_code == 422
    assert (await browser.get("/account")).status_code == 401
    assert await second_factor.unused_recovery_codes(account.id) == 9


async def test_the_setup_page_never_shows_the_key_of_an_app_already_set_up(
    browser: httpx.AsyncClient,
) -> None:
    staff = await user_signed_in_as(Role.registrar, "reg@example.org")
    await sign_in_form(browser, "reg@example.org")  # password only: the second step is still due

    shown = await browser.get("/account/two-factor/setup")
    assert shown.status_code == 303
    assert shown.headers["location"] == "/account"
    prompt = await browser.get("/sign-in/two-factor")
    posted = await browser.post(
        "/account/two-factor/setup", data={"code": "000000", "_csrf_token": csrf_field(prompt)}
    )

    assert posted.status_code == 409
    assert staff.totp_secret is not None
    assert secret_not_on(posted, staff.totp_secret)
    assert (await browser.get("/account")).status_code == 401


# --- forgotten passwords ------------------------------------------------------------------------


async def test_asking_for_a_reset_link_looks_the_same_for_any_address(
    browser: httpx.AsyncClient,
) -> None:
    account = await make_user(Role.practitioner, "pat@example.org")

    known = await submit(
        browser, "/forgotten-password", "/forgotten-password", {"email": "pat@example.org"}
    )
    unknown = await submit(
        browser, "/forgotten-password", "/forgotten-password", {"email": "kim@example.org"}
    )

    assert known.status_code == unknown.status_code == 200
    assert "If there is an account for" in visible_text(known)
    assert visible_text(known).replace("pat@", "X@") == visible_text(unknown).replace("kim@", "X@")
    assert await PasswordResetToken.count() == 1
    tokens = await PasswordResetToken.select(PasswordResetToken.user)
    assert tokens == [{"user": account.id}]


async def test_asking_for_a_reset_link_without_an_address_says_what_to_do(
    browser: httpx.AsyncClient,
) -> None:
    response = await submit(browser, "/forgotten-password", "/forgotten-password", {"email": ""})

    assert response.status_code == 422
    assert error_summary(response) == ["Enter your email address"]


async def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(
    browser: httpx.AsyncClient, elsewhere: httpx.AsyncClient
) -> None:
    signed_in = await user_signed_in_as(Role.practitioner, "pat@example.org")
    token = await password_links.request_password_reset("pat@example.org")
    assert token is not None
    link = f"/reset-password?token={token}"

    done = await submit(
        browser,
        link,
        "/reset-password",
        {"token": token, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )

    assert done.status_code == 303
    assert done.headers["location"] == "/sign-in?password_reset=1"
    notice = await browser.get(done.headers["location"])
    assert "Your password has been changed" in visible_text(notice)
    assert (
        await elsewhere.get("/account", headers=with_session(signed_in.session_token))
    ).status_code == 401
    assert await BrowserSession.count() == 0
    assert (await sign_in_form(browser, "pat@example.org", PASSWORD)).status_code == 401
    assert (await sign_in_form(browser, "pat@example.org", NEW_PASSWORD)).status_code == 303

    changed = await password_hash(signed_in.account.id)
    reopened = await browser.get(link)
    assert reopened.status_code == 422
    assert "This link has expired or has already been used. Ask for a new one." in visible_text(
        reopened
    )
    assert 'href="/forgotten-password"' in reopened.text
    reused = await browser.post(
        "/reset-password",
        data={
            "token": token,
            "password": "yet another long passphrase",
            "confirm_password": "yet another long passphrase",
            "_csrf_token": csrf_field(notice),
        },
    )
    assert reused.status_code == 422
    assert "This link has expired or has already been used" in visible_text(reused)
    assert await password_hash(signed_in.account.id) == changed


async def test_a_reset_link_stops_working_after_an_hour(browser: httpx.AsyncClient) -> None:
    account = await make_user(Role.practitioner, "pat@example.org")
    before = await password_hash(account.id)
    moment = datetime.now(UTC)
    with clock.frozen_at(moment) as advance:
        token = await password_links.request_password_reset("pat@example.org")
        assert token is not None
        form = await browser.get(f"/reset-password?token={token}")
        assert form.status_code == 200
        advance(timedelta(hours=1, seconds=1))

        expired = await browser.get(f"/reset-password?token={token}")
        posted = await browser.post(
            "/reset-password",
            data={
                "token": token,
                "password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
                "_csrf_token": csrf_field(form),
            },
        )

    for response in (expired, posted):
        assert response.status_code == 422
        assert "This link has expired or has already been used" in visible_text(response)
    assert await password_hash(account.id) == before


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "Password must be 10 characters or more"),
        ("password123", "Password is too common: choose one that is harder to guess"),
        ("pat.jones is my password", "Password must not contain your email address"),
    ],
)
async def test_a_weak_new_password_is_refused_and_the_link_still_works(
    browser: httpx.AsyncClient, password: str, message: str
) -> None:
    account = await make_user(Role.practitioner, "pat.jones@example.org")
    before = await password_hash(account.id)
    token = await password_links.request_password_reset("pat.jones@example.org")
    assert token is not None
    link = f"/reset-password?token={token}"

    refused = await submit(
        browser,
        link,
        "/reset-password",
        {"token": token, "password": password, "confirm_password": password},
    )

    assert refused.status_code == 422
    assert error_summary(refused) == [message]
    assert await password_hash(account.id) == before
    assert (await browser.get(link)).status_code == 200  # not used up by the refusal


async def test_a_new_password_typed_differently_twice_is_refused(
    browser: httpx.AsyncClient,
) -> None:
    account = await make_user(Role.practitioner, "pat@example.org")
    before = await password_hash(account.id)
    token = await password_links.request_password_reset("pat@example.org")
    assert token is not None

    refused = await submit(
        browser,
        f"/reset-password?token={token}",
        "/reset-password",
        {"token": token, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "!"},
    )

    assert refused.status_code == 422
    assert error_summary(refused) == ["Passwords do not match"]
    assert await password_hash(account.id) == before


# --- your account -------------------------------------------------------------------------------


async def test_changing_your_password_needs_the_current_one(browser: httpx.AsyncClient) -> None:
    signed_in = await user_signed_in_as(Role.practitioner, "pat@example.org")
    other_browser = await start_session(signed_in.account, "192.0.2.1", "phone")
    use_session(browser, signed_in.session_token)
    before = await password_hash(signed_in.account.id)
    entries = await AuditEntry.count()

    refused = await submit(
        browser,
        "/account",
        "/account/password",
        {
            "current_password": "not my password",
            "password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert refused.status_code == 422
    assert error_summary(refused) == ["Your current password is not correct"]
    assert await password_hash(signed_in.account.id) == before
    assert await AuditEntry.count() == entries
    assert await session_for(other_browser) is not None

    changed = await submit(
        browser,
        "/account",
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200
    assert "Your password has been changed" in visible_text(changed)
    assert await password_hash(signed_in.account.id) != before
    assert (await browser.get("/account")).status_code == 200  # this browser stays signed in
    assert await session_for(other_browser) is None  # every other one is signed out


async def test_a_weak_new_password_is_refused_on_the_account_page(
    browser: httpx.AsyncClient,
) -> None:
    signed_in = await user_signed_in_as(Role.practitioner, "pat@example.org")
    use_session(browser, signed_in.session_token)
    before = await password_hash(signed_in.account.id)

    refused = await submit(
        browser,
        "/account",
        "/account/password",
        {"current_password": PASSWORD, "password": "qwertyuiop", "confirm_password": "qwertyuiop"},
    )

    assert refused.status_code == 422
    assert error_summary(refused) == ["Password is too common: choose one that is harder to guess"]
    assert await password_hash(signed_in.account.id) == before


async def test_a_new_token_is_shown_once_and_can_be_revoked(browser: httpx.AsyncClient) -> None:
    signed_in = await user_signed_in_as(Role.employer, "hr@example.org")
    use_session(browser, signed_in.session_token)

    created = await submit(browser, "/account", "/account/tokens", {"name": "nightly check"})
    assert created.status_code == 200
    found = re.search(r'id="new-token"[^>]*>(prr_[A-Za-z0-9_-]+)<', created.text)
    assert found
    token = found.group(1)
    bearer = {"authorization": f"Bearer {token}"}
    me = await browser.get("/api/v1/me", headers=bearer)
    assert me.status_code == 200
    assert me.json()["email"] == "hr@example.org"

    listed = await browser.get("/account")
    assert "nightly check" in listed.text
    assert token[:12] in listed.text  # the start, to tell tokens apart
    assert token not in listed.text  # never the whole token again
    revoke = re.search(
        r'action="(/account/tokens/\d+/revoke)".*?Revoke<span[^>]*> nightly check<',
        listed.text,
        re.DOTALL,
    )
    assert revoke
    revoke_path = revoke.group(1)
    assert re.search(r"/account/tokens/\d+/revoke", revoke_path)
    revoked = await browser.post(revoke_path, data={"_csrf_token": csrf_field(listed)})
    assert revoked.status_code == 200
    assert "The token has been revoked" in visible_text(revoked)
    assert (await browser.get("/api/v1/me", headers=bearer)).status_code == 401
    assert (await browser.get("/api/v1/me", headers=signed_in.bearer())).status_code == 200


async def test_a_token_needs_a_name(browser: httpx.AsyncClient) -> None:
    signed_in = await user_signed_in_as(Role.employer)
    use_session(browser, signed_in.session_token)

    refused = await submit(browser, "/account", "/account/tokens", {"name": "  "})

    assert refused.status_code == 422
    assert error_summary(refused) == ["Enter a name for the token, like 'case system export'"]
    assert await ApiToken.count() == 1


async def test_you_cannot_revoke_someone_elses_token(browser: httpx.AsyncClient) -> None:
    owner = await user_signed_in_as(Role.employer, "owner@example.org")
    other = await user_signed_in_as(Role.employer, "other@example.org")
    owners_token = (await tokens.list_api_tokens(owner.account.id))[0]
    use_session(browser, other.session_token)
    page = await browser.get("/account")

    response = await browser.post(
        f"/account/tokens/{owners_token.id}/revoke", data={"_csrf_token": csrf_field(page)}
    )

    assert response.status_code == 404
    assert (await browser.get("/api/v1/me", headers=owner.bearer())).status_code == 200


async def test_signing_out_ends_the_session(
    browser: httpx.AsyncClient, elsewhere: httpx.AsyncClient
) -> None:
    await make_user(Role.practitioner, "pat@example.org")
    token = (await sign_in_form(browser, "pat@example.org")).cookies[SESSION_COOKIE]

    response = await submit(browser, "/account", "/sign-out", {})

    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?signed_out=1"
    cleared = set_cookie(response)
    assert cleared is not None
    assert "max-age=0" in cleared.lower()
    assert (await elsewhere.get("/account", headers=with_session(token))).status_code == 401
    assert await BrowserSession.count() == 0
    assert "You have been signed out" in visible_text(await browser.get("/sign-in?signed_out=1"))


# --- staff administration -----------------------------------------------------------------------


async def admin_browser(browser: httpx.AsyncClient) -> users.Account:
    admin = await user_signed_in_as(Role.admin, "ada@regulator.example")
    use_session(browser, admin.session_token)
    return admin.account


async def test_an_admin_invites_a_member_of_staff(browser: httpx.AsyncClient) -> None:
    await admin_browser(browser)

    response = await submit(
        browser,
        "/admin/users/new",
        "/admin/users/new",
        {
            "display_name": "Sam Okoro",
            "email": "Sam.Okoro@Regulator.example",
            "roles": ["registrar", "caseworker"],
        },
    )

    assert response.status_code == 303
    invited = await users.find_account_by_email("sam.okoro@regulator.example")
    assert invited is not None
    assert response.headers["location"] == f"/admin/users/{invited.id}?invited=1"
    assert invited.roles == {Role.registrar, Role.caseworker}
    assert not invited.has_password
    assert await PasswordResetToken.count().where(PasswordResetToken.user == invited.id) == 1
    page = await browser.get(response.headers["location"])
    assert "Invitation sent" in visible_text(page)
    assert "Invitation not yet accepted" in visible_text(page)


async def test_the_invitation_form_chooses_no_role_for_the_admin(
    browser: httpx.AsyncClient,
) -> None:
    """An admin who ticks Practitioner alone invites a practitioner, not a "Practitioner,
    Registrar": no box is ticked until they tick it."""
    await admin_browser(browser)
    form = await browser.get("/admin/users/new")
    assert "checked" not in form.text

    response = await submit(
        browser,
        "/admin/users/new",
        "/admin/users/new",
        {"display_name": "Pat Doyle", "email": "pat@example.org", "roles": ["practitioner"]},
    )
    assert response.status_code == 303
    invited = await users.find_account_by_email("pat@example.org")
    assert invited is not None
    assert invited.roles == {Role.practitioner}
    [email] = await OutboxMessage.select().where(OutboxMessage.recipient == "pat@example.org")
    assert json.loads(email["body"])["roles"] == "Practitioner"
    page = visible_text(await browser.get(response.headers["location"]))
    assert "Roles Practitioner Status" in page  # the summary's Roles row, and nothing else


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"display_name": "Sam Okoro", "email": "sam@regulator.example"},
            "Choose at least one role",
        ),
        (
            {"display_name": "Sam Okoro", "email": "sam-at-regulator", "roles": "registrar"},
            "Enter an email address in the correct format, like name@example.org",
        ),
        (
            {"display_name": "Sam Okoro", "email": "ADA@regulator.example", "roles": "registrar"},
            "There is already an account for ada@regulator.example",
        ),
        (
            {"display_name": " ", "email": "sam@regulator.example", "roles": "registrar"},
            "Enter the person's name",
        ),
        (
            {"display_name": "Sam Okoro", "email": "sam@regulator.example", "roles": "superuser"},
            "Unknown role 'superuser'. Roles are: practitioner, registrar, cpd_assessor, "
            "caseworker, case_examiner, adjudicator, employer, admin",
        ),
    ],
)
async def test_an_invitation_with_a_mistake_is_refused(
    browser: httpx.AsyncClient, fields: dict[str, str], message: str
) -> None:
    await admin_browser(browser)
    users = await User.count()
    entries = await AuditEntry.count()

    response = await submit(browser, "/admin/users/new", "/admin/users/new", fields)

    assert response.status_code == 422
    assert error_summary(response) == [message]
    assert f'value="{fields["email"]}"' in response.text  # the form keeps what was typed
    assert await User.count() == users
    assert await AuditEntry.count() == entries
    assert await PasswordResetToken.count() == 0


async def test_an_admin_changes_someones_roles_and_they_sign_in_again(
    browser: httpx.AsyncClient,
) -> None:
    await admin_browser(browser)
    staff = await user_signed_in_as(Role.registrar, "reg@regulator.example")
    page = f"/admin/users/{staff.account.id}"

    refused = await submit(browser, page, f"{page}/roles", {})
    assert refused.status_code == 422
    assert error_summary(refused) == ["Choose at least one role"]
    assert (await users.get_account(staff.account.id)).roles == {Role.registrar}

    changed = await submit(browser, page, f"{page}/roles", {"roles": ["registrar", "cpd_assessor"]})
    assert changed.status_code == 200
    assert "Roles updated" in visible_text(changed)
    assert (await users.get_account(staff.account.id)).roles == {
        Role.registrar,
        Role.cpd_assessor,
    }
    assert await session_for(staff.session_token) is None


async def test_deactivating_someone_ends_their_sessions_and_tokens(
    browser: httpx.AsyncClient, elsewhere: httpx.AsyncClient
) -> None:
    await admin_browser(browser)
    target = await user_signed_in_as(Role.practitioner, "pat@example.org")
    page = f"/admin/users/{target.account.id}"

    response = await submit(browser, page, f"{page}/active", {"active": "no"})

    assert response.status_code == 200
    assert "Account deactivated" in visible_text(response)
    assert "Reactivate account" in response.text
    assert (
        await elsewhere.get("/account", headers=with_session(target.session_token))
    ).status_code == 401
    assert (await browser.get("/api/v1/me", headers=target.bearer())).status_code == 401
    assert (await sign_in_form(browser, "pat@example.org")).status_code == 401


async def test_an_admin_cannot_deactivate_themselves(browser: httpx.AsyncClient) -> None:
    admin = await admin_browser(browser)
    page = f"/admin/users/{admin.id}"
    entries = await AuditEntry.count()

    response = await submit(browser, page, f"{page}/active", {"active": "no"})

    assert response.status_code == 409
    assert error_summary(response) == ["You cannot deactivate your own account"]
    assert (await users.get_account(admin.id)).active
    assert (await browser.get("/admin/users")).status_code == 200
    assert await AuditEntry.count() == entries


async def test_staff_pages_are_refused_to_people_who_are_not_admins(
    browser: httpx.AsyncClient,
) -> None:
    registrar = await sign_in(await make_user(Role.registrar))
    use_session(browser, registrar.session_token)

    response = await browser.get("/admin/users")

    assert response.status_code == 403
    assert "You do not have permission to do this." in visible_text(response)


async def test_a_bearer_token_never_opens_a_page(browser: httpx.AsyncClient) -> None:
    signed_in = await user_signed_in_as(Role.practitioner)

    response = await browser.get("/account", headers=signed_in.bearer())

    assert response.status_code == 401
    assert "Sign in to continue." in visible_text(response)
    assert 'href="/sign-in?next=/account"' in response.text
