"""W3C Bitstring Status List v1.0: one list for ``revocation`` and one for ``suspension``.

Each list has 131,072 entries (16 KB, the specification's minimum for herd privacy); when one is
full the next (``revocation-2``, …) is started. A certificate's bit is read from its own row
(``Certificate.revoked_at`` / ``Certificate.suspended``), so the served list changes in the very
transaction that changes the certificate. The list is served as a signed
``BitstringStatusListCredential``: the bits GZIP-compressed, then base64url without padding,
with the multibase ``u`` prefix; bit 0 is the left-most bit of the first byte.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from registry.certificates import credentials
from registry.certificates.keys import KeyRing, issuer
from registry.certificates.tables import Certificate, StatusList, StatusPurpose
from registry.core import clock
from registry.db import fetch_one, serialise_on
from registry.errors import NotFound

LIST_SIZE = 131_072  # 2**17 bits
PATH = "/status-lists/"
ENTRY_TYPE = "BitstringStatusListEntry"
_LOCK_KEYS = {StatusPurpose.revocation: 7_130_001, StatusPurpose.suspension: 7_130_002}
_BIT_COLUMN = {
    StatusPurpose.revocation: ("revocation_list", "revocation_index", "revoked_at IS NOT NULL"),
    StatusPurpose.suspension: ("suspension_list", "suspension_index", "suspended"),
}


@dataclass(frozen=True)
class Slot:
    list_id: int
    name: str
    index: int


def list_url(name: str) -> str:
    return issuer().url(PATH + name)


def status_entries(revocation: Slot, suspension: Slot) -> list[dict[str, Any]]:
    """The credential's ``credentialStatus``: one ``BitstringStatusListEntry`` per purpose."""
    return [
        {
            "id": f"{list_url(slot.name)}#{slot.index}",
            "type": ENTRY_TYPE,
            "statusPurpose": purpose.value,
            "statusListIndex": str(slot.index),
            "statusListCredential": list_url(slot.name),
        }
        for purpose, slot in (
            (StatusPurpose.revocation, revocation),
            (StatusPurpose.suspension, suspension),
        )
    ]


async def allocate(purpose: StatusPurpose) -> Slot:
    """A fresh index in the newest list of ``purpose``, in the caller's transaction.

    Allocations queue on one lock per purpose (PostgreSQL; SQLite has one writer anyway), so
    two at once never take the same index, and only one of them starts a new list."""
    return (await allocate_many(purpose, 1))[0]


async def allocate_many(purpose: StatusPurpose, count: int) -> list[Slot]:
    """:func:`allocate` ``count`` times, with the lock taken once and a list's counter moved
    once for all the slots it gives (a batch of certificates)."""
    await serialise_on(StatusList, _LOCK_KEYS[purpose])
    row = await fetch_one(
        "SELECT id, name, size, allocated, multiplier, shift FROM certificate_status_list"
        " WHERE purpose = {} ORDER BY id DESC LIMIT 1",
        purpose.value,
    )
    slots: list[Slot] = []
    while len(slots) < count:
        if row is None or row["allocated"] >= row["size"]:
            row = await _new_list(purpose, 1 if row is None else _number(row["name"]) + 1)
        wanted = min(count - len(slots), row["size"] - row["allocated"])
        taken = await StatusList.raw(
            "UPDATE certificate_status_list SET allocated = allocated + {} WHERE id = {}"
            " RETURNING allocated - {} AS n",
            wanted,
            row["id"],
            wanted,
        )
        first = int(taken[0]["n"])
        slots += [
            Slot(int(row["id"]), row["name"], (row["multiplier"] * n + row["shift"]) % row["size"])
            for n in range(first, first + wanted)
        ]
        row = {**row, "allocated": first + wanted}
    return slots


def _number(name: str) -> int:
    _, _, number = name.partition("-")
    return int(number) if number else 1


