"""The outbox rules: queueing with the change, idempotency, back-off, leases and hand-backs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from registry.audit import service as audit
from registry.config import Settings
from registry.core import clock
from registry.db import transaction
from registry.errors import Conflict, InvalidInput
from registry.notifications import service
from registry.notifications.delivery import Deliverer
from registry.notifications.tables import DeliveryAttempt, MessageStatus, OutboxMessage
from registry.notifications.worker import Worker
from tests.notifications.helpers import attempts_of, drain, outbox
from tests.notifications.receivers import WebhookReceiver

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RESET = {"email": "pat@example.org", "path": "/reset-password?token=t"}


async def queue_reset(key: str = "reset:1", to: str = "pat@example.org") -> bool:
    return await service.queue_email(
        to, "password_reset", RESET, subject="Reset your password", key=key
    )


# --- queueing -----------------------------------------------------------------------------


async def test_a_message_queued_in_a_transaction_that_rolls_back_is_never_stored(
    engine: Any,
) -> None:
    async def change_that_fails() -> None:
        async with transaction():
            assert await queue_reset() is True
            await service.queue_webhook(
                "https://hooks.example/x", "register.status_changed", {"n": 1}, key="w:1"
            )
            assert await OutboxMessage.count() == 2  # there, inside the transaction
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError, match="the change failed"):
        await change_that_fails()
    assert await OutboxMessage.count() == 0
    assert (await service.claim_due("w", batch_size=10)).messages == ()


async def test_a_message_queued_in_a_transaction_that_commits_is_stored_with_it(
    engine: Any,
) -> None:
    with clock.frozen_at(START):
        async with transaction():
            assert await queue_reset() is True
    [row] = await outbox()
    assert row["status"] == MessageStatus.pending
    assert row["attempts"] == 0
    assert row["next_attempt_at"] == START
    assert row["template"] == "password_reset"


async def test_the_same_idempotency_key_queues_one_message(engine: Any) -> None:
    assert await queue_reset("reset:42") is True
    assert await queue_reset("reset:42", to="someone-else@example.org") is False
    async with transaction():  # inside a transaction too: the conflict must not abort it
        assert await queue_reset("reset:42") is False
        assert await queue_reset("reset:43") is True
    rows = await outbox()
    assert [(r["idempotency_key"], r["recipient"]) for r in rows] == [
        ("reset:42", "pat@example.org"),
        ("reset:43", "pat@example.org"),
    ]
    first = await service.queue_webhook("https://h.example/", "e", {}, key="hook:1")
    again = await service.queue_webhook("https://other.example/", "e", {}, key="hook:1")
    assert (first, again) == (True, False)
    assert await OutboxMessage.count() == 3


@pytest.mark.parametrize(
    "address", ["pat.example.org", "@example.org", "pat@", "", "p" * 250 + "@example.org"]
)
async def test_an_email_to_a_bad_address_is_refused_and_nothing_stored(
    engine: Any, address: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await queue_reset(to=address)
    assert refused.value.field == "to"
    assert await OutboxMessage.count() == 0


@pytest.mark.parametrize("template", ["no_such_template", "../email/password_reset", "base "])
async def test_an_email_with_an_unknown_template_is_refused_and_nothing_stored(
    engine: Any, template: str
) -> None:
    with pytest.raises(InvalidInput, match="no email template") as refused:
        await service.queue_email("pat@example.org", template, {}, subject="Hi", key="k")
    assert refused.value.field == "template"
    assert await OutboxMessage.count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "hooks.example/x",
        "https://",
        "",
    ],
)
async def test_a_webhook_to_anything_but_http_is_refused(engine: Any, url: str) -> None:
    with pytest.raises(InvalidInput, match="must start with https://") as refused:
        await service.queue_webhook(url, "register.status_changed", {}, key="w:1")
    assert refused.value.field == "url"
    assert await OutboxMessage.count() == 0


@pytest.mark.parametrize("key", ["", "k" * 201])
async def test_an_idempotency_key_is_required_and_bounded(engine: Any, key: str) -> None:
    with pytest.raises(InvalidInput, match="idempotency key"):
        await service.queue_webhook("https://h.example/", "e", {}, key=key)
    assert await OutboxMessage.count() == 0


# --- back-off -----------------------------------------------------------------------------


def test_the_retry_delay_doubles_from_a_minute_and_stops_at_six_hours() -> None:
    for attempts in range(1, 31):
        base = min(timedelta(minutes=2 ** (attempts - 1)), timedelta(hours=6))
        delays = [service.retry_delay(attempts) for _ in range(200)]
        assert all(base <= delay <= min(base * 1.2, timedelta(hours=6)) for delay in delays)
        if base < timedelta(hours=5):  # the jitter spreads retries out below the cap
            assert max(delays) - min(delays) > base * 0.05
    assert service.retry_delay(9) < timedelta(hours=6)
    assert service.retry_delay(10) == timedelta(hours=6)
    assert service.retry_delay(100) == timedelta(hours=6)


async def test_a_message_that_always_fails_backs_off_then_dies_and_staff_can_retry_it(
    engine: Any, settings: Settings, receiver: WebhookReceiver
) -> None:
    receiver.scripted["/down"] = [500] * service.MAX_ATTEMPTS
    with clock.frozen_at(START) as advance:
        await service.queue_webhook(receiver.url + "/down", "e", {"n": 1}, key="w:1")
        gaps: list[timedelta] = []
        for attempt in range(1, service.MAX_ATTEMPTS + 1):
            tried_at = clock.now()
            worker = await drain(settings)
            assert (worker.stats.sent, worker.stats.failed) == (0, 1)
            [row] = await outbox()
            assert row["attempts"] == attempt
            assert "500" in row["last_error"]
            if attempt < service.MAX_ATTEMPTS:
                assert row["status"] == MessageStatus.failed
                gap = row["next_attempt_at"] - tried_at
                gaps.append(gap)
                # Not due a moment before its time: nothing is tried.
                advance(gap - timedelta(seconds=1))
                assert (await drain(settings)).stats.failed == 0
                advance(timedelta(seconds=1))
        assert row["status"] == MessageStatus.dead
        assert (await drain(settings)).stats.failed == 0  # a dead message is not tried again
        advance(timedelta(days=30))
        assert (await drain(settings)).stats.failed == 0

    assert len(receiver.received("/down")) == service.MAX_ATTEMPTS
    for number, gap in enumerate(gaps, start=1):
        base = min(timedelta(minutes=2 ** (number - 1)), timedelta(hours=6))
        assert base <= gap <= base * 1.2, (number, gap)
    assert max(gaps) <= timedelta(hours=6)
    attempts = await attempts_of(row["id"])
    assert len(attempts) == service.MAX_ATTEMPTS
    assert {a["outcome"] for a in attempts} == {"failed"}
    assert all("answered 500" in a["error"] for a in attempts)
    assert all(a["finished_at"] is not None for a in attempts)

    retried = await service.retry_now(row["id"])
    assert retried.status is MessageStatus.pending
    assert retried.attempts == 0
    [entry] = (await audit.search(action="notifications.")).entries
    assert entry.action == "notifications.message_retried"
    assert entry.target_type == "outbox_message"
    assert entry.target_id == str(row["id"])

    worker = await drain(settings)  # the receiver answers 204 now
    assert worker.stats.sent == 1
    [row] = await outbox()
    assert row["status"] == MessageStatus.sent
    assert row["attempts"] == 1
    assert len(receiver.received("/down")) == service.MAX_ATTEMPTS + 1

    with pytest.raises(Conflict, match="run out of attempts"):
        await service.retry_now(row["id"])
    assert (await service.get_message(row["id"]))[0].status is MessageStatus.sent
    assert len((await audit.search(action="notifications.")).entries) == 1


async def test_retry_now_refuses_a_message_still_in_play(engine: Any) -> None:
    await service.queue_webhook("https://h.example/", "e", {}, key="w:1")
    [row] = await outbox()
    with pytest.raises(Conflict):
        await service.retry_now(row["id"])
    await service.claim_due("w", batch_size=1)
    with pytest.raises(Conflict):
        await service.retry_now(row["id"])
    assert (await audit.search(action="notifications.")).entries == ()


# --- leases and claims --------------------------------------------------------------------


async def test_a_message_whose_lease_ran_out_is_reclaimed_and_the_late_finish_changes_nothing(
    engine: Any, settings: Settings, receiver: WebhookReceiver
) -> None:
    with clock.frozen_at(START) as advance:
        await service.queue_webhook(receiver.url + "/h", "e", {"n": 1}, key="w:1")
        first = await service.claim_due("first", batch_size=10, lease=timedelta(seconds=30))
        [held] = first.messages
        assert held.status is MessageStatus.sending
        assert held.lease_until == START + timedelta(seconds=30)

        advance(timedelta(seconds=30))  # at the lease's end it is still the first worker's
        assert (await service.claim_due("second", batch_size=10)).messages == ()

        advance(timedelta(seconds=1))
        second = await drain(settings, name="second")
        assert second.stats.sent == 1
        [row] = await outbox()
        assert row["status"] == MessageStatus.sent
        assert row["attempts"] == 2

        advance(timedelta(minutes=1))
        assert await service.mark_sent(held, first.token) is False
        assert await service.mark_failed(held, first.token, "too late") is False
        await service.release([held], first.token)
    [after] = await outbox()
    assert after == row  # not a column changed by the worker that lost its claim
    assert after["sent_at"] == START + timedelta(seconds=31)
    assert after["last_error"] == ""
    assert len(receiver.received()) == 1

    attempts = await attempts_of(row["id"])
    assert [(a["worker"], a["outcome"]) for a in attempts] == [
        ("first", "expired"),
        ("second", "sent"),
    ]
    assert attempts[0]["finished_at"] == START + timedelta(seconds=31)
    assert attempts[1]["finished_at"] == START + timedelta(seconds=31)


async def test_a_message_whose_workers_keep_dying_goes_dead_after_ten_claims(
    engine: Any, receiver: WebhookReceiver
) -> None:
    with clock.frozen_at(START) as advance:
        await service.queue_webhook(receiver.url + "/h", "e", {"n": 1}, key="w:1")
        for number in range(service.MAX_ATTEMPTS):
            claim = await service.claim_due(f"doomed-{number}", batch_size=1)
            assert len(claim.messages) == 1
            advance(service.DEFAULT_LEASE + timedelta(seconds=1))  # the worker never finishes
        assert (await service.claim_due("next", batch_size=1)).messages == ()
    [row] = await outbox()
    assert row["status"] == MessageStatus.dead
    assert row["attempts"] == service.MAX_ATTEMPTS
    assert "stopped or timed out 10 times" in row["last_error"]
    attempts = await attempts_of(row["id"])
    assert [a["outcome"] for a in attempts] == ["expired"] * service.MAX_ATTEMPTS
    assert receiver.received() == []


async def test_a_worker_that_loses_its_claim_mid_send_does_not_disturb_the_new_holder(
    engine: Any, settings: Settings
) -> None:
    with clock.frozen_at(START) as advance:
        await service.queue_webhook("https://h.example/", "e", {}, key="w:1")
        first = await service.claim_due("first", batch_size=1, lease=timedelta(seconds=30))
        advance(timedelta(minutes=1))
        second = await service.claim_due("second", batch_size=1)
        [message] = second.messages
        # The first worker finishes late, while the second still has the message in hand.
        assert await service.mark_failed(first.messages[0], first.token, "late") is False
        await service.release(first.messages, first.token)
        [row] = await outbox()
        assert (row["status"], row["claim_token"]) == (MessageStatus.sending, second.token)
        assert [a["outcome"] for a in await attempts_of(message.id)] == ["expired", ""]

        assert await service.mark_sent(message, second.token) is True
    assert [a["outcome"] for a in await attempts_of(message.id)] == ["expired", "sent"]
    assert (await outbox())[0]["status"] == MessageStatus.sent


async def test_release_hands_back_unstarted_messages_without_using_an_attempt(
    engine: Any,
) -> None:
    with clock.frozen_at(START) as advance:
        for number in range(3):
            await service.queue_webhook("https://h.example/", "e", {}, key=f"w:{number}")
        claim = await service.claim_due("stopping", batch_size=10)
        assert len(claim.messages) == 3
        assert {r["attempts"] for r in await outbox()} == {1}

        await service.release(claim.messages[:2], "not-the-token")  # not its claim: ignored
        assert {r["status"] for r in await outbox()} == {MessageStatus.sending}

        await service.release(claim.messages[1:], claim.token)
        rows = await outbox()
        assert [(r["status"], r["attempts"]) for r in rows] == [
            (MessageStatus.sending, 1),
            (MessageStatus.pending, 0),
            (MessageStatus.pending, 0),
        ]
        assert all(r["claim_token"] == "" and r["lease_until"] is None for r in rows[1:])
        assert await DeliveryAttempt.count() == 1  # only the message still in hand

        # Handed back, they are due at once for another worker; the one in hand is not.
        advance(timedelta(seconds=1))
        other = await service.claim_due("other", batch_size=10)
        assert [m.id for m in other.messages] == [r["id"] for r in rows[1:]]
        assert all(m.attempts == 1 for m in other.messages)


async def test_a_batch_is_claimed_oldest_first_and_only_when_due(engine: Any) -> None:
    with clock.frozen_at(START) as advance:
        for number in range(5):
            await service.queue_webhook("https://h.example/", "e", {}, key=f"w:{number}")
            advance(timedelta(seconds=1))
        first = await service.claim_due("a", batch_size=2)
        second = await service.claim_due("b", batch_size=2)
        third = await service.claim_due("c", batch_size=2)
        assert [m.idempotency_key for m in first.messages] == ["w:0", "w:1"]
        assert [m.idempotency_key for m in second.messages] == ["w:2", "w:3"]
        assert [m.idempotency_key for m in third.messages] == ["w:4"]
        assert len({first.token, second.token, third.token}) == 3
        assert (await service.claim_due("d", batch_size=2)).messages == ()
    with clock.frozen_at(START - timedelta(minutes=1)):
        await service.queue_webhook("https://h.example/", "e", {}, key="future")
    with clock.frozen_at(START - timedelta(minutes=2)):
        assert (await service.claim_due("e", batch_size=10)).messages == ()


async def test_a_worker_that_stops_mid_batch_finishes_the_message_in_hand_and_hands_back_the_rest(
    engine: Any, settings: Settings, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    stop = asyncio.Event()

    class StoppedDuringFirst(Deliverer):
        async def deliver(self, message: service.Message) -> None:
            stop.set()  # SIGTERM arrives while this one is being sent
            await super().deliver(message)

    monkeypatch.setattr("registry.notifications.worker.Deliverer", StoppedDuringFirst)
    for number in range(5):
        await service.queue_webhook(receiver.url + "/h", "e", {"n": number}, key=f"w:{number}")
    stats = await Worker(settings, batch_size=10).run(stop, drain=True)
    assert (stats.sent, stats.failed) == (1, 0)
    assert [d.json()["data"] for d in receiver.received()] == [{"n": 0}]
    rows = await outbox()
    assert [(r["status"], r["attempts"]) for r in rows] == [(MessageStatus.sent, 1)] + [
        (MessageStatus.pending, 0)
    ] * 4
    assert await DeliveryAttempt.count() == 1

    rest = await drain(settings)
    assert rest.stats.sent == 4
    assert {r["status"] for r in await outbox()} == {MessageStatus.sent}
