"""The daily digest: one email a day to each administrator listing the day's changes to watched
numbers, once per change however many endpoints it went to; queued once however often it runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from registry.core import clock
from registry.employers import watch_digest, watchlists, webhooks
from registry.notifications.tables import OutboxMessage
from registry.register import service
from tests.employers.helpers import employer
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
