"""Who is acting, from where, in which request: read by the audit trail when it records an entry.

The web layer sets it once per request after authentication; commands and scheduled jobs set it
for their own work. Services never pass it around by hand.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    id: int | None  # the user's id; None for the public or the system
    label: str  # an email address, "public" or "system: <job>"
    client_address: str = ""
    request_id: str = ""


SYSTEM = Actor(id=None, label="system")
_current: ContextVar[Actor] = ContextVar("audit_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _current.get()


def set_actor(actor: Actor) -> None:
    """Set the actor for the rest of the current context (one request, say)."""
    _current.set(actor)


@contextlib.contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
