"""The outbox page: staff see what went, what waits and what gave up, and can retry the last."""

from __future__ import annotations

import httpx

from registry.accounts.roles import Role
from registry.audit.service import search
from registry.notifications import service
from registry.notifications.tables import MessageStatus, OutboxMessage
from tests.accounts.helpers import csrf_headers, user_signed_in_as
from tests.notifications.helpers import only_message

HTML = {"accept": "text/html"}


async def _queue_three() -> list[int]:
    for number in range(3):
        await service.queue_webhook(
            f"https://employer.example/hooks/{number}",
            "register.status_changed",
            {"number": number},
            key=f"hook:{number}",
        )
    rows = await OutboxMessage.select(OutboxMessage.id).order_by(OutboxMessage.id)
    return [row["id"] for row in rows]


async def _give_up(message_id: int) -> None:
    await OutboxMessage.update(
        {
            OutboxMessage.status: MessageStatus.dead.value,
            OutboxMessage.attempts: 10,
            OutboxMessage.last_error: "The receiver answered 500 Internal Server Error",
        }
    ).where(OutboxMessage.id == message_id)


async def test_staff_see_counts_and_filter_by_status(client: httpx.AsyncClient) -> None:
    registrar = await user_signed_in_as(Role.registrar)
    first, second, _ = await _queue_three()
    await _give_up(first)
    await OutboxMessage.update({OutboxMessage.status: MessageStatus.sent.value}).where(
        OutboxMessage.id == second
    )
    client.cookies.set("registry_session", registrar.session_token)

    everything = await client.get("/outbox", headers=HTML)
    assert everything.status_code == 200
    assert '<strong id="count-dead">1</strong>' in everything.text
    assert '<strong id="count-sent">1</strong>' in everything.text
    assert '<strong id="count-pending">1</strong>' in everything.text
    assert "3 messages" in everything.text

    dead = await client.get("/outbox", params={"status": "dead"}, headers=HTML)
    assert "1 message<" in dead.text
    assert "https://employer.example/hooks/0" in dead.text
    assert "https://employer.example/hooks/1" not in dead.text


async def test_an_unknown_status_filter_is_refused(client: httpx.AsyncClient) -> None:
    registrar = await user_signed_in_as(Role.registrar)
    client.cookies.set("registry_session", registrar.session_token)
    response = await client.get("/outbox", params={"status": "lost"}, headers=HTML)
    assert response.status_code == 422
    assert "status" in response.text


async def test_a_dead_message_shows_its_error_and_can_be_retried(
    client: httpx.AsyncClient,
) -> None:
    registrar = await user_signed_in_as(Role.registrar)
    first, *_ = await _queue_three()
    await _give_up(first)
    client.cookies.set("registry_session", registrar.session_token)

    page = await client.get(f"/outbox/{first}", headers=HTML)
    assert page.status_code == 200
    assert "Gave up" in page.text
    assert "The receiver answered 500 Internal Server Error" in page.text
    assert "Retry now" in page.text

    headers = {**HTML, **await csrf_headers(client)}
    retried = await client.post(f"/outbox/{first}/retry", headers=headers)
    assert retried.status_code == 303
    row = await only_message(id=first)
    assert row["status"] == MessageStatus.pending
    assert row["attempts"] == 0
    trail = await search(action="notifications.message_retried")
    assert trail.total == 1
    assert trail.entries[0].actor_label == registrar.account.email

    again = await client.post(f"/outbox/{first}/retry", headers=headers)
    assert again.status_code == 409
    assert "Only a message that has run out of attempts can be retried by hand" in again.text


async def test_retry_without_a_csrf_token_changes_nothing(client: httpx.AsyncClient) -> None:
    registrar = await user_signed_in_as(Role.registrar)
    first, *_ = await _queue_three()
    await _give_up(first)
    client.cookies.set("registry_session", registrar.session_token)
    response = await client.post(f"/outbox/{first}/retry", headers=HTML)
    assert response.status_code == 403
    row = await only_message(id=first)
    assert row["status"] == MessageStatus.dead


async def test_an_unknown_message_is_not_found(client: httpx.AsyncClient) -> None:
    registrar = await user_signed_in_as(Role.registrar)
    client.cookies.set("registry_session", registrar.session_token)
    response = await client.get("/outbox/999999", headers=HTML)
    assert response.status_code == 404
    assert "There is no message 999999 in the outbox" in response.text


async def test_practitioners_cannot_see_the_outbox(client: httpx.AsyncClient) -> None:
    practitioner = await user_signed_in_as(Role.practitioner)
    client.cookies.set("registry_session", practitioner.session_token)
    assert (await client.get("/outbox", headers=HTML)).status_code == 403
