"""The outbox rules: queue a message with the change that causes it; claim, finish and retry.

A message is queued inside the caller's transaction, so a change that rolls back leaves no
message. Each has an idempotency key: queueing the same event twice queues it once. Workers claim
due messages with a lease; a claim carries a token, and only the holder of the current token can
finish the message, so a worker that stalled past its lease cannot overwrite the work of the
worker that reclaimed it. A message is therefore sent at least once, and after a crash at most
once more.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from piccolo.columns.combination import Where

from registry.audit import service as audit
from registry.core import clock
from registry.db import fetch_one, skip_locked, transaction
from registry.errors import Conflict, InvalidInput, NotFound
from registry.notifications.emails import check_template
from registry.notifications.tables import (
    DeliveryAttempt,
    MessageKind,
    MessageStatus,
    OutboxMessage,
)

MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
DEFAULT_LEASE = timedelta(minutes=5)
EMAIL_PATTERN_HINT = "an email address, like name@example.org"


@dataclass(frozen=True)
class Message:
    id: int
    kind: MessageKind
    recipient: str
    template: str
    subject: str
    event: str
    body: dict[str, Any]
    signing_key: str
    status: MessageStatus
    attempts: int
    next_attempt_at: datetime
    lease_until: datetime | None
    claim_token: str
    last_error: str
    idempotency_key: str
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class Attempt:
    id: int
    worker: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    error: str


# --- queueing -----------------------------------------------------------------------------


async def queue_email(
    to: str, template: str, context: Mapping[str, Any], *, subject: str, key: str
) -> bool:
    """Queue an email from ``templates/email/<template>``; False if ``key`` was queued before."""
    sql, values = email_insert(to, template, context, subject=subject, key=key)
    return await fetch_one(sql, *values) is not None


def email_insert(
    to: str, template: str, context: Mapping[str, Any], *, subject: str, key: str
) -> tuple[str, tuple[Any, ...]]:
    """What :func:`queue_email` runs, checked as it checks: the insert (``{}`` placeholders)
    and its values, for a caller that queues the email with its other rows in one statement."""
    if "@" not in to or to.startswith("@") or to.endswith("@") or len(to) > 254:
        raise InvalidInput(f"'{to}' is not {EMAIL_PATTERN_HINT}", field="to")
    check_template(template)
    return _message_insert(
        kind=MessageKind.email,
        recipient=to,
        template=template,
        subject=subject,
        body=context,
        key=key,
    )


async def queue_webhook(
    url: str,
    event: str,
    payload: Mapping[str, Any],
    *,
    key: str,
    signing_key: str = "",
    style: str = "",
) -> bool:
    """Queue a POST of ``payload`` to ``url``; ``signing_key`` (sealed) signs it with HMAC.

    ``style`` ``signed-v1`` (kept in the unused ``template`` column) sends ``payload`` itself as
    the body, signed ``t=<unix>,v1=<hex>`` (see :mod:`registry.notifications.delivery`)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("A webhook address must start with https:// or http://", field="url")
    return await _queue(
        kind=MessageKind.webhook,
        recipient=url,
        event=event,
        body=payload,
        key=key,
        signing_key=signing_key,
        template=style,
    )


def _insert_message(columns: Sequence[str]) -> str:
    """The outbox insert of ``columns`` (the service's own names, never input), skipped when
    the idempotency key was queued before."""
    return (
        f"INSERT INTO notification_outbox ({', '.join(columns)})"  # noqa: S608 - names
        f" VALUES ({', '.join('{}' for _ in columns)})"
        " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
    )


# An email's insert as :func:`email_insert` makes it, its columns in order: for a caller whose
# database function writes the row itself (conduct_raise_if_simple), which checks it has these.
EMAIL_COLUMNS = (
    "kind",
    "recipient",
    "body",
    "idempotency_key",
    "next_attempt_at",
    "created_at",
    "template",
    "subject",
)
EMAIL_INSERT = _insert_message(EMAIL_COLUMNS)


