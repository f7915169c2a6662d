"""Create an account: the same answer whether or not the address is known, a confirmation link
that works once, limits by address and by email, and no application before confirmation."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx

from registry.accounts import sign_up, users
from registry.accounts.roles import Role
from registry.config import Settings
from registry.core import clock
from registry.notifications import emails
from registry.notifications.tables import OutboxMessage
from registry.register.applications import workflow
from registry.register.tables import ApplicationKind
from tests.accounts.helpers import PASSWORD, csrf_headers, make_user

ANSWERS = {"display_name": "Nia Evans", "email": "Nia.Evans@example.org", "password": PASSWORD}


async def _create(client: httpx.AsyncClient, **changes: str) -> httpx.Response:
    headers = await csrf_headers(client)
    return await client.post("/create-account", data={**ANSWERS, **changes}, headers=headers)


async def _emails_to(address: str) -> list[dict[str, object]]:
    rows = await OutboxMessage.select().where(OutboxMessage.recipient == address)
    return [dict(row) for row in rows]


def _confirmation_token(settings: Settings, row: dict[str, object]) -> str:
    text, _ = emails.render(str(row["template"]), json.loads(str(row["body"])), settings)
    link = next(line for line in text.splitlines() if "/create-account/confirm?" in line)
    assert link.startswith(settings.base_url)
    return parse_qs(urlsplit(link).query)["token"][0]


async def _confirm(client: httpx.AsyncClient, token: str) -> httpx.Response:
    page = await client.get("/create-account/confirm", params={"token": token})
    assert page.status_code == 200
    assert "Confirm my email address" in page.text  # a button: mail scanners only open links
    headers = await csrf_headers(client)
    return await client.post("/create-account/confirm", data={"token": token}, headers=headers)


async def test_a_new_address_gets_an_account_that_confirms_once_and_may_then_apply(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await _create(client)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/create-account/check-your-email")
    account = await users.find_account_by_email("nia.evans@example.org")
    assert account is not None
    assert account.roles == frozenset({Role.practitioner})
    assert not account.email_confirmed
    [mail] = await _emails_to("nia.evans@example.org")
    assert mail["template"] == "confirm_email"

    refused = await _start_application(account.id)
    assert "Confirm your email address" in refused

    token = _confirmation_token(settings, mail)
    assert "Email address confirmed" in (await _confirm(client, token)).text
    assert (await users.get_account(account.id)).email_confirmed
    assert await _start_application(account.id) == ""
    again = await _confirm(client, token)
    assert again.status_code == 409
    assert "already been used" in again.text


async def _start_application(account_id: int) -> str:
    """The refusal's words, or "" when the draft was started."""
    try:
        await workflow.start(account_id, ApplicationKind.initial)
    except Exception as refused:
        return str(refused)
    return ""


async def test_a_known_address_gets_the_same_answer_and_an_email_to_its_holder(
    client: httpx.AsyncClient,
) -> None:
    await make_user(Role.practitioner, "nia.evans@example.org")
    fresh = await _create(client, email="someone.new@example.org")
    known = await _create(client)
    assert known.status_code == fresh.status_code == 303
    assert urlsplit(known.headers["location"]).path == urlsplit(fresh.headers["location"]).path
    [mail] = await _emails_to("nia.evans@example.org")
    assert mail["template"] == "account_exists"
    assert await users.find_account_by_email("nia.evans@example.org") is not None
    _, total = await users.list_accounts()
    assert total == 2  # the known holder and someone.new, nobody else


async def test_bad_answers_are_refused_with_field_messages_and_nothing_stored(
    client: httpx.AsyncClient,
) -> None:
    cases = {
        "display_name": ("12345", "Name must include letters"),
        "email": ("not-an-address", "Enter an email address in the correct format"),
        "password": ("password12", "common"),
    }
    for field, (value, message) in cases.items():
        response = await _create(client, **{field: value})
        assert response.status_code == 422, field
        assert message in response.text, field
        assert PASSWORD not in response.text  # a password is never sent back
    _, total = await users.list_accounts()
    assert total == 0
    assert await OutboxMessage.count() == 0


async def test_a_filled_honeypot_is_answered_as_usual_and_does_nothing(
    client: httpx.AsyncClient,
) -> None:
    response = await _create(client, website="http://spam.example")
    assert response.status_code == 303
    assert await users.find_account_by_email("nia.evans@example.org") is None
    assert await OutboxMessage.count() == 0


async def test_one_address_is_limited_and_one_inbox_is_not_flooded(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(sign_up.ATTEMPTS_PER_EMAIL + 2):
        assert (await _create(client)).status_code == 303
    # The confirmation, then one "you already have an account" a day, however many tries.
    sent = [mail["template"] for mail in await _emails_to("nia.evans@example.org")]
    assert sent == ["confirm_email", "account_exists"]
    for number in range(sign_up.ATTEMPTS_PER_ADDRESS - sign_up.ATTEMPTS_PER_EMAIL - 2):
        assert (await _create(client, email=f"p{number}@example.org")).status_code == 303
    limited = await _create(client, email="one.more@example.org")
    assert limited.status_code == 429
    assert "too many attempts" in limited.text
    assert await users.find_account_by_email("one.more@example.org") is None
    with clock.frozen_at(clock.now() + sign_up.ATTEMPT_WINDOW + timedelta(minutes=1)):
        assert (await _create(client, email="one.more@example.org")).status_code == 303


async def test_a_practitioner_lands_on_what_they_came_for_and_sees_your_application(
    client: httpx.AsyncClient,
) -> None:
    await make_user(Role.practitioner, "pat@example.org")
    headers = await csrf_headers(client)
    signed_in = await client.post(
        "/sign-in", data={"email": "pat@example.org", "password": PASSWORD}, headers=headers
    )
    assert signed_in.headers["location"] == "/apply"
    account = await users.find_account_by_email("pat@example.org")
    assert account is not None
    await workflow.start(account.id, ApplicationKind.initial)
    again = await client.post(
        "/sign-in", data={"email": "pat@example.org", "password": PASSWORD}, headers=headers
    )
    assert again.headers["location"] == "/your-application"
    page = await client.get("/apply", headers={"accept": "text/html"})
    navigation = re.search(r"<nav[^>]*service-navigation.*?</nav>", page.text, re.S)
    assert navigation is not None
    assert "Your application" in navigation.group(0)
    assert "Your registration" not in navigation.group(0)


async def test_the_create_account_page_is_linked_from_sign_in_and_the_start_page(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/", "/sign-in"):
        page = await client.get(path, headers={"accept": "text/html"})
        assert 'href="/create-account"' in page.text, path
