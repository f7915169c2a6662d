"""The worker sends what is queued, through real SMTP and HTTP receivers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from registry.config import Settings
from registry.core import clock
from registry.core.scheduler import Scheduler, all_jobs
from registry.core.tables import JobRun
from registry.db import transaction
from registry.notifications import service
from registry.notifications.tables import MessageStatus
from registry.notifications.worker import Worker
from tests.notifications.helpers import body_of, drain, only_message, outbox, worker_totals
from tests.notifications.receivers import Mailbox, WebhookReceiver
from tests.support import registry_command

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_an_email_reaches_the_smtp_server_with_text_and_html(
    engine: Any, settings: Settings, mailbox: tuple[Mailbox, str]
) -> None:
    box, url = mailbox
    async with transaction():
        await service.queue_email(
            "pat@example.org",
            "password_reset",
            {"email": "pat@example.org", "path": "/reset-password?token=t"},
            subject="Reset your password",
            key="reset:1",
        )
    worker = await drain(settings.model_copy(update={"smtp_url": url}))
    assert worker.stats.sent == 1
    [email] = box.to("pat@example.org")
    assert email["Subject"] == "Reset your password"
    text = body_of(email)
    html = body_of(email, "html")
    assert "http://testserver.local/reset-password?token=t" in text
    assert 'href="http://testserver.local/reset-password?token=t"' in html


async def test_a_webhook_that_fails_twice_is_retried_with_back_off_then_sent(
    engine: Any, settings: Settings, receiver: WebhookReceiver
) -> None:
    receiver.scripted["/hook"] = [500, 503]
    with clock.frozen_at(START) as advance:
        await service.queue_webhook(
            receiver.url + "/hook", "register.status_changed", {"number": "PR1234567"}, key="w:1"
        )
        await drain(settings)
        row = await only_message()
        assert row["status"] == MessageStatus.failed
        assert "500" in row["last_error"]
        assert timedelta(minutes=1) <= row["next_attempt_at"] - START <= timedelta(minutes=1.2)

        await drain(settings)  # not due yet: nothing is sent
        assert len(receiver.received()) == 1

        advance(timedelta(minutes=2))
        await drain(settings)
        row = await only_message()
        assert row["status"] == MessageStatus.failed
        assert timedelta(minutes=2) <= row["next_attempt_at"] - (START + timedelta(minutes=2))

        advance(timedelta(minutes=3))
        await drain(settings)
    row = await only_message()
    assert row["status"] == MessageStatus.sent
    assert [d.json()["data"] for d in receiver.received()] == [{"number": "PR1234567"}] * 3


async def test_the_worker_command_sends_email_and_webhooks_through_the_configured_servers(
    engine: Any, settings: Settings, mailbox: tuple[Mailbox, str], receiver: WebhookReceiver
) -> None:
    box, url = mailbox
    receiver.scripted["/refuses"] = [500]
    async with transaction():
        await service.queue_email(
            "pat@example.org",
            "invitation",
            {
                "invited_by": "Sam Registrar",
                "roles": "registrar",
                "path": "/set-password?token=t",
            },
            subject="You have been invited",
            key="invite:1",
        )
        await service.queue_webhook(receiver.url + "/ok", "e", {"n": 1}, key="w:1")
        await service.queue_webhook(receiver.url + "/refuses", "e", {"n": 2}, key="w:2")
    status, output = await registry_command(
        settings, "worker", "--drain", env={"REGISTRY_SMTP_URL": url}
    )
    assert status == 0, output
    assert worker_totals(output) == (2, 1)
    [email] = box.to("pat@example.org")
    assert email["Subject"] == "You have been invited"
    assert "Sam Registrar has given you an account" in body_of(email)
    assert [d.path for d in receiver.received()] == ["/ok", "/refuses"]
    statuses = [row["status"] for row in await outbox()]
    assert statuses == [MessageStatus.sent, MessageStatus.sent, MessageStatus.failed]


async def test_a_worker_with_the_scheduler_runs_the_jobs_as_well_as_sending(
    engine: Any, settings: Settings, receiver: WebhookReceiver
) -> None:
    await service.queue_webhook(receiver.url + "/ok", "e", {}, key="w:1")
    stats = await Worker(settings).run(asyncio.Event(), drain=True, scheduler=Scheduler(settings))
    assert stats.sent == 1
    runs = await JobRun.select(JobRun.job, JobRun.error).order_by(JobRun.id)
    assert runs == [{"job": job, "error": ""} for job in all_jobs()]
