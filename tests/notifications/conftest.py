"""Outbox tests: real receivers on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notifications.receivers import Mailbox, WebhookReceiver, smtp_server, webhook_receiver


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, str]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as running:
        yield running
