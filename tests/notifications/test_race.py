"""``registry worker`` processes racing, killed and stopped, against real receivers.

Each message's ``x-registry-delivery`` header is its outbox id, so the receiver can count how
often every message arrived.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from registry.config import Settings
from registry.core import clock
from registry.db import transaction
from registry.notifications import service
from registry.notifications.tables import DeliveryAttempt, MessageStatus
from tests.notifications.helpers import (
    drain,
    finish,
    outbox,
    start_registry,
    wait_until,
    worker_totals,
)
from tests.notifications.receivers import WebhookReceiver


async def queue_hooks(receiver: WebhookReceiver, count: int) -> None:
    async with transaction():
        for number in range(count):
            await service.queue_webhook(
                receiver.url + "/hook", "e", {"n": number}, key=f"hook:{number}"
            )


def arrivals(receiver: WebhookReceiver) -> Counter[str]:
    return Counter(d.headers["x-registry-delivery"] for d in receiver.received())


async def test_claims_made_at_the_same_moment_never_share_a_message(engine: Any) -> None:
    """Twenty claims at once, each on its own connection (PostgreSQL's pool holds ten): with
    ``SKIP LOCKED`` each takes rows the others have not; on SQLite they queue for the lock."""
    async with transaction():
        for number in range(300):
            await service.queue_webhook("https://h.example/", "e", {}, key=f"w:{number}")
    for _ in range(3):
        claims = await asyncio.gather(
            *(service.claim_due(f"w{n}", batch_size=10) for n in range(20))
        )
        taken = [message.id for claim in claims for message in claim.messages]
        assert len(taken) == len(set(taken)), "a message was claimed twice"
    rows = await outbox()
    claimed = [row for row in rows if row["status"] == MessageStatus.sending]
    assert {row["attempts"] for row in claimed} == {1}
    assert await DeliveryAttempt.count() == len(claimed)
    assert len(claimed) == 300  # skipping locked rows, a claim still fills its batch
    print(f"\nclaimed {len(claimed)} of 300 in 60 simultaneous claims of 10")


@pytest.mark.postgres_only  # SQLite admits one writer: there is no race to lose
async def test_two_workers_racing_on_postgres_send_every_message_exactly_once(
    engine: Any, settings: Settings, receiver: WebhookReceiver
) -> None:
    assert settings.is_postgres
    await queue_hooks(receiver, 1000)
    started = time.monotonic()
    workers = [
        await start_registry(settings, "worker", "--drain", "--batch-size", "25") for _ in range(2)
    ]
    outputs = [await finish(process, within=120) for process in workers]
    elapsed = time.monotonic() - started
    assert [process.returncode for process in workers] == [0, 0], outputs
    totals = [worker_totals(stdout) for stdout, _ in outputs]
    print(f"\nrace: the two workers sent {totals[0][0]} and {totals[1][0]} in {elapsed:.1f} s")

    rows = await outbox()
    seen = arrivals(receiver)
    assert len(receiver.received()) == 1000
    assert len(seen) == 1000
    assert set(seen) == {str(row["id"]) for row in rows}
    assert {row["status"] for row in rows} == {MessageStatus.sent}
    assert {row["attempts"] for row in rows} == {1}
    assert await DeliveryAttempt.count() == 1000
    assert sum(sent for sent, _ in totals) == 1000
    assert all(failed == 0 for _, failed in totals)
    assert all(sent > 0 for sent, _ in totals), totals
    # They worked at the same time: each claimed while the other was part-way through.
    spans = [
        (min(times), max(times))
        for times in _started_by_worker(await DeliveryAttempt.select()).values()
    ]
    assert len(spans) == 2
    assert spans[0][0] < spans[1][1], spans
    assert spans[1][0] < spans[0][1], spans


def _started_by_worker(attempts: list[dict[str, Any]]) -> dict[str, list[Any]]:
    started: dict[str, list[Any]] = {}
    for attempt in attempts:
        started.setdefault(attempt["worker"], []).append(attempt["started_at"])
    return started


async def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_only_the_message_in_hand(
    engine: Any, settings: Settings, receiver: WebhookReceiver
) -> None:
    await queue_hooks(receiver, 60)
    receiver.hold_from = 6  # five go through; the sixth is caught in hand
    process = await start_registry(settings, "worker", "--batch-size", "50", "--lease", "600")
    try:
        await wait_until(lambda: receiver.count() >= 6, what="six deliveries to arrive")
        process.kill()
        await finish(process, within=10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == -signal.SIGKILL
    receiver.let_go()

    rows = await outbox()
    statuses = Counter(row["status"] for row in rows)
    assert statuses == {MessageStatus.sending: 45, MessageStatus.sent: 5, MessageStatus.pending: 10}
    in_hand = str(rows[5]["id"])
    assert arrivals(receiver) == Counter(str(row["id"]) for row in rows[:6])

    # Before the lease runs out, nobody may take the killed worker's messages.
    early = await drain(settings)
    assert early.stats.sent == 10
    with clock.frozen_at(clock.now() + timedelta(minutes=11)):
        late = await drain(settings)
    assert late.stats.sent == 45
    rows = await outbox()
    assert {row["status"] for row in rows} == {MessageStatus.sent}
    seen = arrivals(receiver)
    assert set(seen) == {str(row["id"]) for row in rows}
    assert max(seen.values()) <= 2
    assert [message for message, times in seen.items() if times == 2] == [in_hand]
    expired = await DeliveryAttempt.select().where(DeliveryAttempt.outcome == "expired")
    assert len(expired) == 45  # the killed worker's open attempts, closed when taken back


async def test_sigterm_finishes_the_message_in_hand_hands_back_the_rest_and_exits_0(
    engine: Any, settings: Settings, receiver: WebhookReceiver
) -> None:
    receiver.hold_from = 3
    process = await start_registry(
        settings, "worker", "--batch-size", "20", "--poll-interval", "0.1"
    )
    try:
        await queue_hooks(receiver, 30)  # queued while the worker is already polling
        await wait_until(lambda: receiver.count() >= 3, what="three deliveries to arrive")
        process.send_signal(signal.SIGTERM)
        receiver.let_go()  # the delivery in hand is answered only now, after the signal
        stdout, stderr = await finish(process, within=15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr
    sent, failed = worker_totals(stdout)

    rows = await outbox()
    statuses = Counter(row["status"] for row in rows)
    assert MessageStatus.sending not in statuses
    # The signal came while the third was held: that one is finished, the rest of the batch of
    # 20 is handed back untried, and nothing of the other 10 was claimed.
    assert (sent, failed) == (3, 0)
    assert statuses == {MessageStatus.sent: 3, MessageStatus.pending: 27}
    assert all(row["attempts"] == 0 for row in rows if row["status"] == MessageStatus.pending)
    assert all(row["claim_token"] == "" for row in rows if row["status"] == MessageStatus.pending)
    # Every message marked sent arrived once, and no handed-back message was sent.
    assert arrivals(receiver) == Counter(
        str(row["id"]) for row in rows if row["status"] == MessageStatus.sent
    )
    assert await DeliveryAttempt.count() == sent
