"""Registration numbers: ``PR`` + six digits + one ISO 7064 MOD 11-2 check character.

The check character catches every single mistyped digit and every swap of two neighbouring
digits, so a mistyped number is reported as malformed instead of "not on the register".
"""

from __future__ import annotations

import re

from registry.errors import InvalidInput

PREFIX = "PR"
DIGITS = 6
PATTERN = re.compile(r"PR(\d{6})([0-9X])")
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


def parse_registration_number(text: str) -> str:
    """The number in its stored form, or :class:`InvalidInput` saying what is wrong with it."""
    cleaned = re.sub(r"[\s-]", "", text).upper()
    found = PATTERN.fullmatch(cleaned)
    if found is None:
        raise InvalidInput(
            f"'{text[:20]}' is not a registration number: it should be {FORMAT_HINT}",
            field="registration_number",
        )
    digits, check = found.groups()
    if check_character(digits) != check:
        raise InvalidInput(
            f"{cleaned} is not a valid registration number: its last character does not match. "
            "Check it for a mistyped digit.",
            field="registration_number",
        )
    return cleaned


def looks_like_a_number(text: str) -> bool:
    """Whether a search box's text was meant as a registration number (``PR`` and digits)."""
    return re.fullmatch(r"\s*[Pp][Rr][\s-]*\d[\d\s-]*[0-9Xx]?\s*", text) is not None
