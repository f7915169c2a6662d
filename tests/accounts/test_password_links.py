"""Reset links and invitations go out through the outbox, with the change that makes them."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from registry.accounts import service
from registry.accounts.roles import Role
from registry.config import Settings
from registry.core import clock
from registry.errors import Conflict, InvalidInput
from registry.notifications import emails
from registry.notifications.tables import OutboxMessage
from tests.accounts.helpers import PASSWORD, make_user, user_signed_in_as


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
    await service.request_password_reset("Pat@Example.org")
    row = await _only_email_to("pat@example.org")
    assert row["template"] == "password_reset"
    assert row["subject"] == "Reset your password"

    await service.reset_password(_token_in(settings, row), "a fresh long passphrase")
    assert (await service.authenticate("pat@example.org", "a fresh long passphrase", "")).id == (
        account.id
    )


async def test_no_email_for_an_unknown_or_deactivated_address(client: httpx.AsyncClient) -> None:
    gone = await make_user(Role.practitioner, "gone@example.org")
    await service.set_active(gone.id, False)
    assert await service.request_password_reset("nobody@example.org") is None
    assert await service.request_password_reset("gone@example.org") is None
    assert await OutboxMessage.count() == 0


async def test_an_invitation_queues_an_email_with_a_link_good_for_a_week(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    with clock.frozen_at(clock.now()) as advance:
        account = await service.invite_user(
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
        await service.reset_password(_token_in(settings, row), PASSWORD)
    assert (await service.authenticate(account.email, PASSWORD, "")).id == account.id


async def test_an_invitation_link_runs_out_after_a_week(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    with clock.frozen_at(clock.now()) as advance:
        await service.invite_user(
            "late@regulator.example", "Lee Late", [Role.caseworker], invited_by="Ada Okafor"
        )
        token = _token_in(settings, await _only_email_to("late@regulator.example"))
        advance(timedelta(days=7, minutes=1))
        with pytest.raises(InvalidInput):
            await service.reset_password(token, PASSWORD)


async def test_a_refused_invitation_queues_nothing(client: httpx.AsyncClient) -> None:
    await make_user(Role.caseworker, "taken@regulator.example")
    with pytest.raises(Conflict):
        await service.invite_user(
            "Taken@regulator.example", "Someone Else", [Role.registrar], invited_by="Ada Okafor"
        )
    assert await OutboxMessage.count() == 0


async def test_reactivation_does_not_bring_old_tokens_back(client: httpx.AsyncClient) -> None:
    signed_in = await user_signed_in_as(Role.practitioner)
    await service.set_active(signed_in.account.id, False)
    await service.set_active(signed_in.account.id, True)
    assert await service.account_for_api_token(signed_in.api_token) is None
    [token] = await service.list_api_tokens(signed_in.account.id)
    assert token.revoked_at is not None


async def test_an_admin_cannot_take_away_their_own_admin_role(client: httpx.AsyncClient) -> None:
    admin = await make_user(Role.admin)
    with pytest.raises(Conflict, match="own admin role"):
        await service.set_roles(admin.id, [Role.registrar], by_user_id=admin.id)
    assert (await service.get_account(admin.id)).roles == {Role.admin}
    other = await make_user(Role.admin, "other.admin@regulator.example")
    await service.set_roles(admin.id, [Role.registrar], by_user_id=other.id)
    assert (await service.get_account(admin.id)).roles == {Role.registrar}


async def test_a_refused_change_of_roles_and_status_together_changes_neither(
    client: httpx.AsyncClient,
) -> None:
    admin = await make_user(Role.admin)
    with pytest.raises(Conflict):
        await service.update_user(
            admin.id, roles=[Role.registrar], active=False, by_user_id=admin.id
        )
    account = await service.get_account(admin.id)
    assert account.active
    assert account.roles == {Role.admin}


def _body(row: dict[str, object]) -> dict[str, object]:
    return dict(json.loads(str(row["body"])))
