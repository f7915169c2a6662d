"""``registry worker``: sends what is due in the outbox, and runs the scheduled jobs if asked.

The worker claims a batch, sends each message in turn and records the outcome. Asked to stop
(SIGTERM, SIGINT), it finishes the message in hand, hands the rest of its batch back untried and
exits; killed outright, its messages go back to the queue when their lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from registry.config import Settings
from registry.core.scheduler import Scheduler
from registry.notifications import service
from registry.notifications.delivery import Deliverer, DeliveryFailed

log = structlog.get_logger("registry.worker")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class WorkerStats:
    sent: int = 0
    failed: int = 0
    lost_claims: int = 0  # finished after another worker had reclaimed the message


@dataclass
class Worker:
    settings: Settings
    batch_size: int = 20
    lease: timedelta = service.DEFAULT_LEASE
    poll_interval: float = 5.0
    name: str = field(default_factory=worker_name)
    stats: WorkerStats = field(default_factory=WorkerStats)

    async def run(
        self, stop: asyncio.Event, *, drain: bool = False, scheduler: Scheduler | None = None
    ) -> WorkerStats:
        """Work until ``stop`` is set; with ``drain``, also stop once nothing is due."""
        deliverer = Deliverer(self.settings)
        log.info("worker_started", worker=self.name, batch_size=self.batch_size)
        try:
            while not stop.is_set():
                if scheduler is not None:
                    await scheduler.run_due()
                handled = await self.run_once(deliverer, stop)
                if handled == 0:
                    if drain:
                        break
                    await _wait(stop, self.poll_interval)
        finally:
            await deliverer.aclose()
            log.info(
                "worker_stopped", worker=self.name, sent=self.stats.sent, failed=self.stats.failed
            )
        return self.stats

    async def run_once(self, deliverer: Deliverer, stop: asyncio.Event | None = None) -> int:
        """Claim one batch and send it; the number of messages tried."""
        claim = await service.claim_due(self.name, batch_size=self.batch_size, lease=self.lease)
        for position, message in enumerate(claim.messages):
            if stop is not None and stop.is_set():
                await service.release(claim.messages[position:], claim.token)
                return position
            await self._send(deliverer, message, claim.token)
        return len(claim.messages)

    async def _send(self, deliverer: Deliverer, message: service.Message, token: str) -> None:
        # A duration, not a time of day: measured on the monotonic clock, not the service's.
        started = time.perf_counter()

        def took() -> int:
            return round((time.perf_counter() - started) * 1000)

        try:
            status_code = await deliverer.deliver(message)
        except DeliveryFailed as failure:
            kept = await service.mark_failed(
                message,
                token,
                str(failure),
                status_code=failure.status_code,
                duration_ms=took(),
            )
            self.stats.failed += 1
            log.warning(
                "message_failed", message_id=message.id, kind=message.kind, error=str(failure)
            )
        except Exception as error:  # a bug in one message must not stop the others going
            kept = await service.mark_failed(
                message, token, f"Unexpected error: {error!r}", duration_ms=took()
            )
            self.stats.failed += 1
            log.exception("message_crashed", message_id=message.id)
        else:
            kept = await service.mark_sent(
                message, token, status_code=status_code, duration_ms=took()
            )
            self.stats.sent += 1
        if not kept:
            self.stats.lost_claims += 1
            log.warning("claim_lost", message_id=message.id, worker=self.name)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    # Waits for the next poll, but wakes at once when asked to stop.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
