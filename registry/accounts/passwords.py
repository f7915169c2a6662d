"""Password hashing (argon2id) and the password policy people see when they choose one.

The policy follows NCSC and NIST SP 800-63B: a minimum length, a cap that stops absurd input, a
block-list of passwords attackers try first, and no composition rules (they make passwords harder
to remember without making them harder to guess).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import secrets
import unicodedata
from dataclasses import dataclass
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from registry.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 1024
# Shorter local parts ("jo", "al") turn up inside too many good passwords to be worth refusing.
MIN_EMAIL_LOCAL_PART = 3

_DATA_PACKAGE = "registry.accounts"
COMMON_PASSWORDS_RESOURCE = "data/common_passwords.txt"

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory profile (t=3, m=64 MiB, p=4).
# Raising them here is enough to upgrade every account: each hash is redone at its next sign-in.
_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    """The outcome of checking a password against a stored hash."""

    matched: bool
    # The hash was made with other parameters than today's: store a fresh hash_password().
    needs_rehash: bool = False


def _normalise(password: str) -> str:
    # NIST SP 800-63B: the same password typed on two keyboards can arrive composed differently.
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (self-describing: it carries its salt and parameters)."""
    return _hasher.hash(_normalise(password))


def verify_password(stored_hash: str, password: str) -> PasswordCheck:
    """Whether ``password`` matches ``stored_hash``; never raises for a wrong or malformed hash."""
    if not stored_hash:
        # No password set yet (an invited user): spend the time anyway so timing says nothing.
        dummy_verify(password)
        return PasswordCheck(matched=False)
    try:
        _hasher.verify(stored_hash, _normalise(password))
    except InvalidHashError:
        dummy_verify(password)
        return PasswordCheck(matched=False)
    except VerificationError:
        return PasswordCheck(matched=False)
    return PasswordCheck(matched=True, needs_rehash=_hasher.check_needs_rehash(stored_hash))


@functools.cache
def _dummy_hash() -> str:
    # Made with today's parameters, so a dummy check costs exactly what a real one does.
    return _hasher.hash(secrets.token_urlsafe(32))


def dummy_verify(password: str) -> None:
    """Spend the time a real check takes, so an unknown email answers as slowly as a known one."""
    with contextlib.suppress(VerificationError):
        _hasher.verify(_dummy_hash(), _normalise(password))


# argon2 takes about a tenth of a second of CPU by design: off the event loop, so one sign-in
# does not stall every other request the worker is serving.
async def hash_password_in_thread(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_in_thread(stored_hash: str, password: str) -> PasswordCheck:
    return await asyncio.to_thread(verify_password, stored_hash, password)


async def dummy_verify_in_thread(password: str) -> None:
    await asyncio.to_thread(dummy_verify, password)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The block-list, lower-cased; read once from the file shipped with the package."""
    text = resources.files(_DATA_PACKAGE).joinpath(COMMON_PASSWORDS_RESOURCE).read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def is_common_password(password: str) -> bool:
    return _normalise(password).casefold() in common_passwords()


def password_problems(password: str, email: str = "") -> list[str]:
    """What is wrong with ``password`` as a new password, in words the person can act on.

    An empty list means it is acceptable. ``email`` is the account's address; a password that
    contains its local part is refused because it is the first thing an attacker tries.
    """
    if not password:
        return ["Enter a password"]
    password = _normalise(password)
    if len(password) > MAX_LENGTH:
        # Nothing else is worth saying about a password this long.
        return [f"Password must be {MAX_LENGTH:,} characters or fewer"]
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Password must be {MIN_LENGTH} characters or more")
    if is_common_password(password):
        problems.append("Password is too common: choose one that is harder to guess")
    local_part = email.rpartition("@")[0] if "@" in email else email
    local_part = local_part.strip().casefold()
    if len(local_part) >= MIN_EMAIL_LOCAL_PART and local_part in password.casefold():
        problems.append("Password must not contain your email address")
    return problems


def check_new_password(password: str, email: str) -> None:
    """Refuse ``password`` for the account at ``email``, naming the first problem."""
    problems = password_problems(password, email)
    if problems:
        raise InvalidInput(problems[0], field="password")