async def _queue(
    *, kind: MessageKind, recipient: str, body: Mapping[str, Any], key: str, **more: Any
) -> bool:
    # Straight to the connection (no query object): queued in the caller's transaction with
    # every change that sends something.
    sql, values = _message_insert(kind=kind, recipient=recipient, body=body, key=key, **more)
    return await fetch_one(sql, *values) is not None


def _message_insert(
    *, kind: MessageKind, recipient: str, body: Mapping[str, Any], key: str, **more: Any
) -> tuple[str, tuple[Any, ...]]:
    if not key or len(key) > 200:
        raise InvalidInput("An idempotency key of 1 to 200 characters is needed", field="key")
    moment = clock.now().astimezone(UTC)
    values = {
        "kind": kind.value,
        "recipient": recipient,
        "body": json.dumps(body, sort_keys=True, default=str),
        "idempotency_key": key,
        "next_attempt_at": moment,
        "created_at": moment,
        **more,
    }
    return _insert_message(tuple(values)), tuple(values.values())


# --- claiming and finishing ---------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    token: str
    messages: tuple[Message, ...]


async def claim_due(worker: str, *, batch_size: int, lease: timedelta = DEFAULT_LEASE) -> Claim:
    """Take up to ``batch_size`` due messages for ``worker`` until the lease runs out.

    Due means pending or failed with the next attempt time reached, or still ``sending`` after
    its lease ran out (the worker that held it stopped). On PostgreSQL the rows are locked with
    ``FOR UPDATE SKIP LOCKED``, so workers racing for the same rows each take different ones; on
    SQLite the statement runs in one write transaction, which admits one claimer at a time.
    """
    moment = clock.now().astimezone(UTC)
    token = secrets.token_hex(16)
    async with transaction():
        await _bury_messages_that_keep_stopping_workers(moment)
        rows = await OutboxMessage.raw(
            "UPDATE notification_outbox"  # noqa: S608 - only a constant is spliced in
            " SET status = 'sending', lease_until = {}, claim_token = {}, attempts = attempts + 1"
            " WHERE id IN (SELECT id FROM notification_outbox"
            "  WHERE (status IN ('pending', 'failed') AND next_attempt_at <= {})"
            "     OR (status = 'sending' AND lease_until < {})"
            f"  ORDER BY next_attempt_at, id LIMIT {{}}{skip_locked()})"
            " RETURNING *",
            moment + lease,
            token,
            moment,
            moment,
            batch_size,
        )
        if rows:
            # A message taken back from a worker whose lease ran out still has that worker's
            # attempt open: close it now, so the open attempt is always the current claim's.
            await _expire_open_attempts([row["id"] for row in rows], moment)
            await DeliveryAttempt.insert(
                *[
                    DeliveryAttempt(message=row["id"], worker=worker[:120], started_at=moment)
                    for row in rows
                ]
            )
    messages = sorted((_message(row) for row in rows), key=lambda m: (m.next_attempt_at, m.id))
    return Claim(token, tuple(messages))


async def _bury_messages_that_keep_stopping_workers(moment: datetime) -> None:
    # A message whose every attempt ended with its worker gone (killed, or hung past the lease)
    # would otherwise be taken back for ever: after MAX_ATTEMPTS it goes to staff like any other.
    buried = (
        await OutboxMessage.update(
            {
                OutboxMessage.status: MessageStatus.dead.value,
                OutboxMessage.lease_until: None,
                OutboxMessage.last_error: (
                    f"The worker sending it stopped or timed out {MAX_ATTEMPTS} times"
                ),
            }
        )
        .where(
            (OutboxMessage.status == MessageStatus.sending.value)
            & (OutboxMessage.lease_until < moment)
            & (OutboxMessage.attempts >= MAX_ATTEMPTS)
        )
        .returning(OutboxMessage.id)
    )
    if buried:
        await _expire_open_attempts([row["id"] for row in buried], moment)


async def _expire_open_attempts(message_ids: list[int], moment: datetime) -> None:
    await DeliveryAttempt.update(
        {
            DeliveryAttempt.finished_at: moment,
            DeliveryAttempt.outcome: "expired",
            DeliveryAttempt.error: "The lease ran out before this worker finished",
        }
    ).where(DeliveryAttempt.message.is_in(message_ids) & (DeliveryAttempt.outcome == ""))


