"""Taking a message out of the service: SMTP for email, an HTTP POST for a webhook.

Each sender returns nothing on success and raises :class:`DeliveryFailed` with a reason a member
of staff can act on. Webhooks follow no redirects: a receiver that moved must be updated, not
silently followed to wherever it points, which might be another host.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib
import httpx

from registry.config import Settings
from registry.core import clock, secretbox
from registry.notifications import emails
from registry.notifications.service import Message
from registry.notifications.tables import MessageKind

WEBHOOK_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
SMTP_TIMEOUT_SECONDS = 30.0
USER_AGENT = "probation-register-webhooks/1"
# A webhook message whose template is this is sent in the signed ``t=…,v1=…`` style.
SIGNED_V1 = "signed-v1"


class DeliveryFailed(Exception):
    """The message did not go; the text says why, and ``status_code`` what the receiver
    answered (None when nothing answered)."""

    def __init__(self, reason: str, *, status_code: int | None = None) -> None:
        super().__init__(reason)
        self.status_code = status_code


# A host name -> the addresses it resolves to now (OSError or UnicodeError if none). Injectable,
# so a test can answer one address at registration and another at delivery, as a rebinding
# attacker's DNS server would.
Resolver = Callable[[str], Sequence[str]]


def system_resolver(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))


def _forbidden(address: str) -> bool:
    """A private, loopback, link-local, reserved, multicast or unspecified address."""
    ip = ipaddress.ip_address(address)
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


@dataclass(frozen=True)
class PinnedRequest:
    """A request to ``url`` sent to one address resolved beforehand: the URL names the address,
    the Host header and the TLS server name (SNI, and the name the certificate is checked
    against) name the host, so no second DNS answer can send it elsewhere."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, str]


def pin(url: str, address: str) -> PinnedRequest:
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    pinned = parts._replace(netloc=netloc).geturl()
    host_header = (f"[{host}]" if ":" in host else host) + (
        f":{parts.port}" if parts.port is not None else ""
    )
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return PinnedRequest(pinned, {"host": host_header}, extensions)


