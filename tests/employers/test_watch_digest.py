"""The daily digest: one email a day to each administrator listing the day's changes to watched
numbers, once per change however many endpoints it went to; queued once however often it runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from registry.config import Settings
from registry.core import clock
from registry.employers import watch_digest, watchlists, webhooks
from registry.notifications.tables import OutboxMessage
from registry.register import service
from tests.employers.helpers import employer
from tests.notifications.helpers import body_of, drain
from tests.notifications.receivers import smtp_server
from tests.register.helpers import put_on_register

START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


async def test_the_digest_lists_each_change_once_and_is_queued_once(
    client: httpx.AsyncClient,
) -> None:
    north = await employer()
    for port in (9, 10):
        await watchlists.add_endpoint(
            north.organisation.id,
            f"http://127.0.0.1:{port}/hook",
            environment="development",
            secret_key="k" * 32,
            by_user_id=None,
        )
    entry = await put_on_register("Ada", "Lovelace")
    await watchlists.add(north.organisation.id, entry.registration_number)
    with clock.frozen_at(START):
        await service.move_entry(entry.id, service.EntryMove.voluntary_removal, reason="Left")
        endpoint_id = (await watchlists.endpoints(north.organisation.id))[0].id
        await webhooks.send_test(north.organisation.id, endpoint_id)
    assert await watch_digest.queue_digests(START.date()) == 1
    assert await watch_digest.queue_digests(START.date()) == 0
    assert await watch_digest.queue_digests(START.date() - timedelta(days=1)) == 0
    row = (
        await OutboxMessage.select().where(OutboxMessage.template == watch_digest.TEMPLATE).first()
    )
    assert row is not None
    assert row["recipient"] == "admin@north.example.org"
    context = json.loads(row["body"])
    assert context["count"] == 1
    assert context["changes"][0]["status"] == "voluntarily_removed"


async def test_an_organisation_with_no_endpoint_gets_its_digest_by_email(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """The digest is the organisation's news whether or not it has a webhook endpoint: sent
    through a real SMTP server, it names the number and its new status."""
    south = await employer("Southern Trust", "south")
    entry = await put_on_register("Ada", "Lovelace")
    await watchlists.add(south.organisation.id, entry.registration_number)
    with clock.frozen_at(START):
        await service.move_entry(entry.id, service.EntryMove.voluntary_removal, reason="Left")
    assert await watchlists.endpoints(south.organisation.id) == []

    assert await watch_digest.queue_digests(START.date()) == 1
    with smtp_server() as (mailbox, smtp_url):
        await drain(settings.model_copy(update={"smtp_url": smtp_url}))
        [email] = [
            m for m in mailbox.to("admin@south.example.org") if "watched" in str(m["Subject"])
        ]
    assert email["Subject"] == "Changes to your watched registrations on 1 June 2026"
    text = body_of(email)
    assert entry.registration_number in text
    assert "Registered -> Voluntarily removed (voluntary removal)" in text
