"""DNS rebinding: at delivery the endpoint's host is resolved once, refused outside development
if the answer is private, and the request goes to that very address (with the host's name in
the Host header and the TLS server name), so a second, different DNS answer cannot redirect it.

The resolver is injected: a stub answers as a rebinding attacker's DNS server would, a public
address when the endpoint is registered and a private one when the event is delivered."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import httpx
import pytest

from registry.config import Settings
from registry.employers import watchlists, webhooks
from registry.errors import InvalidInput
from registry.notifications.delivery import Deliverer, pin
from registry.notifications.tables import DeliveryAttempt, MessageStatus, OutboxMessage
from registry.notifications.worker import Worker
from tests.employers.helpers import employer, verified
from tests.notifications.receivers import WebhookReceiver, webhook_receiver

HOST = "hooks.rebinding.example"


@dataclass
class Rebinder:
    """Answers ``HOST`` with each list of addresses in turn (the last one again thereafter)."""

    answers: list[list[str]]
    asked: list[str] = field(default_factory=list)

    def __call__(self, host: str) -> Sequence[str]:
        self.asked.append(host)
        if host != HOST:
            raise OSError(f"no such host {host}")
        return self.answers[min(len(self.asked) - 1, len(self.answers) - 1)]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as running:
        yield running


async def _deliver(settings: Settings, resolver: Rebinder) -> None:
    deliverer = Deliverer(settings, resolver=resolver)
    try:
        await Worker(settings).run_once(deliverer)
    finally:
        await deliverer.aclose()


async def test_a_second_answer_naming_a_private_address_is_refused_at_delivery(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    north = await employer()
    resolver = Rebinder([["93.184.215.14"], ["10.0.0.8"]])
    endpoint, _ = await watchlists.add_endpoint(
        north.organisation.id,
        f"https://{HOST}/hook",
        environment="production",
        secret_key=settings.secret_key,
        by_user_id=None,
        resolver=resolver,
    )
    await webhooks.send_test(north.organisation.id, endpoint.id)

    await _deliver(settings.model_copy(update={"environment": "production"}), resolver)

    assert resolver.asked == [HOST, HOST]  # once at registration, once at delivery
    message = await OutboxMessage.select().where(OutboxMessage.kind == "webhook").first()
    assert message is not None
    assert message["status"] == MessageStatus.failed.value
    assert "resolves to 10.0.0.8, a private, loopback" in message["last_error"]
    [attempt] = await DeliveryAttempt.select().where(DeliveryAttempt.message == message["id"])
    assert attempt["outcome"] == "failed"


async def test_a_private_first_answer_is_refused_at_registration(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    north = await employer()
    with pytest.raises(InvalidInput, match=r"resolves to 127\.0\.0\.1"):
        await watchlists.add_endpoint(
            north.organisation.id,
            f"https://{HOST}/hook",
            environment="production",
            secret_key=settings.secret_key,
            by_user_id=None,
            resolver=Rebinder([["127.0.0.1"]]),
        )
    assert await watchlists.endpoints(north.organisation.id) == []


async def test_the_request_goes_to_the_one_address_resolved_with_the_hosts_name(
    client: httpx.AsyncClient, settings: Settings, receiver: WebhookReceiver
) -> None:
    """In development a loopback receiver is allowed: the stub sends the name there once, and
    a second answer (a public address nothing listens on) is never asked for."""
    north = await employer()
    port = int(receiver.url.rsplit(":", 1)[1])
    endpoint, secret = await watchlists.add_endpoint(
        north.organisation.id,
        f"http://{HOST}:{port}/hook",
        environment="development",
        secret_key=settings.secret_key,
        by_user_id=None,
    )
    await webhooks.send_test(north.organisation.id, endpoint.id)
    resolver = Rebinder([["127.0.0.1"], ["93.184.215.14"]])

    await _deliver(settings.model_copy(update={"environment": "development"}), resolver)

    assert resolver.asked == [HOST]
    [delivery] = receiver.received("/hook")
    assert delivery.headers["host"] == f"{HOST}:{port}"
    assert verified(delivery, secret)["type"] == "test"


def test_a_pinned_https_request_keeps_the_hosts_name_for_tls() -> None:
    pinned = pin(f"https://{HOST}:8443/in?x=1", "93.184.215.14")
    assert pinned.url == "https://93.184.215.14:8443/in?x=1"
    assert pinned.headers == {"host": f"{HOST}:8443"}
    assert pinned.extensions == {"sni_hostname": HOST}  # SNI, and the certificate's name
    six = pin(f"https://{HOST}/in", "2001:db8::7")
    assert six.url == "https://[2001:db8::7]/in"
    assert six.headers == {"host": HOST}
    assert pin(f"http://{HOST}/in", "93.184.215.14").extensions == {}
