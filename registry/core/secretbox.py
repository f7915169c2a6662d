"""Encryption at rest for small secrets the service must read back, such as TOTP shared secrets.

The key is derived from ``REGISTRY_SECRET_KEY`` with HKDF-SHA256 under a label of its own, so the
same secret key can sign sessions elsewhere without the two uses ever sharing key material. The
sealed form is a Fernet token (AES-128-CBC with HMAC-SHA256): tampering is detected, not decrypted.

Changing ``REGISTRY_SECRET_KEY`` makes every sealed value unreadable; staff then enrol their
authenticator again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Versioned: a future scheme gets a new label, and so a key independent of this one.
_KEY_LABEL = b"probation-register/secretbox/v1"


class SecretBoxError(Exception):
    """A sealed value could not be opened: the secret key is not the one that sealed it, or the
    value was altered."""


def _fernet(secret_key: str) -> Fernet:
    if not secret_key:
        raise ValueError("secret_key must not be empty")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_LABEL).derive(
        secret_key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, plaintext: str) -> str:
    """``plaintext`` encrypted and authenticated under a key derived from ``secret_key``."""
    return _fernet(secret_key).encrypt(plaintext.encode("utf-8")).decode("ascii")


def open_sealed(secret_key: str, token: str) -> str:
    """The plaintext :func:`seal` was given; raises :class:`SecretBoxError` if it cannot be."""
    try:
        return _fernet(secret_key).decrypt(token.encode("utf-8")).decode("utf-8")
    except (InvalidToken, UnicodeDecodeError) as error:
        raise SecretBoxError(
            "The sealed value cannot be opened with this secret key: "
            "REGISTRY_SECRET_KEY has changed or the value was altered"
        ) from error
