"""Reset links and invitations go out through the outbox, with the change that makes them."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from litestar import Litestar

from registry.accounts import password_changes, password_links, sign_in, users
from registry.accounts.roles import Role
from registry.accounts.tables import PasswordResetToken
from registry.config import Settings
from registry.core import clock
from registry.errors import Conflict, InvalidInput
from registry.notifications import emails
from registry.notifications.tables import OutboxMessage
from tests.accounts.helpers import PASSWORD, make_user


async def _only_email_to(address: str) -> dict[str, object]:
    rows = await OutboxMessage.select().where(OutboxMessage.recipient == address)
    assert len(rows) == 1, rows
    return dict(rows[0])


def _token_in(settings: Settings, row: dict[str, object]) -> str:
    text, _ = emails.render(str(row["template"]), _body(row), settings)
    link = next(line for line in text.splitlines() if "/reset-password?" in line)
    assert link.startswith(settings.base_url + "/reset-password?")
    return parse_qs(urlsplit(link).query)["token"][0]


async def test_a_reset_request_queues_an_email_whose_link_resets_the_password(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    account = await make_user(Role.practitioner, "pat@example.org")
    await password_links.request_password_reset("Pat@Example.org")
    row = await _only_email_to("pat@example.org")
    assert row["template"] == "password_reset"
    assert row["subject"] == "Reset your password"

    await password_changes.reset_password(_token_in(settings, row), "a fresh long passphrase")
    assert (await sign_in.authenticate("pat@example.org", "a fresh long passphrase", "")).id == (
        account.id
    )


async def test_no_email_for_an_unknown_or_deactivated_address(client: httpx.AsyncClient) -> None:
    gone = await make_user(Role.practitioner, "gone@example.org")
    await users.set_active(gone.id, False)
    assert await password_links.request_password_reset("nobody@example.org") is None
    assert await password_links.request_password_reset("gone@example.org") is None
    assert await OutboxMessage.count() == 0


async def test_an_invitation_queues_an_email_with_a_link_good_for_a_week(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    with clock.frozen_at(clock.now()) as advance:
        account = await users.invite_user(
            "new.registrar@regulator.example",
            "Noor Registrar",
            [Role.registrar, Role.cpd_assessor],
            invited_by="Ada Okafor",
        )
        row = await _only_email_to("new.registrar@regulator.example")
        assert row["template"] == "invitation"
        text, html = emails.render("invitation", _body(row), settings)
        assert "Ada Okafor has given you an account" in text
        assert "with these roles: CPD assessor, Registrar." in text
        assert "href=" in html

        advance(timedelta(days=6, hours=23))
        await password_changes.reset_password(_token_in(settings, row), PASSWORD)
    assert (await sign_in.authenticate(account.email, PASSWORD, "")).id == account.id


async def test_an_invitation_link_runs_out_after_a_week(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    with clock.frozen_at(clock.now()) as advance:
        await users.invite_user(
            "late@regulator.example", "Lee Late", [Role.caseworker], invited_by="Ada Okafor"
        )
        token = _token_in(settings, await _only_email_to("late@regulator.example"))
        advance(timedelta(days=7, minutes=1))
        with pytest.raises(InvalidInput):
            await password_changes.reset_password(token, PASSWORD)


async def test_a_refused_invitation_queues_nothing(client: httpx.AsyncClient) -> None:
    await make_user(Role.caseworker, "taken@regulator.example")
    with pytest.raises(Conflict):
        await users.invite_user(
            "Taken@regulator.example", "Someone Else", [Role.registrar], invited_by="Ada Okafor"
        )
    assert await OutboxMessage.count() == 0


async def test_no_reset_token_for_an_unknown_address(client: httpx.AsyncClient) -> None:
    assert await password_links.request_password_reset("nobody@example.org") is None
    assert await PasswordResetToken.count() == 0


def _body(row: dict[str, object]) -> dict[str, object]:
    return dict(json.loads(str(row["body"])))


async def test_the_forgotten_password_answer_is_sent_before_any_link_is_made(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    """Known and unknown addresses take different work; the answer goes before it, so its time
    says nothing about which addresses have accounts."""
    await make_user(Role.practitioner, "pat@example.org")
    await client.get("/forgotten-password")
    csrf = client.cookies["registry_csrf"]
    links_when_answered: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"email=pat%40example.org", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            links_when_answered.append(await PasswordResetToken.count())

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/forgotten-password",
        "raw_path": b"/forgotten-password",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver.local"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"cookie", f"registry_csrf={csrf}".encode()),
            (b"x-csrftoken", csrf.encode()),
        ],
        "client": ("192.0.2.1", 50000),
        "server": ("testserver.local", 80),
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    assert links_when_answered == [0]
    assert await PasswordResetToken.count() == 1  # and the link was made after it
