"""Helpers for the outbox tests: draining in-process, polling, and worker subprocesses."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from email.message import EmailMessage
from typing import Any

from registry.config import Settings
from registry.notifications.delivery import Deliverer
from registry.notifications.tables import DeliveryAttempt, OutboxMessage
from registry.notifications.worker import Worker
from tests.support import registry_env, registry_executable


def body_of(email: EmailMessage, kind: str = "plain") -> str:
    """The text of an email's ``plain`` or ``html`` part."""
    part = email.get_body((kind,))
    assert part is not None, f"the email has no {kind} part"
    return str(part.get_content())


async def only_message(**where: Any) -> dict[str, Any]:
    """The one outbox message (matching ``where``, by column name)."""
    query = OutboxMessage.select()
    for column, value in where.items():
        query = query.where(getattr(OutboxMessage, column) == value)
    row = await query.first()
    assert row is not None, f"no outbox message matching {where}"
    return row


async def drain(settings: Settings, *, name: str | None = None, batch_size: int = 50) -> Worker:
    """Send everything due now with an in-process worker."""
    worker = Worker(settings, batch_size=batch_size)
    if name is not None:
        worker.name = name
    deliverer = Deliverer(settings)
    try:
        while await worker.run_once(deliverer):
            pass
    finally:
        await deliverer.aclose()
    return worker


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], *, within: float = 20.0, what: str = ""
) -> None:
    """Poll ``condition`` every few milliseconds until it holds; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what or condition}")
        await asyncio.sleep(0.02)


async def start_registry(
    settings: Settings, *args: str, env: Mapping[str, str] | None = None
) -> asyncio.subprocess.Process:
    """Start the installed ``registry`` command against the test's database, without waiting."""
    return await asyncio.create_subprocess_exec(
        registry_executable(),
        *args,
        env=registry_env(settings, env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(process: asyncio.subprocess.Process, *, within: float = 60.0) -> tuple[str, str]:
    """Wait, at most ``within`` seconds, for ``process`` to exit; its stdout and stderr."""
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=within)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"the process did not exit within {within} s") from None
    return stdout.decode(), stderr.decode()


def worker_totals(stdout: str) -> tuple[int, int]:
    """(sent, failed) from the last line ``registry worker`` prints."""
    found = re.findall(r"^sent (\d+), failed (\d+)$", stdout, flags=re.MULTILINE)
    assert found, f"no totals in the worker's output: {stdout!r}"
    sent, failed = found[-1]
    return int(sent), int(failed)


async def outbox() -> list[dict[str, Any]]:
    return list(await OutboxMessage.select().order_by(OutboxMessage.id))


async def attempts_of(message_id: int) -> list[dict[str, Any]]:
    return list(
        await DeliveryAttempt.select()
        .where(DeliveryAttempt.message == message_id)
        .order_by(DeliveryAttempt.id)
    )
