"""Watchlists: an organisation's list of its staff's registration numbers, and the webhook
endpoints told of every change to a watched entry (see :mod:`registry.employers.webhooks`).

Numbers are read with the bulk check's parser (:func:`checks._parse_all`), so a number that a
check answers as malformed is refused here with the same words. The organisation is always the
caller's own (its key's, or its member's), so another organisation's list or endpoint is never
in reach: an endpoint id of another organisation is answered as not found. No HTTP here.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from registry.audit import service as audit
from registry.core import clock, secretbox
from registry.db import transaction
from registry.employers import checks, keys, organisations
from registry.employers.tables import Watch, WebhookEndpoint, WebhookEvent
from registry.errors import InvalidInput, NotFound
from registry.notifications.delivery import Resolver, private_address_reason, system_resolver
from registry.notifications.tables import DeliveryAttempt

MAX_WATCHED = checks.MAX_NUMBERS
MAX_ENDPOINTS = 10
MAX_URL = 2048
SECRET_PREFIX = "whsec_"  # noqa: S105 - the visible start of each secret, not a secret
WATCH_TARGET = "employer_watch"
ENDPOINT_TARGET = "employer_webhook_endpoint"
NO_ENDPOINT = "Your organisation has no webhook endpoint with that id"


async def organisation_of(user: Any) -> int:
    """The caller's organisation: its key's (the call counted against the key's limit) or
    the member's (NotFound for an employer in none)."""
    if isinstance(user, keys.KeyHolder):
        await keys.take_call(user)
        return user.organisation_id
    membership = await organisations.require_membership(user.id)
    return membership.organisation.id


def read_number(number: str) -> str:
    """The stored form of one number, or InvalidInput saying what is wrong with it."""
    (stored, problem), *_ = checks._parse_all([number])
    if stored is None:
        raise InvalidInput(str(problem), field="registration_number")
    return stored


def too_many(count: int) -> InvalidInput:
    """A list longer than a watchlist holds: a 422 naming the limit (413 is for a request too
    large in bytes; this one was read, and its content is what is refused)."""
    return InvalidInput(
        f"A watchlist holds at most {MAX_WATCHED:,} numbers; this list has {count:,}. "
        "Take off the numbers of people who no longer work for you and try again.",
        field="registration_numbers",
    )


def read_numbers(inputs: Sequence[str]) -> list[str]:
    """The stored form of each number, in order, duplicates once; InvalidInput naming the
    first bad one (by its line) and the reason, or the limit if there are too many."""
    if len(inputs) > MAX_WATCHED:
        raise too_many(len(inputs))
    found: dict[str, None] = {}
    for line, (number, problem) in enumerate(checks._parse_all(list(inputs)), start=1):
        if number is None:
            raise InvalidInput(f"Line {line}: {problem}", field="registration_numbers")
        found[number] = None
    return list(found)


# --- the list ---------------------------------------------------------------------------------


async def watched(organisation_id: int) -> list[dict[str, Any]]:
    return list(
        await Watch.select(Watch.registration_number, Watch.added_at)
        .where(Watch.organisation == organisation_id)
        .order_by(Watch.registration_number)
    )


async def add(organisation_id: int, number: str) -> str:
    """Watch one more number (already watched: nothing changes); its stored form."""
    stored = read_number(number)
    async with transaction():
        exists = await Watch.exists().where(
            (Watch.organisation == organisation_id) & (Watch.registration_number == stored)
        )
        if not exists:
            count = await Watch.count().where(Watch.organisation == organisation_id)
            if count >= MAX_WATCHED:
                raise InvalidInput(
                    f"A watchlist holds at most {MAX_WATCHED:,} numbers",
                    field="registration_number",
                )
            await Watch.insert(
                Watch(
                    organisation=organisation_id,
                    registration_number=stored,
                    added_at=clock.now().astimezone(UTC),
                )
            )
            await audit.record(
                "employers.watch_added", WATCH_TARGET, organisation_id, after={"number": stored}
            )
    return stored


async def remove(organisation_id: int, number: str) -> None:
    """Stop watching a number; NotFound if it is not on the list."""
    try:
        stored = read_number(number)
    except InvalidInput:
        raise NotFound("That number is not on your watchlist") from None
    async with transaction():
        gone = (
            await Watch.delete()
            .where((Watch.organisation == organisation_id) & (Watch.registration_number == stored))
            .returning(Watch.id)
        )
        if not gone:
            raise NotFound("That number is not on your watchlist")
        await audit.record(
            "employers.watch_removed", WATCH_TARGET, organisation_id, before={"number": stored}
        )


async def replace(organisation_id: int, inputs: Sequence[str]) -> int:
    """The whole list becomes ``inputs`` (all well formed, or nothing changes); how many."""
    wanted = read_numbers(inputs)
    moment = clock.now().astimezone(UTC)
    async with transaction():
        before = await Watch.count().where(Watch.organisation == organisation_id)
        await Watch.delete().where(Watch.organisation == organisation_id)
        if wanted:
            await Watch.insert(
                *[
                    Watch(organisation=organisation_id, registration_number=n, added_at=moment)
                    for n in wanted
                ]
            )
        await audit.record(
            "employers.watchlist_replaced",
            WATCH_TARGET,
            organisation_id,
            before={"count": before},
            after={"count": len(wanted), "list_sha256": checks._sha256(wanted)},
        )
    return len(wanted)


# --- endpoints --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    id: int
    url: str
    created_at: datetime


def check_url(url: str, environment: str, resolver: Resolver = system_resolver) -> str:
    """The URL, or InvalidInput: https (http too in development), a host, no credentials, and,
    outside development, no host resolving to a private, loopback or link-local address."""
    url = url.strip()
    if not url or len(url) > MAX_URL or any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise InvalidInput(f"Give an address of {MAX_URL} characters or fewer", field="url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise InvalidInput("That is not a web address", field="url") from None
    development = environment == "development"
    allowed = ("https", "http") if development else ("https",)
    if parts.scheme not in allowed or not parts.hostname:
        raise InvalidInput("A webhook address must start with https://", field="url")
    if parts.username or parts.password:
        raise InvalidInput("Put no user name or password in the address", field="url")
    if not development:
        refused = private_address_reason(url, resolver)
        if refused:
            raise InvalidInput(refused, field="url")
    return url


async def endpoints(organisation_id: int) -> list[Endpoint]:
    rows = (
        await WebhookEndpoint.select(
            WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.created_at
        )
        .where(WebhookEndpoint.organisation == organisation_id)
        .order_by(WebhookEndpoint.id)
    )
    return [Endpoint(r["id"], r["url"], r["created_at"]) for r in rows]


async def add_endpoint(
    organisation_id: int,
    url: str,
    *,
    environment: str,
    secret_key: str,
    by_user_id: int | None,
    resolver: Resolver = system_resolver,
) -> tuple[Endpoint, str]:
    """A new endpoint and its signing secret, returned now and never again."""
    url = check_url(url, environment, resolver)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    moment = clock.now().astimezone(UTC)
    async with transaction():
        count = await WebhookEndpoint.count().where(WebhookEndpoint.organisation == organisation_id)
        if count >= MAX_ENDPOINTS:
            raise InvalidInput(
                f"An organisation may have {MAX_ENDPOINTS} endpoints: remove one first",
                field="url",
            )
        row = WebhookEndpoint(
            organisation=organisation_id,
            url=url,
            secret_sealed=secretbox.seal(secret_key, secret),
            created_at=moment,
            created_by=by_user_id,
        )
        await row.save()
        await audit.record(
            "employers.webhook_endpoint_added", ENDPOINT_TARGET, row.id, after={"url": url}
        )
    return Endpoint(row.id, url, moment), secret


async def own_endpoint(organisation_id: int, endpoint_id: int) -> dict[str, Any]:
    row = (
        await WebhookEndpoint.select()
        .where(
            (WebhookEndpoint.id == endpoint_id) & (WebhookEndpoint.organisation == organisation_id)
        )
        .first()
    )
    if row is None:
        raise NotFound(NO_ENDPOINT)
    return row


async def remove_endpoint(organisation_id: int, endpoint_id: int) -> None:
    async with transaction():
        row = await own_endpoint(organisation_id, endpoint_id)
        await WebhookEndpoint.delete().where(WebhookEndpoint.id == endpoint_id)
        await audit.record(
            "employers.webhook_endpoint_removed",
            ENDPOINT_TARGET,
            endpoint_id,
            before={"url": row["url"]},
        )


@dataclass(frozen=True)
class Delivery:
    """One event for one endpoint, with its attempts: when, the outcome, the receiver's HTTP
    status (none if it never answered), how long it took, and the error."""

    event_id: str
    event_type: str
    registration_number: str
    occurred_at: datetime
    status: str
    attempts: list[dict[str, Any]]


async def delivery_log(
    organisation_id: int, endpoint_id: int, *, limit: int = 50
) -> list[Delivery]:
    """The endpoint's latest events, newest first, each with its attempts."""
    await own_endpoint(organisation_id, endpoint_id)
    events = (
        await WebhookEvent.select(
            WebhookEvent.event_id,
            WebhookEvent.event_type,
            WebhookEvent.registration_number,
            WebhookEvent.occurred_at,
            WebhookEvent.message,
            WebhookEvent.message.status.as_alias("status"),
        )
        .where(WebhookEvent.endpoint == endpoint_id)
        .order_by(WebhookEvent.id, ascending=False)
        .limit(limit)
    )
    message_ids = [e["message"] for e in events if e["message"] is not None]
    attempts: dict[int, list[dict[str, Any]]] = {}
    if message_ids:
        for a in (
            await DeliveryAttempt.select(
                DeliveryAttempt.message,
                DeliveryAttempt.started_at,
                DeliveryAttempt.finished_at,
                DeliveryAttempt.outcome,
                DeliveryAttempt.error,
                DeliveryAttempt.status_code,
                DeliveryAttempt.duration_ms,
            )
            .where(DeliveryAttempt.message.is_in(message_ids))
            .order_by(DeliveryAttempt.id)
        ):
            attempts.setdefault(a["message"], []).append(
                {
                    "at": a["started_at"],
                    "outcome": a["outcome"] or "sending",
                    "status_code": a["status_code"],
                    "duration_ms": a["duration_ms"],
                    "error": a["error"],
                }
            )
    return [
        Delivery(
            event_id=e["event_id"],
            event_type=e["event_type"],
            registration_number=e["registration_number"],
            occurred_at=e["occurred_at"],
            status=e["status"] or "removed",
            attempts=attempts.get(e["message"], []),
        )
        for e in events
    ]
