"""A practitioner's own registration page: what it shows, renewing, and leaving the register."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from registry.accounts.roles import Role
from registry.config import Settings
from registry.core import clock
from registry.errors import Conflict
from registry.register import hooks, service
from registry.register.applications import workflow
from registry.register.service import EntryMove
from registry.register.tables import ApplicationKind, EntryState, RegisterStatus, Renewal
from tests.accounts.helpers import make_user
from tests.register.applying import submitted_application
from tests.register.browsing import (
    csrf_field,
    error_summary,
    inline_error,
    post_form,
    signed_in,
    visible_text,
)
from tests.register.helpers import put_on_register, register_history
from tests.support import exempt_from_cpd

DEADLINE = date(2026, 11, 30)
IN_THE_WINDOW = datetime(2026, 10, 5, 10, tzinfo=UTC)
BEFORE_THE_WINDOW = datetime(2026, 8, 20, 10, tzinfo=UTC)
AFTER_THE_GRACE = datetime(2026, 12, 22, 10, tzinfo=UTC)


async def _practitioner(client: httpx.AsyncClient, *, until: date = DEADLINE) -> tuple[Any, Any]:
    account = await make_user(Role.practitioner, "pat@example.org")
    entry = await put_on_register("Pat", "Okafor", account_id=account.id, until=until)
    await exempt_from_cpd(entry.id)
    await signed_in(client, account)
    return account, entry


async def test_the_page_shows_the_practitioners_own_entry(client: httpx.AsyncClient) -> None:
    with clock.frozen_at(BEFORE_THE_WINDOW):
        _, entry = await _practitioner(client)
        page = await client.get("/your-registration")
    assert page.status_code == 200
    text = visible_text(page)
    for shown in (
        f"Registration number {entry.registration_number}",
        "Status Registered",
        "Registered until 30 November 2026",
        "Region London",
        "Renewal opens on 1 September 2026.",
    ):
        assert shown in text, shown
    assert f'href="/register/{entry.registration_number}"' in page.text
    assert 'href="/your-registration/leave"' in page.text
    assert "Renew your registration" not in text


async def test_without_an_entry_the_page_offers_to_apply_or_shows_the_application(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    account = await make_user(Role.practitioner, "new@example.org")
    await signed_in(client, account)
    page = await client.get("/your-registration")
    assert "You are not on the register" in page.text
    assert 'href="/apply"' in page.text
    record = await submitted_application(settings.data_dir, account)
    page = await client.get("/your-registration")
    assert f"Joining the register, {record.reference}: Submitted" in visible_text(page)
    assert 'href="/your-application"' in page.text


async def test_someone_elses_entry_is_never_shown(client: httpx.AsyncClient) -> None:
    owner = await make_user(Role.practitioner, "owner@example.org")
    entry = await put_on_register("Owner", "Person", account_id=owner.id)
    await signed_in(client, await make_user(Role.practitioner, "other@example.org"))
    page = await client.get("/your-registration")
    assert entry.registration_number not in page.text
    assert "You are not on the register" in page.text
    assert (await client.get("/your-registration/renew")).headers[
        "location"
    ] == "/your-registration"
    left = await client.post(
        "/your-registration/leave",
        data={"reason": "x", "confirm": "yes", "_csrf_token": client.cookies["registry_csrf"]},
    )
    assert left.status_code == 303
    assert (await service.get_entry(entry.id)).state is EntryState.registered


async def test_staff_cannot_use_the_practitioner_pages(client: httpx.AsyncClient) -> None:
    await signed_in(client, await make_user(Role.registrar, "rhea@example.org"))
    for path in ("/your-registration", "/your-registration/renew", "/your-registration/leave"):
        assert (await client.get(path)).status_code == 403


# --- renewing -----------------------------------------------------------------------------


async def test_a_practitioner_renews_declares_checks_and_is_renewed(
    client: httpx.AsyncClient,
) -> None:
    with clock.frozen_at(IN_THE_WINDOW):
        _account, entry = await _practitioner(client)
        page = await client.get("/your-registration")
        assert "Renew by 30 November 2026" in visible_text(page)
        assert 'href="/your-registration/renew"' in page.text

        empty = await post_form(client, "/your-registration/renew", {"action": "check"})
        assert empty.status_code == 422
        assert error_summary(empty) == [
            "Select yes if you have a conviction or caution to declare",
            "Select yes if you have a health condition to declare",
        ]
        no_details = await post_form(
            client,
            "/your-registration/renew",
            {"character_declaration": "yes", "health_declaration": "no"},
        )
        assert error_summary(no_details) == ["Give the details of what you are declaring"]
        assert inline_error(no_details, "character_details") == (
            "Error: Give the details of what you are declaring"
        )

        answers = {
            "character_declaration": "yes",
            "character_details": 'A caution in 2019 for "affray"',
            "health_declaration": "no",
            "health_details": "ignored when the answer is no",
        }
        check = await post_form(client, "/your-registration/renew", answers)
        assert check.status_code == 200
        assert "Check your declarations before renewing" in check.text
        assert 'value="A caution in 2019 for &#34;affray&#34;"' in check.text
        assert "ignored when" not in check.text
        change = await post_form(
            client, "/your-registration/renew", {**answers, "action": "change"}
        )
        assert "A caution in 2019" in change.text
        assert 'name="action" value="check"' in change.text
        assert await Renewal.count() == 0

        done = await post_form(client, "/your-registration/renew", {**answers, "action": "confirm"})
        assert done.status_code == 303
        assert done.headers["location"] == "/your-registration/renewed"
        renewed = await client.get("/your-registration/renewed")
        assert "You are registered until 30 November 2027" in visible_text(renewed)
        page = await client.get("/your-registration")
        assert "You have renewed for this year" in page.text
    [renewal] = await Renewal.select()
    assert renewal["character_declaration"] is True
    assert renewal["character_details"] == 'A caution in 2019 for "affray"'
    assert renewal["health_details"] == ""
    public = await service.public_document(entry.registration_number)
    assert '"registered_until":"2027-11-30"' in public.json


@pytest.mark.parametrize(
    ("moment", "reason"),
    [
        (BEFORE_THE_WINDOW, "Renewal opens on 1 September 2026."),
        (AFTER_THE_GRACE, "The time to renew has passed. Apply for restoration instead."),
    ],
)
async def test_renewal_outside_the_window_is_refused(
    client: httpx.AsyncClient, moment: datetime, reason: str
) -> None:
    with clock.frozen_at(moment):
        _, entry = await _practitioner(client)
        page = await client.get("/your-registration")
        assert reason in visible_text(page)
        assert (await client.get("/your-registration/renew")).headers[
            "location"
        ] == "/your-registration"
        refused = await client.post(
            "/your-registration/renew",
            data={
                "character_declaration": "no",
                "health_declaration": "no",
                "action": "confirm",
                "_csrf_token": client.cookies["registry_csrf"],
            },
        )
        assert refused.status_code == 409
        assert error_summary(refused) == [reason]
    assert await Renewal.count() == 0
    assert (await service.get_entry(entry.id)).public.registered_until == DEADLINE


async def test_a_renewal_without_its_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    with clock.frozen_at(IN_THE_WINDOW):
        await _practitioner(client)
        await client.get("/your-registration")
        forged = await client.post(
            "/your-registration/renew",
            data={"character_declaration": "no", "health_declaration": "no", "action": "confirm"},
        )
    assert forged.status_code == 403
    assert await Renewal.count() == 0


# --- leaving ------------------------------------------------------------------------------


async def test_a_practitioner_leaves_the_register(client: httpx.AsyncClient) -> None:
    _, entry = await _practitioner(client)
    empty = await post_form(client, "/your-registration/leave", {})
    assert empty.status_code == 422
    assert error_summary(empty) == [
        "Tell us why you are leaving the register",
        "Confirm that you understand you must not practise once you leave",
    ]
    assert inline_error(empty, "confirm") == (
        "Error: Confirm that you understand you must not practise once you leave"
    )
    assert (await service.get_entry(entry.id)).state is EntryState.registered
    left = await post_form(
        client, "/your-registration/leave", {"reason": "Retiring", "confirm": "yes"}
    )
    assert left.status_code == 303
    page = await client.get(left.headers["location"])
    assert "You have left the register" in page.text
    assert "Status Voluntarily removed" in visible_text(page)
    assert 'href="/apply/restoration"' in page.text
    after = await service.get_entry(entry.id)
    assert after.status is RegisterStatus.voluntarily_removed
    assert [h.reason for h in await register_history(entry.id)][-2] == "Retiring"
    assert (await client.get("/your-registration/leave")).status_code == 303


async def test_a_removed_practitioner_cannot_leave_to_escape_the_bar_on_restoration(
    client: httpx.AsyncClient,
) -> None:
    """Leaving is for a registered practitioner: someone removed by a fitness to practise
    decision who could leave would become voluntarily removed and could apply at once."""
    account, entry = await _practitioner(client)
    form = await client.get("/your-registration/leave")  # opened while still registered
    await service.move_entry(entry.id, EntryMove.removal, reason="Decision FTP-7")
    refused = await client.post(
        "/your-registration/leave",
        data={"reason": "Moving on", "confirm": "yes", "_csrf_token": csrf_field(form)},
    )
    assert refused.status_code == 409
    assert error_summary(refused) == [
        f"{entry.registration_number} is removed, so it cannot be voluntarily removed."
    ]
    after = await service.get_entry(entry.id)
    assert (after.state, after.version) == (EntryState.removed, entry.version + 1)
    assert [h.reason for h in await register_history(entry.id)][-2] == "Decision FTP-7"
    with pytest.raises(Conflict, match="cannot apply for restoration until"):
        await workflow.start(account.id, ApplicationKind.restoration)


@pytest.fixture
def open_concern() -> Iterator[None]:
    async def always_open(practitioner_id: int) -> bool:
        return True

    with hooks.extra_sources(concern_sources=[always_open]):
        yield


async def test_leaving_is_refused_while_a_concern_is_open(
    client: httpx.AsyncClient, open_concern: None
) -> None:
    _, entry = await _practitioner(client)
    refused = await post_form(
        client, "/your-registration/leave", {"reason": "Moving on", "confirm": "yes"}
    )
    assert refused.status_code == 409
    assert error_summary(refused) == [
        "You cannot leave the register while a concern or fitness to practise case about you "
        "is open. Contact your caseworker."
    ]
    assert (await service.get_entry(entry.id)).state is EntryState.registered


async def test_leaving_without_the_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    _, entry = await _practitioner(client)
    await client.get("/your-registration")
    forged = await client.post(
        "/your-registration/leave", data={"reason": "Forged", "confirm": "yes"}
    )
    assert forged.status_code == 403
    assert (await service.get_entry(entry.id)).state is EntryState.registered
