"""Certificate serials: 128 random bits in Crockford base32, and Crockford's check symbol.

A serial is 26 base32 characters (the 128 bits, zero-padded at the front to 130) and one check
character: the number modulo 37, written in Crockford's check alphabet (the 32 digits and
``* ~ $ = U``). It catches every single mistyped character and most swaps, so a mistyped serial
is answered "malformed", never "not found". Reading it back forgives what people do: any case,
hyphens and spaces, ``I`` and ``L`` for ``1`` and ``O`` for ``0``.
"""

from __future__ import annotations

import re
import secrets

from registry.errors import InvalidInput

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"
BITS = 128
LENGTH = 26  # base32 characters for 128 bits
GROUP = 4
FIELD = "serial"
_VALUES = {character: value for value, character in enumerate(CHECK_ALPHABET)}
_DIGITS = frozenset(ALPHABET)
_AS_BASE32 = str.maketrans(ALPHABET, "0123456789abcdefghijklmnopqrstuv")  # as int(..., 32) reads
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS = re.compile(r"[\s\-]+")


def check_symbol(number: int) -> str:
    return CHECK_ALPHABET[number % 37]


def encode(number: int) -> str:
    """``number`` (below 2**128) as its serial: 26 base32 characters and the check symbol."""
    if not 0 <= number < 2**BITS:
        raise ValueError("a serial is 128 bits")
    digits = "".join(ALPHABET[(number >> shift) & 31] for shift in range(5 * (LENGTH - 1), -1, -5))
    return digits + check_symbol(number)


def new_serial() -> str:
    """A fresh serial: 128 bits from the operating system's secure random source."""
    return encode(secrets.randbits(BITS))


def display(serial: str) -> str:
    """The serial for people to read and type: groups of four joined by hyphens."""
    return "-".join(serial[start : start + GROUP] for start in range(0, len(serial), GROUP))


def parse_serial(text: str) -> str:
    """The serial in its stored form (27 characters, no hyphens), or :class:`InvalidInput`
    saying that it is malformed and why."""
    cleaned = _SEPARATORS.sub("", text.strip()).upper()
    shown = text.strip()[:40]
    if len(cleaned) != LENGTH + 1:
        raise InvalidInput(
            f"'{shown}' is not a certificate serial: a serial has {LENGTH + 1} letters and "
            f"digits (hyphens and spaces do not count), and this has {len(cleaned)}.",
            field=FIELD,
        )
    body, check = cleaned[:LENGTH].translate(_READ_AS), cleaned[LENGTH]
    if check in "ILO":
        check = check.translate(_READ_AS)
    wrong = sorted(set(body) - _DIGITS)
    if wrong or check not in _VALUES:
        shown_wrong = ", ".join(wrong or [check])
        raise InvalidInput(
            f"'{shown}' is not a certificate serial: it has characters a serial never has "
            f"({shown_wrong}).",
            field=FIELD,
        )
    number = int(body.translate(_AS_BASE32), 32)  # every character is one of ALPHABET's
    if number >= 2**BITS or check_symbol(number) != check:
        raise InvalidInput(
            f"'{shown}' is not a valid certificate serial: its last character does not match "
            "the rest. Check it for a mistyped character.",
            field=FIELD,
        )
    return body + check
