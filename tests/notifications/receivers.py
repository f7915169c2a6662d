"""Real receivers on loopback: an SMTP server (aiosmtpd) and an HTTP server for webhooks."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server received, parsed as a mail client would."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refuse_with: tuple[int, str] | None = None  # answer every message with this error

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_with is not None:
            code, text = self.refuse_with
            return f"{code} {text}"
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, str]]:
    """A running SMTP server and the smtp:// URL that reaches it."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """Records every POST; answers each path with the statuses queued for it, then 204.

    With ``hold_from`` set to n, the n-th and later deliveries (counting from 1) are recorded
    at once but not answered until ``let_go()``: a sender is then caught with one in hand.
    """

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    scripted: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    hold_from: int | None = None
    location: str = "http://203.0.113.7/elsewhere"  # where a scripted redirect points
    released: threading.Event = field(default_factory=threading.Event)

    def answer(self, path: str) -> int:
        with self.lock:
            queue = self.scripted.get(path, [])
            return queue.pop(0) if queue else 204

    def received(self, path: str | None = None) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if path is None or d.path == path]

    def count(self) -> int:
        with self.lock:
            return len(self.deliveries)

    def let_go(self) -> None:
        """Answer the held deliveries, and every later one at once."""
        self.released.set()


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.deliveries.append(
                    Delivery(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                number = len(receiver.deliveries)
            if receiver.hold_from is not None and number >= receiver.hold_from:
                receiver.released.wait(timeout=60)
            status = receiver.answer(self.path)
            try:
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("location", receiver.location)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender was killed while its delivery was held; that is the test

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the test reads deliveries, not the log

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.let_go()
        server.shutdown()
        server.server_close()
