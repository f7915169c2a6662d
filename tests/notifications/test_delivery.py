"""Delivery through real receivers: redirects, dead ports, signatures, SMTP refusals, the drop."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from registry.config import Settings
from registry.core import clock, secretbox
from registry.notifications import service
from registry.notifications.tables import MessageStatus
from tests.notifications.helpers import attempts_of, drain, outbox
from tests.notifications.receivers import Mailbox, WebhookReceiver, free_port

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RESET = {"email": "pat@example.org", "path": "/reset-password?token=t"}


async def queue_reset(to: str = "pat@example.org") -> None:
    await service.queue_email(to, "password_reset", RESET, subject="Reset your password", key="r")


# --- webhooks -----------------------------------------------------------------------------


async def test_a_redirect_is_a_failure_that_names_it_and_is_not_followed(
    engine: Any, settings: Settings, receiver: WebhookReceiver
) -> None:
    receiver.scripted["/moved"] = [301]
    receiver.location = receiver.url + "/elsewhere"  # where a followed redirect would show
    await service.queue_webhook(receiver.url + "/moved", "e", {"n": 1}, key="w:1")
    worker = await drain(settings)
    assert (worker.stats.sent, worker.stats.failed) == (0, 1)
    [row] = await outbox()
    assert row["status"] == MessageStatus.failed
    assert row["last_error"] == (
        f"The receiver redirected to {receiver.url}/elsewhere; redirects are not followed"
    )
    [attempt] = await attempts_of(row["id"])
    assert attempt["outcome"] == "failed"
    assert attempt["error"] == row["last_error"]
    assert [d.path for d in receiver.received()] == ["/moved"]  # nothing went to /elsewhere


async def test_a_receiver_that_is_down_is_a_failure_that_says_it_could_not_connect(
    engine: Any, settings: Settings
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    await service.queue_webhook(closed, "e", {}, key="w:1")
    worker = await drain(settings)
    assert worker.stats.failed == 1
    [row] = await outbox()
    assert row["status"] == MessageStatus.failed
    assert row["last_error"].startswith("Could not connect")
    assert row["attempts"] == 1


async def test_an_error_status_is_a_failure_that_names_it(
    engine: Any, settings: Settings, receiver: WebhookReceiver
) -> None:
    receiver.scripted["/h"] = [410]
    await service.queue_webhook(receiver.url + "/h", "e", {}, key="w:1")
    await drain(settings)
    [row] = await outbox()
    assert row["last_error"] == "The receiver answered 410 Gone"


async def test_a_signed_webhook_carries_an_hmac_of_its_timestamp_and_body(
    engine: Any, settings: Settings, receiver: WebhookReceiver
) -> None:
    sealed = secretbox.seal(settings.secret_key, "k3y")
    assert "k3y" not in sealed
    with clock.frozen_at(START):
        await service.queue_webhook(
            receiver.url + "/signed",
            "register.status_changed",
            {"number": "PR1234567", "status": "suspended"},
            key="status:PR1234567:1",
            signing_key=sealed,
        )
        await service.queue_webhook(receiver.url + "/plain", "e", {}, key="plain:1")
        await drain(settings)
    [row, _] = await outbox()
    assert row["signing_key"] == sealed  # the key is kept sealed at rest

    [delivery] = receiver.received("/signed")
    timestamp = delivery.headers["x-registry-timestamp"]
    assert timestamp == str(int(START.timestamp()))
    expected = hmac.new(
        b"k3y", timestamp.encode() + b"." + delivery.body, hashlib.sha256
    ).hexdigest()
    assert delivery.headers["x-registry-signature"] == f"sha256={expected}"
    # A body altered in transit, or replayed with another time, does not match.
    forged = hmac.new(b"k3y", b"0." + delivery.body, hashlib.sha256).hexdigest()
    assert delivery.headers["x-registry-signature"] != f"sha256={forged}"

    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["x-registry-event"] == "register.status_changed"
    assert delivery.headers["x-registry-delivery"] == str(row["id"])
    assert json.loads(delivery.body) == {
        "id": "status:PR1234567:1",
        "event": "register.status_changed",
        "created_at": START.isoformat(),
        "sent_at": START.isoformat(),
        "data": {"number": "PR1234567", "status": "suspended"},
    }
    [plain] = receiver.received("/plain")
    assert "x-registry-signature" not in plain.headers


async def test_a_signing_key_sealed_under_another_secret_fails_the_message_not_the_worker(
    engine: Any, settings: Settings, receiver: WebhookReceiver
) -> None:
    other = secretbox.seal("another-secret-key-that-is-long-enough-to-use", "k3y")
    await service.queue_webhook(receiver.url + "/a", "e", {}, key="w:1", signing_key=other)
    await service.queue_webhook(receiver.url + "/b", "e", {}, key="w:2")
    worker = await drain(settings)
    assert (worker.stats.sent, worker.stats.failed) == (1, 1)
    bad, good = await outbox()
    assert bad["status"] == MessageStatus.failed
    assert "cannot be opened" in bad["last_error"]
    assert good["status"] == MessageStatus.sent
    assert [d.path for d in receiver.received()] == ["/b"]  # nothing unsigned went out


# --- email --------------------------------------------------------------------------------


async def test_a_refusing_mail_server_fails_the_message_with_its_code(
    engine: Any, settings: Settings, mailbox: tuple[Mailbox, str]
) -> None:
    box, url = mailbox
    box.refuse_with = (550, "no such user")
    await queue_reset()
    worker = await drain(settings.model_copy(update={"smtp_url": url}))
    assert (worker.stats.sent, worker.stats.failed) == (0, 1)
    [row] = await outbox()
    assert row["status"] == MessageStatus.failed
    assert row["last_error"] == "The mail server refused it: 550 no such user"
    assert box.messages == []


async def test_a_mail_server_that_is_down_fails_the_message(
    engine: Any, settings: Settings
) -> None:
    await queue_reset()
    await drain(settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{free_port()}"}))
    [row] = await outbox()
    assert row["status"] == MessageStatus.failed
    assert row["last_error"].startswith("Could not reach the mail server")


async def test_in_development_without_a_mail_server_the_email_is_written_to_the_mail_drop(
    engine: Any, settings: Settings, tmp_path: Path
) -> None:
    development = settings.model_copy(
        update={"environment": "development", "smtp_url": "", "data_dir": tmp_path}
    )
    with clock.frozen_at(START):
        await queue_reset()
        worker = await drain(development)
    assert worker.stats.sent == 1
    [row] = await outbox()
    assert row["status"] == MessageStatus.sent
    [path] = (tmp_path / "mail").iterdir()
    assert path.name == f"20261123T090000-{row['id']:06d}-pat@example.org.eml"
    email = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(email, EmailMessage)
    assert email["To"] == "pat@example.org"
    assert email["Subject"] == "Reset your password"
    assert email["X-Registry-Message"] == str(row["id"])
    assert email["From"] == settings.mail_from
    text = email.get_body(("plain",))
    html = email.get_body(("html",))
    assert text is not None
    assert html is not None
    link = "http://testserver.local/reset-password?token=t"  # the settings' base URL, and path
    assert link in text.get_content()
    assert f'href="{link}"' in html.get_content()


async def test_in_production_without_a_mail_server_the_email_fails_and_nothing_is_written(
    engine: Any, settings: Settings, tmp_path: Path
) -> None:
    production = settings.model_copy(
        update={"environment": "production", "smtp_url": "", "data_dir": tmp_path}
    )
    await queue_reset()
    worker = await drain(production)
    assert worker.stats.failed == 1
    [row] = await outbox()
    assert row["status"] == MessageStatus.failed
    assert row["last_error"] == "REGISTRY_SMTP_URL is not set, so no email can be sent"
    assert not (tmp_path / "mail").exists()


async def test_an_email_reaches_the_mail_server_with_its_headers(
    engine: Any, settings: Settings, mailbox: tuple[Mailbox, str]
) -> None:
    box, url = mailbox
    await queue_reset("Pat.Smith+reg@example.org")
    await drain(settings.model_copy(update={"smtp_url": url}))
    [row] = await outbox()
    assert row["status"] == MessageStatus.sent
    [email] = box.to("Pat.Smith+reg@example.org")
    assert email["X-Registry-Message"] == str(row["id"])
    assert email["From"] == settings.mail_from
    assert f"outbox-{row['id']}" in email["Message-ID"]


async def test_an_email_whose_context_lacks_a_template_value_fails_and_the_rest_still_go(
    engine: Any, settings: Settings, mailbox: tuple[Mailbox, str]
) -> None:
    box, url = mailbox
    await service.queue_email(
        "new@example.org", "invitation", {"path": "/x", "roles": "Admin"}, subject="Hi", key="i:1"
    )
    await queue_reset()
    worker = await drain(settings.model_copy(update={"smtp_url": url}))
    assert (worker.stats.sent, worker.stats.failed) == (1, 1)
    invitation, reset = await outbox()
    assert invitation["status"] == MessageStatus.failed
    assert "'invited_by' is undefined" in invitation["last_error"]
    assert reset["status"] == MessageStatus.sent
    assert [m["To"] for m in box.messages] == ["pat@example.org"]