async def mark_sent(
    message: Message,
    claim_token: str,
    *,
    status_code: int | None = None,
    duration_ms: int | None = None,
) -> bool:
    """Record a delivery; False if the claim was lost meanwhile (the lease ran out)."""
    moment = clock.now().astimezone(UTC)
    return await _finish(
        message,
        claim_token,
        {
            OutboxMessage.status: MessageStatus.sent.value,
            OutboxMessage.sent_at: moment,
            OutboxMessage.last_error: "",
            OutboxMessage.lease_until: None,
        },
        outcome="sent",
        error="",
        answer={DeliveryAttempt.status_code: status_code, DeliveryAttempt.duration_ms: duration_ms},
    )


async def mark_failed(
    message: Message,
    claim_token: str,
    error: str,
    *,
    status_code: int | None = None,
    duration_ms: int | None = None,
) -> bool:
    """Record a failed attempt and schedule the next, or give up after :data:`MAX_ATTEMPTS`."""
    attempts = await _current_attempts(message.id)
    if attempts >= MAX_ATTEMPTS:
        status, next_at = MessageStatus.dead, message.next_attempt_at
    else:
        status, next_at = MessageStatus.failed, clock.now().astimezone(UTC) + retry_delay(attempts)
    return await _finish(
        message,
        claim_token,
        {
            OutboxMessage.status: status.value,
            OutboxMessage.next_attempt_at: next_at,
            OutboxMessage.last_error: error[:2000],
            OutboxMessage.lease_until: None,
        },
        outcome="failed",
        error=error[:2000],
        answer={DeliveryAttempt.status_code: status_code, DeliveryAttempt.duration_ms: duration_ms},
    )


async def release(messages: Sequence[Message], claim_token: str) -> None:
    """Hand back claimed messages not yet tried (a worker stopping), without using an attempt."""
    if not messages:
        return
    ids = [m.id for m in messages]
    async with transaction():
        released = (
            await OutboxMessage.update(
                {
                    OutboxMessage.status: MessageStatus.pending.value,
                    OutboxMessage.lease_until: None,
                    OutboxMessage.claim_token: "",
                    OutboxMessage.attempts: OutboxMessage.attempts - 1,
                }
            )
            .where(
                OutboxMessage.id.is_in(ids)
                & (OutboxMessage.claim_token == claim_token)
                & (OutboxMessage.status == MessageStatus.sending.value)
            )
            .returning(OutboxMessage.id)
        )
        if released:  # only the attempts of this claim: another worker may hold the rest now
            await DeliveryAttempt.delete().where(
                DeliveryAttempt.message.is_in([row["id"] for row in released])
                & (DeliveryAttempt.outcome == "")
            )


def retry_delay(attempts: int) -> timedelta:
    """1 minute after the first failure, doubling each time, at most 6 hours, plus up to a
    fifth more at random so that messages failing together do not all retry together."""
    doublings = min(max(attempts - 1, 0), 16)  # 2**16 minutes is far past the cap already
    base = min(FIRST_RETRY * 2**doublings, LONGEST_RETRY)
    jittered: timedelta = base * (1 + random.uniform(0, 0.2))  # noqa: S311 - not a secret
    return min(jittered, LONGEST_RETRY)


async def _current_attempts(message_id: int) -> int:
    row = (
        await OutboxMessage.select(OutboxMessage.attempts)
        .where(OutboxMessage.id == message_id)
        .first()
    )
    return int(row["attempts"]) if row else MAX_ATTEMPTS


