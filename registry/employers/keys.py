"""An organisation's API keys: made by its administrators, shown once, stored as a SHA-256 hash
with a recognisable prefix, scoped, named, revocable, limited to so many calls a minute.

A key looks like ``ppr_live_`` and 43 URL-safe characters (256 random bits), so a leaked one is
recognisable in logs and repositories (secret scanners can match :data:`KEY_PATTERN`). Being
machine-made with that much entropy, a plain SHA-256 is the right store for it, as for personal
tokens (:mod:`registry.accounts.credentials`): nothing to stretch against a dictionary.

A key is not a person: it resolves to a :class:`KeyHolder`, whose ``scopes`` open only routes
whose access rule names one of them (``verify``, ``watchlist``), and nothing a person's account
can do. No HTTP here.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from registry.accounts import credentials
from registry.accounts.auth import CurrentUser
from registry.accounts.sign_in import SESSION_TOUCH_INTERVAL
from registry.audit import service as audit
from registry.core import clock
from registry.db import fetch_one, transaction
from registry.employers import organisations
from registry.employers.tables import ApiKey, KeyScope, KeyUsage, OrganisationStatus
from registry.errors import InvalidInput, NotFound, TooManyRequests

KEY_PREFIX = "ppr_live_"
KEY_PATTERN = re.compile(rf"{KEY_PREFIX}[A-Za-z0-9_-]{{43}}")
_KEY_BYTES = 32
DISPLAY_LENGTH = len(KEY_PREFIX) + 6  # enough to tell keys apart, far too little to guess
MAX_KEY_NAME = 80
MAX_KEYS = 50  # live keys an organisation may hold: one per system, not one per call
TARGET = "employer_api_key"
NOT_FOUND = "Your organisation has no key with that id"


@dataclass(frozen=True)
class KeyHolder(CurrentUser):
    """The request's user when it carries an organisation's key."""

    organisation_id: int = 0
    key_id: int = 0
    calls_per_minute: int = 0


@dataclass(frozen=True)
class KeySummary:
    id: int
    name: str
    prefix: str
    scopes: tuple[KeyScope, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def check_scopes(values: list[str] | tuple[str, ...]) -> tuple[KeyScope, ...]:
    chosen: set[KeyScope] = set()
    for value in values:
        try:
            chosen.add(KeyScope(value))
        except ValueError:
            known = ", ".join(scope.value for scope in KeyScope)
            raise InvalidInput(
                f"'{value[:20]}' is not a scope. Scopes are: {known}", field="scopes"
            ) from None
    if not chosen:
        raise InvalidInput("Choose at least one thing the key may do", field="scopes")
    return tuple(sorted(chosen))


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_KEY_NAME:
        raise InvalidInput(
            f"Give the key a name of {MAX_KEY_NAME} characters or fewer", field="name"
        )
    return name


def _summary(row: dict[str, object]) -> KeySummary:
    scopes = str(row["scopes"])
    return KeySummary(
        id=int(str(row["id"])),
        name=str(row["name"]),
        prefix=str(row["key_prefix"]),
        scopes=tuple(KeyScope(s) for s in scopes.split(",") if s),
        created_at=row["created_at"],  # type: ignore[arg-type]
        last_used_at=row["last_used_at"],  # type: ignore[arg-type]
        revoked_at=row["revoked_at"],  # type: ignore[arg-type]
    )


async def issue_key(
    user_id: int, name: str, scopes: list[str] | tuple[str, ...]
) -> tuple[KeySummary, str]:
    """A new key for the administrator's organisation; the secret is returned now, never again."""
    membership = await organisations.require_membership(user_id, admin=True)
    organisation_id = membership.organisation.id
    name = check_name(name)
    chosen = check_scopes(scopes)
    secret = KEY_PREFIX + secrets.token_urlsafe(_KEY_BYTES)
    moment = clock.now().astimezone(UTC)
    async with transaction():
        live = await ApiKey.count().where(
            (ApiKey.organisation == organisation_id) & ApiKey.revoked_at.is_null()
        )
        if live >= MAX_KEYS:
            raise InvalidInput(
                f"Your organisation has {MAX_KEYS} keys in use: revoke one you no longer need",
                field="name",
            )
        key = ApiKey(
            organisation=organisation_id,
            name=name,
            key_prefix=secret[:DISPLAY_LENGTH],
            key_hash=credentials.hash_token(secret),
            scopes=",".join(chosen),
            created_at=moment,
            created_by=user_id,
        )
        await key.save()
        await audit.record(
            "employers.key_issued",
            TARGET,
            key.id,
            after={"organisation": organisation_id, "name": name, "scopes": list(chosen)},
        )
    summary = KeySummary(key.id, name, secret[:DISPLAY_LENGTH], chosen, moment, None, None)
    return summary, secret


