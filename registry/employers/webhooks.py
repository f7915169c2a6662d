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
from datetime import UTC
from typing import Any

from registry.core import clock
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

_WATCHING_ENDPOINTS = (
    "SELECT e.id, e.url, e.secret_sealed FROM employer_webhook_endpoint e"
    " JOIN employer_watch w ON w.organisation = e.organisation"
    " WHERE w.registration_number = {} ORDER BY e.id"
)


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
    organisations = await Watch.select(Watch.organisation).where(
        Watch.registration_number == change.registration_number
    )
    if not organisations:
        return
    occurred_at = change.changed_at.astimezone(UTC)
    await WatchChange.insert(
        *[
            WatchChange(
                organisation=row["organisation"],
                registration_number=change.registration_number,
                occurred_at=occurred_at,
                event_type=event_type(change),
                previous_status=change.previous_status or "",
                status=change.status,
                cause=change.cause or "",
            )
            for row in organisations
        ]
    )
    watching = await WebhookEndpoint.raw(_WATCHING_ENDPOINTS, change.registration_number)
    payload = {
        "type": event_type(change),
        "occurred_at": occurred_at.isoformat(),
        "registration_number": change.registration_number,
        "previous_status": change.previous_status or None,
        "status": change.status,
        "cause": change.cause or None,
    }
    for endpoint in watching:
        await queue_event(endpoint, payload)


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
