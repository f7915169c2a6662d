"""The one rule for a number a form or a token carries (an id, a case's version, a time)."""

from __future__ import annotations

import pytest

from registry.web.inputs import LARGEST_ID, row_id, whole_number


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ("1", 1),
        ("0042", 42),
        (str(LARGEST_ID), LARGEST_ID),
        (str(LARGEST_ID + 1), None),
        ("0", None),  # no record has id 0, no case version 0
        ("", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1.0", None),
        ("\u00b2", None),  # str.isdigit says yes; int refuses it
        ("\u0661", None),  # ARABIC-INDIC DIGIT ONE: int reads it, but nobody types it here
        ("9" * 400, None),
    ],
)
def test_an_id_is_ascii_digits_within_the_id_columns(given: str, read: int | None) -> None:
    assert row_id(given) == read


def test_a_whole_number_may_be_0_and_stops_at_its_most() -> None:
    assert whole_number("0", 10) == 0
    assert whole_number("10", 10) == 10
    assert whole_number("11", 10) is None
    assert whole_number("1700000000", 2**40) == 1_700_000_000
