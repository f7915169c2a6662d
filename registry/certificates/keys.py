"""The issuer's Ed25519 keys and the ``did:web`` document that publishes them.

The keys live in ``<data dir>/issuer-keys/``: ``issuer-<n>.key`` is a private key (PEM, mode
0600; only the newest is kept) and ``issuer-<n>.pub`` its public key as a multibase string,
kept for ever, so a certificate signed before ``registry keys rotate`` still verifies. The
first key is made on first use. The private key is read here and nowhere else: never logged,
never in an answer. Backups take the whole data directory, keys included.

The issuer's identifier is a ``did:web`` derived from the service's public address
(``REGISTRY_BASE_URL``), and its document is served at ``/.well-known/did.json``: every key as a
``Multikey`` verification method, each listed under ``assertionMethod``.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.config import Settings

KEYS_FOLDER = "issuer-keys"
ED25519_MULTICODEC = b"\xed\x01"
DID_CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
_KEY_FILE = re.compile(r"issuer-(\d+)\.(key|pub)")
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class IssuerKeysError(Exception):
    """The issuer's keys cannot be read or made."""


# --- multibase ------------------------------------------------------------------------------


def base58btc(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    encoded = ""
    while number:
        number, remainder = divmod(number, 58)
        encoded = _BASE58[remainder] + encoded
    leading = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading + encoded


def from_base58btc(text: str) -> bytes:
    number = 0
    for character in text:
        index = _BASE58.find(character)
        if index < 0:
            raise ValueError(f"{character!r} is not base58")
        number = number * 58 + index
    leading = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading + body


def multikey(public_key: Ed25519PublicKey) -> str:
    """The public key as ``publicKeyMultibase``: base58btc (``z``) of the Ed25519 multicodec
    prefix and the 32 raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58btc(ED25519_MULTICODEC + raw)


def public_key_from_multikey(text: str) -> Ed25519PublicKey:
    if not text.startswith("z"):
        raise ValueError("not a base58btc multibase string")
    decoded = from_base58btc(text[1:])
    if not decoded.startswith(ED25519_MULTICODEC) or len(decoded) != 34:
        raise ValueError("not an Ed25519 Multikey")
    return Ed25519PublicKey.from_public_bytes(decoded[2:])


# --- the issuer's identifier ----------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def did_for(base_url: str) -> str:
    """``did:web`` for the service's public address: the host (``:`` in a port percent-encoded),
    then any path's segments joined by ``:``."""
    parts = urlsplit(base_url)
    host = quote(parts.netloc.lower(), safe="")
    segments = [quote(s, safe="") for s in parts.path.split("/") if s]
    return ":".join(["did:web", host, *segments])


# --- keys on disk ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedKey:
    number: int
    multibase: str

    def method_id(self, did: str) -> str:
        return f"{did}#key-{self.number}"


@dataclass(frozen=True)
class KeyRing:
    """The signing key and every public key ever used, oldest first."""

    signing_number: int
    signing_key: Ed25519PrivateKey
    published: tuple[PublishedKey, ...]


def keys_folder(data_dir: Path) -> Path:
    return data_dir / KEYS_FOLDER


def _numbers(folder: Path, kind: str) -> list[int]:
    if not folder.is_dir():
        return []
    found = (_KEY_FILE.fullmatch(path.name) for path in folder.iterdir())
    return sorted(int(match[1]) for match in found if match and match[2] == kind)


def _write_new(path: Path, content: bytes, mode: int) -> bool:
    """Write ``path`` only if it does not exist yet (two workers may race to make a key)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    return True


def _make_key(folder: Path, number: int) -> bool:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    if not _write_new(folder / f"issuer-{number}.key", pem, 0o600):
        return False
    _write_new(folder / f"issuer-{number}.pub", multikey(key.public_key()).encode(), 0o644)
    return True


def _load(data_dir: Path) -> KeyRing:
    folder = keys_folder(data_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _numbers(folder, "key"):
            _make_key(folder, 1)
        number = _numbers(folder, "key")[-1]
        pem = (folder / f"issuer-{number}.key").read_bytes()
        published = tuple(
            PublishedKey(n, (folder / f"issuer-{n}.pub").read_text().strip())
            for n in _numbers(folder, "pub")
        )
    except OSError as error:
        raise IssuerKeysError(
            f"cannot keep the issuer's keys in {folder}: {error.strerror}"
        ) from None
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise IssuerKeysError(f"issuer-{number}.key in {folder} is not an Ed25519 key")
    return KeyRing(number, key, published)


def rotate(data_dir: Path) -> int:
    """Make a new signing key; the old public keys stay published and the old private keys are
    deleted, so nothing signs with them again. Returns the new key's number."""
    current = key_ring(data_dir)
    folder = keys_folder(data_dir)
    number = max(current.signing_number, *(k.number for k in current.published)) + 1
    while not _make_key(folder, number):
        number += 1
    for old in _numbers(folder, "key"):
        if old < number:
            (folder / f"issuer-{old}.key").unlink(missing_ok=True)
    _forget(data_dir)
    return number


_rings: dict[Path, tuple[int, KeyRing]] = {}
_lock = threading.Lock()


def _forget(data_dir: Path) -> None:
    with _lock:
        _rings.pop(_places(data_dir)[0], None)


def key_ring(data_dir: Path) -> KeyRing:
    """The keys, read once and again whenever the folder changes (another process rotated).

    Every call looks at the folder (one ``stat``, on every verification), so a key made or
    rotated by another process is used from its next call on."""
    place, folder = _places(data_dir)
    stamp = _stamp(folder)
    with _lock:
        cached = _rings.get(place)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    ring = _load(data_dir)
    with _lock:
        _rings[place] = (_stamp(folder), ring)
    return ring


def _stamp(folder: str) -> int:
    """The folder's modification time, or -1 when it is not a folder (yet)."""
    try:
        found = os.stat(folder)
    except OSError:
        return -1
    return found.st_mtime_ns if stat.S_ISDIR(found.st_mode) else -1


# --- the issuer in force --------------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    data_dir: Path
    base_url: str

    @property
    def did(self) -> str:
        return did_for(self.base_url)

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def keys(self) -> KeyRing:
        return key_ring(self.data_dir)

    def signing_method(self, ring: KeyRing | None = None) -> tuple[str, Ed25519PrivateKey]:
        """The verification method id and private key to sign with: of ``ring`` when the caller
        has just read it, else of the keys now."""
        ring = ring or self.keys()
        return f"{self.did}#key-{ring.signing_number}", ring.signing_key

    def public_keys(self, ring: KeyRing | None = None) -> dict[str, Ed25519PublicKey]:
        """Every verification method id this register has published, and its key."""
        return dict(_public_keys(self.did, (ring or self.keys()).published))

    def did_document(self) -> dict[str, Any]:
        did = self.did
        methods = [
            {
                "id": key.method_id(did),
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key.multibase,
            }
            for key in self.keys().published
        ]
        return {
            "@context": DID_CONTEXT,
            "id": did,
            "verificationMethod": methods,
            "assertionMethod": [method["id"] for method in methods],
        }


@functools.lru_cache(maxsize=16)
def _public_keys(
    did: str, published: tuple[PublishedKey, ...]
) -> tuple[tuple[str, Ed25519PublicKey], ...]:
    return tuple((key.method_id(did), public_key_from_multikey(key.multibase)) for key in published)


@functools.lru_cache(maxsize=16)
def _places(data_dir: Path) -> tuple[Path, str]:
    """The data directory resolved (what the rings are kept by) and its keys folder's path."""
    resolved = data_dir.resolve()
    return resolved, os.fspath(keys_folder(resolved))


_issuer: list[Issuer] = []


def configure(settings: Settings) -> None:
    """Take the data directory and public address from the settings (the manifest's
    ``configure``: the application and the ``registry`` command call it)."""
    _issuer[:] = [Issuer(settings.data_dir, str(settings.base_url))]


def issuer() -> Issuer:
    """The issuer the settings in force describe. The application and the ``registry`` command
    configure it; anything else that changes the register (a script) gets the settings from the
    environment, as the command would, rather than failing the change."""
    if not _issuer:
        from registry.config import load_settings

        configure(load_settings())
    return _issuer[0]
