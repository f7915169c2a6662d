"""Fifty conflicting requests at once, through the HTTP layer: exactly one wins, the others are
refused (409) or answered as if they had come second, and nothing is lost or doubled.

On PostgreSQL the application gets a pool wide enough for every request to hold its own
connection, so the fifty run in parallel transactions, not queued one behind another. On SQLite
writers queue on the database's write lock (``BEGIN IMMEDIATE``), which is the guarantee there.

Concurrent sign-in failures at the lock-out threshold are proven in
``tests/accounts/test_guessing.py`` and not repeated here.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, date, datetime

import httpx
import pytest
from litestar import Litestar

from registry.accounts import sign_up, users
from registry.accounts.auth import SESSION_COOKIE
from registry.accounts.roles import Role
from registry.accounts.tables import ApiToken, EmailConfirmation, SignUpAttempt, User
from registry.app import create_app
from registry.audit.tables import AuditEntry
from registry.certificates.tables import Certificate
from registry.config import Settings
from registry.core import clock
from registry.db import bind_engine
from registry.notifications.tables import OutboxMessage
from registry.register.applications import workflow
from registry.register.tables import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    EntryHistory,
    RegisterEntry,
    Renewal,
)
from tests.accounts.helpers import make_user, sign_in, user_signed_in_as
from tests.conftest import empty_tables
from tests.register.applying import fill_in, new_account, registrar, submitted_application
from tests.register.helpers import put_on_register
from tests.support import BASE_URL, asgi_transport, exempt_from_cpd

AT_ONCE = 50
APPROVALS = 20
# Every request its own connection, and a few to spare for the test's own reads.
POOL_SIZE = AT_ONCE + 5
PAGES = {"accept": "text/html,application/xhtml+xml"}
RENEWAL_DAY = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def wide_app(migrated: Settings) -> AsyncIterator[Litestar]:
    """The service with a connection pool of ``POOL_SIZE``, trusting the test client as a proxy
    so each sign-up can come from its own address."""
    settings = migrated.model_copy(
        update={"db_pool_size": POOL_SIZE, "trusted_proxies": "127.0.0.1/32"}
    )
    application = create_app(settings)
    await application.state.engine.start()
    yield application
    await application.state.engine.stop()


@pytest.fixture
async def service(wide_app: Litestar) -> AsyncIterator[Callable[[], httpx.AsyncClient]]:
    """Makes browsers (each with its own cookies) for the wide application, on empty tables."""
    bind_engine(wide_app.state.engine)
    await empty_tables()
    made: list[httpx.AsyncClient] = []

    def browser() -> httpx.AsyncClient:
        made.append(
            httpx.AsyncClient(transport=asgi_transport(wide_app), base_url=BASE_URL, headers=PAGES)
        )
        return made[-1]

    yield browser
    for client in made:
        await client.aclose()


async def _browsing_as(
    service: Callable[[], httpx.AsyncClient], account: users.Account
) -> httpx.AsyncClient:
    """A browser signed in as ``account`` (second factor done for staff)."""
    browser = service()
    browser.cookies.set(SESSION_COOKIE, (await sign_in(account)).session_token)
    return browser


async def _csrf(browser: httpx.AsyncClient, page: str) -> tuple[str, dict[str, str]]:
    """The CSRF token from ``page``'s form, and the hidden fields the page carries."""
    opened = await browser.get(page)
    assert opened.status_code == 200, (page, opened.status_code)
    token = re.search(r'name="_csrf_token" value="([^"]+)"', opened.text)
    assert token is not None, page
    hidden = dict(re.findall(r'<input type="hidden" name="(version)" value="(\d+)">', opened.text))
    return token.group(1), hidden


async def _at_once(requests: Sequence[Awaitable[httpx.Response]]) -> Counter[int]:
    answers = await asyncio.gather(*requests)
    return Counter(answer.status_code for answer in answers)


async def _audit_count(action: str, target_id: str | None = None) -> int:
    query = AuditEntry.count().where(AuditEntry.action == action)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    return int(await query)


async def _emails(template: str) -> int:
    return int(await OutboxMessage.count().where(OutboxMessage.template == template))


