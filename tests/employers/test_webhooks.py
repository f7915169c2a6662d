"""Watchlist events: every kind of register change reaches a watching organisation's real
loopback receiver once per event, signed, through the outbox; and again after it fails twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from registry.config import Settings
from registry.core import clock
from registry.employers import watchlists, webhooks
from registry.employers.tables import WebhookEvent
from registry.notifications.tables import MessageKind, MessageStatus, OutboxMessage
from registry.register import hooks, numbers, renewals, service
from registry.register.hooks import Restriction, RestrictionKind
from registry.register.tables import NumberSequence, RegisterEntry
from tests.employers.helpers import Employer, employer, verified
from tests.notifications.helpers import drain
from tests.notifications.receivers import WebhookReceiver, free_port, webhook_receiver
from tests.register.helpers import put_on_register

WEBHOOK = OutboxMessage.kind == MessageKind.webhook.value
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as running:
        yield running


def development(settings: Settings) -> Settings:
    return settings.model_copy(update={"environment": "development"})


async def endpoint(north: Employer, url: str, settings: Settings) -> str:
    _, secret = await watchlists.add_endpoint(
        north.organisation.id,
        url,
        environment="development",
        secret_key=settings.secret_key,
        by_user_id=None,
    )
    return secret


async def next_number() -> str:
    row = await NumberSequence.select(NumberSequence.next_value).first()
    assert row is not None
    return numbers.registration_number(int(row["next_value"]))


async def test_every_kind_of_change_reaches_the_receiver_once_signed(
    client: httpx.AsyncClient, settings: Settings, receiver: WebhookReceiver
) -> None:
    north = await employer()
    secret = await endpoint(north, receiver.url + "/hook", settings)
    number = await next_number()
    await watchlists.add(north.organisation.id, number)

    entry = await put_on_register("Ada", "Lovelace")  # what an approved application does
    assert entry.registration_number == number
    await service.move_entry(
        entry.id,
        service.EntryMove.renewal,
        reason="Renewed",
        values={RegisterEntry.registered_until: date(2028, 11, 30)},
    )
    await service.change_name(entry.id, "Ada", "Byron", reason="Marriage")

    async def suspended(entry_ids: object, on: date) -> dict[int, list[Restriction]]:
        cut = Restriction(
            RestrictionKind.interim_suspension, "Suspended", date(2026, 1, 1), None, "/d/1"
        )
        return {entry.id: [cut]}

    with hooks.extra_sources(restriction_sources=[suspended]):
        await service.refresh_entry(entry.id, date.today())
    await service.refresh_entry(entry.id, date.today())  # the order ends
    await service.move_entry(entry.id, service.EntryMove.voluntary_removal, reason="Retired")

    overdue = await put_on_register("Dan", "Eel", until=date(2025, 11, 30))
    await watchlists.add(north.organisation.id, overdue.registration_number)
    assert await renewals.lapse_overdue(date(2026, 12, 22), renewals.RenewalCalendar()) == 1

    unwatched = await put_on_register("Eve", "Fox")
    await service.move_entry(unwatched.id, service.EntryMove.voluntary_removal, reason="Left")

    await drain(development(settings))
    bodies = [verified(d, secret) for d in receiver.received("/hook")]
    assert [
        (b["registration_number"], b["previous_status"], b["status"], b["cause"]) for b in bodies
    ] == [
        (number, None, "registered", "created"),
        (number, "registered", "registered", "renewal"),
        (number, "registered", "registered", "name_changed"),
        (number, "registered", "suspended", None),
        (number, "suspended", "registered", None),
        (number, "registered", "voluntarily_removed", "voluntary_removal"),
        (overdue.registration_number, "registered", "lapsed", "lapse"),
    ]
    assert [b["type"] for b in bodies] == [
        "register.status_changed",
        "register.entry_updated",
        "register.entry_updated",
        "register.status_changed",
        "register.status_changed",
        "register.status_changed",
        "register.status_changed",
    ]
    assert len({b["id"] for b in bodies}) == len(bodies)
    assert set(bodies[0]) == {
        "id",
        "type",
        "occurred_at",
        "registration_number",
        "previous_status",
        "status",
        "cause",
    }
    await drain(development(settings))  # everything was sent: nothing goes twice
    assert receiver.count() == len(bodies)


async def test_a_change_that_rolls_back_tells_no_one(
    client: httpx.AsyncClient, settings: Settings, receiver: WebhookReceiver
) -> None:
    north = await employer()
    await endpoint(north, receiver.url + "/hook", settings)
    entry = await put_on_register("Ada", "Lovelace")
    await watchlists.add(north.organisation.id, entry.registration_number)
    with pytest.raises(Exception, match="already"):
        await service.move_entry(entry.id, service.EntryMove.restoration, reason="No")
    assert await OutboxMessage.count().where(WEBHOOK) == 0
    assert await WebhookEvent.count() == 0


async def test_an_event_the_receiver_refuses_twice_is_sent_again_and_logged(
    client: httpx.AsyncClient, settings: Settings, receiver: WebhookReceiver
) -> None:
    north = await employer()
    secret = await endpoint(north, receiver.url + "/hook", settings)
    entry = await put_on_register("Ada", "Lovelace")
    await watchlists.add(north.organisation.id, entry.registration_number)
    receiver.scripted["/hook"] = [500, 503]
    with clock.frozen_at(START) as advance:
        await service.move_entry(entry.id, service.EntryMove.voluntary_removal, reason="Retired")
        await drain(development(settings))
        advance(timedelta(minutes=2))
        await drain(development(settings))
        advance(timedelta(minutes=5))
        await drain(development(settings))
    bodies = [verified(d, secret, fresh=False) for d in receiver.received("/hook")]
    assert len(bodies) == 3
    assert len({b["id"] for b in bodies}) == 1  # the same event: the receiver drops repeats
    message = await OutboxMessage.select(OutboxMessage.status).where(WEBHOOK).first()
    assert message is not None
    assert message["status"] == MessageStatus.sent
    endpoint_id = (await watchlists.endpoints(north.organisation.id))[0].id
    log = await watchlists.delivery_log(north.organisation.id, endpoint_id)
    attempts = log[0].attempts
    # what the receiver really answered, each attempt timed, the refusals in words
    assert [a["status_code"] for a in attempts] == [500, 503, 204]
    assert [a["outcome"] for a in attempts] == ["failed", "failed", "sent"]
    assert all(isinstance(a["duration_ms"], int) and a["duration_ms"] >= 0 for a in attempts)
    assert [a["error"] for a in attempts] == [
        "The receiver answered 500 Internal Server Error",
        "The receiver answered 503 Service Unavailable",
        "",
    ]
    assert log[0].event_id == bodies[0]["id"]


async def test_a_receiver_that_never_answers_is_logged_without_a_status(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    north = await employer()
    await endpoint(north, f"http://127.0.0.1:{free_port()}/hook", settings)  # nothing listens
    endpoint_id = (await watchlists.endpoints(north.organisation.id))[0].id
    await webhooks.send_test(north.organisation.id, endpoint_id)
    await drain(development(settings))
    [attempt] = (await watchlists.delivery_log(north.organisation.id, endpoint_id))[0].attempts
    assert attempt["outcome"] == "failed"
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("Could not connect")
    assert isinstance(attempt["duration_ms"], int)


async def test_delivery_outside_development_refuses_a_loopback_address(
    client: httpx.AsyncClient, settings: Settings, receiver: WebhookReceiver
) -> None:
    north = await employer()
    await endpoint(north, receiver.url + "/hook", settings)  # registered in development
    entry = await put_on_register("Ada", "Lovelace")
    await watchlists.add(north.organisation.id, entry.registration_number)
    await service.move_entry(entry.id, service.EntryMove.voluntary_removal, reason="Retired")
    await drain(settings.model_copy(update={"environment": "production"}))
    assert receiver.count() == 0
    message = await OutboxMessage.select(OutboxMessage.last_error).where(WEBHOOK).first()
    assert message is not None
    assert "loopback" in message["last_error"]
