"""Random credentials: API tokens, browser session tokens, password reset tokens, recovery codes.

Each is shown or sent once and stored only as a SHA-256 hash. A plain (unsalted, unstretched)
hash is enough because every value here is machine-generated with at least 49 bits of entropy
(most with 256): unlike a password, it cannot be guessed from a dictionary.

API tokens start with ``prr_`` (probation practitioner register) so a leaked one is recognisable
in logs, tickets and repositories. Secret scanners can match them with :data:`API_TOKEN_PATTERN`::

    prr_[A-Za-z0-9_-]{43}
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

API_TOKEN_PREFIX = "prr_"  # noqa: S105 (a public marker, not a secret)
_TOKEN_BYTES = 32  # 256 bits; token_urlsafe(32) is 43 characters
API_TOKEN_PATTERN = re.compile(rf"{API_TOKEN_PREFIX}[A-Za-z0-9_-]{{43}}")
# Enough to tell a person's tokens apart in a list, far too little to help guess the rest.
API_TOKEN_DISPLAY_LENGTH = 12

# No 0/o, 1/l/i: a code copied from paper must not be misread.
RECOVERY_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_GROUPS = (4, 4, 2)  # abcd-efgh-jk: about 49.5 bits
RECOVERY_CODE_COUNT = 10
_RECOVERY_CODE_LENGTH = sum(RECOVERY_CODE_GROUPS)


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """A new random secret: ``token`` goes to its owner once, ``hash`` to the database."""

    token: str = field(repr=False)  # kept out of repr so it cannot slip into a log line
    hash: str


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new API token: show ``token`` once; store ``prefix`` and ``hash``."""

    token: str = field(repr=False)
    prefix: str
    hash: str


def hash_token(token: str) -> str:
    """SHA-256 hex of a token, as stored (64 characters)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    """Whether ``token`` hashes to ``stored_hash``, compared in constant time."""
    return hmac.compare_digest(hash_token(token), stored_hash)


def _issue(token: str) -> IssuedSecret:
    return IssuedSecret(token=token, hash=hash_token(token))


def new_api_token() -> IssuedToken:
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)
    return IssuedToken(token=token, prefix=token[:API_TOKEN_DISPLAY_LENGTH], hash=hash_token(token))


def looks_like_api_token(value: str) -> bool:
    """Whether ``value`` has the shape of an API token (says nothing about whether it is valid)."""
    return API_TOKEN_PATTERN.fullmatch(value) is not None


def new_session_token() -> IssuedSecret:
    """A browser session token, for the cookie; only its hash is kept server-side."""
    return _issue(secrets.token_urlsafe(_TOKEN_BYTES))


def new_reset_token() -> IssuedSecret:
    """A password reset token, for the emailed link (URL-safe as it stands)."""
    return _issue(secrets.token_urlsafe(_TOKEN_BYTES))


def _new_recovery_code() -> str:
    groups = (
        "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(size))
        for size in RECOVERY_CODE_GROUPS
    )
    return "-".join(groups)


def new_recovery_codes(n: int = RECOVERY_CODE_COUNT) -> list[str]:
    """``n`` distinct one-time codes like ``abcd-efgh-jk``, to be written down by their owner."""
    codes: list[str] = []
    while len(codes) < n:
        code = _new_recovery_code()
        if code not in codes:
            codes.append(code)
    return codes


def normalise_recovery_code(text: str) -> str:
    """The code as typed, without spaces or dashes and lower-cased: ``ABCD EFGH-JK`` is valid."""
    return "".join(text.split()).replace("-", "").lower()


def looks_like_recovery_code(text: str) -> bool:
    """Whether ``text`` is shaped like a recovery code (so a form can tell it from a TOTP code)."""
    code = normalise_recovery_code(text)
    return len(code) == _RECOVERY_CODE_LENGTH and all(c in RECOVERY_CODE_ALPHABET for c in code)


def hash_recovery_code(code: str) -> str:
    """SHA-256 hex of the normalised code, as stored."""
    return hash_token(normalise_recovery_code(code))


def recovery_code_matches(code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_recovery_code(code), stored_hash)
