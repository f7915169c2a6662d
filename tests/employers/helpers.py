"""Organisations, members, keys and register entries of every status, for the employer tests;
and a count of the statements a block sends to the database, on either engine."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import aiosqlite
import asyncpg

from registry.accounts import users
from registry.accounts.roles import Role
from registry.core import clock
from registry.employers import keys, organisations
from registry.employers.tables import Organisation
from registry.register import hooks, service
from registry.register.hooks import Restriction, RestrictionKind
from tests.accounts.helpers import SignedIn, sign_in
from tests.notifications.receivers import Delivery
from tests.register.helpers import put_on_register


async def registrar() -> users.Account:
    """A registrar with no password (none is needed to act through the services)."""
    found = await users.find_account_by_email("registrar.employers@example.org")
    if found is not None:
        return found
    return await users.create_user(
        "registrar.employers@example.org", "Rita Registrar", [Role.registrar]
    )


@dataclass
class Employer:
    organisation: organisations.OrganisationRecord
    admin: SignedIn

    async def key(self, *scopes: str, name: str = "HR system") -> str:
        _, secret = await keys.issue_key(self.admin.account.id, name, scopes or ("verify",))
        return secret


async def employer(name: str = "Northern Probation Trust", slug: str = "north") -> Employer:
    """An approved organisation made by staff, its contact (the administrator) signed in."""
    staff = await registrar()
    made = await organisations.create_organisation(
        organisations.check_contact(name, f"Admin {slug.title()}", f"admin@{slug}.example.org"),
        by_user_id=staff.id,
    )
    account = await users.find_account_by_email(f"admin@{slug}.example.org")
    assert account is not None
    return Employer(made, await sign_in(account))


async def limit_calls(organisation_id: int, per_minute: int) -> None:
    await Organisation.update({Organisation.key_calls_per_minute: per_minute}).where(
        Organisation.id == organisation_id
    )


def bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


def verified(delivery: Delivery, secret: str, *, fresh: bool = True) -> dict[str, object]:
    """The body, after checking the signature as a receiver would."""
    parts = dict(p.split("=", 1) for p in delivery.headers["x-registry-signature"].split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + delivery.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"])
    if fresh:  # a receiver refuses a signature more than five minutes old
        assert abs(int(parts["t"]) - clock.now().timestamp()) < 300
    body: dict[str, object] = json.loads(delivery.body)
    return body


# --- the register ---------------------------------------------------------------------------


@dataclass
class Register:
    """One entry of each status, by status, and the restrictions source that makes two of them."""

    numbers: dict[str, str]
    restrictions: dict[int, list[Restriction]] = field(default_factory=dict)

    async def source(self, entry_ids: Sequence[int], on: date) -> dict[int, list[Restriction]]:
        return {i: self.restrictions[i] for i in entry_ids if i in self.restrictions}

    @contextlib.contextmanager
    def in_force(self) -> Iterator[None]:
        with hooks.extra_sources(restriction_sources=[self.source]):
            yield


SUPERVISION = "Must work under supervision"


async def every_status() -> Register:
    """Six entries: registered, with conditions, suspended, lapsed, removed, voluntarily removed."""
    register = Register({})
    people = {
        "registered": ("Ada", "Lovelace"),
        "registered_with_conditions": ("Brian", "Cox"),
        "suspended": ("Cara", "Dune"),
        "lapsed": ("Dan", "Eel"),
        "removed": ("Eve", "Fox"),
        "voluntarily_removed": ("Fay", "Gull"),
    }
    entries = {status: await put_on_register(*name) for status, name in people.items()}
    for status, kind in (
        ("registered_with_conditions", RestrictionKind.conditions),
        ("suspended", RestrictionKind.interim_suspension),
    ):
        register.restrictions[entries[status].id] = [
            Restriction(kind, SUPERVISION, date(2026, 1, 1), None, "/decisions/1")
        ]
    with register.in_force():
        for status in ("registered_with_conditions", "suspended"):
            await service.refresh_entry(entries[status].id, date.today())
    for status, move in (
        ("lapsed", service.EntryMove.lapse),
        ("removed", service.EntryMove.removal),
        ("voluntarily_removed", service.EntryMove.voluntary_removal),
    ):
        await service.move_entry(entries[status].id, move, reason="test")
    register.numbers = {status: entry.registration_number for status, entry in entries.items()}
    return register


# --- counting statements ----------------------------------------------------------------------


@contextlib.contextmanager
def counting_statements() -> Iterator[list[str]]:
    """Every statement sent to either engine inside the block, at the driver's connection (so
    Piccolo's own, raw SQL and the registry's fast paths are all counted). A batch sent in one
    exchange (asyncpg's ``fetchmany``, :func:`registry.db.fetch_one_batched`) counts once."""
    sent: list[str] = []
    patched: list[tuple[type[Any], str, Any]] = []

    def wrap(owner: type[Any], name: str) -> None:
        original = getattr(owner, name)

        def counted(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            sent.append(query)
            return original(self, query, *args, **kwargs)

        patched.append((owner, name, original))
        setattr(owner, name, counted)

    for name in ("execute", "execute_fetchall", "executemany"):
        wrap(aiosqlite.Connection, name)
    for name in ("execute", "fetch", "fetchrow", "fetchval", "executemany", "fetchmany"):
        wrap(asyncpg.connection.Connection, name)
    try:
        yield sent
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)