# Each decision a registrar can click, what it posts, and where it leaves the application.
DECISIONS: dict[str, tuple[dict[str, str], ApplicationStatus]] = {
    "approve": ({}, ApplicationStatus.approved),
    "reject": ({"reason": "Not a recognised course"}, ApplicationStatus.rejected),
    "request-information": (
        {"question": "Which modules did you take?"},
        ApplicationStatus.further_information_requested,
    ),
}
DECISION_EMAILS = (
    "application_approved",
    "application_rejected",
    "application_information_requested",
)
DECISION_AUDIT = (
    "register.application_approved",
    "register.application_rejected",
    "register.application_information_requested",
)


async def test_one_application_decided_fifty_ways_at_once_has_one_decision(
    service: Callable[[], httpx.AsyncClient], migrated: Settings, wide_app: Litestar
) -> None:
    record = await submitted_application(migrated.data_dir)
    path = f"/registrar/applications/{record.id}"
    registrars = []
    for _ in range(5):  # five registrars with the application open, ten clicks each
        browser = await _browsing_as(service, await registrar())
        token, hidden = await _csrf(browser, path)
        assert hidden == {"version": str(record.version)}
        registrars.append((browser, token, hidden))
    moves = list(DECISIONS)
    requests = []
    for number in range(AT_ONCE):
        browser, token, hidden = registrars[number % len(registrars)]
        move = moves[number % len(moves)]
        fields = {**hidden, **DECISIONS[move][0], "_csrf_token": token}
        requests.append(browser.post(f"{path}/{move}", data=fields))
    statuses = await _at_once(requests)

    assert statuses == {303: 1, 409: AT_ONCE - 1}
    engine = wide_app.state.engine
    if engine.engine_type == "postgres":
        # Parallel transactions: the pool opened more connections than the default ten.
        assert engine.pool.get_size() > Settings.model_fields["db_pool_size"].default
    decided = await Application.select(Application.status, Application.entry).where(
        Application.id == record.id
    )
    status = ApplicationStatus(decided[0]["status"])
    assert status in {outcome for _, outcome in DECISIONS.values()}
    # One decision recorded, one email about it, and an entry only if the winner approved.
    assert sum([await _audit_count(action, str(record.id)) for action in DECISION_AUDIT]) == 1
    assert sum([await _emails(template) for template in DECISION_EMAILS]) == 1
    entries = await RegisterEntry.count()
    assert entries == (1 if status is ApplicationStatus.approved else 0)
    assert (decided[0]["entry"] is not None) == (status is ApplicationStatus.approved)


async def test_one_entry_renewed_fifty_times_at_once_is_renewed_once(
    service: Callable[[], httpx.AsyncClient],
) -> None:
    with clock.frozen_at(RENEWAL_DAY):
        account = await make_user(Role.practitioner, "pat@example.org")
        entry = await put_on_register(
            "Pat", "Renewer", until=date(2026, 11, 30), account_id=account.id
        )
        await exempt_from_cpd(entry.id)
        browser = await _browsing_as(service, account)
        token, _ = await _csrf(browser, "/your-registration/renew")
        fields = {
            "character_declaration": "no",
            "health_declaration": "no",
            "action": "confirm",
            "_csrf_token": token,
        }
        statuses = await _at_once(
            [browser.post("/your-registration/renew", data=fields) for _ in range(AT_ONCE)]
        )

    assert statuses == {303: 1, 409: AT_ONCE - 1}
    renewed = await RegisterEntry.select(RegisterEntry.registered_until).where(
        RegisterEntry.id == entry.id
    )
    assert renewed[0]["registered_until"] == date(2027, 11, 30)  # one year on, not fifty
    assert await Renewal.count().where(Renewal.entry == entry.id) == 1
    renewals_kept = await EntryHistory.count().where(
        (EntryHistory.entry == entry.id) & (EntryHistory.change == "renewed")
    )
    assert renewals_kept == 1
    assert await _audit_count("register.renewed") == 1
    assert await _emails("renewal_confirmed") == 1