async def _finish(
    message: Message,
    claim_token: str,
    values: dict[Any, Any],
    *,
    outcome: str,
    error: str,
    answer: dict[Any, Any],
) -> bool:
    moment = clock.now().astimezone(UTC)
    async with transaction():
        updated = (
            await OutboxMessage.update(values)
            .where(
                (OutboxMessage.id == message.id)
                & (OutboxMessage.claim_token == claim_token)
                & (OutboxMessage.status == MessageStatus.sending.value)
            )
            .returning(OutboxMessage.id)
        )
        # The open attempt is the current claim's (claim_due closes a lapsed one as expired), so
        # a worker that lost its claim must leave it alone: it belongs to the new holder.
        if updated:
            await DeliveryAttempt.update(
                {
                    DeliveryAttempt.finished_at: moment,
                    DeliveryAttempt.outcome: outcome,
                    DeliveryAttempt.error: error,
                    **answer,
                }
            ).where((DeliveryAttempt.message == message.id) & (DeliveryAttempt.outcome == ""))
    return bool(updated)


# --- staff --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessagePage:
    messages: tuple[Message, ...]
    counts: dict[MessageStatus, int]  # every message by status, whatever the filter
    total: int  # messages matching the filter
    page: int
    page_size: int


async def list_messages(
    *,
    status: MessageStatus | None = None,
    kind: MessageKind | None = None,
    page: int = 1,
    page_size: int = 50,
) -> MessagePage:
    conditions: list[Where | Any] = []
    if status is not None:
        conditions.append(OutboxMessage.status == status.value)
    if kind is not None:
        conditions.append(OutboxMessage.kind == kind.value)
    query = OutboxMessage.select().order_by(OutboxMessage.id, ascending=False)
    count = OutboxMessage.count()
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.limit(page_size).offset((page - 1) * page_size)
    grouped = await OutboxMessage.raw(
        "SELECT status, COUNT(*) AS n FROM notification_outbox GROUP BY status"
    )
    counts = dict.fromkeys(MessageStatus, 0)
    for row in grouped:
        counts[MessageStatus(row["status"])] = int(row["n"])
    return MessagePage(tuple(_message(r) for r in rows), counts, await count, page, page_size)


async def get_message(message_id: int) -> tuple[Message, tuple[Attempt, ...]]:
    row = await OutboxMessage.select().where(OutboxMessage.id == message_id).first()
    if row is None:
        raise NotFound(f"There is no message {message_id} in the outbox")
    attempts = (
        await DeliveryAttempt.select()
        .where(DeliveryAttempt.message == message_id)
        .order_by(DeliveryAttempt.id)
    )
    return _message(row), tuple(
        Attempt(a["id"], a["worker"], a["started_at"], a["finished_at"], a["outcome"], a["error"])
        for a in attempts
    )


async def retry_now(message_id: int) -> Message:
    """Give a dead message a fresh set of attempts, starting at once."""
    async with transaction():
        message, _ = await get_message(message_id)
        if message.status is not MessageStatus.dead:
            raise Conflict("Only a message that has run out of attempts can be retried by hand")
        await OutboxMessage.update(
            {
                OutboxMessage.status: MessageStatus.pending.value,
                OutboxMessage.attempts: 0,
                OutboxMessage.next_attempt_at: clock.now().astimezone(UTC),
            }
        ).where(OutboxMessage.id == message_id)
        await audit.record(
            "notifications.message_retried",
            "outbox_message",
            message_id,
            before={"status": message.status.value, "attempts": message.attempts},
            after={"status": MessageStatus.pending.value, "attempts": 0},
        )
    return (await get_message(message_id))[0]


def _message(row: Mapping[str, Any]) -> Message:
    return Message(
        id=row["id"],
        kind=MessageKind(row["kind"]),
        recipient=row["recipient"],
        template=row["template"],
        subject=row["subject"],
        event=row["event"],
        body=json.loads(row["body"] or "{}"),
        signing_key=row["signing_key"],
        status=MessageStatus(row["status"]),
        attempts=int(row["attempts"]),
        next_attempt_at=_aware(row["next_attempt_at"]),
        lease_until=_aware(row["lease_until"]) if row["lease_until"] else None,
        claim_token=row["claim_token"],
        last_error=row["last_error"],
        idempotency_key=row["idempotency_key"],
        created_at=_aware(row["created_at"]),
        sent_at=_aware(row["sent_at"]) if row["sent_at"] else None,
    )


def _aware(value: datetime | str) -> datetime:
    # Raw queries on SQLite hand back the stored text rather than a datetime.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
