"""Concern references: ``FTP-`` and eight Crockford base32 characters (40 random bits) with
Crockford's check symbol, e.g. ``FTP-7K3M-9Q2X-5``. Unguessable enough to quote on the phone,
short enough to type; the check symbol catches any one mistyped character, so a mistyped
reference is answered "not a reference", never someone else's concern. Reading one back forgives
case, hyphens, spaces and ``I``/``L``/``O`` for ``1``/``1``/``0``, as certificate serials do.
"""

from __future__ import annotations

import re
import secrets

from registry.certificates.serials import ALPHABET, CHECK_ALPHABET, check_symbol
from registry.errors import InvalidInput

PREFIX = "FTP-"
LENGTH = 8
BITS = 5 * LENGTH
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS = re.compile(r"[\s\-]+")


def encode(number: int) -> str:
    if not 0 <= number < 2**BITS:
        raise ValueError("a concern reference is 40 bits")
    body = "".join(ALPHABET[(number >> shift) & 31] for shift in range(5 * (LENGTH - 1), -1, -5))
    return f"{PREFIX}{body[:4]}-{body[4:]}-{check_symbol(number)}"


def new_reference() -> str:
    return encode(secrets.randbits(BITS))


def parse_reference(text: str, *, field: str = "reference") -> str:
    """The reference as stored, or :class:`InvalidInput` saying why ``text`` is not one."""
    cleaned = _SEPARATORS.sub("", text.strip()).upper()
    shown = text.strip()[:40]
    if cleaned.startswith("FTP"):
        cleaned = cleaned[3:]
    problem = f"'{shown}' is not a concern reference: it looks like FTP-7K3M-9Q2X-5"
    if len(cleaned) != LENGTH + 1:
        raise InvalidInput(problem, field=field)
    body, check = cleaned[:LENGTH].translate(_READ_AS), cleaned[LENGTH]
    if check in "ILO":
        check = check.translate(_READ_AS)
    if any(character not in ALPHABET for character in body) or check not in CHECK_ALPHABET:
        raise InvalidInput(problem, field=field)
    number = 0
    for character in body:
        number = number * 32 + ALPHABET.index(character)
    if check_symbol(number) != check:
        raise InvalidInput(
            f"'{shown}' is not a valid concern reference: its last character does not match "
            "the rest. Check it for a mistyped character.",
            field=field,
        )
    return encode(number)
