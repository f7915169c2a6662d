"""Registration numbers: ``PR`` + six digits + one ISO 7064 MOD 11-2 check character.

The check character catches every single mistyped digit and every swap of two neighbouring
digits, so a mistyped number is reported as malformed instead of "not on the register".
"""

from __future__ import annotations

import re

from registry.errors import InvalidInput

PREFIX = "PR"
DIGITS = 6
# What a person may type between the characters of a number, all dropped: spaces (a
# non-breaking one too, as pasted from a document), tabs and hyphens.
SEPARATOR = r"[ \t\u00a0-]"
# Every way of writing a number the service reads, in either case: the API description
# publishes it, so it is written to mean the same in Python and in JSON Schema's ECMAScript.
TYPED_PATTERN = (
    rf"^{SEPARATOR}*[Pp]{SEPARATOR}*[Rr](?:{SEPARATOR}*[0-9]){{{DIGITS}}}{SEPARATOR}*[0-9Xx]"
    rf"{SEPARATOR}*$"
)
_TYPED = re.compile(TYPED_PATTERN)
_SEPARATORS = re.compile(SEPARATOR)
FORMAT_HINT = "PR followed by 6 digits and a check character, like PR1000011"


def check_character(digits: str) -> str:
    """ISO 7064 MOD 11-2 over ``digits``: 0-9, or X for ten."""
    total = 0
    for digit in digits:
        total = ((total + int(digit)) * 2) % 11
    check = (12 - total) % 11
    return "X" if check == 10 else str(check)


def registration_number(serial: int) -> str:
    if not 0 <= serial < 10**DIGITS:
        raise ValueError(f"serial {serial} does not fit in {DIGITS} digits")
    digits = f"{serial:0{DIGITS}d}"
    return f"{PREFIX}{digits}{check_character(digits)}"


_STORED_LENGTH = len(PREFIX) + DIGITS + 1


def parse_registration_number(text: str) -> str:
    """The number in its stored form, or :class:`InvalidInput` saying what is wrong with it."""
    if (
        len(text) == _STORED_LENGTH
        and text.startswith(PREFIX)
        and text.isascii()
        and text[2:-1].isdigit()
        and check_character(text[2:-1]) == text[-1]
    ):
        return text  # already in its stored form, as every link and most clients give it
    if _TYPED.fullmatch(text) is None:
        raise InvalidInput(
            f"'{text[:20]}' is not a registration number: it should be {FORMAT_HINT}",
            field="registration_number",
        )
    cleaned = _SEPARATORS.sub("", text).upper()
    digits, check = cleaned[len(PREFIX) : -1], cleaned[-1]
    if check_character(digits) != check:
        raise InvalidInput(
            f"{cleaned} is not a valid registration number: its last character does not match. "
            "Check it for a mistyped digit.",
            field="registration_number",
        )
    return cleaned


def looks_like_a_number(text: str) -> bool:
    """Whether a search box's text was meant as a registration number (``PR`` and digits)."""
    gap = SEPARATOR + "*"
    started = rf"{gap}[Pp]{gap}[Rr]{gap}[0-9](?:[0-9]|{SEPARATOR})*[0-9Xx]?{gap}"
    return re.fullmatch(started, text) is not None
