"""Watchlist events: the register's change subscriber that, for every organisation watching the
changed entry's number, records the change for its daily digest (endpoints or none) and queues
one signed webhook event per endpoint in the outbox, in the transaction of the change (so a
change that rolls back tells no one).

The body is ``{id, type, occurred_at, registration_number, previous_status, status, cause}``;
the outbox sends it as it is with ``X-Registry-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret,
t + "." + body)>``, retrying with back-off until the receiver answers 2xx, so a receiver may see
an event more than once and drops repeats by ``id``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from registry.core import clock
from registry.core.bulk import marks
from registry.db import transaction
from registry.employers import watchlists
from registry.employers.tables import Watch, WatchChange, WebhookEndpoint, WebhookEvent
from registry.notifications import service as outbox
from registry.notifications.delivery import SIGNED_V1
from registry.notifications.tables import OutboxMessage
from registry.register import hooks

STATUS_CHANGED = "register.status_changed"
ENTRY_UPDATED = "register.entry_updated"
TEST_EVENT = "test"


def event_type(change: hooks.EntryChange) -> str:
    return STATUS_CHANGED if change.status != change.previous_status else ENTRY_UPDATED


async def queue_event(endpoint: dict[str, Any], payload: dict[str, Any]) -> str:
    """Queue ``payload`` (given a fresh id) for one endpoint and log it; the event id."""
    event_id = "evt_" + secrets.token_hex(16)
    body = {"id": event_id, **payload}
    key = f"employer-webhook:{event_id}"
    await outbox.queue_webhook(
        endpoint["url"],
        body["type"],
        body,
        key=key,
        signing_key=endpoint["secret_sealed"],
        style=SIGNED_V1,
    )
    message = (
        await OutboxMessage.select(OutboxMessage.id)
        .where(OutboxMessage.idempotency_key == key)
        .first()
    )
    await WebhookEvent.insert(
        WebhookEvent(
            endpoint=endpoint["id"],
            event_id=event_id,
            event_type=body["type"],
            registration_number=body["registration_number"],
            occurred_at=clock.now().astimezone(UTC),
            message=message["id"] if message else None,
        )
    )
    return event_id


async def entry_changed(change: hooks.EntryChange) -> None:
    """The register's change subscriber: the change kept for each watching organisation's
    digest, and one event per endpoint of each."""
    await entries_changed([change])


def _payload(change: hooks.EntryChange) -> dict[str, Any]:
    return {
        "type": event_type(change),
        "occurred_at": change.changed_at.astimezone(UTC).isoformat(),
        "registration_number": change.registration_number,
        "previous_status": change.previous_status or None,
        "status": change.status,
        "cause": change.cause or None,
    }


async def entries_changed(changes: Sequence[hooks.EntryChange]) -> None:
    """:func:`entry_changed` for a batch (an import's): who watches any of the numbers, and
    their endpoints, looked up once per 500 numbers; each change kept for each watching
    organisation's digest and queued for each of its endpoints, in order."""
    numbers = sorted({change.registration_number for change in changes})
    watchers: dict[str, list[int]] = {}
    endpoints: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        watched = await Watch.select(Watch.registration_number, Watch.organisation).where(
            Watch.registration_number.is_in(chunk)
        )
        if not watched:
            continue  # most changes: nobody watches, and one read says so
        for row in watched:
            watchers.setdefault(row["registration_number"], []).append(row["organisation"])
        watched_in = f"w.registration_number IN ({marks(len(chunk))})"
        rows = await WebhookEndpoint.raw(
            "SELECT w.registration_number AS watched, e.id, e.url, e.secret_sealed"  # noqa: S608
            " FROM employer_webhook_endpoint e"
            " JOIN employer_watch w ON w.organisation = e.organisation"
            f" WHERE {watched_in} ORDER BY e.id",
            *chunk,
        )
        for row in rows:
            endpoints.setdefault(row.pop("watched"), []).append(row)
    kept = [
        WatchChange(
            organisation=organisation,
            registration_number=change.registration_number,
            occurred_at=change.changed_at.astimezone(UTC),
            event_type=event_type(change),
            previous_status=change.previous_status or "",
            status=change.status,
            cause=change.cause or "",
        )
        for change in changes
        for organisation in watchers.get(change.registration_number, [])
    ]
    if kept:
        await WatchChange.insert(*kept)
    for change in changes:
        for endpoint in endpoints.get(change.registration_number, []):
            await queue_event(endpoint, _payload(change))


async def send_test(organisation_id: int, endpoint_id: int) -> str:
    """Queue a test event for one of the organisation's endpoints; its id."""
    async with transaction():
        endpoint = await watchlists.own_endpoint(organisation_id, endpoint_id)
        payload = {
            "type": TEST_EVENT,
            "occurred_at": clock.now().astimezone(UTC).isoformat(),
            "registration_number": "",
            "previous_status": None,
            "status": None,
            "cause": None,
        }
        return await queue_event(endpoint, payload)