class Deliverer:
    """Delivers messages for one worker: one HTTP client, reused for every webhook."""

    def __init__(self, settings: Settings, *, resolver: Resolver = system_resolver) -> None:
        self.settings = settings
        self.resolver = resolver
        self._http = httpx.AsyncClient(
            timeout=WEBHOOK_TIMEOUT, follow_redirects=False, headers={"user-agent": USER_AGENT}
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def deliver(self, message: Message) -> int | None:
        """Send the message; a webhook's HTTP status (None for an email)."""
        if message.kind is MessageKind.email:
            await self._email(message)
            return None
        return await self._webhook(message)

    # --- email ------------------------------------------------------------------------

    async def _email(self, message: Message) -> None:
        email = emails.build(
            settings=self.settings,
            to=message.recipient,
            subject=message.subject,
            template=message.template,
            context=message.body,
            message_id=message.id,
        )
        if self.settings.smtp_url:
            await self._smtp(email)
        elif self.settings.environment != "production":
            write_mail_drop(self.settings, email, message.id)
        else:
            raise DeliveryFailed("REGISTRY_SMTP_URL is not set, so no email can be sent")

    async def _smtp(self, email: EmailMessage) -> None:
        parts = urlsplit(self.settings.smtp_url)
        implicit_tls = parts.scheme == "smtps"
        try:
            await aiosmtplib.send(
                email,
                hostname=parts.hostname,
                port=parts.port or (465 if implicit_tls else 25),
                username=unquote(parts.username) if parts.username else None,
                password=unquote(parts.password) if parts.password else None,
                use_tls=implicit_tls,
                start_tls=None if not implicit_tls else False,  # STARTTLS when offered
                timeout=SMTP_TIMEOUT_SECONDS,
            )
        except aiosmtplib.SMTPResponseException as refused:
            raise DeliveryFailed(
                f"The mail server refused it: {refused.code} {refused.message}"
            ) from refused
        except (aiosmtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"Could not reach the mail server: {error}") from error

    # --- webhooks ---------------------------------------------------------------------

    async def _webhook(self, message: Message) -> int:
        if message.template == SIGNED_V1:
            return await self._webhook_v1(message)
        sent_at = clock.now().astimezone(UTC)
        body = webhook_body(message, sent_at)
        headers = {
            "content-type": "application/json",
            "x-registry-event": message.event,
            "x-registry-delivery": str(message.id),
            "x-registry-timestamp": str(int(sent_at.timestamp())),
        }
        if message.signing_key:
            key = secretbox.open_sealed(self.settings.secret_key, message.signing_key)
            headers["x-registry-signature"] = webhook_signature(
                key, headers["x-registry-timestamp"], body
            )
        return await self._post(message.recipient, body, headers)

    async def _webhook_v1(self, message: Message) -> int:
        """The employers' style: the stored payload is the body, sent as it is (its ``id`` lets
        a receiver drop a repeat), signed ``t=<unix>,v1=<hex>``. The host is resolved once,
        now (what a name resolves to can change after the endpoint was checked), refused
        outside development if any answer is private, and the request goes to the address of
        that one answer: a second lookup by the HTTP client could be answered differently."""
        host = urlsplit(message.recipient).hostname or ""
        try:
            addresses = await asyncio.to_thread(self.resolver, host)
        except (OSError, UnicodeError):
            raise DeliveryFailed(f"The address '{host[:100]}' could not be resolved") from None
        if not addresses:
            raise DeliveryFailed(f"The address '{host[:100]}' could not be resolved")
        if self.settings.environment != "development":
            refused = _refusal(host, addresses)
            if refused:
                raise DeliveryFailed(refused)
        pinned = pin(message.recipient, addresses[0])
        body = json.dumps(message.body, sort_keys=True, separators=(",", ":")).encode()
        timestamp = str(int(clock.now().timestamp()))
        key = secretbox.open_sealed(self.settings.secret_key, message.signing_key)
        digest = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
        headers = {
            "content-type": "application/json",
            "x-registry-event": message.event,
            "x-registry-signature": f"t={timestamp},v1={digest.hexdigest()}",
            **pinned.headers,
        }
        return await self._post(pinned.url, body, headers, extensions=pinned.extensions)

    async def _post(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
        *,
        extensions: dict[str, str] | None = None,
    ) -> int:
        try:
            response = await self._http.post(
                url, content=body, headers=headers, extensions=extensions
            )
        except httpx.TimeoutException as error:
            raise DeliveryFailed(f"No answer within {WEBHOOK_TIMEOUT.read:.0f} seconds") from error
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"Could not connect: {error}") from error
        if response.is_redirect:
            where = response.headers.get("location", "elsewhere")
            raise DeliveryFailed(
                f"The receiver redirected to {where}; redirects are not followed",
                status_code=response.status_code,
            )
        if not response.is_success:
            raise DeliveryFailed(
                f"The receiver answered {response.status_code} {response.reason_phrase}",
                status_code=response.status_code,
            )
        return response.status_code


def private_address_reason(url: str, resolver: Resolver = system_resolver) -> str | None:
    """Why ``url`` must not be called from the service (its host resolves to a private,
    loopback, link-local or reserved address, or not at all), or None; every address counts."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = resolver(host)
    except (OSError, UnicodeError):
        return f"The address '{host[:100]}' could not be resolved"
    if not addresses:
        return f"The address '{host[:100]}' could not be resolved"
    return _refusal(host, addresses)


def _refusal(host: str, addresses: Sequence[str]) -> str | None:
    for address in addresses:
        if _forbidden(address):
            return (
                f"The address '{host[:100]}' resolves to {address}, a private, loopback, "
                "link-local or reserved address: the service does not call those"
            )
    return None


def webhook_body(message: Message, sent_at: datetime) -> bytes:
    document = {
        "id": message.idempotency_key,
        "event": message.event,
        "created_at": message.created_at.astimezone(UTC).isoformat(),
        "sent_at": sent_at.isoformat(),
        "data": message.body,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def webhook_signature(key: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` HMAC over ``timestamp.body``; signing the time stops a replayed delivery."""
    digest = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def mail_drop(settings: Settings) -> Path:
    return settings.data_dir / "mail"


def write_mail_drop(settings: Settings, email: EmailMessage, message_id: int) -> Path:
    """Development: the email as a .eml file in the data directory instead of sent."""
    folder = mail_drop(settings)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().astimezone(UTC).strftime("%Y%m%dT%H%M%S")
    recipient = re.sub(r"[^A-Za-z0-9@._-]", "_", str(email["To"]))
    path = folder / f"{stamp}-{message_id:06d}-{recipient}.eml"
    path.write_bytes(email.as_bytes())
    return path