async def _new_list(purpose: StatusPurpose, number: int) -> dict[str, Any]:
    name = purpose.value if number == 1 else f"{purpose.value}-{number}"
    values: dict[str, Any] = {
        "name": name,
        "purpose": purpose.value,
        "size": LIST_SIZE,
        "allocated": 0,
        "multiplier": secrets.randbelow(LIST_SIZE // 2) * 2 + 1,  # odd: a permutation mod 2**17
        "shift": secrets.randbelow(LIST_SIZE),
    }
    inserted = await StatusList.insert(
        StatusList(**values, version=1, updated_at=clock.now())
    ).returning(StatusList.id)
    return {**values, "id": inserted[0]["id"]}


async def changed(list_ids: Iterable[int]) -> None:
    """Count a change to the bits of these lists (their ETag), in the caller's transaction."""
    for list_id in sorted(set(list_ids)):
        await StatusList.update(
            {StatusList.version: StatusList.version + 1, StatusList.updated_at: clock.now()}
        ).where(StatusList.id == list_id)


# --- the served list ----------------------------------------------------------------------


def bitstring(bits: Iterable[int], size: int = LIST_SIZE) -> bytes:
    """The set bits' indexes as the list's bitstring, most significant bit first."""
    buffer = bytearray(size // 8)
    for index in bits:
        buffer[index // 8] |= 0x80 >> (index % 8)
    return bytes(buffer)


def encode(bits: Iterable[int], size: int = LIST_SIZE) -> str:
    """The ``encodedList``: the set bits' indexes as a bitstring, GZIP, base64url, ``u``."""
    return _encoded(bitstring(bits, size))


def _encoded(raw: bytes) -> str:
    compressed = gzip.compress(raw, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def bit_at(encoded: str, index: int) -> bool:
    """Bit ``index`` of an ``encodedList``; IndexError when the list has no such entry."""
    if not encoded.startswith("u"):
        raise ValueError("the encoded list is not base64url multibase")
    raw = encoded[1:]
    return _bit(gzip.decompress(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))), index)


def _bit(data: bytes, index: int) -> bool:
    if not 0 <= index < len(data) * 8:
        raise IndexError(index)
    return bool(data[index // 8] & (0x80 >> (index % 8)))


@dataclass(frozen=True)
class ServedList:
    body: bytes
    etag: str
    encoded: str
    size: int
    bits: bytes = b""  # the bitstring itself, so a bit is read without decompressing the list

    def bit(self, index: int) -> bool:
        """Bit ``index``, as :func:`bit_at` reads it from ``encoded``; IndexError past the end."""
        return _bit(self.bits, index)


# name -> (what it was built from, the list): the multiplier and offset tell a list apart from
# an earlier one of the same name and version (a database restored or emptied by tests).
_served: dict[str, tuple[str, ServedList]] = {}


LIST_COLUMNS = ("id", "name", "purpose", "size", "version", "multiplier", "shift")


async def served(
    name: str, row: Mapping[str, Any] | None = None, ring: KeyRing | None = None
) -> ServedList:
    """The signed status list credential called ``name``, rebuilt only when its bits (its
    version) or the signing key changed. ``row`` is the list's row (:data:`LIST_COLUMNS`) when
    the caller has just read it in the same query as something else, as verifying does, and
    ``ring`` the issuer's keys when the caller has just read them."""
    if row is None:
        row = await fetch_one(
            "SELECT id, name, purpose, size, version, multiplier, shift"
            " FROM certificate_status_list WHERE name = {}",
            name,
        )
    if row is None:
        raise NotFound(f"There is no status list called {name[:40]}")
    method, key = issuer().signing_method(ring)
    built_from = "|".join(
        str(part) for part in (row["id"], row["multiplier"], row["shift"], row["version"], method)
    )
    found = _served.get(row["name"])
    if found is not None and found[0] == built_from:
        return found[1]
    purpose = StatusPurpose(row["purpose"])
    list_column, index_column, is_set = _BIT_COLUMN[purpose]
    rows = await Certificate.raw(
        f"SELECT {index_column} AS i FROM certificate WHERE {list_column} = {{}} AND {is_set}",  # noqa: S608
        row["id"],
    )
    raw = bitstring((int(r["i"]) for r in rows), int(row["size"]))
    encoded = _encoded(raw)
    url = list_url(row["name"])
    now = clock.now()
    document = {
        "@context": [credentials.VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer().did,
        "validFrom": credentials.timestamp(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose.value,
            "encodedList": encoded,
        },
    }
    signed = credentials.sign(document, key=key, method_id=method, created=now)
    body = json.dumps(signed, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(built_from.encode()).hexdigest()[:32] + '"'
    result = ServedList(body, etag, encoded, int(row["size"]), raw)
    _served[row["name"]] = (built_from, result)
    return result
