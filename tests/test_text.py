"""What text may hold (registry.text): the character classes agree with Unicode's categories."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from registry.text import (
    DIRECTION_CHARACTERS,
    LINE_BREAKS,
    has_control_characters,
    has_direction_characters,
    text_problem,
)


def by_category(text: str, *, multiline: bool) -> bool:
    """The rule in Unicode's words: a control character (Cc) or half a surrogate pair (Cs),
    line breaks and tabs allowed in multi-line text."""
    return any(
        unicodedata.category(character) in ("Cc", "Cs")
        and not (multiline and character in LINE_BREAKS)
        for character in text
    )


def test_every_code_point_is_judged_as_its_unicode_category_says() -> None:
    for code in range(0x110000):
        character = chr(code)
        for multiline in (False, True):
            assert has_control_characters(character, multiline=multiline) == by_category(
                character, multiline=multiline
            ), (hex(code), multiline)
        assert has_direction_characters(character) == (character in DIRECTION_CHARACTERS)


@given(st.text(alphabet=st.characters(exclude_categories=())), st.booleans())
def test_any_text_is_judged_as_its_characters_are(text: str, multiline: bool) -> None:
    assert has_control_characters(text, multiline=multiline) == by_category(
        text, multiline=multiline
    )
    assert has_direction_characters(text) == any(c in DIRECTION_CHARACTERS for c in text)


def test_what_a_person_is_told() -> None:
    assert text_problem("Ada\u0000", "Name") == "Name must not contain control characters"
    assert text_problem("line\nbreak", "Address", multiline=True) is None
    assert text_problem("line\nbreak", "Name") == "Name must not contain control characters"
    assert text_problem("\u202eevil", "Name") == (
        "Name must not contain characters that change the direction of text"
    )
    assert text_problem("Zoë O'Brien", "Name") is None
