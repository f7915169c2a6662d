"""Registration numbers: the check character turns a mistyped number into a clear error."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.errors import InvalidInput
from registry.register.numbers import (
    TYPED_PATTERN,
    check_character,
    looks_like_a_number,
    parse_registration_number,
    registration_number,
)


def test_a_number_is_pr_six_digits_and_a_check_character() -> None:
    number = registration_number(123456)
    assert number == "PR1234563"
    assert parse_registration_number(" pr 123456-3 ") == number


@pytest.mark.parametrize("serial", [100001, 100002, 245117, 999999])
def test_every_single_digit_mistake_and_neighbour_swap_is_caught(serial: int) -> None:
    number = registration_number(serial)
    digits, check = number[2:8], number[8]
    wrong = []
    for position in range(6):
        for digit in "0123456789":
            typo = digits[:position] + digit + digits[position + 1 :]
            if typo != digits and check_character(typo) == check:
                wrong.append(typo)
    for position in range(5):
        swapped = (
            digits[:position] + digits[position + 1] + digits[position] + digits[position + 2 :]
        )
        if swapped != digits and check_character(swapped) == check:
            wrong.append(swapped)
    assert wrong == []


def test_ten_is_written_x() -> None:
    with_x = next(
        registration_number(s) for s in range(100000, 100100) if registration_number(s)[-1] == "X"
    )
    assert parse_registration_number(with_x.lower()) == with_x


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PR123456", "is not a registration number"),
        ("XX1234563", "is not a registration number"),
        ("PR1234564", "its last character does not match"),
    ],
)
def test_a_malformed_number_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        parse_registration_number(text)
    assert refused.value.field == "registration_number"


def test_a_search_that_is_a_number_is_told_from_a_name() -> None:
    assert looks_like_a_number("PR1234563")
    assert looks_like_a_number("pr 123")
    assert not looks_like_a_number("Prentice")


# Characters a number is written with, the separators, and their near misses.
_TYPING = "PpRrXx0123456789 \t\u00a0-_.\n\u2000\u0661"


@settings(max_examples=500)
@given(
    st.one_of(
        st.from_regex(TYPED_PATTERN, fullmatch=True),
        st.text(alphabet=_TYPING, max_size=14),
    )
)
def test_the_published_pattern_admits_exactly_what_the_service_reads(text: str) -> None:
    """The API description's pattern for a number (JSON Schema patterns are searched, so it is
    anchored) against the service: malformed exactly when the pattern does not match."""
    matches = re.search(TYPED_PATTERN, text) is not None
    malformed = False
    try:
        parse_registration_number(text)
    except InvalidInput as refused:
        malformed = "does not match" not in refused.detail
    assert malformed != matches, text


def test_only_ascii_digits_are_digits_of_a_number() -> None:
    arabic_indic = "PR\u0661\u0660\u0660\u0660\u0660\u06611"
    with pytest.raises(InvalidInput, match="is not a registration number"):
        parse_registration_number(arabic_indic)
    assert not looks_like_a_number("pr \u0661\u0662")