async def test_fifty_sign_ups_with_one_email_make_one_account(
    service: Callable[[], httpx.AsyncClient],
) -> None:
    browser = service()
    token, _ = await _csrf(browser, "/create-account")
    fields = {
        "display_name": "Sam Twin",
        "email": "sam.twin@example.org",
        "password": "Lantern-harbour-violet-47",
        "password_confirmation": "Lantern-harbour-violet-47",
        "_csrf_token": token,
    }
    statuses = await _at_once(
        [
            # Each from its own address (through the trusted proxy), so no address limit applies.
            browser.post(
                "/create-account",
                data=fields,
                headers={"x-forwarded-for": f"198.51.100.{number + 1}"},
            )
            for number in range(AT_ONCE)
        ]
    )

    # Every answer is the same "check your email", whoever came first.
    assert statuses == {303: AT_ONCE}
    assert await User.count().where(User.email == "sam.twin@example.org") == 1
    assert await SignUpAttempt.count() == AT_ONCE
    assert await _audit_count("accounts.user_created") == 1
    assert await _audit_count("accounts.signed_up") == 1
    assert await _emails("confirm_email") == 1
    # The holder is told at most once that the address already has an account.
    assert await _emails("account_exists") <= 1


async def test_one_token_revoked_fifty_times_at_once_is_revoked_once(
    service: Callable[[], httpx.AsyncClient],
) -> None:
    holder = await user_signed_in_as(Role.practitioner, "pat@example.org")
    api = service()
    api.headers.update({**holder.bearer(), "accept": "application/json"})
    made = await api.post("/api/v1/me/tokens", json={"name": "laptop"})
    assert made.status_code == 201
    token_id = made.json()["id"]

    statuses = await _at_once([api.delete(f"/api/v1/me/tokens/{token_id}") for _ in range(AT_ONCE)])

    # Revoking a revoked token is no error: each caller finds it revoked, as they asked.
    assert statuses == {204: AT_ONCE}
    assert await _audit_count("accounts.token_revoked", str(token_id)) == 1
    revoked = await ApiToken.select(ApiToken.revoked_at).where(ApiToken.id == token_id)
    assert revoked[0]["revoked_at"] is not None


async def test_twenty_applications_approved_at_once_get_twenty_numbers(
    service: Callable[[], httpx.AsyncClient], migrated: Settings
) -> None:
    """Not a conflict but a queue: every approval takes the next registration number (twenty,
    not fifty: each application takes a dozen writes to make)."""
    applications = [await submitted_application(migrated.data_dir) for _ in range(APPROVALS)]
    browser = await _browsing_as(service, await registrar())
    token, _ = await _csrf(browser, f"/registrar/applications/{applications[0].id}")
    statuses = await _at_once(
        [
            browser.post(
                f"/registrar/applications/{record.id}/approve",
                data={"version": str(record.version), "_csrf_token": token},
            )
            for record in applications
        ]
    )

    assert statuses == {303: APPROVALS}
    numbers = [row["registration_number"] for row in await RegisterEntry.select()]
    assert len(set(numbers)) == APPROVALS
    assert await _emails("application_approved") == APPROVALS
    # Each certificate issued with its approval has a bit of its own in each status list.
    issued = await Certificate.select()
    assert len(issued) == APPROVALS
    for kind in ("revocation", "suspension"):
        bits = {(row[f"{kind}_list"], row[f"{kind}_index"]) for row in issued}
        assert len(bits) == APPROVALS, kind


async def test_fifty_invitations_of_one_address_make_one_account(
    service: Callable[[], httpx.AsyncClient],
) -> None:
    admin = await user_signed_in_as(Role.admin, "ada@example.org")
    api = service()
    api.headers.update({**admin.bearer(), "accept": "application/json"})
    person = {"email": "new.registrar@example.org", "display_name": "Nell", "roles": ["registrar"]}

    statuses = await _at_once(
        [api.post("/api/v1/admin/users", json=person) for _ in range(AT_ONCE)]
    )

    assert statuses == {201: 1, 409: AT_ONCE - 1}
    assert await User.count().where(User.email == "new.registrar@example.org") == 1
    assert await _emails("invitation") == 1