async def list_keys(organisation_id: int) -> list[KeySummary]:
    rows = (
        await ApiKey.select()
        .where(ApiKey.organisation == organisation_id)
        .order_by(ApiKey.created_at, ascending=False)
    )
    return [_summary(row) for row in rows]


async def revoke_key(user_id: int, key_id: int) -> None:
    """Revoke one of the administrator's organisation's keys; another organisation's key is
    not found, never forbidden. Revoking twice records one revocation."""
    membership = await organisations.require_membership(user_id, admin=True)
    async with transaction():
        if not await ApiKey.exists().where(
            (ApiKey.id == key_id) & (ApiKey.organisation == membership.organisation.id)
        ):
            raise NotFound(NOT_FOUND)
        revoked = (
            await ApiKey.update({ApiKey.revoked_at: clock.now().astimezone(UTC)})
            .where((ApiKey.id == key_id) & ApiKey.revoked_at.is_null())
            .returning(ApiKey.id)
        )
        if revoked:
            await audit.record(
                "employers.key_revoked",
                TARGET,
                key_id,
                after={"organisation": membership.organisation.id},
            )


_RESOLVE = (
    "SELECT k.id, k.organisation, k.scopes, k.revoked_at, k.last_used_at, k.key_prefix,"
    " o.name AS organisation_name, o.status AS organisation_status, o.key_calls_per_minute"
    " FROM employer_api_key k JOIN employer_organisation o ON o.id = k.organisation"
    " WHERE k.key_hash = {}"
)


async def resolve(raw: str) -> KeyHolder | None:
    """The holder of a live key of an approved organisation, or None (wrong, revoked, or its
    organisation no longer approved): the caller answers 401."""
    if KEY_PATTERN.fullmatch(raw) is None:
        return None
    row = await fetch_one(_RESOLVE, credentials.hash_token(raw))
    if row is None or row["revoked_at"] is not None:
        return None
    if row["organisation_status"] != OrganisationStatus.approved.value:
        return None
    moment = clock.now().astimezone(UTC)
    last_used = _aware(row["last_used_at"])
    if last_used is None or moment - last_used > SESSION_TOUCH_INTERVAL:
        await ApiKey.update({ApiKey.last_used_at: moment}).where(ApiKey.id == row["id"])
    label = f"API key {row['key_prefix']}… of {row['organisation_name']}"
    return KeyHolder(
        id=0,
        email=label,
        display_name=str(row["organisation_name"]),
        roles=frozenset(),
        is_staff=False,
        totp_enabled=False,
        session_id=None,
        fully_signed_in=True,
        scopes=frozenset(s for s in str(row["scopes"]).split(",") if s),
        organisation_id=int(row["organisation"]),
        key_id=int(row["id"]),
        calls_per_minute=int(row["key_calls_per_minute"]),
    )


def _aware(value: object) -> datetime | None:
    """A timestamp read by ``fetch_one`` (SQLite gives text) as an aware datetime."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_TAKE_CALL = (
    "INSERT INTO employer_key_usage (api_key, minute, calls) VALUES ({}, {}, 1)"
    " ON CONFLICT (api_key, minute) DO UPDATE SET calls = employer_key_usage.calls + 1"
    " RETURNING calls"
)


async def take_call(holder: KeyHolder) -> None:
    """Count one call against the key's limit for this minute, across every worker; over the
    limit, TooManyRequests with the seconds to the next minute."""
    moment = clock.now().astimezone(UTC)
    minute = int(moment.timestamp() // 60)
    rows = await KeyUsage.raw(_TAKE_CALL, holder.key_id, minute)
    calls = int(rows[0]["calls"])
    if calls == 1:  # the first call of a minute clears the key's older minutes
        await KeyUsage.delete().where(
            (KeyUsage.api_key == holder.key_id) & (KeyUsage.minute < minute - 1)
        )
    if calls > holder.calls_per_minute:
        retry_after = max(1, 60 - int(moment.timestamp()) % 60)
        if calls == holder.calls_per_minute + 1:  # the first refusal of the minute is recorded
            await audit.record(
                "employers.key_rate_limited",
                TARGET,
                holder.key_id,
                after={"calls_per_minute": holder.calls_per_minute},
            )
        raise TooManyRequests(
            f"This key may make {holder.calls_per_minute} calls a minute and has made them. "
            f"Try again in {retry_after} seconds.",
            retry_after=retry_after,
        )
