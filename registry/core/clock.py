"""The service's clock. Time-dependent rules read it here so tests can set the time."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta


def _system_now() -> datetime:
    return datetime.now(UTC)


_clock: ContextVar[Callable[[], datetime]] = ContextVar("registry_clock", default=_system_now)


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return _clock.get()()


@contextlib.contextmanager
def frozen_at(moment: datetime) -> Iterator[Callable[[timedelta], None]]:
    """Stop the clock at ``moment``; the yielded function moves it on by a timedelta."""
    current = [moment]
    token = _clock.set(lambda: current[0])

    def advance(by: timedelta) -> None:
        current[0] = current[0] + by

    try:
        yield advance
    finally:
        _clock.reset(token)


def is_system() -> bool:
    """True unless a test has set the time: the clock is the system's own."""
    return _clock.get() is _system_now