async def test_fifty_clicks_on_start_make_one_application(
    service: Callable[[], httpx.AsyncClient],
) -> None:
    applicant = await new_account()
    browser = await _browsing_as(service, applicant)
    token, _ = await _csrf(browser, "/apply")

    statuses = await _at_once(
        [browser.post("/apply", data={"_csrf_token": token}) for _ in range(AT_ONCE)]
    )

    # The first starts the draft; the rest are sent to it, or told one is open.
    assert set(statuses) <= {303, 409}
    assert await Application.count().where(Application.applicant == applicant.id) == 1
    assert await _audit_count("register.application_started") == 1


async def test_fifty_clicks_on_send_submit_one_application_once(
    service: Callable[[], httpx.AsyncClient], migrated: Settings
) -> None:
    applicant = await new_account()
    draft = await workflow.start(applicant.id, ApplicationKind.initial)
    await fill_in(draft.id, applicant.id, migrated.data_dir)
    browser = await _browsing_as(service, applicant)
    token, _ = await _csrf(browser, "/apply/check")

    statuses = await _at_once(
        [browser.post("/apply/check", data={"_csrf_token": token}) for _ in range(AT_ONCE)]
    )

    assert set(statuses) <= {303, 409}
    submitted = await Application.select(Application.status).where(Application.id == draft.id)
    assert submitted[0]["status"] == ApplicationStatus.submitted.value
    assert await _audit_count("register.application_submitted") == 1
    assert await _emails("application_submitted") == 1


async def test_one_confirmation_link_followed_fifty_times_confirms_once(
    service: Callable[[], httpx.AsyncClient],
) -> None:
    answers = sign_up.check_sign_up("sam@example.org", "Sam Newcomer", "Lantern-harbour-violet-47")
    await sign_up.request_account(answers, "192.0.2.1")
    sent = await OutboxMessage.select(OutboxMessage.body).where(
        OutboxMessage.template == "confirm_email"
    )
    link = re.search(r"/create-account/confirm\?token=([\w-]+)", sent[0]["body"])
    assert link is not None
    browser = service()
    csrf, _ = await _csrf(browser, f"/create-account/confirm?token={link.group(1)}")
    form = {"token": link.group(1), "_csrf_token": csrf}

    statuses = await _at_once(
        [browser.post("/create-account/confirm", data=form) for _ in range(AT_ONCE)]
    )

    assert statuses == {200: 1, 409: AT_ONCE - 1}
    assert await _audit_count("accounts.email_confirmed") == 1
    assert await EmailConfirmation.count().where(EmailConfirmation.used_at.is_not_null()) == 1


# What one admin sends to take another's powers away: deactivate them, or take their admin role.
TAKING_AWAY = {"deactivate": {"active": False}, "demote": {"roles": ["registrar"]}}


@pytest.mark.parametrize("change", list(TAKING_AWAY))
async def test_two_admins_taking_each_others_powers_at_once_leave_one_admin(
    service: Callable[[], httpx.AsyncClient], change: str
) -> None:
    """Neither may take away their own powers, so that an admin is always left; two taking each
    other's at the same moment must not leave none."""
    admins = [
        await user_signed_in_as(Role.admin, "ada@example.org"),
        await user_signed_in_as(Role.admin, "bea@example.org"),
    ]
    apis = []
    for admin in admins:
        api = service()
        api.headers.update({**admin.bearer(), "accept": "application/json"})
        apis.append(api)
    requests = [
        apis[number % 2].patch(
            f"/api/v1/admin/users/{admins[1 - number % 2].account.id}", json=TAKING_AWAY[change]
        )
        for number in range(AT_ONCE)
    ]

    statuses = await _at_once(requests)

    # The winner's requests are answered 200 (the first changes, the rest find it changed); the
    # loser's are refused: their token stopped (401) or their admin powers went (403).
    assert 200 in statuses
    assert set(statuses) <= {200, 401, 403}
    still_admins = [
        account
        for account in [await users.get_account(admin.account.id) for admin in admins]
        if account.active and Role.admin in account.roles
    ]
    assert len(still_admins) == 1
    action = "accounts.user_deactivated" if change == "deactivate" else "accounts.roles_changed"
    assert await _audit_count(action) == 1
